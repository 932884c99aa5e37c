// A loaded KB as bytes, and back.
//
// Why: decoding the article KB from its JSON (parse, check every row, resolve references)
// costs about 1 ms, most of what `kbq -e QUERY` spends. The article KB is therefore also
// compiled in as a snapshot of the loaded columns (Article/ArticleKBSnapshot.swift,
// written by `kbq-snapshot` from the embedded JSON), and start-up copies those columns back.
// The snapshot records a hash of the JSON it was made from: when the two differ (the JSON
// was edited and the snapshot not remade), the JSON is decoded as before, and a test fails.
// A snapshot is only ever read from kbq's own binary, but reading one still checks every
// length and index, so a damaged one is refused, never trusted.

/// Appends values in the snapshot layout. Every byte written is below 0x80 except the bytes
/// of text, which is valid UTF-8: so the snapshot *is* a Swift string's UTF-8, and reading
/// it from the compiled-in literal needs no decoding pass. Numbers are written six bits to
/// a byte, low bits first, 0x40 marking that more follow.
struct SnapshotWriter {
    private(set) var out: [UInt8] = []

    mutating func u64(_ v: UInt64) {
        var v = v
        while v >= 0x40 { out.append(0x40 | UInt8(v & 0x3F)); v >>= 6 }
        out.append(UInt8(v))
    }
    mutating func u8(_ v: UInt8) { u64(UInt64(v)) }
    mutating func u32(_ v: UInt32) { u64(UInt64(v)) }
    mutating func i32(_ v: Int32) { u64(UInt64(UInt32(bitPattern: v))) }
    /// Text as it is (it must be valid UTF-8), after its length.
    mutating func bytes(_ b: [UInt8]) { u64(UInt64(b.count)); out += b }
    mutating func string(_ s: String) { bytes(Array(s.utf8)) }
    mutating func optional(_ s: String?) {
        if let s { u8(1); string(s) } else { u8(0) }
    }
    mutating func u8s(_ a: [UInt8]) { u64(UInt64(a.count)); for v in a { u8(v) } }
    mutating func u32s(_ a: [UInt32]) { u64(UInt64(a.count)); for v in a { u32(v) } }
    mutating func i32s(_ a: [Int32]) { u64(UInt64(a.count)); for v in a { i32(v) } }
    mutating func f64s(_ a: [Double]) { u64(UInt64(a.count)); for v in a { u64(v.bitPattern) } }
}

/// Reads what ``SnapshotWriter`` wrote; every read returns nil past the end or on a value
/// that does not fit.
struct SnapshotReader {
    let data: UnsafeRawBufferPointer
    var pos = 0

    mutating func u64() -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while pos < data.count {
            let b = data[pos]
            pos += 1
            guard b < 0x80, shift < 64 else { return nil }
            v |= UInt64(b & 0x3F) << shift
            if b & 0x40 == 0 { return v }
            shift += 6
        }
        return nil
    }
    mutating func u8() -> UInt8? { u64().flatMap { UInt8(exactly: $0) } }
    mutating func u32() -> UInt32? { u64().flatMap { UInt32(exactly: $0) } }
    mutating func i32() -> Int32? { u32().map { Int32(bitPattern: $0) } }
    /// A count of things each at least one byte long.
    mutating func count() -> Int? {
        guard let n = u64(), n <= UInt64(data.count - pos) else { return nil }
        return Int(n)
    }
    mutating func bytes() -> [UInt8]? {
        guard let n = count() else { return nil }
        defer { pos += n }
        return Array(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + n)]))
    }
    mutating func string() -> String? { bytes().map { String(decoding: $0, as: UTF8.self) } }
    mutating func optional() -> String?? {
        guard let flag = u8() else { return nil }
        return flag == 0 ? .some(nil) : string().map { .some($0) }
    }
    private mutating func array<T>(_ read: (inout SnapshotReader) -> T?) -> [T]? {
        guard let n = count() else { return nil }
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            guard let v = read(&self) else { return nil }
            out.append(v)
        }
        return out
    }
    mutating func u8s() -> [UInt8]? { array { $0.u8() } }
    mutating func u32s() -> [UInt32]? { array { $0.u32() } }
    mutating func i32s() -> [Int32]? { array { $0.i32() } }
    mutating func f64s() -> [Double]? { array { $0.u64().map(Double.init(bitPattern:)) } }
}

enum KBSnapshot {
    static let magic: UInt32 = 0x5351_424B  // "KBQS"
    static let version: UInt32 = 3

    /// Where StringPool's hash puts a fixed string in a table of a fixed size. Pools keep
    /// their hash index in the snapshot, so a snapshot made with another hash function is
    /// refused rather than read with an index that no longer finds anything.
    static var hashProbe: UInt64 {
        var probe = "kbq snapshot hash probe"
        let h = probe.withUTF8 { StringPool.hash($0) }
        return UInt64(StringPool.reduce(h, 1_000_003)) << 32 | UInt64(UInt32(truncatingIfNeeded: h))
    }

