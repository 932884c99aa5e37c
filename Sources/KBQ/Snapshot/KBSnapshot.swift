// A loaded KB as bytes, and back.
//
// Why: decoding the article KB from its JSON (parse, check every row, resolve references)
// costs about 1 ms, most of what `kbq -e QUERY` spends. The article KB is therefore also
// compiled in as a snapshot of the loaded columns (Article/ArticleKBSnapshot.swift,
// written by `kbq-snapshot` from the embedded JSON), and start-up copies those columns back.
// The snapshot records a hash of the JSON it was made from, and kbq-snapshot writes the same
// hash beside it; start-up compares the two without hashing the JSON (4% of a start), and
// ArticleSnapshotTests hashes the JSON, so a snapshot not remade after an edit fails a test.
// A snapshot is only ever read from kbq's own binary, but reading one still checks every
// length and index, so a damaged one is refused, never trusted.
//
// The collections come after a table of contents (name, rows, length of each), and each
// collection's columns after its fields and their lengths. The article KB decodes a
// collection the first time a query reaches it, and a column the first time it is read:
// `kbq -e 'estimates …'` needs estimates and the names and keys of the entities, sources
// and sentences its references show, not the claims or events, nor the sentences' text or
// the entities' aliases. Each part is checked when it is decoded, against the table of
// contents.

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
    /// Bytes another writer wrote, as they are.
    mutating func append(_ b: [UInt8]) { out += b }
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
    /// Decoded from the snapshot's bytes in place: no array in between (two allocations a
    /// string instead of one, most of reading a list of names).
    mutating func string() -> String? {
        guard let n = count() else { return nil }
        defer { pos += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: data[pos..<(pos + n)]), as: UTF8.self)
    }
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
    static let version: UInt32 = 5

    /// Where StringPool's hash puts a fixed string in a table of a fixed size. Pools keep
    /// their hash index in the snapshot, so a snapshot made with another hash function is
    /// refused rather than read with an index that no longer finds anything.
    static var hashProbe: UInt64 {
        var probe = "kbq snapshot hash probe"
        let h = probe.withUTF8 { StringPool.hash($0) }
        return UInt64(StringPool.reduce(h, 1_000_003)) << 32 | UInt64(UInt32(truncatingIfNeeded: h))
    }

    /// FNV-1a over 8-byte words, in four lanes, then the lanes folded together: which JSON a
    /// snapshot was made from (kbq-snapshot and the tests hash the article's 100 KB of JSON):
    /// four lanes let four multiplies run at once where one chain waits on each in turn.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let prime: UInt64 = 0x100_0000_01b3
        let seed: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return seed }
        let raw = UnsafeRawPointer(base)
        var h0 = seed, h1 = seed &+ 1, h2 = seed &+ 2, h3 = seed &+ 3
        var i = 0
        while i + 32 <= bytes.count {
            h0 = (h0 ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* prime
            h1 = (h1 ^ raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) &* prime
            h2 = (h2 ^ raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)) &* prime
            h3 = (h3 ^ raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)) &* prime
            i += 32
        }
        var h = (((((h0 &* prime) ^ h1) &* prime) ^ h2) &* prime) ^ h3
        while i + 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* prime
            i += 8
        }
        while i < bytes.count { h = (h ^ UInt64(bytes[i])) &* prime; i += 1 }
        return h
    }

    static func encode(_ kb: KnowledgeBase, sourceHash: UInt64) -> [UInt8] {
        var w = SnapshotWriter()
        w.u32(magic)
        w.u32(version)
        w.u64(sourceHash)
        w.u64(hashProbe)
        encodeNameAndHedges(kb, &w)
        let bodies = kb.collections.map { c in
            var b = SnapshotWriter()
            b.optional(c.key)
            b.optional(c.measure)
            b.u64(UInt64(c.fields.count))
            for f in c.fields {
                b.string(f.name)
                encode(f.type, &b)
                b.optional(f.qualifierField)
                b.optional(f.upperField)
            }
            let columns = c.fields.indices.map { j in
                var w = SnapshotWriter()
                encode(c.columns[j], &w)
                return w.out
            }
            for column in columns { b.u64(UInt64(column.count)) }
            for column in columns { b.append(column) }
            return b.out
        }
        // The table of contents, then the collections.
        w.u64(UInt64(kb.collections.count))
        for (c, body) in zip(kb.collections, bodies) {
            w.string(c.name)
            w.u64(UInt64(c.count))
            w.u64(UInt64(body.count))
        }
        for body in bodies { w.append(body) }
        return w.out
    }

    /// The KB's name, title and hedge scale with its aliases (snapshots and compiled files).
    static func encodeNameAndHedges(_ kb: KnowledgeBase, _ w: inout SnapshotWriter) {
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
    static func decodeNameAndHedges(_ r: inout SnapshotReader) -> (name: String, title: String?, hedges: HedgeScale)? {
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
            w.f64s(v.array)
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
            w.u8s(b.array)
        case .hedge(let h):
            w.u8(4)
            w.u8s(h.array)
        case .ref(let r):
            w.u8(5)
            w.i32s(r.array)
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

    /// What comes before the collections: the KB's name, title and hedges, and the table of
    /// contents. Arrays of standard types, not of a struct per collection: each new array
    /// type costs the Swift runtime about 10,000 instructions the first time it is made.
    struct Header {
        let name: String
        let title: String?
        let hedges: HedgeScale
        /// The collections' names, rows, and where their bytes start in the snapshot (each
        /// ends where the next starts, the last at the end).
        let names: [String]
        let rows: [Int]
        let starts: [Int]
        /// Rows by collection name, for checking references.
        let rowsByName: [String: Int]

        func bytes(_ i: Int, of data: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: data[starts[i]..<(i + 1 < starts.count ? starts[i + 1] : data.count)])
        }
    }

    /// The header of a snapshot made from JSON with hash `sourceHash`, if it reads back and
    /// its table of contents covers the rest of the bytes exactly; nil otherwise.
    static func header(_ data: UnsafeRawBufferPointer, sourceHash: UInt64) -> Header? {
        var r = SnapshotReader(data: data)
        guard r.u32() == magic, r.u32() == version, r.u64() == sourceHash, r.u64() == hashProbe,
              let (name, title, hedges) = decodeNameAndHedges(&r), let nCollections = r.count() else { return nil }
        var names: [String] = [], rows: [Int] = [], lengths: [Int] = []
        var rowsByName: [String: Int] = [:]
        for _ in 0..<nCollections {
            guard let cname = r.string(), let n = r.u64(), n <= UInt64(Int32.max), let length = r.count(),
                  rowsByName.updateValue(Int(n), forKey: cname) == nil else { return nil }
            names.append(cname)
            rows.append(Int(n))
            lengths.append(length)
        }
        var starts: [Int] = []
        var start = r.pos
        for length in lengths {
            guard length <= data.count - start else { return nil }
            starts.append(start)
            start += length
        }
        guard start == data.count else { return nil }
        return Header(name: name, title: title, hedges: hedges,
                      names: names, rows: rows, starts: starts, rowsByName: rowsByName)
    }

    /// The KB a snapshot holds, if it was made from JSON with hash `sourceHash` and reads
    /// back whole; nil otherwise. Every collection is decoded now.
    static func decode(_ data: UnsafeRawBufferPointer, sourceHash: UInt64) -> KnowledgeBase? {
        guard let header = header(data, sourceHash: sourceHash) else { return nil }
        var collections: [KBCollection] = []
        for i in header.names.indices {
            guard let c = collection(i, in: data, header: header) else { return nil }
            collections.append(c)
        }
        return KnowledgeBase(name: header.name, title: header.title, collections: collections, hedges: header.hedges)
    }

    /// The KB a snapshot holds, each collection decoded when it is first asked for, and each
    /// of its columns when first read. The header is checked now. A part whose bytes do not
    /// read back (which the tests rule out for the article KB) comes from `fallback`; without
    /// one, a collection is empty and a column all null.
    static func decodeLazily(_ snapshot: SnapshotBytes, sourceHash: UInt64,
                             fallback: @escaping @Sendable (String) -> KBCollection?) -> KnowledgeBase? {
        guard let header = header(snapshot.bytes, sourceHash: sourceHash) else { return nil }
        let collections = LazyCollections(count: header.names.count) { i in
            let name = header.names[i], rows = header.rows[i]
            guard let layout = layout(i, in: snapshot.bytes, header: header) else {
                return fallback(name)
                    ?? KBCollection(name: name, fields: [], columns: [], count: 0, key: nil, measure: nil, hedges: header.hedges)
            }
            let columns = Columns(count: layout.fields.count) { j in
                // The closure keeps `snapshot`, and so the bytes, alive.
                if let column = column(j, of: layout, in: snapshot.bytes, rows: rows, header: header) { return column }
                if let other = fallback(name), other.fields == layout.fields { return other.columns[j] }
                return nullColumn(layout.fields[j].type, rows: rows)
            }
            return KBCollection(name: name, fields: layout.fields, columns: columns, count: rows,
                                key: layout.key, measure: layout.measure, hedges: header.hedges)
        }
        return KnowledgeBase(name: header.name, title: header.title, names: header.names,
                             collections: collections, hedges: header.hedges)
    }

    /// One collection of the snapshot, every column decoded, if its bytes read back whole and
    /// its references and hedges point where they may.
    static func collection(_ i: Int, in data: UnsafeRawBufferPointer, header: Header) -> KBCollection? {
        guard let layout = layout(i, in: data, header: header) else { return nil }
        var columns: [ColumnData] = []
        for j in layout.fields.indices {
            guard let c = column(j, of: layout, in: data, rows: header.rows[i], header: header) else { return nil }
            columns.append(c)
        }
        return KBCollection(name: header.names[i], fields: layout.fields, columns: columns, count: header.rows[i],
                            key: layout.key, measure: layout.measure, hedges: header.hedges)
    }

    /// A collection's schema and where its columns are.
    struct Layout: Sendable {
        let key: String?
        let measure: String?
        let fields: [Field]
        /// Where each column's bytes start in the snapshot, and after them where the last ends.
        let starts: [Int]
    }

    static func layout(_ i: Int, in data: UnsafeRawBufferPointer, header: Header) -> Layout? {
        let body = header.bytes(i, of: data)
        var r = SnapshotReader(data: body)
        guard let key = r.optional(), let measure = r.optional(), let nFields = r.count() else { return nil }
        var fields: [Field] = []
        for _ in 0..<nFields {
            guard let fname = r.string(), let type = decodeType(&r, depth: 0), let q = r.optional(), let u = r.optional() else { return nil }
            fields.append(Field(name: fname, type: type, qualifierField: q, upperField: u))
        }
        var lengths: [Int] = []
        for _ in fields {
            guard let n = r.count() else { return nil }
            lengths.append(n)
        }
        // Offsets in `data`: the body starts where `header` says.
        let base = header.starts[i]
        var starts = [base + r.pos]
        for n in lengths {
            guard let last = starts.last, n <= base + body.count - last else { return nil }
            starts.append(last + n)
        }
        guard starts.last == base + body.count else { return nil }
        return Layout(key: key, measure: measure, fields: fields, starts: starts)
    }

    /// Column `j` of a collection laid out as `layout`, if it reads back whole, has `rows`
    /// rows, and its references and hedges point where they may.
    static func column(_ j: Int, of layout: Layout, in data: UnsafeRawBufferPointer, rows: Int, header: Header) -> ColumnData? {
        var r = SnapshotReader(data: UnsafeRawBufferPointer(rebasing: data[layout.starts[j]..<layout.starts[j + 1]]))
        guard let column = decodeColumn(&r, rows: rows), r.pos == r.data.count, holds(column, layout.fields[j], header) else { return nil }
        return column
    }

    /// A column of `rows` nulls for a field of type `type`.
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

    static func decodeType(_ r: inout SnapshotReader, depth: Int) -> FieldType? {
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

    static func decodeColumn(_ r: inout SnapshotReader, rows: Int) -> ColumnData? {
        guard let tag = r.u8() else { return nil }
        switch tag {
        case 0:
            guard let pool = StringPool(from: &r), let ids = StringIDs(from: &r, strings: pool.count), ids.count == rows else { return nil }
            return .string(ids: ids, pool: pool)
        case 1:
            guard let v = r.f64s(), v.count == rows else { return nil }
            return .number(Stored(v))
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
            return .date(Stored(d))
        case 3:
            guard let b = r.u8s(), b.count == rows, b.allSatisfy({ $0 <= 2 }) else { return nil }
            return .bool(Stored(b))
        case 4:
            guard let h = r.u8s(), h.count == rows else { return nil }
            return .hedge(Stored(h))
        case 5:
            guard let refs = r.i32s(), refs.count == rows else { return nil }
            return .ref(Stored(refs))
        case 6:
            guard let n = r.count(), n == rows else { return nil }
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
            return .list(l)
        default:
            return nil
        }
    }

    /// References point at rows that exist, hedge ranks are on the scale.
    private static func holds(_ column: ColumnData, _ field: Field, _ header: Header) -> Bool {
        switch column {
        case .ref(let rows):
            guard case .ref(let target) = field.type, let n = header.rowsByName[target] else { return false }
            return !rows.contains(where: { $0 < -1 || Int($0) >= n })
        case .hedge(let h):
            return !h.contains(where: { $0 != 255 && Int($0) >= header.hedges.words.count })
        default:
            return true
        }
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
    ///
    /// Which JSON the snapshot was made from is the hash kbq-snapshot wrote beside it
    /// (`articleKBJSONHash`), not one computed here: hashing the 100 KB of JSON cost every
    /// start 48,000 instructions (4%). A snapshot left stale by an edit of the JSON without
    /// `make embed` is caught by ArticleSnapshotTests, which hashes the JSON.
    static func articleFromSnapshot() -> KnowledgeBase? {
        // The literal's UTF-8 is the snapshot: read in place, for as long as the program runs.
        return KBSnapshot.decodeLazily(SnapshotBytes(articleKBSnapshot), sourceHash: articleKBJSONHash) { name in
            ArticleKB.fromJSON?.collection(name)
        }
    }

    /// Swift source for Article/ArticleKBSnapshot.swift: the article KB decoded from the JSON
    /// compiled into this build, as a snapshot. `kbq-snapshot` writes it; nothing else needs it.
    @_spi(Snapshot) public static func articleSnapshotSource() throws(KBLoadError) -> String {
        var json = articleKBJSON
        let hash = json.withUTF8 { KBSnapshot.hash($0) }
        let kb = try KnowledgeBase(json: articleKBJSON.utf8, name: "article")
        let bytes = KBSnapshot.encode(kb, sourceHash: hash)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw KBLoadError(file: "article", problems: [KBProblem(.encoding, path: "$", message: "the snapshot is not valid UTF-8 (text in the KB is not)")])
        }
        return """
            // Generated by kbq-snapshot (scripts/embed-article-kb.sh) from the article KB's JSON. Do not edit.
            // The loaded article KB as a snapshot (Snapshot/KBSnapshot.swift): \(bytes.count) bytes.
            let articleKBSnapshot: StaticString = \"\"\"
            \(KBSnapshot.literal(bytes))
            \"\"\"
            /// KBSnapshot.hash of the JSON the snapshot was made from (ArticleKBData.swift).
            let articleKBJSONHash: UInt64 = 0x\(String(hash, radix: 16))

            """
    }
}

/// The bytes of a snapshot that lazily decoded collections read from: a static string's,
/// which live as long as the program, or a copy owned here (tests).
final class SnapshotBytes: @unchecked Sendable {
    // @unchecked: the bytes are never written after init, and freed only in deinit.
    let bytes: UnsafeRawBufferPointer
    private let owned: Bool

    convenience init(_ text: StaticString) {
        if text.hasPointerRepresentation {
            self.init(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), owned: false)
        } else {
            // A literal of one scalar has no bytes in the binary to point at.
            self.init(copying: text.withUTF8Buffer { Array($0) })
        }
    }

    convenience init(copying data: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 1)
        data.withUnsafeBytes { copy.copyMemory(from: $0) }
        self.init(UnsafeRawBufferPointer(copy), owned: true)
    }

    private init(_ bytes: UnsafeRawBufferPointer, owned: Bool) {
        self.bytes = bytes
        self.owned = owned
    }

    deinit {
        if owned { bytes.deallocate() }
    }
}
