/// One problem in a KB file, at a JSON path such as `$.collections.estimates.rows[3].value`.
public struct KBProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of problem this is: a closed set, stable across releases, so that hosts
    /// and tests match on it rather than on the message's wording. The raw value is the
    /// identifier tools see (`dangling-reference`); docs/KB-FORMAT.md lists them all.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The file cannot be opened or read: missing, unreadable, not a regular file, or a
        /// folder.
        case cannotRead = "cannot-read"
        /// A rows file named outside the KB's own folder (an absolute path, `..`, a link
        /// leading out), or a rows file named by a KB given as bytes, which has no folder.
        case fileOutsideFolder = "file-outside-folder"
        /// A bound on size or depth: a file, record, line or column too large, nesting too
        /// deep, too many hedge words.
        case limitExceeded = "limit-exceeded"
        /// Bytes that are not UTF-8 text.
        case encoding = "encoding"
        /// The file is not well-formed in its format: JSON that does not parse, an
        /// unterminated quoted CSV field.
        case syntax = "syntax"
        /// A format version (or, for a compiled file, a byte order or string hashing) that
        /// this kbq does not read.
        case unsupportedVersion = "unsupported-version"
        /// A compiled KB file that is truncated, fails its checksums or does not read back.
        case damaged = "damaged"
        /// Something required is absent: a member (`kbq`, `collections`, `fields`, `rows`
        /// or `file`), a declared field in a row, a CSV header or column, a null key.
        case missing = "missing"
        /// A member the format does not define (at the top, in a collection, a field type
        /// or a date object).
        case unknownMember = "unknown-member"
        /// A row value, CSV column or declaration naming a field the collection does not
        /// declare.
        case unknownField = "unknown-field"
        /// A reference (or added rows) naming a collection the KB does not declare.
        case unknownCollection = "unknown-collection"
        /// A field type that is not one of the format's types.
        case unknownType = "unknown-type"
        /// A hedge word that is not on the KB's hedge scale.
        case unknownHedge = "unknown-hedge"
        /// A quantity qualifier that is not one kbq knows (`over`, `about`, …).
        case unknownQualifier = "unknown-qualifier"
        /// A collection, field or column name that is not an identifier.
        case invalidName = "invalid-name"
        /// A name given twice where it must be unique: a collection, field, column, JSON
        /// member or hedge word.
        case duplicateName = "duplicate-name"
        /// Two rows with the same key.
        case duplicateKey = "duplicate-key"
        /// A declaration that does not hold together: a key or measure of the wrong type,
        /// a qualifier on a non-number, a reference to a collection with no key, both
        /// `rows` and `file`, a malformed field type.
        case invalidSchema = "invalid-schema"
        /// A value of the wrong type for where it stands (a string for a number field, a
        /// row that is not an object, text that is not a number).
        case typeMismatch = "type-mismatch"
        /// A date that is not a valid date, or a span or relative date that does not hold
        /// together.
        case invalidDate = "invalid-date"
        /// An interval quantity whose bounds do not hold together (`between` without an
        /// upper bound, or one below the value).
        case invalidInterval = "invalid-interval"
        /// A reference to a row key that no row of the target collection has.
        case danglingReference = "dangling-reference"
        /// Provenance (`inferred`, `reason`, `basis`) that does not hold together.
        case invalidProvenance = "invalid-provenance"
        /// A CSV record, or a row of values, with more or fewer fields than expected.
        case fieldCount = "field-count"
        /// Bare data whose fields' types cannot be inferred (mixed objects and lists, or no
        /// fields at all).
        case cannotInfer = "cannot-infer"
    }

    /// What kind of problem it is.
    public let kind: Kind
    /// Where the problem is: a JSON path, or for CSV/NDJSON rows `file:line` and the field.
    public let path: String
    /// What is wrong, for people: the wording may change between releases (match ``kind``).
    public let message: String

    /// Makes a problem report.
    public init(_ kind: Kind, path: String, message: String) {
        self.kind = kind
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
        problems.map { Diagnostic(.invalidKB, "\($0.path): \($0.message)", notes: ["in \(file)"], problem: $0.kind) }
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
