/// Turns query text into tokens with exact byte ranges. Newlines are tokens, because a
/// newline ends a statement unless the statement is incomplete or the next line starts
/// with a clause keyword or `|`.
public struct Lexer: Sendable {
    /// The longest query text accepted, in bytes.
    public static let maxSourceBytes = 1 << 20
    /// The longest string literal, in bytes.
    public static let maxStringBytes = 1 << 16

    let bytes: [UInt8]
    var pos = 0
    /// Problems found while reading (bad characters, unterminated strings, bad numbers).
    public private(set) var diagnostics: [Diagnostic] = [] {
        didSet {
            // Text that is not kbq at all (a binary file) would give one per byte: past
            // the bound, one last diagnostic says so and the rest are not kept.
            if diagnostics.count > Lexer.maxDiagnostics {
                diagnostics.removeLast(diagnostics.count - Lexer.maxDiagnostics)
                if !stopped {
                    stopped = true
                    diagnostics[Lexer.maxDiagnostics - 1] = Diagnostic(.limitExceeded, "too many errors; the rest of the text was not checked",
                                                                       at: diagnostics[Lexer.maxDiagnostics - 1].range)
                }
            }
        }
    }
    /// The most diagnostics kept from one text.
    static let maxDiagnostics = 1000
    private var stopped = false

    /// Prepares to read `source`.
    public init(_ source: String) {
        bytes = Array(source.utf8)
        pos = utf8BOMLength(bytes)
    }

