#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ

/// How a run of kbq ended: the process's exit status.
package enum ExitStatus: Int32, Comparable {
    case ok = 0
    /// A query had an error (any diagnostic from the engine).
    case queryError = 1
    /// A usage error, a script that cannot be read or is too large to run, or a KB that
    /// cannot be loaded.
    case usage = 2

    package static func < (a: ExitStatus, b: ExitStatus) -> Bool { a.rawValue < b.rawValue }
}

/// Ends the process with `status`.
package func terminate(_ status: ExitStatus) -> Never {
    let failure = Output.standardOutputFailure
    if failure != 0 {
        Output.standardError.write("kbq: cannot write to standard output: \(errorText(failure))\n")
        exit(max(status, .usage).rawValue)
    }
    exit(status.rawValue)
}

/// What the REPL, scripts and `.read` share: the engine (the KB, its `let` bindings, and what
/// runs the statements), output settings, and the exit status so far. The engine never
/// prints; this is where its results and diagnostics become text.
package final class Shell {
    package let engine: any ShellEngine
    package var format: OutputFormat
    package let parameters: [String: Value]
    package let keepGoing: Bool
    /// A person is typing: print `let` confirmations, cut long tables, cancel on Ctrl-C.
    package let interactive: Bool
    package var timer = false
    /// The most rows a table shows in the REPL (`nil`: all). Scripts always get every row.
    package var displayRows: Int?
    /// How people's formats show results: `.headers`, `.nullvalue`, `.expanded`.
    package var display = DisplayOptions()
    /// `.pager on|off`: results taller than the terminal go through `$PAGER`.
    package var pager = true
    /// `.output FILE` / `.once FILE`: where results go instead of standard output.
    package var resultFile: ResultFile?
    /// Ctrl-C stopped a result being printed.
    private var printingStopped = false
    /// The worst outcome so far.
    package var status: ExitStatus = .ok

    /// How wide diagnostics (errors and warnings alike) are drawn: the terminal's width, or
    /// `$COLUMNS` when standard error is not a terminal.
    package var diagnosticWidth: Int? {
        Terminal.columns(err.fd) ?? environment("COLUMNS").flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }
    /// Set by `.quit`: the input loops stop reading.
    package var quitRequested = false
    /// `.exit N`: the exit status asked for, which overrides the one the run earned.
    package var exitStatus: Int32?
    /// How many results were printed, to put a blank line between them.
    private var resultsShown = 0
    /// How deep `.read` is nested: a bound even for scripts that the cycle check cannot
    /// tell apart (standard input, files that vanish).
    package var readDepth = 0
    /// The script files being run, outermost first, so that `.read` of one of them is
    /// refused before it runs anything again.
    private var scriptsBeingRead: [(name: String, file: FileIdentity)] = []

    package let out = Output.standardOutput
    package let err = Output.standardError
    /// Where notes for the person go (the banner, `let` confirmations): the terminal, which is
    /// standard error when results are redirected to a file.
    package var screen: Output { out.isTerminal ? out : err }
    package let outColor: Bool
    package let errColor: Bool
    /// Results are shown on a terminal: CSV escapes control characters there (the other
    /// formats always do), and is left byte for byte in a pipe or a file.
    package let outIsTerminal: Bool

    package static let maxReadDepth = 16
    package static let defaultDisplayRows = 200

    package init(engine: any ShellEngine, format: OutputFormat, parameters: [String: Value], keepGoing: Bool, interactive: Bool) {
        self.engine = engine
        self.format = format
        self.parameters = parameters
        self.keepGoing = keepGoing
        self.interactive = interactive
        self.displayRows = interactive ? Shell.defaultDisplayRows : nil
        outColor = Terminal.wantsColor(.standardOutput)
        errColor = Terminal.wantsColor(.standardError)
        outIsTerminal = Output.standardOutput.isTerminal
    }

    /// How many errors were reported so far.
    private(set) var failures = 0

    /// Records an error; the exit status keeps the worst.
    package func fail(_ s: ExitStatus) {
        status = max(status, s)
        failures += 1
    }

    // MARK: - Queries

    /// Runs query text. `firstLine` is the line of `name` the text starts on, so diagnostics
    /// point into the whole file even when dot-commands split it into several runs.
    /// Returns whether it ran without a diagnostic.
    @discardableResult
    package func runQueries(_ text: String, name: String, firstLine: Int = 1) -> Bool {
        // SourceText counts lines from the start of its text: leading newlines make the line
        // numbers those of the file (the parser skips blank lines).
        // The name may come from a script's `.read` line: shown escaped, like the text.
        let source = SourceText(firstLine > 1 ? String(repeating: "\n", count: firstLine - 1) + text : text, name: sanitizeForTerminal(name))
        let width = tableWidth()
        let format = self.format
        var started = ContinuousClock.now
        let token = CancellationToken()
        if interactive { Interrupts.beginCancellable(token) }
        let run = engine.run(source, parameters: parameters, cancel: token, keepGoing: keepGoing) { outcome in
            switch outcome {
            case .result(let table):
                self.show(table, format: format, width: width)
            case .bound(let name, let rows):
                // A note for the person, not a result: on the screen even when results go to
                // a file, so a pasted script leaves there what running the script prints.
                let note = rows.map { "\(name): \(formatNumber(Double($0))) row\($0 == 1 ? "" : "s")" }
                    ?? "\(name): bound (it runs where a statement reads it)"
                if self.interactive { self.screen.write(self.dim(note) + "\n") }
            case .warning(let w):
                // Before the results: the warning explains what follows. The run still succeeds.
                self.err.write(source.render(w, color: self.errColor, width: self.diagnosticWidth))
                return
            }
            if self.timer {
                let now = ContinuousClock.now
                self.out.write(self.dim("time: \(Shell.format(now - started))") + "\n")
                started = now
            }
        }
        if interactive { Interrupts.endCancellable() }
        let diagnostics = run.diagnostics
        // On a terminal the source line must not wrap, or the caret points at the wrong word.
        let errWidth = diagnosticWidth
        var interrupted = false
        for d in diagnostics {
            // Ctrl-C is no mistake in the text: no caret under the whole statement.
            if d.kind == .cancelled && interactive {
                interrupted = true
                continue
            }
            err.write(source.render(d, color: errColor, width: errWidth))
        }
        if interrupted || printingStopped {
            err.write((printingStopped ? "\n" : "") + "interrupted (Ctrl-C): \(printingStopped ? "printing stopped" : "the query stopped")\n")
        }
        printingStopped = false
        // A damaged compiled KB is a KB error, as one refused at open is.
        if !diagnostics.isEmpty { fail(diagnostics.contains { $0.kind == .invalidKB } ? .usage : .queryError) }
        // The database's own errors: said as they are, an I/O error like a file that fails.
        if let failure = run.failure { report(failure, at: nil) }
        let ok = diagnostics.isEmpty && run.failure == nil
        finishOnce(ok: ok)
        return ok
    }

    /// After the statement (or command) that `.once FILE` was for: the file is put in place
    /// when it succeeded, left as it was when it failed.
    package func finishOnce(ok: Bool) {
        guard let file = resultFile, file.once else { return }
        resultFile = nil
        if ok {
            if let e = file.commit() { report(e.message, at: nil) }
        } else {
            file.discard()
            err.write("nothing was written to '\(sanitizeForTerminal(file.path))': the statement failed\n")
        }
    }

    /// Puts the `.output` file in place (at `.output` with no file, and when kbq ends).
    package func closeResultFile() {
        guard let file = resultFile else { return }
        resultFile = nil
        if file.once {
            file.discard()
        } else if let e = file.commit() {
            report(e.message, at: nil)
        }
    }

    /// Prints one result, a blank line apart from the one before. In the REPL a long table
    /// is cut with a note, so a stray `sentences` does not scroll the screen away; scripts
    /// and other formats get every row.
    package func show(_ table: ResultTable, format: OutputFormat, width: Int?) {
        var table = table
        let file = resultFile
        if format == .table, file == nil, let limit = displayRows, table.rowCount > limit {
            let total = table.rowCount
            table.keepFirstRows(limit)
            table.notes.append("showing \(formatNumber(Double(limit))) of \(formatNumber(Double(total))) rows: add `limit`, or `.rows all` to see every row")
        }
        var text = table.rendered(as: format, width: width, color: file == nil && outColor,
                                  forTerminal: file == nil && outIsTerminal, display: display)
        // Bytes, not Characters: CSV ends in "\r\n", one Character that is not "\n", and a
        // CSV file must end with its last record, not with an extra empty line.
        if text.utf8.last != UInt8(ascii: "\n") { text += "\n" }
        // JSON is one object a line (NDJSON): nothing between them. Elsewhere a blank line
        // apart; at a prompt it comes after, so the next prompt stands apart.
        let spaced = format != .json
        if let file {
            if spaced && file.results > 0 { text = "\n" + text }
            file.results += 1
            file.write(text)
            return
        }
        if interactive { if spaced { text += "\n" } } else if spaced && resultsShown > 0 { text = "\n" + text }
        resultsShown += 1
        if interactive && outIsTerminal {
            if !TerminalPrinter.show(text, on: out, paging: pager) { printingStopped = true }
        } else {
            out.write(text)
        }
        // Results that cannot be written are not computed any further (a long script to a
        // full disk); the failure is said when kbq ends.
        if Output.standardOutputFailure != 0 { quitRequested = true }
    }

    /// Tables fit the terminal they are shown on. Elsewhere they are $COLUMNS wide, or 100
    /// (what Examples/*.out are recorded at): a report in a file stays readable, and the
    /// machine formats are never cut.
    package func tableWidth() -> Int? {
        if resultFile == nil, let c = Terminal.columns(out.fd) { return c }
        if let c = environment("COLUMNS").flatMap({ Int($0) }), c > 0 { return c }
        return 100
    }

    package func dim(_ s: String) -> String {
        outColor ? "\u{1B}[2m\(s)\u{1B}[0m" : s
    }

    package static func format(_ d: Duration) -> String {
        let (seconds, attoseconds) = d.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        if ms < 10 { return "\(Double(Int(ms * 1000)) / 1000) ms" }
        if ms < 10_000 { return "\(Double(Int(ms * 10)) / 10) ms" }
        return "\(Double(Int(ms / 10)) / 100) s"
    }

    // MARK: - Scripts

    /// Runs a whole script through the same input loop as the REPL. Returns whether every
    /// statement and command in it succeeded.
    /// `file` is the script's file, when it is one.
    @discardableResult
    package func runScript(_ text: String, name: String, file: FileIdentity? = nil) -> Bool {
        if let file { scriptsBeingRead.append((name, file)) }
        defer { if file != nil { scriptsBeingRead.removeLast() } }
        return InputLoop.run(TextLineReader(text), shell: self, name: name)
    }

    /// Reads and runs the script at `path` (`.read`).
    package func readScript(_ path: String, location: Location) -> Bool {
        guard readDepth < Shell.maxReadDepth else {
            report("scripts read each other more than \(Shell.maxReadDepth) levels deep", at: location)
            return false
        }
        // A cycle would run the scripts' statements again at every turn until the depth
        // bound stops it: refuse it at once, naming the chain.
        let file = Files.identity(path)
        if let file, let first = scriptsBeingRead.firstIndex(where: { $0.file == file }) {
            let chain = scriptsBeingRead[first...].map(\.name) + [path]
            report("'\(path)' is already being read (\(chain.joined(separator: " → ")))", at: location)
            return false
        }
        let text: String
        do {
            text = try Files.readText(path)
        } catch {
            report(error.description, at: location)
            return false
        }
        readDepth += 1
        defer { readDepth -= 1 }
        return runScript(text, name: path, file: file)
    }

    // MARK: - Messages

    /// Where a dot-command was written: a script's name and line, or nothing in the REPL.
    package struct Location {
        package var name: String
        package var line: Int?
    }

    /// Prints an error about a dot-command or a file, `file:line: error: message`, with a
    /// suggestion line like the engine's diagnostics. Counts as a usage error.
    package func report(_ message: String, at location: Location?, suggestion: String? = nil, notes: [String] = []) {
        let red = errColor ? "\u{1B}[1;31m" : "", bold = errColor ? "\u{1B}[1m" : "", reset = errColor ? "\u{1B}[0m" : ""
        var prefix = ""
        if let location, !interactive || location.line != nil && location.name != InputLoop.terminalName {
            prefix = sanitizeForTerminal(location.name) + (location.line.map { ":\($0)" } ?? "") + ": "
        }
        var text = "\(bold)\(prefix)\(red)error:\(reset)\(bold) \(sanitizeForTerminal(message))\(reset)\n"
        for n in notes { text += "  = note: \(sanitizeForTerminal(n))\n" }
        if let suggestion { text += "  = help: did you mean '\(sanitizeForTerminal(suggestion))'?\n" }
        err.write(text)
        fail(.usage)
    }
}
