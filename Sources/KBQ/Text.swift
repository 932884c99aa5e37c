// String helpers written for concrete types, for start-up time.
//
// Why joined: the standard library's `joined(separator:)` on an array of strings is not
// inlined into kbq, so every call goes through its generic entry point, and the first one
// makes the Swift runtime look up the array's conformances by searching every conformance
// record in the binary (about 0.15 million instructions; `kbq -e QUERY` needed about 2 million
// in all). Declared on `Array` itself, this one is chosen over the library's for every
// `[String]` in the engine.

extension Array where Element == String {
    /// The strings one after another, `separator` between each two.
    func joined(separator: String = "") -> String {
        guard let first else { return "" }
        var out = first
        for s in self[1...] {
            out += separator
            out += s
        }
        return out
    }
}

extension String {
    /// `count` copies of `piece` (none when `count` is not positive), built as bytes: the
    /// library's String(repeating:count:) appends a piece at a time, 3,000 instructions for a
    /// rule of 90 '─' (the expanded table of `kbq -e QUERY` draws one per row).
    static func repeated(_ piece: String, _ count: Int) -> String {
        guard count > 0 else { return "" }
        let unit = Array(piece.utf8)
        return String(unsafeUninitializedCapacity: unit.count * count) { buffer in
            var i = 0
            for _ in 0..<count {
                for b in unit { buffer[i] = b; i += 1 }
            }
            return i
        }
    }
}

/// How many bytes of UTF-8 byte order mark `bytes` starts with (3, or 0): Windows tools
/// write one at the start of a file, and it is no part of the text (RFC 8259 lets a JSON
/// reader skip it; CSV headers are read past it too).
func utf8BOMLength(_ bytes: some Collection<UInt8>) -> Int {
    bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
}

/// Whether every byte is printable ASCII other than `a` and `b`: text that most output
/// formats write as it is. Branch-free, so that the loop runs a word at a time.
@inline(__always)
func isPrintableASCII(_ text: UnsafeBufferPointer<UInt8>, except a: UInt8, _ b: UInt8) -> Bool {
    var bad: UInt8 = 0
    for x in text { bad |= ((x &- 0x20) > 0x5E ? 1 : 0) | (x == a ? 1 : 0) | (x == b ? 1 : 0) }
    return bad == 0
}

/// A string as a JSON string literal: control characters (C0, DEL, C1) and bidirectional
/// controls escaped (as `sanitizeForTerminal` shows them), so that the
/// text is safe to show on a terminal too. The language server writes its JSON with it.
package func jsonQuote(_ s: String) -> String {
    // Printable ASCII without a quote or backslash, nearly every string: as it is.
    var s = s
    if s.withUTF8({ isPrintableASCII($0, except: 0x22, 0x5C) }) { return "\"" + s + "\"" }
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            // The characters a terminal is shielded from, bidirectional controls too: an
            // escape in JSON is the same string to a program.
            if needsEscapeOnTerminal(u) {
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

/// The text with curly apostrophes and quotes written straight; every other character kept,
/// one character for one, so positions in the folded text are positions in the original.
func foldingQuoteMarks(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { quoteMarkFold($0) != nil }) else { return s }
    var out = String.UnicodeScalarView()
    for u in s.unicodeScalars { out.append(quoteMarkFold(u) ?? u) }
    return String(out)
}

/// The text as `contains` compares it: lower case (Unicode's full mapping), curly quote marks
/// straight; nil when that is the text itself. A search folds both sides so: `kbq push` keeps
/// the folded text of each string (SQLLayout's `f__folded`), and the SQL finds the folded
/// needle in it by its bytes, as kbq's own `contains` does.
func containsFolded(_ s: String) -> String? {
    // Printable ASCII without capitals (topics, keys, units) folds to itself: no copy made.
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && !($0 >= 0x41 && $0 <= 0x5A) }) { return nil }
    let folded = foldingQuoteMarks(s).lowercased()
    return folded == s ? nil : folded
}

/// The straight mark a curly apostrophe or quote stands for, nil for any other scalar.
func quoteMarkFold(_ u: Unicode.Scalar) -> Unicode.Scalar? {
    switch u.value {
    case 0x2018, 0x2019, 0x201B, 0x02BC, 0x2032: return "'"
    case 0x201C, 0x201D, 0x201F, 0x2033: return "\""
    default: return nil
    }
}
