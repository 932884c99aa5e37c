// The indexes a compiled KB file stores beside its columns (docs/KB-FORMAT.md, "Compiled KB
// files"), so that a fresh process answers `where topic = "x"` from the rows of "x" and
// `where date between A and B … sort by date limit N` from the rows in date order, instead
// of reading whole columns:
//
//   postings    per string column whose pool is distinct (equal strings share one id) and
//               whose ids are stored: per string id, its rows in increasing order (u32
//               starts, one more than the strings, then the u32 rows); null rows are in none
//   date order  per date column: its rows that are not null, ordered as `sort by` orders
//               dates (first day, then last day), ties in row order; each entry three u32:
//               the row (its top bit set for a date relative to another: "days after X"),
//               then the date's first and last day, so that a walk reads the order and not
//               the dates' pages (a page read is a page fault, the dearest part of a walk)
//
// `kbq build` writes them from the columns; nothing builds them for a KB loaded otherwise
// (a loaded KB scans its columns in memory, in milliseconds). They are read where they lie,
// like the columns, and checked as they are read: the rows of one string (its starts in
// order and inside the rows, each row inside the collection, increasing), each row of the
// date order walked (inside the collection). An index found out of bounds is recorded in the
// KB's damage log, as a column is, and the statement that read it fails; `kbq build --verify`
// checks their checksums with the columns'.

/// A collection's stored indexes, by field index.
///
/// Made from the schema's layouts when a query asks for one (a collection has a few), not
/// when the collection is: `kbq -e QUERY` on the article KB then makes none it does not use.
final class CollectionIndexes: Sendable {
    private let collection: CompiledSchema.Collection
    private let file: MappedFile
    private let log: DamageLog

    init(_ collection: CompiledSchema.Collection, file: MappedFile, log: DamageLog) {
        self.collection = collection
        self.file = file
        self.log = log
    }

    func postings(_ field: Int) -> StringPostings? {
        for index in collection.indexes {
            if case .postings(field, let starts, let rows) = index {
                return StringPostings(starts: file.stored(starts, of: UInt32.self), rows: file.stored(rows, of: UInt32.self),
                                      rowCount: collection.rows, report: report(index))
            }
        }
        return nil
    }

    func dateOrder(_ field: Int) -> DateOrder? {
        for index in collection.indexes {
            if case .dateOrder(field, let rows) = index {
                return DateOrder(entries: file.stored(rows, of: UInt32.self), rowCount: collection.rows, report: report(index))
            }
        }
        return nil
    }

    /// Records a read of `index` found out of bounds in the KB's damage log, with its place.
    private func report(_ index: CompiledSchema.IndexLayout) -> @Sendable (String) -> Void {
        let log = log, name = collection.name, field = collection.fields[index.field].name
        let first = index.sections[0].offset, end = index.sections.last.map { $0.offset + $0.length } ?? 0
        return { log.record(KBProblem(.damaged, path: "\(name).\(field) index (bytes \(first)..<\(end))", message: $0)) }
    }
}

/// Per string id of a column, the rows that hold it, in increasing order.
struct StringPostings: Sendable {
    /// `rows[starts[id]..<starts[id + 1]]` are the rows of string `id`.
    let starts: Stored<UInt32>
    let rows: Stored<UInt32>
    /// The collection's rows: every row listed is below.
    let rowCount: Int
    /// Says where a read found the index out of bounds.
    let report: @Sendable (String) -> Void

