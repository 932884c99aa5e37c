/// A named piece of query text, able to turn byte offsets into line:column and to draw
/// a diagnostic under its source line.
public struct SourceText: Sendable {
    /// Source lines longer than this (in bytes) are shown under a diagnostic as a window
    /// around the error.
    static let maxShownLineBytes = 240

    /// The name shown before line:column: a file name, `-e`, `<stdin>` …
    public let name: String
    /// The text itself.
    public let text: String
    private let bytes: [UInt8]
    private let lineStarts: [Int]

    /// Wraps `text`, shown as `name` in diagnostics.
    public init(_ text: String, name: String = "<query>") {
        self.name = name
        self.text = text
        self.bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// The 1-based line and column (in characters) of a byte offset.
    public func lineColumn(of offset: Int) -> (line: Int, column: Int) {
        let o = min(max(0, offset), bytes.count)
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        let column = displayWidth(bytes[lineStarts[lo]..<o]) + 1
        return (lo + 1, column)
    }

    /// The text of a 1-based line, without its line ending, made safe to print.
    public func line(_ number: Int) -> String {
        guard number >= 1, number <= lineStarts.count else { return "" }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return sanitizeForTerminal(String(decoding: bytes[start..<max(start, end)], as: UTF8.self))
    }

    /// Renders a diagnostic the way the CLI prints it:
    ///
    ///     script.kbq:7:17: error: unknown field 'topc' in estimates
    ///       7 | estimates where topc = "containers"
    ///         |                 ^~~~
    ///         = help: did you mean 'topic'?
    ///
    /// - Parameters:
    ///   - d: the diagnostic, with its range in this text.
    ///   - color: whether to colour the severity and the caret with ANSI escapes.
    ///   - width: the columns of the terminal it will be shown on, if any. A source line
    ///     longer than that is shown as a window around the error that fits, so the
    ///     terminal does not wrap it and move the caret away from what it points at.
    public func render(_ d: Diagnostic, color: Bool = false, width: Int? = nil) -> String {
        // A warning is drawn as an error is, in yellow and called so.
        let red = color ? (d.isWarning ? "\u{1B}[1;33m" : "\u{1B}[1;31m") : "", bold = color ? "\u{1B}[1m" : ""
        let severity = d.isWarning ? "warning:" : "error:"
        let green = color ? "\u{1B}[32m" : "", reset = color ? "\u{1B}[0m" : ""
        guard var range = d.range else {
            var out = "\(bold)\(name): \(red)\(severity)\(reset)\(bold) \(sanitizeForTerminal(d.message))\(reset)\n"
            for n in d.notes { out += "  = note: \(sanitizeForTerminal(n))\n" }
            if let s = d.suggestion { out += "  = help: did you mean '\(sanitizeForTerminal(s))'?\n" }
            return out
        }
        // An error at the very end of a text that ends with a newline ("expected a value,
        // found the end of the input") belongs on the last line that has text.
        if range.start >= bytes.count, bytes.count > 0 {
            var end = bytes.count
            while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
            range = SourceRange(end, end)
        }
        let (line, column) = lineColumn(of: range.start)
        var out = "\(bold)\(name):\(line):\(column): \(red)\(severity)\(reset)\(bold) \(sanitizeForTerminal(d.message))\(reset)\n"
        let gutter = String(line).count
        let pad = String(repeating: " ", count: gutter)
        let lineStart = lineStarts[line - 1]
        var lineEnd = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        // The caret spans the range on its first line only.
        let caretStart = min(max(lineStart, range.start), lineEnd)
        let caretEnd = min(max(caretStart, range.end), lineEnd)
        // A long line (a minified script, a binary file read by mistake) is shown as a
        // window around the error, so that each diagnostic costs the same whatever the
        // line's length.
        // On a terminal, the window leaves room for the gutter (" 12 | ") and two "…".
        let budget = width.map { max(20, min(SourceText.maxShownLineBytes, $0 - gutter - 7)) } ?? SourceText.maxShownLineBytes
        var from = lineStart, to = lineEnd
        if to - from > budget {
            from = max(lineStart, caretStart - budget / 2)
            while from > lineStart, bytes[from] & 0xC0 == 0x80 { from -= 1 }
            to = min(lineEnd, from + budget)
            // An error near the end of the line gets the whole window before it.
            if to == lineEnd { from = max(lineStart, lineEnd - budget) }
            while from > lineStart, bytes[from] & 0xC0 == 0x80 { from -= 1 }
            while to < lineEnd, bytes[to] & 0xC0 == 0x80 { to += 1 }
        }
        func shown(_ a: Int, _ b: Int) -> String { sanitizeForTerminal(String(decoding: bytes[a..<max(a, b)], as: UTF8.self)) }
        var before = shown(from, caretStart), after = shown(caretStart, to)
        var cutBefore = from > lineStart, cutAfter = to < lineEnd
        // Control characters are shown as escapes, several columns each: trim again.
        if before.count + after.count > budget {
            let keepBefore = min(before.count, max(budget / 2, budget - after.count))
            if before.count > keepBefore { before = String(before.suffix(keepBefore)); cutBefore = true }
            if after.count > budget - before.count { after = String(after.prefix(budget - before.count)); cutAfter = true }
        }
        let lead = cutBefore ? "…" : ""
        out += " \(line) | \(lead)\(before)\(after)\(cutAfter ? "…" : "")\n"
        // Measured on the text as shown, where a control character takes its escape's width.
        let indent = lead.count + displayWidth(before.utf8)
        let width = max(1, min(displayWidth(shown(caretStart, min(caretEnd, to)).utf8), displayWidth(after.utf8)))
        let marks = "^" + String(repeating: "~", count: width - 1)
        out += " \(pad) | \(String(repeating: " ", count: indent))\(green)\(marks)\(reset)\n"
        for n in d.notes { out += " \(pad) = note: \(sanitizeForTerminal(n))\n" }
        if let s = d.suggestion { out += " \(pad) = help: did you mean '\(sanitizeForTerminal(s))'?\n" }
        return out
    }
}

/// Columns a run of UTF-8 bytes takes on a terminal: one per character, tabs as one,
/// East Asian wide characters as two.
func displayWidth<C: Swift.Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
    // ASCII text, nearly every cell of a table, is measured on its bytes: decoding it into
    // a String first (an allocation past 15 bytes) cost more than the rest of drawing a small
    // table.
    if let ascii = bytes.withContiguousStorageIfAvailable(asciiDisplayWidth), let ascii { return ascii }
    var width = 0
    for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
        width += scalarWidth(scalar)
    }
    return width
}