    /// Reads every token; the last is always `.end`.
    public static func tokenize(_ source: String) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        var lx = Lexer(source)
        if lx.bytes.count > maxSourceBytes {
            return ([Token(kind: .end, range: SourceRange(0, 0))],
                    [Diagnostic(.limitExceeded, "the query is \(lx.bytes.count) bytes long; the limit is \(maxSourceBytes) bytes", at: SourceRange(0, 0))])
        }
        var out: [Token] = []
        while true {
            let t = lx.next()
            out.append(t)
            if case .end = t.kind { break }
        }
        return (out, lx.diagnostics)
    }

    mutating func next() -> Token {
        skipSpaceAndComments()
        guard pos < bytes.count else { return Token(kind: .end, range: SourceRange(pos, pos)) }
        let start = pos
        let b = bytes[pos]
        switch b {
        case 0x0A:
            pos += 1
            return Token(kind: .newline, range: SourceRange(start, pos))
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return string(quote: b)
        case UInt8(ascii: "`"):
            pos += 1
            while pos < bytes.count, bytes[pos] != UInt8(ascii: "`"), bytes[pos] != 0x0A { pos += 1 }
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "`") else {
                diagnostics.append(Diagnostic(.syntax, "unterminated quoted name", at: SourceRange(start, pos)))
                return Token(kind: .invalid, range: SourceRange(start, pos))
            }
            pos += 1
            let name = String(decoding: bytes[(start + 1)..<(pos - 1)], as: UTF8.self)
            return Token(kind: .identifier(name), range: SourceRange(start, pos))
        case UInt8(ascii: "$"):
            pos += 1
            while pos < bytes.count, isIdentByte(bytes[pos]) { pos += 1 }
            if pos == start + 1 {
                diagnostics.append(Diagnostic(.syntax, "expected a parameter name after '$'", at: SourceRange(start, pos)))
                return Token(kind: .invalid, range: SourceRange(start, pos))
            }
            return Token(kind: .parameter(String(decoding: bytes[(start + 1)..<pos], as: UTF8.self)), range: SourceRange(start, pos))
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return number()
        case UInt8(ascii: "."):
            if pos + 1 < bytes.count, isDigit(bytes[pos + 1]) { return number() }
            pos += 1
            return Token(kind: .symbol("."), range: SourceRange(start, pos))
        default:
            if isIdentStart(b) {
                while pos < bytes.count, isIdentByte(bytes[pos]) { pos += 1 }
                let word = String(decoding: bytes[start..<pos], as: UTF8.self)
                if let k = Keyword(rawValue: word.lowercased()) { return Token(kind: .keyword(k), range: SourceRange(start, pos)) }
                return Token(kind: .identifier(word), range: SourceRange(start, pos))
            }
            // `&&` and `||` from C-like languages: one error for the pair, with the word to use
            // (`||` would otherwise read as two pipes and fail on the second).
            if (b == UInt8(ascii: "&") || b == UInt8(ascii: "|")), pos + 1 < bytes.count, bytes[pos + 1] == b {
                pos += 2
                let word = b == UInt8(ascii: "&") ? "and" : "or"
                diagnostics.append(Diagnostic(.syntax, "unexpected '\(b == UInt8(ascii: "&") ? "&&" : "||")'", at: SourceRange(start, pos), notes: ["write '\(word)'"]))
                return Token(kind: .invalid, range: SourceRange(start, pos))
            }
            if let (sym, length) = symbol(at: pos) {
                pos += length
                return Token(kind: .symbol(sym), range: SourceRange(start, pos))
            }
            // One whole (possibly multi-byte) character that the language does not use.
            pos += 1
            while pos < bytes.count, bytes[pos] & 0xC0 == 0x80 { pos += 1 }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            var shown = sanitizeForTerminal(text)
            var hint: String?
            var codePoint = ""
            // A character that shows as nothing (a zero-width space, a no-break space pasted
            // from a web page) would be a blank between quotes: name it by its code.
            if let u = text.unicodeScalars.first, text.unicodeScalars.count == 1,
               [.format, .spaceSeparator, .lineSeparator, .paragraphSeparator].contains(u.properties.generalCategory) {
                shown = "\\u{" + String(u.value, radix: 16) + "}"
                hint = "an invisible character; delete it, or type a plain space"
            }
            if hint == nil, let u = text.unicodeScalars.first, text.unicodeScalars.count == 1, u.value >= 0x80, u.value != 0xFFFD {
                // Name a character from outside ASCII by its code point: a Cyrillic 'е'
                // in `еstimates` looks exactly like the Latin 'e' it stands in for.
                let code = String(u.value, radix: 16, uppercase: true)
                codePoint = " (U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
                    + (u.properties.name.map { " " + $0 } ?? "") + ")"
                if let latin = latinLookalike(u) {
                    hint = "it looks like the Latin letter '\(latin)' but is not one; type '\(latin)' instead"
                }
            }
            if text == "“" || text == "”" || text == "‘" || text == "’" { hint = "use straight quotes (\" or ') around strings" }
            if text == "&" { hint = "write 'and'" }
            if text == "!" { hint = "write 'not', or '!=' for not equal" }
            diagnostics.append(Diagnostic(.syntax, "unexpected character '\(shown)'\(codePoint)", at: SourceRange(start, pos), notes: hint.map { [$0] } ?? []))
            return Token(kind: .invalid, range: SourceRange(start, pos))
        }
    }

    /// The operator or punctuation at `p` in its canonical spelling (`==` is `=`, `<>` is
    /// `!=`), and its length in bytes. Matched byte by byte: no allocation per token.
    func symbol(at p: Int) -> (String, Int)? {
        let next = p + 1 < bytes.count ? bytes[p + 1] : 0
        switch bytes[p] {
        case UInt8(ascii: "!"): return next == UInt8(ascii: "=") ? ("!=", 2) : nil
        case UInt8(ascii: "<"):
            if next == UInt8(ascii: "=") { return ("<=", 2) }
            if next == UInt8(ascii: ">") { return ("!=", 2) }
            return ("<", 1)
        case UInt8(ascii: ">"): return next == UInt8(ascii: "=") ? (">=", 2) : (">", 1)
        case UInt8(ascii: "="): return next == UInt8(ascii: "=") ? ("=", 2) : ("=", 1)
        case UInt8(ascii: "("): return ("(", 1)
        case UInt8(ascii: ")"): return (")", 1)
        case UInt8(ascii: "["): return ("[", 1)
        case UInt8(ascii: "]"): return ("]", 1)
        case UInt8(ascii: ","): return (",", 1)
        case UInt8(ascii: "|"): return ("|", 1)
        case UInt8(ascii: ";"): return (";", 1)
        case UInt8(ascii: "+"): return ("+", 1)
        case UInt8(ascii: "-"): return ("-", 1)
        case UInt8(ascii: "*"): return ("*", 1)
        case UInt8(ascii: "/"): return ("/", 1)
        case UInt8(ascii: "%"): return ("%", 1)
        default: return nil
        }
    }

    mutating func skipSpaceAndComments() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0C { pos += 1; continue }
            if b == UInt8(ascii: "#") {
                while pos < bytes.count, bytes[pos] != 0x0A { pos += 1 }
                continue
            }
            // A backslash at the end of a line joins it to the next, as in a shell.
            if b == UInt8(ascii: "\\"), pos + 1 < bytes.count, bytes[pos + 1] == 0x0A { pos += 2; continue }
            return
        }
    }

    func isIdentStart(_ b: UInt8) -> Bool {
        (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || b == UInt8(ascii: "_")
    }
    func isIdentByte(_ b: UInt8) -> Bool { isIdentStart(b) || isDigit(b) }

    mutating func string(quote: UInt8) -> Token {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else {
                diagnostics.append(Diagnostic(.syntax, "unterminated string", at: SourceRange(start, start + 1),
                                              notes: ["close it with \(quote == 0x22 ? "\"" : "'")"]))
                return Token(kind: .invalid, range: SourceRange(start, pos))
            }
            let b = bytes[pos]
            if b == quote { pos += 1; break }
            if b == UInt8(ascii: "\\"), pos + 1 < bytes.count {
                let e = bytes[pos + 1]
                pos += 2
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
                default:
                    // Any other backslash stays as written, so a pattern such as
                    // "\bsanction" reaches `matches` intact.
                    out.append(UInt8(ascii: "\\"))
                    out.append(e)
                }
                continue
            }
            out.append(b)
            pos += 1
        }
        if out.count > Lexer.maxStringBytes {
            diagnostics.append(Diagnostic(.limitExceeded, "string literal of \(out.count) bytes; the limit is \(Lexer.maxStringBytes)", at: SourceRange(start, pos)))
            return Token(kind: .invalid, range: SourceRange(start, pos))
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            diagnostics.append(Diagnostic(.syntax, "string is not valid UTF-8", at: SourceRange(start, pos)))
            return Token(kind: .invalid, range: SourceRange(start, pos))
        }
        return Token(kind: .string(s), range: SourceRange(start, pos))
    }

    mutating func number() -> Token {
        let start = pos
        // A date literal: 2024-06 or 2024-06-19 (exactly four digits, dash, two digits).
        if let d = dateLiteral() { return d }
        var text: [UInt8] = []
        func digits() {
            while pos < bytes.count, isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") {
                if bytes[pos] != UInt8(ascii: "_") { text.append(bytes[pos]) }
                pos += 1
            }
        }
        digits()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "."), pos + 1 < bytes.count, isDigit(bytes[pos + 1]) {
            text.append(bytes[pos]); pos += 1
            digits()
        }
        if pos < bytes.count, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            var p = pos + 1
            if p < bytes.count, bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-") { p += 1 }
            if p < bytes.count, isDigit(bytes[p]) {
                text.append(contentsOf: bytes[pos..<p])
                pos = p
                digits()
            }
        }
        if pos < bytes.count, isIdentStart(bytes[pos]) {
            let s0 = pos
            while pos < bytes.count, isIdentByte(bytes[pos]) { pos += 1 }
            diagnostics.append(Diagnostic(.syntax, "a number cannot be followed directly by '\(String(decoding: bytes[s0..<pos], as: UTF8.self))'",
                                          at: SourceRange(start, pos)))
            return Token(kind: .invalid, range: SourceRange(start, pos))
        }
        let value = text.withUnsafeBufferPointer { parseDouble($0) }
        guard let v = value, v.isFinite else {
            diagnostics.append(Diagnostic(.invalidLiteral, "number out of range", at: SourceRange(start, pos)))
            return Token(kind: .invalid, range: SourceRange(start, pos))
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "%") {
            pos += 1
            return Token(kind: .percent(v), range: SourceRange(start, pos))
        }
        return Token(kind: .number(v), range: SourceRange(start, pos))
    }

    mutating func dateLiteral() -> Token? {
        let start = pos
        func d(_ i: Int) -> Bool { i < bytes.count && isDigit(bytes[i]) }
        guard d(start), d(start + 1), d(start + 2), d(start + 3), start + 4 < bytes.count, bytes[start + 4] == UInt8(ascii: "-"),
              d(start + 5), d(start + 6), !d(start + 7) else { return nil }
        var end = start + 7
        if end < bytes.count, bytes[end] == UInt8(ascii: "-"), d(end + 1), d(end + 2), !d(end + 3) { end += 3 }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        pos = end
        guard let date = PartialDate.parse(text) else {
            diagnostics.append(Diagnostic(.invalidLiteral, "'\(text)' is not a valid date", at: SourceRange(start, end),
                                          notes: ["dates are written 2024, 2024-06 or 2024-06-19"]))
            return Token(kind: .invalid, range: SourceRange(start, end))
        }
        return Token(kind: .date(date), range: SourceRange(start, end))
    }
}

