/// A parsed JSON value. Objects keep their members in document order, so that a KB's
/// field order is its column order. Visible to the package's executables (the language
/// server reads JSON-RPC with it), not part of the library's public API.
package enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    package subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first(where: { $0.0 == key })?.1 }
        return nil
    }

    /// A short rendering for error messages.
    var preview: String {
        switch self {
        case .string(let s): return "string \"" + excerpt(s) + "\""
        case .number(let n): return "number \(formatNumber(n).replacingCommas)"
        case .bool(let b): return "\(b)"
        default: return typeName
        }
    }
}

/// Writing JSON, and reading parsed JSON, for the package's executables (the language
/// server's JSON-RPC, the MCP server's answers): one writer, so both speak the same JSON.
/// Objects keep their members in the order given: an answer's row objects list their
/// fields in the result's column order, as `kbq --format json` does.
extension JSON {
    /// An integer as a JSON number (exact up to 2^53, far beyond any count kbq writes).
    package static func int(_ n: Int) -> JSON { .number(Double(n)) }

    /// An array of strings.
    package static func strings(_ items: [String]) -> JSON { .array(items.map(JSON.string)) }

    /// An object from pairs, leaving out members whose value is nil.
    package static func make(_ members: [(String, JSON?)]) -> JSON {
        .object(members.compactMap { k, v in v.map { (k, $0) } })
    }

    /// Compact JSON text (one line): integers without a fraction, other numbers in their
    /// shortest round-tripping form as kbq's JSON output writes them, non-finite as null.
    package var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if n == n.rounded(), abs(n) < 1e15 { out += String(Int(n)) } else if n.isFinite { out += shortestDescription(n) } else { out += "null" }
        case .string(let s): out += jsonQuote(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                out += jsonQuote(key)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    package var string: String? { if case .string(let s) = self { return s }; return nil }
    package var int: Int? {
        if case .number(let n) = self, n == n.rounded(), abs(n) < 1e15 { return Int(n) }
        return nil
    }
    package var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    package var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    package var isObject: Bool { if case .object = self { return true }; return false }
}

extension String {
    var replacingCommas: String { String(self.filter { $0 != "," }) }
}

/// A JSON syntax error at a byte offset.
package struct JSONSyntaxError: Error {
    package let message: String
    package let offset: Int
    /// What a KB problem made from it is: most are syntax, but a bound or bad bytes are not.
    package var kind: KBProblem.Kind = .syntax
}

/// A strict RFC 8259 parser over bytes, with a nesting bound so hostile files cannot
/// overflow the stack.
package struct JSONParser {
    static let maxDepth = 256
    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    var depth = 0
    /// False while only checking: arrays and objects then keep none of their members, so a
    /// document of any size is checked in the memory of its largest string.
    var keep = true

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    package static func parse(_ data: [UInt8]) throws(JSONSyntaxError) -> JSON {
        var result: Result<JSON, JSONSyntaxError> = .success(.null)
        data.withUnsafeBufferPointer { buf in
            result = Result { () throws(JSONSyntaxError) -> JSON in try parse(buf) }
        }
        return try result.get()
    }

    /// Parses one JSON value filling `buf` (an NDJSON line, read in place without a copy).
    /// `depth` is how deep in a document the value stands, so that its nesting is bounded
    /// as when the whole document is parsed.
    static func parse(_ buf: UnsafeBufferPointer<UInt8>, depth: Int = 0, keep: Bool = true) throws(JSONSyntaxError) -> JSON {
        var p = JSONParser(buf)
        p.depth = depth
        p.keep = keep
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        if p.pos < buf.count { throw p.error("unexpected text after the JSON value") }
        return v
    }

    /// Checks that `buf` holds one valid JSON value, saying where it is not as ``parse(_:depth:)``
    /// says it, without building the value: a file too large to hold as a tree still gets
    /// its syntax error's place.
    static func validate(_ buf: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) {
        _ = try parse(buf, keep: false)
    }

    func error(_ m: String) -> JSONSyntaxError { JSONSyntaxError(message: m, offset: pos) }

    mutating func skipSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    mutating func value() throws(JSONSyntaxError) -> JSON {
        guard pos < bytes.count else { throw error("unexpected end of file") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default:
            throw error("unexpected character '\(printable(bytes[pos]))'")
        }
    }

    func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }

    mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        let n = w.count
        guard pos + n <= bytes.count else { throw error("unexpected end of file") }
        for i in 0..<n where bytes[pos + i] != w[i] {
            throw error("unexpected character '\(printable(bytes[pos]))'")
        }
        pos += n
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > JSONParser.maxDepth { throw JSONSyntaxError(message: "nesting deeper than \(JSONParser.maxDepth) levels", offset: pos, kind: .limitExceeded) }
    }

    mutating func object() throws(JSONSyntaxError) -> JSON {
        try object { (p: inout JSONParser, _: String) throws(JSONSyntaxError) -> JSON in try p.value() }
    }

    /// Parses an object as ``object()`` does, reading each member's value with `member`
    /// (given the member's name, the parser at the value): a KB document's reader leaves
    /// its rows to be read row by row.
    mutating func object(member: (inout JSONParser, String) throws(JSONSyntaxError) -> JSON) throws(JSONSyntaxError) -> JSON {
        try enter()
        pos += 1
        var members: [(String, JSON)] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; depth -= 1; return .object(members) }
        while true {
            skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of file inside an object") }
            guard bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
            let key = try string()
            skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of file inside an object") }
            guard bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' after member name") }
            pos += 1
            skipSpace()
            let v = try member(&self, key)
            if keep { members.append((key, v)) }
            skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of file inside an object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
            throw error("expected ',' or '}' in an object")
        }
        depth -= 1
        return .object(members)
    }

    mutating func array() throws(JSONSyntaxError) -> JSON {
        try enter()
        pos += 1
        var items: [JSON] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; depth -= 1; return .array(items) }
        while true {
            skipSpace()
            let v = try value()
            if keep { items.append(v) }
            skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of file inside an array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
            throw error("expected ',' or ']' in an array")
        }
        depth -= 1
        return .array(items)
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        let start = pos
        pos += 1
        // Fast path: no escapes.
        var i = pos
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = try validatedString(pos..<i, start: start)
                pos = i + 1
                return s
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            i += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(i - pos + 16)
        out.append(contentsOf: bytes[pos..<i])
        pos = i
        while true {
            guard pos < bytes.count else { throw JSONSyntaxError(message: "unterminated string", offset: start) }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") { pos += 1; break }
            if b < 0x20 { throw error("control character in a string (write it as an escape)") }
            if b != UInt8(ascii: "\\") { out.append(b); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { throw JSONSyntaxError(message: "unterminated string", offset: start) }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw error("unpaired surrogate in \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw error("invalid escape '\\\(printable(e))'")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw JSONSyntaxError(message: "string is not valid UTF-8", offset: start, kind: .encoding)
        }
        return s
    }

    func validatedString(_ r: Range<Int>, start: Int) throws(JSONSyntaxError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[r])
        var ascii = true
        for b in slice where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw JSONSyntaxError(message: "string is not valid UTF-8", offset: start, kind: .encoding)
        }
        return s
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("unexpected end of file in \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    mutating func number() throws(JSONSyntaxError) -> Double {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number") }
        if bytes[pos] == UInt8(ascii: "0"), pos + 1 < bytes.count, isDigit(bytes[pos + 1]) {
            throw error("numbers may not start with 0")
        }
        while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number: digits must follow '.'") }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number: digits must follow the exponent") }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        guard let v = parseDouble(UnsafeBufferPointer(rebasing: bytes[start..<pos])), v.isFinite else {
            throw JSONSyntaxError(message: "number out of range", offset: start, kind: .limitExceeded)
        }
        return v
    }
}

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

private let exactPowersOfTen: [Double] = (0...22).map { p in
    var v = 1.0
    for _ in 0..<p { v *= 10 }
    return v
}

/// Parses a decimal number from a string, as ``parseDouble(_:)-(UnsafeBufferPointer<UInt8>)`` does.
func parseDouble(_ s: String) -> Double? {
    var s = s
    return s.withUTF8 { parseDouble($0) }
}

/// Parses a decimal number from bytes. Short numbers (up to 15 significant digits and 22
/// decimals) take an exact fast path; the rest go through the standard library.
func parseDouble(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
    var i = 0, neg = false
    if i < s.count, s[i] == UInt8(ascii: "-") { neg = true; i += 1 } else if i < s.count, s[i] == UInt8(ascii: "+") { i += 1 }
    var mant: UInt64 = 0, digits = 0, scale = 0, any = false
    while i < s.count, isDigit(s[i]) {
        if digits < 18 { mant = mant * 10 + UInt64(s[i] - 0x30); if mant != 0 { digits += 1 } } else { scale -= 1 }
        i += 1; any = true
    }
    if i < s.count, s[i] == UInt8(ascii: ".") {
        i += 1
        while i < s.count, isDigit(s[i]) {
            if digits < 18 { mant = mant * 10 + UInt64(s[i] - 0x30); if mant != 0 { digits += 1 }; scale += 1 }
            i += 1; any = true
        }
    }
    guard any else { return nil }
    // Decimal only: Swift's Double(String) also reads hex ("0x10" is 16), "inf" and "nan",
    // so the exponent is checked here and anything else after the digits is refused.
    let mantissaEnd = i
    if i < s.count, s[i] | 0x20 == UInt8(ascii: "e") {
        i += 1
        if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") { i += 1 }
        let exponentStart = i
        while i < s.count, isDigit(s[i]) { i += 1 }
        guard i > exponentStart else { return nil }
    }
    guard i == s.count else { return nil }
    if mantissaEnd == s.count, digits <= 15, scale >= 0, scale <= 22, scale >= 0 {
        let v = Double(mant) / exactPowersOfTen[scale]
        return neg ? -v : v
    }
    return Double(String(decoding: s, as: UTF8.self))
}
