/// A script as kbq reads it: query text, with dot-command lines (`.load FILE`, `.format
/// json` …) between its statements. Hosts that read scripts without running them (the
/// formatter, an editor's language server) split them the way kbq's input loop does.
public struct ScriptPiece: Sendable, Hashable {
    /// What a piece holds.
    public enum Kind: Sendable, Hashable {
        /// Statements of the query language (and the comments and blank lines among them).
        case queries
        /// One dot-command line.
        case dotCommand
    }
    /// What the piece holds.
    public var kind: Kind
    /// Its bytes in the script: whole lines, the last line break included when there is one.
    public var range: SourceRange

    /// Splits `text` into pieces. A line is a dot-command when it starts with a dot and a
    /// letter (after spaces) and the query text before it is complete, as in the REPL.
    public static func split(_ text: String) -> [ScriptPiece] {
        let bytes = Array(text.utf8)
        var out: [ScriptPiece] = []
        var pendingStart = 0
        var lineStart = 0
        var hasDot = false
        // Only a script with a dot-command line anywhere pays for the completeness checks.
        var i = 0
        while i < bytes.count {
            if isDotCommand(bytes[i...]) { hasDot = true; break }
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            i += 1
        }
        guard hasDot else { return bytes.isEmpty ? [] : [ScriptPiece(kind: .queries, range: SourceRange(0, bytes.count))] }
        // Each dot line after an unfinished statement parses the statement again: past a
        // budget of bytes parsed, dot lines are taken as commands without asking.
        var budget = 8 * Lexer.maxSourceBytes
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = min(lineEnd + 1, bytes.count)
            if isDotCommand(bytes[lineStart..<lineEnd]) {
                let pending = String(decoding: bytes[pendingStart..<lineStart], as: UTF8.self)
                budget -= lineStart - pendingStart
                if budget < 0 || Parser.isComplete(pending) {
                    if lineStart > pendingStart { out.append(ScriptPiece(kind: .queries, range: SourceRange(pendingStart, lineStart))) }
                    out.append(ScriptPiece(kind: .dotCommand, range: SourceRange(lineStart, next)))
                    pendingStart = next
                }
            }
            lineStart = next
        }
        if pendingStart < bytes.count { out.append(ScriptPiece(kind: .queries, range: SourceRange(pendingStart, bytes.count))) }
        return out
    }

    /// Whether `line` is a dot-command line: a dot and a letter after optional spaces (`.5`
    /// is a number continuing an expression).
    public static func isDotCommand(_ line: some Swift.Collection<UInt8>) -> Bool {
        var it = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.makeIterator()
        guard it.next() == UInt8(ascii: "."), let b = it.next() else { return false }
        return (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
    }

    /// `text` with every dot-command line blanked to spaces, byte for byte, so that the
    /// queries can be parsed and checked as one text whose ranges are the script's own.
    public static func queryText(_ text: String, pieces: [ScriptPiece]) -> String {
        guard pieces.contains(where: { $0.kind == .dotCommand }) else { return text }
        var bytes = Array(text.utf8)
        for p in pieces where p.kind == .dotCommand {
            for i in p.range.start..<p.range.end where bytes[i] != 0x0A { bytes[i] = 0x20 }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
