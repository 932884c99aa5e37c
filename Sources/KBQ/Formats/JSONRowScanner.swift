/// A scalar member of a row object as ``JSONRowScanner`` found it: where its bytes are, and
/// what they read as. Nothing is allocated for it.
struct ScannedJSON {
    enum Kind: UInt8 { case null, string, number, bool }
    var kind = Kind.null
    /// A string's bytes: `start..<start+count` of the row, or (when `start` is negative,
    /// for a string that held escapes) `-1-start` onwards of the scanner's scratch.
    var start = 0
    var count = 0
    /// A number's value; a bool's (0 or 1); a hedge word's rank once readied.
    var number = 0.0
    /// A date field's date, once readied (``ColumnBuilder/ready(_:lenient:)``).
    var date = ColumnData.nullDate
}

/// Reads the row objects of JSON rows (NDJSON lines, the rows of a JSON array, a KB file's
/// `rows`) straight from their bytes into the column builders, as ``CSVReader`` does a CSV:
/// no JSON value, no String and no path is made for a row.
///
/// Only the common row takes this path: an object whose members are known fields, each
/// given at most once, with scalar values every builder takes as they are. Anything else —
/// a syntax error, a nested value, an unknown or repeated field, a value of the wrong kind,
/// a hedge word off the scale — makes ``scan(_:)`` or ``append(to:lenient:)`` answer false
/// *before anything is appended*, and the caller reads that row through ``JSONParser``
/// and the value-by-value append, which say what is wrong in the words they always have.
/// So the fast path can only ever agree with the slow one.
struct JSONRowScanner {
    /// Each field's name as bytes, for comparing a member name where it stands.
    private let names: [[UInt8]]
    private let lookup: [String: Int]
    /// Per field: its value in the row scanned last, and whether the row gave it.
    private var values: [ScannedJSON]
    private var given: [Bool]
    /// Unescaped bytes of the row's strings that held escapes.
    private var scratch: [UInt8] = []

    init(fields: [Field]) {
        names = fields.map { Array($0.name.utf8) }
        var lookup: [String: Int] = [:]
        for (i, f) in fields.enumerated() where lookup[f.name] == nil { lookup[f.name] = i }
        self.lookup = lookup
        values = [ScannedJSON](repeating: ScannedJSON(), count: fields.count)
        given = [Bool](repeating: false, count: fields.count)
    }

