// The variable-length parts of a compiled KB file (CompiledFormat.swift): its schema section
// (name, title, hedge scale, and each collection's fields with their types) and its list
// columns. Everything else in the file is fixed-width arrays read where they lie.
//
// Numbers are written six bits to a byte, low bits first, 0x40 marking that more follow, so
// every byte but those of text is below 0x80 (the encoding of the start-up snapshot this
// format replaced; changing it means a new format version).

/// Appends values in the schema's encoding.
struct VarintWriter {
    private(set) var out: [UInt8] = []

    mutating func u64(_ v: UInt64) {
        var v = v
        while v >= 0x40 { out.append(0x40 | UInt8(v & 0x3F)); v >>= 6 }
        out.append(UInt8(v))
    }
    mutating func u8(_ v: UInt8) { u64(UInt64(v)) }
    /// Text as it is (UTF-8), after its length.
    mutating func string(_ s: String) {
        let b = Array(s.utf8)
        u64(UInt64(b.count))
        out += b
    }
    mutating func optional(_ s: String?) {
        if let s { u8(1); string(s) } else { u8(0) }
    }
    /// Bytes another writer wrote, as they are.
    mutating func append(_ b: [UInt8]) { out += b }
}

/// Reads what ``VarintWriter`` wrote; every read returns nil past the end or on a value that
/// does not fit.
struct VarintReader {
    let data: UnsafeRawBufferPointer
    var pos = 0

    mutating func u64() -> UInt64? {
        guard let base = data.baseAddress else { return nil }
        var v: UInt64 = 0, shift: UInt64 = 0
        // `pos < data.count` is the bounds check: the bytes are read without another.
        while pos < data.count {
            let b = base.load(fromByteOffset: pos, as: UInt8.self)
            pos += 1
            guard b < 0x80, shift < 64 else { return nil }
            v |= UInt64(b & 0x3F) << shift
            if b & 0x40 == 0 { return v }
            shift += 6
        }
        return nil
    }
    mutating func u8() -> UInt8? { u64().flatMap { UInt8(exactly: $0) } }
    /// A count of things each at least one byte long.
    mutating func count() -> Int? {
        guard let n = u64(), n <= UInt64(data.count - pos) else { return nil }
        return Int(n)
    }
    /// Decoded from the bytes in place: no array in between.
    mutating func string() -> String? {
        guard let n = count() else { return nil }
        defer { pos += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: data[pos..<(pos + n)]), as: UTF8.self)
    }
    mutating func optional() -> String?? {
        guard let flag = u8() else { return nil }
        return flag == 0 ? .some(nil) : string().map { .some($0) }
    }
}

enum SchemaCoding {
    /// The KB's name, title and hedge scale with its aliases.
    static func encodeNameAndHedges(_ kb: KnowledgeBase, _ w: inout VarintWriter) {
        w.string(kb.name)
        w.optional(kb.title)
        w.u64(UInt64(kb.hedges.words.count))
        for word in kb.hedges.words { w.string(word) }
        let aliases = kb.hedges.aliases.sorted { $0.key < $1.key }
        w.u64(UInt64(aliases.count))
        for (alias, rank) in aliases { w.string(alias); w.u64(UInt64(rank)) }
    }

    /// What ``encodeNameAndHedges(_:_:)`` wrote, if it reads back with at most
    /// `HedgeScale.maxWords` words and every alias on the scale.
    static func decodeNameAndHedges(_ r: inout VarintReader) -> (name: String, title: String?, hedges: HedgeScale)? {
        guard let name = r.string(), let title = r.optional(), let nWords = r.count(), nWords <= HedgeScale.maxWords else { return nil }
        var words: [String] = []
        for _ in 0..<nWords { guard let s = r.string() else { return nil }; words.append(s) }
        guard let nAliases = r.count() else { return nil }
        var aliases: [String: Int] = [:]
        for _ in 0..<nAliases {
            guard let s = r.string(), let rank = r.u64(), rank < UInt64(words.count) else { return nil }
            aliases[s] = Int(rank)
        }
        return (name, title, HedgeScale(words: words, aliases: aliases))
    }