    /// FNV-1a over 8-byte words: which JSON a snapshot was made from.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01b3
            i += 8
        }
        while i < bytes.count { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3; i += 1 }
        return h
    }

    static func encode(_ kb: KnowledgeBase, sourceHash: UInt64) -> [UInt8] {
        var w = SnapshotWriter()
        w.u32(magic)
        w.u32(version)
        w.u64(sourceHash)
        w.u64(hashProbe)
        w.string(kb.name)
        w.optional(kb.title)
        w.u64(UInt64(kb.hedges.words.count))
        for word in kb.hedges.words { w.string(word) }
        let aliases = kb.hedges.aliases.sorted { $0.key < $1.key }
        w.u64(UInt64(aliases.count))
        for (alias, rank) in aliases { w.string(alias); w.u64(UInt64(rank)) }
        w.u64(UInt64(kb.collections.count))
        for c in kb.collections {
            w.string(c.name)
            w.optional(c.key)
            w.optional(c.measure)
            w.u64(UInt64(c.count))
            w.u64(UInt64(c.fields.count))
            for f in c.fields {
                w.string(f.name)
                encode(f.type, &w)
                w.optional(f.qualifierField)
                w.optional(f.upperField)
            }
            for column in c.columns { encode(column, &w) }
        }
        return w.out
    }

    static func encode(_ t: FieldType, _ w: inout SnapshotWriter) {
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

    static func encode(_ column: ColumnData, _ w: inout SnapshotWriter) {
        switch column {
        case .string(let ids, let pool):
            w.u8(0)
            pool.write(to: &w)
            ids.write(to: &w)
        case .number(let v):
            w.u8(1)
            w.f64s(v)
        case .date(let d):
            w.u8(2)
            w.u64(UInt64(d.count))
            for x in d {
                w.i32(x.lo)
                w.i32(x.hi)
                w.u8(x.precision.rawValue)
                w.u8(x.hiPrecision.rawValue)
                w.u8(x.form.rawValue)
                w.u8(x.unit.rawValue)
                w.i32(x.anchor)
            }
        case .bool(let b):
            w.u8(3)
            w.u8s(b)
        case .hedge(let h):
            w.u8(4)
            w.u8s(h)
        case .ref(let r):
            w.u8(5)
            w.i32s(r)
        case .list(let l):
            w.u8(6)
            w.u64(UInt64(l.count))
            for items in l {
                guard let items else { w.u8(0); continue }
                w.u8(1)
                w.u64(UInt64(items.count))
                for v in items {
                    switch v {
                    case .bool(let b): w.u8(1); w.u8(b ? 1 : 0)
                    case .number(let d): w.u8(2); w.u64(d.bitPattern)
                    case .string(let s): w.u8(3); w.string(s)
                    // Lists hold strings, numbers, bools and nulls only (ColumnBuilder).
                    default: w.u8(0)
                    }
                }
            }
        }
    }

    /// The KB a snapshot holds, if it was made from JSON with hash `sourceHash` and reads
    /// back whole; nil otherwise.
    static func decode(_ data: UnsafeRawBufferPointer, sourceHash: UInt64) -> KnowledgeBase? {
        var r = SnapshotReader(data: data)
        guard r.u32() == magic, r.u32() == version, r.u64() == sourceHash, r.u64() == hashProbe,
              let name = r.string(), let title = r.optional(), let nWords = r.count() else { return nil }
        var words: [String] = []
        for _ in 0..<nWords { guard let s = r.string() else { return nil }; words.append(s) }
        guard let nAliases = r.count() else { return nil }
        var aliases: [String: Int] = [:]
        for _ in 0..<nAliases {
            guard let s = r.string(), let rank = r.u64(), rank < UInt64(words.count) else { return nil }
            aliases[s] = Int(rank)
        }
        let hedges = HedgeScale(words: words, aliases: aliases)
        guard let nCollections = r.count() else { return nil }
        var collections: [KBCollection] = []
        for _ in 0..<nCollections {
            guard let cname = r.string(), let key = r.optional(), let measure = r.optional(), let rows = r.u64(),
                  rows <= UInt64(Int32.max), let nFields = r.count() else { return nil }
            var fields: [Field] = []
            for _ in 0..<nFields {
                guard let fname = r.string(), let type = decodeType(&r, depth: 0), let q = r.optional(), let u = r.optional() else { return nil }
                fields.append(Field(name: fname, type: type, qualifierField: q, upperField: u))
            }
            var columns: [ColumnData] = []
            for _ in fields {
                guard let column = decodeColumn(&r, rows: Int(rows)) else { return nil }
                columns.append(column)
            }
            collections.append(KBCollection(name: cname, fields: fields, columns: columns, count: Int(rows),
                                            key: key, measure: measure, hedges: hedges))
        }
        guard r.pos == data.count, referencesHold(collections, hedges) else { return nil }
        return KnowledgeBase(name: name, title: title, collections: collections, hedges: hedges)
    }

    private static func decodeType(_ r: inout SnapshotReader, depth: Int) -> FieldType? {
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

    private static func decodeColumn(_ r: inout SnapshotReader, rows: Int) -> ColumnData? {
        guard let tag = r.u8() else { return nil }
        switch tag {
        case 0:
            guard let pool = StringPool(from: &r), let ids = StringIDs(from: &r, strings: pool.count), ids.count == rows else { return nil }
            return .string(ids: ids, pool: pool)
        case 1:
            guard let v = r.f64s(), v.count == rows else { return nil }
            return .number(v)
        case 2:
            guard let n = r.count(), n == rows else { return nil }
            var d: [PartialDate] = []
            d.reserveCapacity(n)
            for _ in 0..<n {
                guard let lo = r.i32(), let hi = r.i32(), let p = r.u8().flatMap(PartialDate.Precision.init(rawValue:)),
                      let hp = r.u8().flatMap(PartialDate.Precision.init(rawValue:)), let form = r.u8().flatMap(PartialDate.Form.init(rawValue:)),
                      let unit = r.u8().flatMap(PartialDate.Unit.init(rawValue:)), let anchor = r.i32() else { return nil }
                var x = PartialDate(year: 1970)
                x.lo = lo; x.hi = hi
                x.precision = p; x.hiPrecision = hp; x.form = form; x.unit = unit
                x.anchor = anchor
                d.append(x)
            }
            return .date(d)
        case 3:
            guard let b = r.u8s(), b.count == rows, b.allSatisfy({ $0 <= 2 }) else { return nil }
            return .bool(b)
        case 4:
            guard let h = r.u8s(), h.count == rows else { return nil }
            return .hedge(h)
        case 5:
            guard let refs = r.i32s(), refs.count == rows else { return nil }
            return .ref(refs)
        case 6:
            guard let n = r.count(), n == rows else { return nil }
            var l: [[Value]?] = []
            l.reserveCapacity(n)
            for _ in 0..<n {
                guard let present = r.u8() else { return nil }
                if present == 0 { l.append(nil); continue }
                guard let k = r.count() else { return nil }
                var items: [Value] = []
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
            return .list(l)
        default:
            return nil
        }
    }

    /// References point at rows that exist, hedge ranks are on the scale.
    private static func referencesHold(_ collections: [KBCollection], _ hedges: HedgeScale) -> Bool {
        var counts: [String: Int] = [:]
        for c in collections { counts[c.name] = c.count }
        for c in collections {
            for (f, column) in zip(c.fields, c.columns) {
                switch column {
                case .ref(let rows):
                    guard case .ref(let target) = f.type, let n = counts[target] else { return false }
                    if rows.contains(where: { $0 < -1 || Int($0) >= n }) { return false }
                case .hedge(let h):
                    if h.contains(where: { $0 != 255 && Int($0) >= hedges.words.count }) { return false }
                default:
                    break
                }
            }
        }
        return true
    }

    /// The body of a Swift string literal whose UTF-8 is `bytes` (which must be valid UTF-8,
    /// as a snapshot is): text as itself, so a diff of the snapshot shows the KB's text;
    /// quotes, backslashes and control characters escaped.
    static func literal(_ bytes: [UInt8]) -> String {
        var out = ""
        var line = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            // A line break in the source, escaped so that the string holds none.
            if line >= 100 { out += "\\\n"; line = 0 }
            switch scalar {
            case "\\": out += "\\\\"; line += 2
            case "\"": out += "\\\""; line += 2
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let e = "\\u{" + String(scalar.value, radix: 16) + "}"
                out += e
                line += e.count
            default:
                out.unicodeScalars.append(scalar)
                line += 1
            }
        }
        return out
    }
}

extension KnowledgeBase {
    /// The article KB from the snapshot compiled into kbq, when it was made from the JSON
    /// compiled in beside it.
    static func articleFromSnapshot() -> KnowledgeBase? {
        var json = articleKBJSON
        let hash = json.withUTF8 { KBSnapshot.hash($0) }
        // The literal's UTF-8 is the snapshot: read in place.
        var snapshot = articleKBSnapshot
        return snapshot.withUTF8 { KBSnapshot.decode(UnsafeRawBufferPointer($0), sourceHash: hash) }
    }

    /// Swift source for Article/ArticleKBSnapshot.swift: the article KB decoded from the JSON
    /// compiled into this build, as a snapshot. `kbq-snapshot` writes it; nothing else needs it.
    @_spi(Snapshot) public static func articleSnapshotSource() throws(KBLoadError) -> String {
        var json = articleKBJSON
        let hash = json.withUTF8 { KBSnapshot.hash($0) }
        let kb = try KnowledgeBase(json: articleKBJSON.utf8, name: "article")
        let bytes = KBSnapshot.encode(kb, sourceHash: hash)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw KBLoadError(file: "article", problems: [KBProblem(path: "$", message: "the snapshot is not valid UTF-8 (text in the KB is not)")])
        }
        return """
            // Generated by kbq-snapshot (scripts/embed-article-kb.sh) from the article KB's JSON. Do not edit.
            // The loaded article KB as a snapshot (Knowledge/KBSnapshot.swift): \(bytes.count) bytes.
            let articleKBSnapshot = \"\"\"
            \(KBSnapshot.literal(bytes))
            \"\"\"

            """
    }
}