    /// Scans one row object filling `row` (spaces around it allowed). False when the row is
    /// not valid JSON, or not an object of distinct known fields with scalar values.
    mutating func scan(_ row: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let b = row.baseAddress else { return false }
        let n = row.count
        for i in given.indices { given[i] = false }
        scratch.removeAll(keepingCapacity: true)
        var i = 0
        @inline(__always) func space() {
            while i < n, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }
        space()
        guard i < n, b[i] == UInt8(ascii: "{") else { return false }
        i += 1
        space()
        if i < n, b[i] == UInt8(ascii: "}") {
            i += 1
            space()
            return i == n
        }
        var member = 0
        while true {
            space()
            guard i < n, b[i] == 0x22 else { return false }
            i += 1
            // The member name: most often the field at the same place, compared in place.
            var field = -1
            if member < names.count {
                let name = names[member]
                let m = name.count
                if i + m < n, b[i + m] == 0x22, name.withUnsafeBufferPointer({ nb in nb.baseAddress.map { memcmpBytes(b + i, $0, m) } ?? true }) {
                    field = member
                    i += m + 1
                }
            }
            if field < 0 {
                let k0 = i
                while i < n, b[i] != 0x22, b[i] != 0x5C, b[i] >= 0x20 { i += 1 }
                guard i < n, b[i] == 0x22 else { return false }  // escapes in a name: the slow path
                let key = UnsafeBufferPointer(start: b + k0, count: i - k0)
                i += 1
                field = names.firstIndex { $0.elementsEqual(key) } ?? -1
                if field < 0, names.count > 64 { field = lookup[String(decoding: key, as: UTF8.self)] ?? -1 }
                guard field >= 0 else { return false }
            }
            guard !given[field] else { return false }
            space()
            guard i < n, b[i] == UInt8(ascii: ":") else { return false }
            i += 1
            space()
            guard i < n else { return false }
            var v = ScannedJSON()
            switch b[i] {
            case 0x22:
                i += 1
                let s0 = i
                var high: UInt64 = 0
                // Eight bytes at a time to the first quote, backslash or control character.
                let raw = UnsafeRawPointer(b)
                while i + 8 <= n {
                    let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    let m = stringStopBits(w)
                    if m != 0 {
                        // Only the bytes before the stop count towards "non-ASCII".
                        let k = m.trailingZeroBitCount >> 3
                        if k > 0 { high |= w & (UInt64.max >> (64 - 8 * k)) }
                        i += k
                        break
                    }
                    high |= w
                    i += 8
                }
                while i < n, b[i] != 0x22, b[i] != 0x5C, b[i] >= 0x20 { high |= UInt64(b[i]); i += 1 }
                guard i < n else { return false }
                if b[i] == 0x22 {
                    let s = UnsafeBufferPointer(start: b + s0, count: i - s0)
                    if high & 0x8080_8080_8080_8080 != 0, String(validating: s, as: UTF8.self) == nil { return false }
                    v = ScannedJSON(kind: .string, start: s0, count: i - s0)
                    i += 1
                } else if b[i] == 0x5C {
                    // Escapes: decoded (and checked) by the parser, rare enough to allocate.
                    var p = JSONParser(row)
                    p.pos = s0 - 1
                    guard let s = try? p.string() else { return false }
                    let at = scratch.count
                    scratch.append(contentsOf: s.utf8)
                    v = ScannedJSON(kind: .string, start: -1 - at, count: scratch.count - at)
                    i = p.pos
                } else {
                    return false  // a control character in a string
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let s0 = i
                if b[i] == UInt8(ascii: "-") { i += 1 }
                guard i < n, isDigit(b[i]) else { return false }
                if b[i] == UInt8(ascii: "0"), i + 1 < n, isDigit(b[i + 1]) { return false }
                while i < n, isDigit(b[i]) { i += 1 }
                if i < n, b[i] == UInt8(ascii: ".") {
                    i += 1
                    guard i < n, isDigit(b[i]) else { return false }
                    while i < n, isDigit(b[i]) { i += 1 }
                }
                if i < n, b[i] | 0x20 == UInt8(ascii: "e") {
                    i += 1
                    if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                    guard i < n, isDigit(b[i]) else { return false }
                    while i < n, isDigit(b[i]) { i += 1 }
                }
                guard let d = parseDouble(UnsafeBufferPointer(start: b + s0, count: i - s0)), d.isFinite else { return false }
                v = ScannedJSON(kind: .number, number: d)
            case UInt8(ascii: "t"):
                guard i + 4 <= n, b[i + 1] == UInt8(ascii: "r"), b[i + 2] == UInt8(ascii: "u"), b[i + 3] == UInt8(ascii: "e") else { return false }
                i += 4
                v = ScannedJSON(kind: .bool, number: 1)
            case UInt8(ascii: "f"):
                guard i + 5 <= n, b[i + 1] == UInt8(ascii: "a"), b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "s"), b[i + 4] == UInt8(ascii: "e") else { return false }
                i += 5
                v = ScannedJSON(kind: .bool, number: 0)
            case UInt8(ascii: "n"):
                guard i + 4 <= n, b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l") else { return false }
                i += 4
            default:
                return false  // a nested value (or not JSON): the slow path
            }
            values[field] = v
            given[field] = true
            member += 1
            space()
            guard i < n else { return false }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            guard b[i] == UInt8(ascii: "}") else { return false }
            i += 1
            space()
            return i == n
        }
    }

    /// Appends the row scanned last to `builders` (one per field, in order). A field the row
    /// does not give is null when `lenient` (bare data); in a KB's rows it sends the row to
    /// the slow path, which says it is missing. False, with nothing appended, when any value
    /// is not one its column takes as it stands.
    mutating func append(to builders: inout [ColumnBuilder], row: UnsafeBufferPointer<UInt8>, lenient: Bool) -> Bool {
        guard let base = row.baseAddress else { return false }
        let text = scratch
        for i in builders.indices {
            guard given[i] else {
                if lenient { continue }
                return false
            }
            var v = values[i]
            let ok = text.withUnsafeBufferPointer { sc in
                builders[i].ready(&v, bytes: JSONRowScanner.bytes(v, row: base, scratch: sc), lenient: lenient)
            }
            if !ok { return false }
            values[i] = v
        }
        let values = values, given = given
        text.withUnsafeBufferPointer { sc in
            for i in builders.indices {
                if given[i] {
                    builders[i].append(scanned: values[i], bytes: JSONRowScanner.bytes(values[i], row: base, scratch: sc))
                } else {
                    builders[i].appendNull()
                }
            }
        }
        return true
    }

    @inline(__always)
    private static func bytes(_ v: ScannedJSON, row: UnsafePointer<UInt8>, scratch: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard v.kind == .string else { return UnsafeBufferPointer(start: row, count: 0) }
        if v.start >= 0 { return UnsafeBufferPointer(start: row + v.start, count: v.count) }
        return UnsafeBufferPointer(rebasing: scratch[(-1 - v.start)...].prefix(v.count))
    }
}

/// The high bit of each byte of `w` that is a quote, a backslash or below 0x20. Exact for
/// the lowest such byte (bits above it may be spurious), the only one the scanner uses.
@inline(__always)
private func stringStopBits(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
    return zeroBytes(w ^ (ones &* 0x22)) | zeroBytes(w ^ (ones &* 0x5C)) | ((w &- ones &* 0x20) & ~w & highs)
}