    static func encode(_ t: FieldType, _ w: inout VarintWriter) {
        switch t {
        case .string: w.u8(0)
        case .number(let q): w.u8(q ? 2 : 1)
        case .percent: w.u8(3)
        case .date: w.u8(4)
        case .bool: w.u8(5)
        case .hedge: w.u8(6)
        case .list(let e):
            if let e { w.u8(8); encode(e, &w) } else { w.u8(7) }
        case .ref(let c): w.u8(9); w.string(c)
        case .null: w.u8(10)
        }
    }

    static func decodeType(_ r: inout VarintReader, depth: Int) -> FieldType? {
        guard depth < 4, let tag = r.u8() else { return nil }
        switch tag {
        case 0: return .string
        case 1: return .number()
        case 2: return .number(qualified: true)
        case 3: return .percent
        case 4: return .date
        case 5: return .bool
        case 6: return .hedge
        case 7: return .list(nil)
        case 8: return decodeType(&r, depth: depth + 1).map { .list($0) }
        case 9: return r.string().map { .ref($0) }
        case 10: return .null
        default: return nil
        }
    }

    /// The tag a list section starts with.
    private static let listTag: UInt8 = 6

    /// A list column: per row, absent (null) or its items, each a null, bool, number or string
    /// (the only values lists hold: ColumnBuilder).
    static func encodeList(_ rows: [[Value]?], _ w: inout VarintWriter) {
        w.u8(listTag)
        w.u64(UInt64(rows.count))
        for items in rows {
            guard let items else { w.u8(0); continue }
            w.u8(1)
            w.u64(UInt64(items.count))
            for v in items {
                switch v {
                case .bool(let b): w.u8(1); w.u8(b ? 1 : 0)
                case .number(let d): w.u8(2); w.u64(d.bitPattern)
                case .string(let s): w.u8(3); w.string(s)
                default: w.u8(0)
                }
            }
        }
    }

    /// What ``encodeList(_:_:)`` wrote, if it reads back with `rows` rows.
    static func decodeList(_ r: inout VarintReader, rows: Int) -> [[Value]?]? {
        guard r.u8() == listTag, let n = r.count(), n == rows else { return nil }
        var l: [[Value]?] = []
        l.reserveCapacity(n)
        for _ in 0..<n {
            guard let present = r.u8() else { return nil }
            if present == 0 { l.append(nil); continue }
            guard let k = r.count() else { return nil }
            var items: [Value] = []
            items.reserveCapacity(k)
            for _ in 0..<k {
                switch r.u8() {
                case 0?: items.append(.null)
                case 1?: guard let b = r.u8() else { return nil }; items.append(.bool(b == 1))
                case 2?: guard let d = r.u64() else { return nil }; items.append(.number(Double(bitPattern: d)))
                case 3?: guard let s = r.string() else { return nil }; items.append(.string(s))
                default: return nil
                }
            }
            l.append(items)
        }
        return l
    }

    /// A column of `rows` nulls for a field of type `type` (what a damaged column reads as).
    static func nullColumn(_ type: FieldType, rows: Int) -> ColumnData {
        switch type {
        case .string: return .string(ids: StringIDs([UInt32](repeating: StringPool.null, count: rows)), pool: StringPool())
        case .number, .percent, .null: return .number(Stored([Double](repeating: .nan, count: rows)))
        case .date: return .date(Stored([PartialDate](repeating: ColumnData.nullDate, count: rows)))
        case .bool: return .bool(Stored([UInt8](repeating: 2, count: rows)))
        case .hedge: return .hedge(Stored([UInt8](repeating: 255, count: rows)))
        case .ref: return .ref(Stored([Int32](repeating: -1, count: rows)))
        case .list: return .list([[Value]?](repeating: nil, count: rows))
        }
    }
}