    /// The rows of string `id`, checked as they are read: nil (and reported) when its starts
    /// or rows are out of bounds or out of order.
    func rows(of id: UInt32) -> [Int32]? {
        let i = Int(id)
        guard i + 1 < starts.count else { return [] }
        let lo = Int(starts[i]), hi = Int(starts[i + 1])
        guard lo <= hi, hi <= rows.count else {
            report("the rows of string \(i) lie outside the index (\(lo)..<\(hi) of \(rows.count))")
            return nil
        }
        var out = [Int32](repeating: 0, count: hi - lo)
        // One branch-free pass: every row inside the collection and above the one before.
        var bad: UInt32 = 0
        let limit = UInt32(truncatingIfNeeded: rowCount)
        rows.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { o in
                var previous: UInt32 = 0
                for k in 0..<(hi - lo) {
                    let x = r[lo + k]
                    bad |= (x >= limit ? 1 : 0) | (k > 0 && x <= previous ? 1 : 0)
                    previous = x
                    o[k] = Int32(truncatingIfNeeded: x)
                }
            }
        }
        guard bad == 0 else {
            report("the rows of string \(i) are past the \(rowCount) rows or out of order")
            return nil
        }
        return out
    }

    /// The postings of a column: nil unless its pool is distinct and its ids are stored.
    static func build(ids: StringIDs, pool: StringPool) -> (starts: [UInt32], rows: [UInt32])? {
        guard pool.isDistinct, let stored = ids.array else { return nil }
        var starts = [UInt32](repeating: 0, count: pool.count + 1)
        stored.withUnsafeBufferPointer { ids in
            for id in ids where id != StringPool.null { starts[Int(id) + 1] &+= 1 }
        }
        for i in 0..<pool.count { starts[i + 1] &+= starts[i] }
        var next = starts
        var rows = [UInt32](repeating: 0, count: Int(starts[pool.count]))
        stored.withUnsafeBufferPointer { ids in
            for (r, id) in ids.enumerated() where id != StringPool.null {
                rows[Int(next[Int(id)])] = UInt32(truncatingIfNeeded: r)
                next[Int(id)] &+= 1
            }
        }
        return (starts, rows)
    }
}

/// A date column's rows that are not null, in the order `sort by` puts their dates (first
/// day, then last day; ties in row order), each with its date's days.
struct DateOrder: Sendable {
    /// Three per entry: row (top bit: relative date), first day, last day.
    let entries: Stored<UInt32>
    /// The collection's rows: every row listed is below.
    let rowCount: Int
    /// Says where a read found the index out of bounds.
    let report: @Sendable (String) -> Void

    static let relative: UInt32 = 1 << 31

    var count: Int { entries.count / 3 }

    /// Entry `k`: its row, the date's first and last day, and whether it is relative to
    /// another date; nil (reported) when the row is past the collection.
    @inline(__always)
    func entry(_ k: Int) -> (row: Int, lo: Int32, hi: Int32, relative: Bool)? {
        let word = entries[3 * k]
        let r = Int(word & ~DateOrder.relative)
        guard r < rowCount else {
            report("entry \(k) is row \(r), past the \(rowCount) rows")
            return nil
        }
        return (r, Int32(bitPattern: entries[3 * k + 1]), Int32(bitPattern: entries[3 * k + 2]), word & DateOrder.relative != 0)
    }

    /// The order of a date column, as the words of its entries.
    static func build(_ dates: Stored<PartialDate>) -> [UInt32] {
        // (first day, last day) as one unsigned key, so that one sort of integers orders them.
        var keyed: [(UInt64, UInt32)] = []
        keyed.reserveCapacity(dates.count)
        dates.withUnsafeBufferPointer { d in
            for (r, x) in d.enumerated() where !x.isNullMarker {
                let lo = UInt64(UInt32(bitPattern: x.lo) ^ 0x8000_0000), hi = UInt64(UInt32(bitPattern: x.hi) ^ 0x8000_0000)
                keyed.append((lo << 32 | hi, UInt32(truncatingIfNeeded: r)))
            }
        }
        keyed.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var words: [UInt32] = []
        words.reserveCapacity(3 * keyed.count)
        dates.withUnsafeBufferPointer { d in
            for (_, r) in keyed {
                let x = d[Int(r)]
                words.append(r | (x.isRelative ? DateOrder.relative : 0))
                words.append(UInt32(bitPattern: x.lo))
                words.append(UInt32(bitPattern: x.hi))
            }
        }
        return words
    }
}