/// The ASCII letter a letter from another script is drawn like (Cyrillic 'е' and 'е', Greek
/// 'Ο', fullwidth 'ｅ'), if any: the hint for a name typed or pasted with one.
func latinLookalike(_ u: Unicode.Scalar) -> Character? {
    let v = u.value
    if (0xFF21...0xFF3A).contains(v) || (0xFF41...0xFF5A).contains(v) {
        return Unicode.Scalar(v - 0xFEE0).map(Character.init)
    }
    let table: [UInt32: Character] = [
        // Cyrillic
        0x0430: "a", 0x0435: "e", 0x043E: "o", 0x0440: "p", 0x0441: "c", 0x0443: "y", 0x0445: "x",
        0x0455: "s", 0x0456: "i", 0x0458: "j", 0x04BB: "h", 0x0501: "d", 0x051B: "q", 0x051D: "w",
        0x0410: "A", 0x0412: "B", 0x0415: "E", 0x041A: "K", 0x041C: "M", 0x041D: "H", 0x041E: "O",
        0x0420: "P", 0x0421: "C", 0x0422: "T", 0x0423: "Y", 0x0425: "X", 0x0405: "S", 0x0406: "I", 0x0408: "J",
        // Greek
        0x03BF: "o", 0x03BD: "v", 0x03B9: "i", 0x0391: "A", 0x0392: "B", 0x0395: "E", 0x0396: "Z",
        0x0397: "H", 0x0399: "I", 0x039A: "K", 0x039C: "M", 0x039D: "N", 0x039F: "O", 0x03A1: "P",
        0x03A4: "T", 0x03A5: "Y", 0x03A7: "X",
    ]
    return table[v]
}
