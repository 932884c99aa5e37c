import KBQ

/// One answer from a line reader.
enum LineInput {
    /// A line, without its line ending. A line recalled from history may hold several.
    case line(String)
    /// Ctrl-C: drop what was typed so far.
    case interrupted
    /// The end of the input (Ctrl-D on an empty line, the end of a file).
    case end
}

/// Where the input loop gets lines: libedit on a terminal, or the text of a script. The
/// protocol keeps the loop testable without a terminal and shared by every kind of input.
protocol LineReader: AnyObject {
    /// Reads the next line. `pending` is the unfinished statement typed so far (empty at the
    /// start of a statement): a terminal reader shows the continuation prompt when it is not
    /// empty, and completes words in its context.
    func readLine(pending: String) -> LineInput
    /// A complete entry was read (an interactive reader adds it to the history).
    func entered(_ entry: String)
    /// Whether a person types the lines: each statement runs as soon as it is complete.
    var isInteractive: Bool { get }
}

/// Reads the lines of a text already in memory (a script file, standard input, `-e`).
final class TextLineReader: LineReader {
    private let text: String
    private var position: String.Index

    init(_ text: String) {
        self.text = text
        self.position = text.startIndex
    }

    func readLine(pending: String) -> LineInput {
        guard position < text.endIndex else { return .end }
        let utf8 = text.utf8
        let end = utf8[position...].firstIndex(of: UInt8(ascii: "\n")) ?? text.endIndex
        var line = text[position..<end]
        position = end < text.endIndex ? utf8.index(after: end) : end
        if line.utf8.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return .line(String(line))
    }

    func entered(_ entry: String) {}
    var isInteractive: Bool { false }
}

/// The one input loop of kbq, for the REPL, scripts, standard input and `.read`, as in the
/// SQLite shell: it buffers lines until the engine says the statement is complete
/// (`Parser.isComplete`), and sends lines starting with a dot to the dot-commands.
///
/// From a person, each statement runs as soon as it is complete. From a script, statements
/// are gathered and run together at each dot-command and at the end, so a script with no
/// dot-command is checked whole before any of it runs, and errors carry the file's own lines.
enum InputLoop {
    /// The name diagnostics show for what is typed at the prompt.
    static let terminalName = "<input>"

    /// Runs every line of `reader`. Returns whether everything in it succeeded.
    @discardableResult
    static func run(_ reader: some LineReader, shell: Shell, name: String) -> Bool {
        let interactive = reader.isInteractive
        var ok = true
        var pending = ""
        var pendingFirstLine = 1
        var lineNumber = 0

        func flush() {
            guard !pending.isEmpty else { return }
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
            guard case .line(let line) = input else {
                if case .interrupted = input {
                    pending = ""
                    continue
                }
                break
            }
            lineNumber += 1
            let lineFirst = lineNumber
            // A line recalled from history can hold a whole multi-line entry.
            lineNumber += line.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }

            if isDotCommand(line), pending.isEmpty || isBlank(pending) || Parser.isComplete(pending) {
                if interactive { reader.entered(line) } else { flush() }
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
            if interactive, !line.hasSuffix("\\"), Parser.isComplete(pending) {
                reader.entered(pending)
                flush()
            }
        }
        if !shell.quitRequested || !interactive { flush() }
        return ok
    }

    /// A line that is a dot-command: a dot then a letter, after optional spaces (`.5` is a
    /// number continuing an expression).
    static func isDotCommand(_ line: String) -> Bool {
        var it = line.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.makeIterator()
        guard it.next() == UInt8(ascii: "."), let b = it.next() else { return false }
        return (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
    }

    static func isBlank(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }
}
