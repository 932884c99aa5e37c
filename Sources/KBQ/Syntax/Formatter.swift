/// Lays out kbq scripts one canonical way (`kbq fmt`, and formatting in editors).
///
/// The layout:
/// - one statement per line (`;` between statements becomes a line break), at most one blank
///   line between statements, none at the start, one line break at the end;
/// - a statement stays on one line when it fits in ``width`` and was written on one line;
///   otherwise its first clause stays beside the collection and each further clause starts a
///   line of its own, indented by two spaces (`aggregate` stays beside its `group by`);
/// - a line still too long breaks after a comma or an `and`/`or`, the next line aligned
///   under the first item of the clause;
/// - one space between words and operators, none inside brackets, before a comma, around a
///   `.` of a path, between a function and its `(`, after a unary `-`; keywords in lower
///   case, `==` written `=` and `<>` written `!=`, the optional `|` between clauses left out;
///   names, strings and numbers exactly as written;
/// - comments kept where they are: a comment on a line of its own stays on a line of its
///   own, a comment after code stays after that code, two spaces before its `#`.
///
/// Formatting never changes what a script means: the output is parsed again and its syntax
/// tree compared with the input's, and a script that does not parse is refused, not guessed
/// at. Formatting its own output gives the same text.
public enum Formatter {
    /// The width a line may take before the statement is laid out over several lines.
    public static let defaultWidth = 100

    /// The canonical layout of `text`.
    ///
    /// - Throws: the syntax errors of a script that does not parse (nothing is formatted),
    ///   or a diagnostic saying the layout could not be made without changing the script.
    public static func format(_ text: String, width: Int = defaultWidth) throws(Diagnostics) -> String {
        let pieces = ScriptPiece.split(text)
        guard pieces.contains(where: { $0.kind == .dotCommand }) else { return try formatQueries(text, width: width) }
        // Dot-command lines are kept as they are, trimmed; the queries between them are laid
        // out, with one blank line kept where there were some.
        let bytes = Array(text.utf8)
        var lines: [String] = []
        var blankPending = false
        func add(_ line: String) {
            if blankPending, !lines.isEmpty, lines.last != "" { lines.append("") }
            blankPending = false
            lines.append(line)
        }
        for p in pieces {
            let piece = String(decoding: bytes[p.range.start..<p.range.end], as: UTF8.self)
            if p.kind == .dotCommand {
                add(trimmedLines(piece).first ?? "")
                continue
            }
            let pieceLines = trimmedLines(piece)
            if pieceLines.first == "" && pieceLines.count > 1 { blankPending = true }
            let formatted: String
            do throws(Diagnostics) {
                formatted = try formatQueries(piece, width: width)
            } catch {
                throw Diagnostics(error.items.map { d in
                    var d = d
                    d.range = d.range.map { SourceRange($0.start + p.range.start, $0.end + p.range.start) }
                    return d
                })
            }
            for l in formatted.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                add(String(decoding: l, as: UTF8.self))
            }
            // A blank line at the end of the piece (its last line is the dot-command's).
            let tail = pieceLines.last == "" ? pieceLines.dropLast() : pieceLines[...]
            if !formatted.isEmpty, tail.last == "" { blankPending = true }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The canonical layout of query text with no dot-command lines.
    static func formatQueries(_ text: String, width: Int) throws(Diagnostics) -> String {
        let (tokens, lexErrors) = Lexer.tokenize(text)
        if !lexErrors.isEmpty { throw Diagnostics(Diagnostic.reported(lexErrors)) }
        let (statements, parseErrors) = Parser.parse(text)
        if !parseErrors.isEmpty { throw Diagnostics(Diagnostic.reported(parseErrors)) }
        let layout = Layout(bytes: Array(text.utf8), tokens: tokens, statements: statements, width: max(20, width))
        let out = layout.script()
        // The promise that formatting never changes meaning is checked, not hoped for.
        let (again, errors) = Parser.parse(out)
        guard errors.isEmpty, again.map(\.shape) == statements.map(\.shape) else {
            throw Diagnostics([Diagnostic(.syntax, "this script could not be laid out without changing it; it is left as it is",
                                          at: SourceRange(0, 0), notes: ["please report the script: it is a bug in the formatter"])])
        }
        return out
    }

    /// The canonical layout of the statements of `text` that `range` touches: the byte range
    /// of `text` to replace (from the start of the first such statement's line to the end of
    /// the last one's) and its new text. `nil` when the range touches no statement.
    public static func format(_ text: String, range: SourceRange, width: Int = defaultWidth) throws(Diagnostics) -> (range: SourceRange, text: String)? {
        let (statements, parseErrors) = Parser.parse(ScriptPiece.queryText(text, pieces: ScriptPiece.split(text)))
        if !parseErrors.isEmpty { throw Diagnostics(Diagnostic.reported(parseErrors)) }
        let touched = statements.filter { $0.range.start <= range.end && $0.range.end >= range.start }
        guard let first = touched.first, let last = touched.last else { return nil }
        let bytes = Array(text.utf8)
        var start = first.range.start
        while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
        var end = min(last.range.end, bytes.count)
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        let piece = String(decoding: bytes[start..<end], as: UTF8.self)
        var formatted = try format(piece, width: width)
        if formatted.hasSuffix("\n") { formatted.removeLast() }
        return (SourceRange(start, end), formatted)
    }
}

/// One run of the formatter over a script that parsed without errors.
private struct Layout {
    let bytes: [UInt8]
    let tokens: [Token]
    let statements: [Statement]
    let width: Int

