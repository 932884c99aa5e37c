import KBQ

/// One answer from a line reader.
package enum LineInput {
    /// A line, without its line ending. A line recalled from history may hold several.
    case line(String)
    /// Ctrl-C: drop what was typed so far.
    case interrupted
    /// The end of the input (Ctrl-D on an empty line, the end of a file).
    case end
}

/// Where the input loop gets lines: libedit on a terminal, or the text of a script. The
/// protocol keeps the loop testable without a terminal and shared by every kind of input.
package protocol LineReader: AnyObject {
    /// Reads the next line. `pending` is the unfinished statement typed so far (empty at the
    /// start of a statement): a terminal reader shows the continuation prompt when it is not
    /// empty, and completes words in its context.
    func readLine(pending: String) -> LineInput
    /// A complete entry was read (an interactive reader adds it to the history).
    func entered(_ entry: String)
    /// Whether a person types the lines: each statement runs as soon as it is complete.
    var isInteractive: Bool { get }
    /// Whether more input is already there: the rest of a paste rather than a person's next
    /// key. Its lines join the statement before running, as the lines of a file do.
    var inputWaiting: Bool { get }
}

extension LineReader {
    package var inputWaiting: Bool { false }
}

/// Reads the lines of a text already in memory (a script file, standard input, `-e`).
package final class TextLineReader: LineReader {
    private let text: String
    private var position: String.Index

    package init(_ text: String) {
        self.text = text
        self.position = text.startIndex
    }

    package func readLine(pending: String) -> LineInput {
        guard position < text.endIndex else { return .end }
        let utf8 = text.utf8
        let end = utf8[position...].firstIndex(of: UInt8(ascii: "\n")) ?? text.endIndex
        var line = text[position..<end]
        position = end < text.endIndex ? utf8.index(after: end) : end
        if line.utf8.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return .line(String(line))
    }

    package func entered(_ entry: String) {}
    package var isInteractive: Bool { false }
}

/// The one input loop of kbq, for the REPL, scripts, standard input and `.read`, as in the
/// SQLite shell: it buffers lines until the engine says the statement is complete
/// (`Parser.isComplete`), and sends lines starting with a dot to the dot-commands.
///
/// From a person, each statement runs as soon as it is complete. From a script, statements
/// are gathered and run together at each dot-command and at the end, so a script with no
/// dot-command is checked whole before any of it runs, and errors carry the file's own lines.
package enum InputLoop {
    /// The name diagnostics show for what is typed at the prompt.
    package static let terminalName = "<input>"

    /// Runs every line of `reader`. Returns whether everything in it succeeded.
    @discardableResult
    package static func run(_ reader: some LineReader, shell: Shell, name: String) -> Bool {
        let interactive = reader.isInteractive
        var ok = true
        var pending = ""
        var pendingFirstLine = 1
        var lineNumber = 0

        func flush() {
            guard !pending.isEmpty else { return }
            if interactive { reader.entered(pending) }
            if !shell.runQueries(pending, name: name, firstLine: interactive ? 1 : pendingFirstLine) { ok = false }
            pending = ""
        }

        while !shell.quitRequested {
            // Ctrl-C during `.read` at the prompt stops the script, not only its current query.
            if !interactive, shell.interactive, Interrupts.takePending() {
                shell.err.write("interrupted: the rest of \(sanitizeForTerminal(name)) was not run\n")
                return false
            }
            let input = reader.readLine(pending: interactive ? pending : "")
            guard case .line(let typed) = input else {
                if case .interrupted = input {
                    pending = ""
                    continue
                }
                // Ctrl-D on a continuation line drops the unfinished statement, as Ctrl-C does,
                // rather than running half of it; Ctrl-D at the prompt leaves.
                if interactive, !pending.isEmpty, !Parser.isComplete(pending) {
                    pending = ""
                    shell.err.write("(the unfinished statement was dropped; Ctrl-D again leaves)\n")
                    continue
                }
                break
            }
            lineNumber += 1
            let lineFirst = lineNumber
            // A line recalled from history can hold a whole multi-line entry.
            lineNumber += typed.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }

            let atStatementStart = pending.isEmpty || isBlank(pending) || Parser.isComplete(pending)
            // `\d`, `\x`, `\q`, `help`, `quit`, `exit`: another shell's habits, run as the
            // kbq command they mean.
            var line = typed
            if atStatementStart, let dot = DotCommand.equivalent(of: line, names: { shell.engine.kb.collections.map(\.name) + shell.engine.letNames }) {
                line = dot
            }
            if isDotCommand(line) || line.hasPrefix(".\\"), atStatementStart {
                // What a paste held back runs first, then the command.
                flush()
                if interactive { reader.entered(typed) }
                if !ok && !shell.keepGoing && !interactive { break }
                let location = Shell.Location(name: name, line: interactive ? nil : lineFirst)
                if !shell.runDotCommand(line, at: location) { ok = false }
                if !ok && !shell.keepGoing && !interactive { break }
                continue
            }
            if pending.isEmpty {
                // Blank lines between statements are not worth keeping (they still count).
                if isBlank(line) { continue }
                pendingFirstLine = lineFirst
            }
            // Lines are joined, not terminated, by newlines: an error at the end of the input
            // then points at the end of the last line, not at an empty line after it.
            if !pending.isEmpty { pending += "\n" }
            pending += line
            // A backslash at the end of a line joins the next one (the lexer reads it so).
            // While a paste is still arriving, complete statements wait for the rest of it:
            // a next line starting with a clause word or `|` continues the statement above,
            // exactly as in a file, and the whole paste is checked and run as a file would be.
            if interactive, !line.hasSuffix("\\"), Parser.isComplete(pending), !reader.inputWaiting {
                flush()
            }
        }
        if !shell.quitRequested || !interactive { flush() }
        return ok
    }

    /// A line that is a dot-command: a dot then a letter, after optional spaces (`.5` is a
    /// number continuing an expression).
    package static func isDotCommand(_ line: String) -> Bool {
        var it = line.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.makeIterator()
        guard it.next() == UInt8(ascii: "."), let b = it.next() else { return false }
        return (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
    }

    /// The quote or bracket left open at the end of `text` (the innermost), for the
    /// continuation prompt: `"`, `'`, `(` or `[`; `nil` when none is.
    package static func openDelimiter(_ text: String) -> Character? {
        var open: [UInt8] = []
        var quote: UInt8?
        var comment = false
        var escaped = false
        for b in text.utf8 {
            if comment {
                if b == 0x0A { comment = false }
            } else if let q = quote {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == q { quote = nil }
            } else {
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = b
                case UInt8(ascii: "#"): comment = true
                case UInt8(ascii: "("), UInt8(ascii: "["): open.append(b)
                case UInt8(ascii: ")"), UInt8(ascii: "]"): if !open.isEmpty { open.removeLast() }
                default: break
                }
            }
        }
        if let q = quote { return Character(Unicode.Scalar(q)) }
        return open.last.map { Character(Unicode.Scalar($0)) }
    }

    /// The prompt for the next line: `kbq> ` at the start of a statement, `...> ` on a
    /// continuation line, with the quote or bracket still open shown in it (`..."> `), as
    /// psql does.
    package static func prompt(pending: String) -> String {
        guard !pending.isEmpty else { return "kbq> " }
        return "...\(openDelimiter(pending).map(String.init) ?? "")> "
    }

    package static func isBlank(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }
}
