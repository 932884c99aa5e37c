import KBQ

/// Turns byte offsets (the engine's positions) into LSP positions and back. LSP counts a
/// line's characters in UTF-16 code units; lines end at "\n" (a "\r" before it is part of
/// the line, as editors count it too).
struct LineIndex {
    let bytes: [UInt8]
    let lineStarts: [Int]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The end of line `line` (0-based), before its "\n".
    func lineEnd(_ line: Int) -> Int {
        line + 1 < lineStarts.count ? lineStarts[line + 1] - 1 : bytes.count
    }

    /// The byte offset of an LSP position. Out-of-range positions are clamped, as the
    /// protocol asks: a character past the line's end means its end, a line past the last
    /// means the end of the text.
    func offset(line: Int, character: Int) -> Int {
        guard line >= 0 else { return 0 }
        guard line < lineStarts.count else { return bytes.count }
        var p = lineStarts[line]
        let end = lineEnd(line)
        var units = 0
        while p < end, units < character {
            let b = bytes[p]
            let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            units += length == 4 ? 2 : 1
            p = min(end, p + length)
        }
        return p
    }

    /// The LSP position (0-based line, UTF-16 character) of a byte offset.
    func position(_ offset: Int) -> (line: Int, character: Int) {
        let o = min(max(0, offset), bytes.count)
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        var units = 0
        var p = lineStarts[lo]
        while p < o {
            let b = bytes[p]
            let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            units += length == 4 ? 2 : 1
            p += length
        }
        return (lo, units)
    }

    func json(_ offset: Int) -> JSON {
        let p = position(offset)
        return .make([("line", .number(Double(p.line))), ("character", .number(Double(p.character)))])
    }

    func json(_ range: SourceRange) -> JSON {
        .make([("start", json(range.start)), ("end", json(range.end))])
    }
}