/// The width of ASCII bytes as ``scalarWidth`` counts it, or nil when there is a byte
/// outside ASCII.
private func asciiDisplayWidth(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    var width = 0
    for b in bytes {
        if b >= 0x80 { return nil }
        if b >= 0x20 && b != 0x7F || b == 0x09 { width += 1 }
    }
    return width
}

func scalarWidth(_ s: Unicode.Scalar) -> Int {
    let v = s.value
    if v < 0x20 || (v >= 0x7F && v < 0xA0) { return v == 0x09 ? 1 : 0 }
    // Combining marks take no column.
    if (0x300...0x36F).contains(v) || (0x200B...0x200F).contains(v) || v == 0xFE0F { return 0 }
    if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
        || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
        || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v) {
        return 2
    }
    return 1
}

/// Replaces control characters (escape sequences among them) with visible escapes, so text
/// from a query or a KB file can never drive the terminal it is printed on. Invisible
/// characters that change how the text around them reads are escaped too: the
/// bidirectional controls (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C), which make
/// `Reuters\u{202E} (retracted)` display reversed, the zero-width space U+200B, a byte order
/// mark U+FEFF inside the text, and the line and paragraph separators U+2028, U+2029.
public func sanitizeForTerminal(_ s: String) -> String {
    var needs = false
    for u in s.unicodeScalars where needsEscapeOnTerminal(u) {
        needs = true
        break
    }
    guard needs else { return s }
    var out = ""
    for u in s.unicodeScalars {
        if needsEscapeOnTerminal(u) {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\u{1B}": out += "\\e"
            default: out += "\\u{" + String(u.value, radix: 16) + "}"
            }
        } else {
            out.unicodeScalars.append(u)
        }
    }
    return out
}

/// Whether `sanitizeForTerminal` shows `u` as an escape.
@inline(__always)
func needsEscapeOnTerminal(_ u: Unicode.Scalar) -> Bool {
    let v = u.value
    if v < 0xA0 { return (v < 0x20 && v != 0x09) || v >= 0x7F }
    if v < 0x061C { return false }
    switch v {
    case 0x061C, 0x200B, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069, 0xFEFF: return true
    default: return false
    }
}

/// What an error message may show of text read from a file: at most `limit` characters,
/// escaped, with `…` when cut. A KB pointed at a file of secrets echoes no more of it than
/// this (docs/KB-FORMAT.md says so).
func excerpt(_ s: some StringProtocol, limit: Int = 40) -> String {
    var cut = String(s.prefix(limit))
    if cut.count < s.count { cut += "…" }
    return sanitizeForTerminal(cut)
}