    /// A full-line comment before token `i`, and whether a blank line came before it.
    var leading: [Int: [(text: String, blankBefore: Bool)]] = [:]
    /// A comment after token `i` on its line.
    var trailing: [Int: String] = [:]
    /// Whether a blank line separates token `i` from what came before it.
    var blankBefore: Set<Int> = []

    init(bytes: [UInt8], tokens: [Token], statements: [Statement], width: Int) {
        self.bytes = bytes
        self.tokens = tokens
        self.statements = statements
        self.width = width
        findComments()
    }

    func text(_ r: SourceRange) -> String { String(decoding: bytes[r.start..<min(r.end, bytes.count)], as: UTF8.self) }

    /// Comments are not tokens: each is found in the gap before a token (a gap holds at most
    /// one, since a comment runs to the line break, which is a token).
    mutating func findComments() {
        var newlines = 0
        var lastContent = -1
        var pending: [(String, Bool)] = []
        var previousEnd = utf8BOMLength(bytes)
        for (i, t) in tokens.enumerated() {
            var p = previousEnd
            while p < t.range.start, bytes[p] != UInt8(ascii: "#") { p += 1 }
            if p < t.range.start {
                var end = t.range.start
                while end > p, [0x20, 0x09, 0x0D, 0x0C].contains(bytes[end - 1]) { end -= 1 }
                let comment = text(SourceRange(p, end))
                if newlines == 0, lastContent >= 0 {
                    trailing[lastContent] = comment
                } else {
                    pending.append((comment, newlines >= 2))
                }
                newlines = 0
            }
            previousEnd = t.range.end
            switch t.kind {
            case .newline:
                newlines += 1
            case .symbol(";"):
                newlines = 0  // a comment after `a;` belongs to `a`
            default:
                if !pending.isEmpty { leading[i] = pending.map { (text: $0.0, blankBefore: $0.1) }; pending = [] }
                if newlines >= 2 { blankBefore.insert(i) }
                newlines = 0
                lastContent = i
            }
        }
    }

    // MARK: - The script

