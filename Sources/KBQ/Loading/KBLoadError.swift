/// One problem in a KB file, at a JSON path such as `$.collections.estimates.rows[3].value`.
public struct KBProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Where the problem is: a JSON path, or for CSV/NDJSON rows `file:line` and the field.
    public let path: String
    /// What is wrong.
    public let message: String

    /// Makes a problem report.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}

/// A KB that was refused: every problem found, each with its path. Nothing is half-loaded.
public struct KBLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (or `<bytes>`) that was being loaded.
    public let file: String
    /// Every problem found (at most ``KBLoadError/maxProblems``; `omitted` counts the rest).
    public let problems: [KBProblem]
    /// How many further problems were found but not listed.
    public let omitted: Int

    /// The most problems listed in one error.
    public static let maxProblems = 100

    /// Makes an error from problems.
    public init(file: String, problems: [KBProblem], omitted: Int = 0) {
        self.file = file
        self.problems = problems
        self.omitted = omitted
    }

    /// The problems as diagnostics of kind ``Diagnostic/Kind/invalidKB``, for hosts that
    /// show every kind of error the same way.
    public var diagnostics: [Diagnostic] {
        problems.map { Diagnostic(.invalidKB, "\($0.path): \($0.message)", notes: ["in \(file)"]) }
    }

    /// One line per problem, prefixed with the file name, the way the CLI prints it.
    public var description: String {
        // The file's name may come from a script's `.load` line: escaped like the rest.
        let file = sanitizeForTerminal(self.file)
        var out = problems.map { "\(file): error: \(sanitizeForTerminal($0.path)): \(sanitizeForTerminal($0.message))" }
        if omitted > 0 { out.append("\(file): note: \(omitted) more problems not listed") }
        out.append("\(file): the KB was not loaded (\(problems.count + omitted) problem\(problems.count + omitted == 1 ? "" : "s"))")
        return out.joined(separator: "\n")
    }
}