    func script() -> String {
        var out: [String] = []
        var i = 0
        var statementIndex = 0
        func emitLeading(_ i: Int) {
            for c in leading[i] ?? [] {
                if c.blankBefore, !out.isEmpty { out.append("") }
                out.append(c.text)
            }
        }
        while i < tokens.count {
            let t = tokens[i]
            switch t.kind {
            case .newline, .symbol(";"):
                i += 1
                continue
            case .end:
                emitLeading(i)
                i += 1
                continue
            default: break
            }
            // Every other token starts a statement (the script parsed), which runs to the
            // next statement's start. Not to its range's end: a range may leave out a token
            // (`describe "x"` is the word alone).
            while statementIndex < statements.count, statements[statementIndex].range.start <= t.range.start { statementIndex += 1 }
            let end = statementIndex < statements.count ? statements[statementIndex].range.start : Int.max
            var members: [Int] = []
            var j = i
            while j < tokens.count, tokens[j].range.start < end {
                if case .end = tokens[j].kind { break }
                members.append(j)
                j += 1
            }
            // The line breaks and `;` after the statement are not part of it.
            while let last = members.last, tokens[last].kind == .newline || tokens[last].symbol == ";" {
                members.removeLast()
                j -= 1
            }
            for c in leading[i] ?? [] {
                if c.blankBefore, !out.isEmpty, out.last != "" { out.append("") }
                out.append(c.text)
            }
            if blankBefore.contains(i), !out.isEmpty, out.last != "" { out.append("") }
            out += statement(members)
            i = j
        }
        while out.last == "" { out.removeLast() }
        while out.first == "" { out.removeFirst() }
        return out.isEmpty ? "" : out.joined(separator: "\n") + "\n"
    }

    // MARK: - One statement

    /// A token as it is written in canonical form.
    func word(_ i: Int) -> String {
        switch tokens[i].kind {
        case .keyword(let k): return k.rawValue
        case .symbol(let s): return s
        default: return text(tokens[i].range)
        }
    }

    func isOperandEnd(_ i: Int) -> Bool {
        switch tokens[i].kind {
        case .identifier, .string, .number, .percent, .date, .parameter: return true
        case .symbol(let s): return s == ")" || s == "]"
        case .keyword(let k): return k == .null || k == .true || k == .false
        default: return false
        }
    }

    /// Whether one space goes between tokens `a` and `b` (adjacent in the statement).
    func space(_ a: Int, _ b: Int, previous: Int?) -> Bool {
        let sa = tokens[a].symbol, sb = tokens[b].symbol
        if sb == "," || sb == ")" || sb == "]" || sb == "." || sa == "(" || sa == "[" || sa == "." { return false }
        if sb == "(", case .identifier = tokens[a].kind { return false }
        if sa == "-", !(previous.map(isOperandEnd) ?? false) { return false }  // a unary minus
        return true
    }

    /// The statement made of tokens `members` (newlines among them), as lines.
    func statement(_ members: [Int]) -> [String] {
        // The tokens that are written, each with whether a line break came before it.
        var toks: [Int] = []
        var brokeBefore: Set<Int> = []
        var trailing = self.trailing, leading = self.leading
        var sawNewline = false
        for (n, i) in members.enumerated() {
            if case .newline = tokens[i].kind { sawNewline = true; continue }
            if tokens[i].symbol == "|" {
                // The pipe is left out; its comments go to its neighbours.
                if let c = trailing[i] {
                    if let p = toks.last, trailing[p] == nil { trailing[p] = c } else if n + 1 < members.count { leading[members[n + 1], default: []].append((c, false)) }
                }
                if let cs = leading[i], let next = members[(n + 1)...].first(where: { tokens[$0].kind != .newline }) {
                    leading[next] = cs + (leading[next] ?? [])
                }
                sawNewline = sawNewline || trailing[i] != nil
                continue
            }
            if sawNewline { brokeBefore.insert(i) }
            sawNewline = false
            toks.append(i)
        }
        guard !toks.isEmpty else { return [] }

        // Segments: the head with its first clause, then one per further clause.
        var segments: [[Int]] = [[]]
        var depth = 0
        var clauses = 0
        var lastClause: Keyword?
        for i in toks {
            switch tokens[i].kind {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth = max(0, depth - 1)
            case .keyword(let k) where depth == 0 && k.isClauseStart:
                if k == .aggregate, lastClause == .group { break }
                lastClause = k
                clauses += 1
                if clauses >= 2 { segments.append([]) }
            default: break
            }
            segments[segments.count - 1].append(i)
        }
        let innerComments = toks.dropFirst().contains { leading[$0] != nil } || toks.dropLast().contains { trailing[$0] != nil }
        let writtenOver = segments.dropFirst().contains { brokeBefore.contains($0[0]) }
        if !innerComments && !writtenOver {
            let line = render(toks, indent: 0, leading: leading, trailing: trailing)
            if line.count == 1, displayWidth(line[0].utf8) <= width { return line }
        }
        var out: [String] = []
        for (n, s) in segments.enumerated() {
            out += render(s, indent: n == 0 ? 0 : 2, leading: leading, trailing: trailing, skipFirstLeading: n == 0)
        }
        return out
    }

    /// The tokens `toks` from the indent, broken after a comma or `and`/`or` when a line
    /// would pass the width, and where comments need a line to themselves.
    func render(_ toks: [Int], indent: Int, leading: [Int: [(text: String, blankBefore: Bool)]], trailing: [Int: String],
                skipFirstLeading: Bool = true) -> [String] {
        var lines: [String] = []
        var line = String(repeating: " ", count: indent)
        var lineWidth = indent
        var hasContent = false
        // Continuation lines start under the first token after the clause's words.
        var continuation = indent + 2
        var continuationFixed = false
        var breakable = false  // a line break may go before the next token
        var pendingBreak = false
        var betweens: [Int: Int] = [:]
        var depth = 0
        func startLine(_ pad: Int) {
            lines.append(line)
            line = String(repeating: " ", count: pad)
            lineWidth = pad
            hasContent = false
        }
        for (n, i) in toks.enumerated() {
            if n > 0 || !skipFirstLeading, let cs = leading[i] {
                if hasContent { startLine(continuation) }
                let pad = n == 0 ? indent : continuation
                for c in cs { lines.append(String(repeating: " ", count: pad) + c.text) }
                line = String(repeating: " ", count: pad)
                lineWidth = pad
                pendingBreak = false
            } else if pendingBreak {
                startLine(continuation)
                pendingBreak = false
            }
            let w = word(i)
            let wordWidth = displayWidth(w.utf8)
            let spaced = hasContent && n > 0 && space(toks[n - 1], i, previous: n >= 2 ? toks[n - 2] : nil)
            if breakable, hasContent, lineWidth + (spaced ? 1 : 0) + wordWidth > width {
                startLine(continuation)
            } else if spaced {
                line += " "
                lineWidth += 1
            }
            line += w
            lineWidth += wordWidth
            hasContent = true
            // Where the items of a clause start: after its keyword(s).
            if !continuationFixed, let k = tokens[i].keyword {
                let next = n + 1 < toks.count ? tokens[toks[n + 1]].keyword : nil
                let waits = (k == .sort || k == .group) && next == .by || k == .where && next == .maybe
                if (k.isClauseStart && !waits) || k == .by || k == .maybe {
                    continuation = lineWidth + 1
                    continuationFixed = true
                }
            }
            switch tokens[i].kind {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth = max(0, depth - 1)
            case .keyword(.between): betweens[depth, default: 0] += 1
            default: break
            }
            breakable = false
            if tokens[i].symbol == "," {
                breakable = true
            } else if let k = tokens[i].keyword, k == .and || k == .or {
                // The `and` of `between … and …` cannot end a line.
                if k == .and, let b = betweens[depth], b > 0 { betweens[depth] = b - 1 } else { breakable = true }
            }
            if let c = trailing[i] {
                line += "  " + c
                pendingBreak = true
            }
        }
        lines.append(line)
        return lines.map { l in
            var s = Substring(l)
            while s.last == " " { s.removeLast() }
            return String(s)
        }
    }
}

/// The lines of `text` split at each line feed, without their carriage returns and without
/// spaces at either end. Split on bytes: "\r\n" is one Character to Swift.
func trimmedLines(_ text: String) -> [String] {
    text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
        var l = String(decoding: line, as: UTF8.self)
        while l.utf8.last == 0x0D { l = String(decoding: l.utf8.dropLast(), as: UTF8.self) }
        return l.trimmingSpaces
    }
}
