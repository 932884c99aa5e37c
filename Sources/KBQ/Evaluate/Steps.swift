/// How often (in rows) a long loop checks the run's time, work and cancellation bounds.
let tickEvery = 4096

/// A `where` condition in a form that scans stored columns directly: a loop over a column's
/// array per part of the condition, instead of a call through the condition's closures for
/// every row. It finds the rows for which the condition (when ``exact``) or one `and`-ed
/// part of it is `yes`; the filter checks the rest of the condition on those rows.
struct ColumnScan: Sendable {
    /// Whether the rows found are exactly the rows the whole condition is `yes` for.
    let exact: Bool
    /// Whether the condition is `yes` for row `r`.
    let test: @Sendable (Int) -> Bool
    /// Appends the rows of `lo..<hi` the condition is `yes` for: one tight loop.
    let range: @Sendable (Int, Int, inout [Int32]) -> Void
    /// The rows of the whole collection the condition (or the part ``exact`` says) is `yes`
    /// for, in increasing order, read from an index a compiled file stores instead of a scan;
    /// nil when there is no index, or the one there was found damaged (then the scan runs).
    var indexed: (@Sendable () -> [Int32]?)? = nil

    /// `self and next`.
    func then(_ next: ColumnScan) -> ColumnScan {
        let a = test, b = next.test, first = range
        // The rows of one part's index, with the other part tested on each.
        var indexed: (@Sendable () -> [Int32]?)?
        if let rows = self.indexed ?? next.indexed {
            let other = self.indexed != nil ? b : a
            indexed = { rows()?.filter { other(Int($0)) } }
        }
        return ColumnScan(exact: exact && next.exact, test: { r in a(r) && b(r) }, range: { lo, hi, out in
            var found: [Int32] = []
            first(lo, hi, &found)
            for r in found where b(Int(r)) { out.append(r) }
        }, indexed: indexed)
    }

    /// Finds a superset of the rows: the rest of the condition is checked on them.
    var partial: ColumnScan { ColumnScan(exact: false, test: test, range: range, indexed: indexed) }

    /// A stored string field equal to `text`, through `postings` when the column has them.
    /// The ids are compared, never used as indexes, so the column read a row at a time
    /// (``Columns/subscript(forRows:)``) will do: a compiled file's is not checked whole first.
    static func equal(_ ids: StringIDs, _ pool: StringPool, _ text: String, postings: StringPostings? = nil) -> ColumnScan {
        if !pool.isDistinct {
            let hits = pool.marks(equalToAny: [text])
            let test: @Sendable (Int) -> Bool = { r in
                let id = Int(ids[r])
                return id < hits.count && hits[id]
            }
            return ColumnScan(exact: true, test: test, range: { lo, hi, out in
                for r in lo..<hi where test(r) { out.append(Int32(truncatingIfNeeded: r)) }
            })
        }
        guard let target = pool.lookup(text) else {
            return ColumnScan(exact: true, test: { _ in false }, range: { _, _, _ in })
        }
        guard let array = ids.array else {
            // Every row its own string: only row `target` has it.
            return ColumnScan(exact: true, test: { $0 == Int(target) }, range: { lo, hi, out in
                if (lo..<hi).contains(Int(target)) { out.append(Int32(target)) }
            })
        }
        var indexed: (@Sendable () -> [Int32]?)?
        if let postings { indexed = { postings.rows(of: target) } }
        return ColumnScan(exact: true, test: { array[$0] == target }, range: { lo, hi, out in
            array.withUnsafeBufferPointer { a in
                for r in lo..<hi where a[r] == target { out.append(Int32(truncatingIfNeeded: r)) }
            }
        }, indexed: indexed)
    }

    /// Stored date field `f` of `c` between two dates (`compareDates(v, .ge, l) &&
    /// compareDates(v, .le, h)` is `yes`). A row tested alone is checked alone; a scan reads
    /// the column checked whole.
    static func between(_ c: KBCollection, _ f: Int, _ l: PartialDate, _ h: PartialDate) -> ColumnScan? {
        guard case .date(let dates) = c.columns[forRows: f] else { return nil }
        return ColumnScan(exact: true, test: { r in
            guard let v = dates.checked(r) else { _ = c.damaged(f); return false }
            return !v.isNullMarker && v.knownLo >= l.lo && v.knownHi <= h.hi
        }, range: { lo, hi, out in
            guard case .date(let dates) = c.columns[f] else { return }
            dates.withUnsafeBufferPointer { d in
                for r in lo..<hi {
                    let v = d[r]
                    if v.knownLo >= l.lo && v.knownHi <= h.hi && !v.isNullMarker { out.append(Int32(truncatingIfNeeded: r)) }
                }
            }
        })
    }
}

/// Keeps the rows whose condition is `yes` (or, with `where maybe`, `maybe` too).
func filter(_ rows: Rows, _ p: Pred, keep: Truth, scan: ColumnScan? = nil, _ env: Env) throws(Diagnostic) -> Rows {
    switch rows {
    case .stored(let c, let sel):
        if sel == nil, let read = scan?.indexed, var found = read() {
            // The rows from a stored index: the rest of the condition (if any) on those only.
            try env.tick(found.count)
            if scan?.exact == false { found.removeAll { !keeps(p(Int($0), env), keep) } }
            return .stored(c, found)
        }
        let total = sel?.count ?? c.count
        let parts = ParallelWork.parts(forRows: total)
        // A run that would pass its work limit takes the row-by-row path, which stops where
        // the limit is reached.
        if (parts > 1 || (scan != nil && total >= tickEvery)) && env.work &+ total <= env.limits.maxWork {
            return .stored(c, try filterInParts(sel, total: total, parts: parts, p, keep: keep, scan: scan, env))
        }
        var out: [Int32] = []
        // A few rows (a prepared query's): one allocation, not one per doubling.
        if total <= 64 { out.reserveCapacity(total) }
        var i = 0
        while i < total {
            let end = min(total, i + tickEvery)
            try env.tick(end - i)
            scanRows(sel, i, end, p, keep, env, into: &out)
            i = end
        }
        return .stored(c, out)
    case .table(var t):
        env.table = t.rows
        var rowsOut: [[Value]] = []
        var origin: [Int32]? = t.origin == nil ? nil : []
        try env.tick(t.rows.count)
        for i in t.rows.indices where keeps(p(i, env), keep) {
            rowsOut.append(t.rows[i])
            if let o = t.origin { origin?.append(o[i]) }
        }
        t.rows = rowsOut
        t.origin = origin
        return .table(t)
    }
}

@inline(__always)
private func keeps(_ t: Truth, _ keep: Truth) -> Bool { t == .yes || (keep == .maybe && t == .maybe) }

/// Appends the rows `lo..<hi` of the selection (or of the collection) that pass.
@inline(__always)
private func scanRows(_ sel: [Int32]?, _ lo: Int, _ hi: Int, _ p: Pred, _ keep: Truth, _ env: Env, into out: inout [Int32]) {
    if let sel {
        for k in lo..<hi where keeps(p(Int(sel[k]), env), keep) { out.append(sel[k]) }
    } else {
        for r in lo..<hi where keeps(p(r, env), keep) { out.append(Int32(truncatingIfNeeded: r)) }
    }
}

/// The filter over a large selection, split across the cores, and through the column scan
/// when there is one. Each part stops early when the run is cancelled or out of time; the
/// tick afterwards reports why.
private func filterInParts(_ sel: [Int32]?, total: Int, parts: Int, _ p: Pred, keep: Truth, scan: ColumnScan?,
                           _ env: Env) throws(Diagnostic) -> [Int32] {
    try env.tick(0)
    var outs = [[Int32]](repeating: [], count: parts)
    let cancel = env.cancel, deadline = env.deadline
    outs.withUnsafeMutableBufferPointer { outs in
        ParallelWork.run(parts) { part in
            let lo = total * part / parts, hi = total * (part + 1) / parts
            var out: [Int32] = []
            var i = lo
            while i < hi {
                if cancel?.isCancelled == true || ContinuousClock.now > deadline { break }
                let end = min(hi, i + (scan == nil ? tickEvery : 1 << 16))
                if let scan {
                    if let sel {
                        let test = scan.test
                        for k in i..<end where test(Int(sel[k])) { out.append(sel[k]) }
                    } else {
                        scan.range(i, end, &out)
                    }
                } else {
                    scanRows(sel, i, end, p, keep, env, into: &out)
                }
                i = end
            }
            if let scan, !scan.exact {
                // The scan found the rows one part of the condition holds for: check it all.
                out.removeAll { !keeps(p(Int($0), env), keep) }
            }
            outs[part] = out
        }
    }
    try env.tick(total)
    if parts == 1 { return outs[0] }
    var out: [Int32] = []
    out.reserveCapacity(outs.reduce(0) { $0 + $1.count })
    for o in outs { out.append(contentsOf: o) }
    return out
}

/// The row numbers a step iterates, for either kind of rows.
func rowIndexes(_ rows: Rows) -> [Int] {
    switch rows {
    case .stored(let c, let sel): return sel.map { $0.map(Int.init) } ?? Array(0..<c.count)
    case .table(let t): return Array(t.rows.indices)
    }
}

/// Prepares `env` to evaluate expressions over `rows`.
func bind(_ rows: Rows, _ env: Env) {
    if case .table(let t) = rows { env.table = t.rows }
}

/// Sorts by several keys, each ascending or descending, nulls last either way (ties keep
/// their order). With `keep`, only the first `keep` rows are wanted (a `limit` follows):
/// they are found without sorting the rest.
func sortRows(_ rows: Rows, _ keys: [(Eval, Bool)], _ env: Env, keep: Int? = nil) throws(Diagnostic) -> Rows {
    bind(rows, env)
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    // Each key read once per row, into the plainest array its values allow.
    var columns: [SortColumn] = []
    for key in keys {
        var values: [Value] = []
        values.reserveCapacity(idx.count)
        for (k, r) in idx.enumerated() {
            if k % tickEvery == tickEvery - 1 { try env.checkStop() }
            values.append(key.0(r, env))
        }
        columns.append(SortColumn(values, descending: key.1))
    }
    let order = try sortedOrder(columns, count: idx.count, keep: keep, env)
    switch rows {
    case .stored(let c, _):
        return .stored(c, order.map { Int32(idx[$0]) })
    case .table(var t):
        t.rows = order.map { t.rows[$0] }
        if let o = t.origin { t.origin = order.map { o[$0] } }
        return .table(t)
    }
}

/// The rows `0..<n` in the order of `columns` (ties in row order); with `keep`, only the
/// first `keep` of them, found without sorting the rest when that is much fewer.
func sortedOrder(_ columns: [SortColumn], count n: Int, keep: Int? = nil, _ env: Env) throws(Diagnostic) -> [Int] {
    // Sorting a million rows is one long step: like a scan, it stops on cancellation or at
    // its deadline, checked every so many comparisons. The comparison does not throw (a
    // throwing one made every sort twice as slow): once told to stop, it orders by row
    // number, which costs next to nothing, and the step throws when the sort returns.
    // A sort of fewer rows than one check's worth of comparisons is not checked at all.
    var stop: Diagnostic?
    var compared = 0
    let order = columns.withUnsafeBufferPointer { columns -> [Int] in
        func before(_ a: Int, _ b: Int) -> Bool {
            for k in columns.indices {
                let c = columns[k].compare(a, b)
                if c != 0 { return c < 0 }
            }
            return a < b
        }
        func checked(_ a: Int, _ b: Int) -> Bool {
            if stop != nil { return a < b }
            compared &+= 1
            if compared & 0xFFFF == 0 {
                do throws(Diagnostic) { try env.checkStop() } catch { stop = error }
            }
            return before(a, b)
        }
        let big = n > 1 << 16
        if let keep, keep < n / 4 {
            return big ? firstInOrder(keep, of: n, by: checked) : firstInOrder(keep, of: n, by: before)
        }
        var order = Array(0..<n)
        if big { order.sort(by: checked) } else { order.sort(by: before) }
        return order
    }
    if let stop { throw stop }
    return order
}

/// The first `k` of `0..<n` in the order `before` gives (a strict total order), sorted: a
/// binary heap of the best `k` so far, so most rows cost one comparison with its worst.
func firstInOrder(_ k: Int, of n: Int, by before: (Int, Int) -> Bool) -> [Int] {
    if k == 0 { return [] }
    // A max-heap under `before`: the root is the worst of those kept.
    var heap: [Int] = []
    heap.reserveCapacity(k)
    func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var worst = i
            if l < heap.count && before(heap[worst], heap[l]) { worst = l }
            if r < heap.count && before(heap[worst], heap[r]) { worst = r }
            if worst == i { return }
            heap.swapAt(i, worst)
            i = worst
        }
    }
    for x in 0..<n {
        if heap.count < k {
            heap.append(x)
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if !before(heap[p], heap[i]) { break }
                heap.swapAt(p, i)
                i = p
            }
        } else if before(x, heap[0]) {
            heap[0] = x
            siftDown(0)
        }
    }
    heap.sort(by: before)
    return heap
}

/// One sort key's values for every row, compared the way ``orderValues(_:_:)`` compares
/// them (nulls last whichever the direction), without unpacking a `Value` per comparison
/// when the values are all numbers, all strings or all dates.
enum SortColumn {
    case numbers([Double], nulls: [Bool], descending: Bool)
    case strings([String?], descending: Bool)
    case dates([PartialDate?], descending: Bool)
    case values([Value], descending: Bool)

    init(_ values: [Value], descending: Bool) {
        if values.allSatisfy({ $0.isNull || $0.number != nil }) {
            self = .numbers(values.map { $0.number ?? 0 }, nulls: values.map(\.isNull), descending: descending)
        } else if values.allSatisfy({ if case .string = $0 { return true }; return $0.isNull }) {
            self = .strings(values.map { if case .string(let s) = $0 { return s }; return nil }, descending: descending)
        } else if values.allSatisfy({ if case .date = $0 { return true }; return $0.isNull }) {
            self = .dates(values.map { if case .date(let d) = $0 { return d }; return nil }, descending: descending)
        } else {
            self = .values(values, descending: descending)
        }
    }

    /// Negative when row `a` comes first, positive when `b` does, 0 when this key ties.
    @inline(__always)
    func compare(_ a: Int, _ b: Int) -> Int {
        switch self {
        case .numbers(let v, let nulls, let desc):
            if nulls[a] != nulls[b] { return nulls[a] ? 1 : -1 }
            if nulls[a] { return 0 }
            let c = v[a] < v[b] ? -1 : v[a] > v[b] ? 1 : 0
            return desc ? -c : c
        case .strings(let v, let desc):
            switch (v[a], v[b]) {
            case (nil, nil): return 0
            case (nil, _): return 1
            case (_, nil): return -1
            case (let x?, let y?):
                let c = x.compareText(y)
                return desc ? -c : c
            }
        case .dates(let v, let desc):
            switch (v[a], v[b]) {
            case (nil, nil): return 0
            case (nil, _): return 1
            case (_, nil): return -1
            case (let x?, let y?):
                let c = x < y ? -1 : y < x ? 1 : 0
                return desc ? -c : c
            }
        case .values(let v, let desc):
            let xNull = v[a].isNull, yNull = v[b].isNull
            if xNull != yNull { return xNull ? 1 : -1 }
            if xNull { return 0 }
            let c = orderValues(v[a], v[b])
            return desc ? -c : c
        }
    }
}

/// The first `n` rows after the first `skip`.
func limitRows(_ rows: Rows, _ n: Int, skipping skip: Int = 0) -> Rows {
    switch rows {
    case .stored(let c, let sel):
        if let sel { return .stored(c, Array(sel.dropFirst(skip).prefix(n))) }
        let start = min(skip, c.count)
        return .stored(c, (start..<(start + min(n, c.count - start))).map { Int32($0) })
    case .table(var t):
        t.rows = Array(t.rows.dropFirst(skip).prefix(n))
        if let o = t.origin { t.origin = Array(o.dropFirst(skip).prefix(n)) }
        return .table(t)
    }
}

/// Computes the selected columns for every row.
func project(_ rows: Rows, _ columns: [ResultColumn], _ evals: [Eval], _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    var out: [[Value]] = []
    out.reserveCapacity(idx.count)
    for (k, r) in idx.enumerated() {
        // Counted above, but a long step: it still stops when cancelled or out of time.
        if k % tickEvery == tickEvery - 1 { try env.checkStop() }
        out.append(evals.map { $0(r, env) })
    }
    var t = Table(columns: columns, rows: out)
    switch rows {
    case .stored(let c, _):
        t.origin = idx.map { Int32($0) }
        t.originCollection = c
    case .table(let old):
        t.origin = old.origin
        t.originCollection = old.originCollection
        t.decorations = old.decorations
    }
    return .table(t)
}

/// Turns any rows into a table of values (all columns).
func materialize(_ rows: Rows, _ env: Env) -> Table {
    switch rows {
    case .table(let t): return t
    case .stored(let c, let sel):
        let idx = sel.map { $0.map(Int.init) } ?? Array(0..<c.count)
        let cols = c.fields.map { ResultColumn(name: $0.name, type: $0.type) }
        var out: [[Value]] = []
        out.reserveCapacity(idx.count)
        if idx.count < 32 {
            // A few rows (a prepared query's usual answer): no readers to set up.
            for r in idx { out.append((0..<c.fields.count).map { c.value(row: r, column: $0, kb: env.kb) }) }
        } else {
            // Each column unpacked once, not once per cell.
            let readers = (0..<c.fields.count).map { storedReader(c, $0, env.kb) }
            for r in idx {
                var row: [Value] = []
                row.reserveCapacity(readers.count)
                for read in readers { row.append(read(r)) }
                out.append(row)
            }
        }
        return Table(columns: cols, rows: out, origin: idx.map { Int32($0) }, originCollection: c)
    }
}

/// Reads column `f` of `c` as ``KBCollection/value(row:column:kb:)`` does (each value
/// checked as it is read), with the column unpacked once: what reading many rows of one
/// column should use.
func storedReader(_ c: KBCollection, _ f: Int, _ kb: KnowledgeBase) -> (Int) -> Value {
    switch c.columns[forRows: f] {
    case .string(let ids, let pool):
        let strings = UInt32(truncatingIfNeeded: pool.count)
        return { r in
            let id = ids[r]
            if id == StringPool.null { return .null }
            return id < strings ? .string(pool[id]) : c.damaged(f)
        }
    case .number(let v):
        if c.fields[f].type == .percent { return { r in v[r].isNaN ? .null : .percent(v[r]) } }
        if let (qf, uf) = c.qualifiers[f] {
            // The qualifier words, decoded once per distinct word.
            var words: [String?] = []
            var wordIDs: StringIDs?
            if let qf, case .string(let ids, let pool) = c.columns[forRows: qf] {
                wordIDs = ids
                words = (0..<pool.count).map { pool[UInt32($0)] }
            }
            var upper: Stored<Double>?
            if let uf, case .number(let u) = c.columns[forRows: uf] { upper = u }
            let percentRows = c.percentRows
            let qwords = words
            return { r in
                let x = v[r]
                if x.isNaN { return .null }
                var word: String?
                if let wordIDs {
                    let id = wordIDs[r]
                    if id != StringPool.null { if Int(id) < qwords.count { word = qwords[Int(id)] } else { _ = c.damaged(qf ?? f) } }
                }
                var up: Double?
                if let upper, !upper[r].isNaN { up = upper[r] }
                let percent = percentRows?[r] ?? false
                let q = Quantity(x, qualifier: word, upper: up, percent: percent) ?? Quantity(exactly: x, percent: percent)
                return q.isExact && q.isPercent ? .percent(x) : .quantity(q)
            }
        }
        if let pr = c.percentRows { return { r in v[r].isNaN ? .null : pr[r] ? .percent(v[r]) : .number(v[r]) } }
        return { r in v[r].isNaN ? .null : .number(v[r]) }
    case .date(let d):
        return { r in
            guard let x = d.checked(r) else { return c.damaged(f) }
            return x.isNullMarker ? .null : .date(x)
        }
    case .hedge(let h):
        let words = c.hedges.words
        return { r in
            let rank = Int(h[r])
            if rank == 255 { return .null }
            return rank < words.count ? .hedge(rank: rank, word: words[rank]) : c.damaged(f)
        }
    case .bool(let b):
        return { r in
            let x = b[r]
            return x == 2 ? .null : x < 2 ? .bool(x == 1) : c.damaged(f)
        }
    default:
        return { r in c.value(row: r, column: f, kb: kb) }
    }
}

extension Rows {
    /// The rows as a result for the caller.
    consuming func result(_ env: Env) -> ResultTable {
        var t: Table
        switch consume self {
        case .table(let table): t = table
        case .stored(let c, let sel) where (sel?.count ?? c.count) >= Rows.gatheredFrom:
            return Rows.gathered(c, sel, env)
        case let stored: t = materialize(stored, env)
        }
        // Swapped, not copied: each array moves into the result without a retain and a
        // release (a prepared query's run is short enough for those to show).
        let keepsOrigin = t.originCollection != nil && t.origin?.count == t.rows.count
        var r = ResultTable(columns: [], rows: [])
        swap(&r.columns, &t.columns)
        swap(&r.rows, &t.rows)
        swap(&r.title, &t.decorations.title)
        swap(&r.notes, &t.decorations.notes)
        swap(&r.summaries, &t.decorations.summaries)
        swap(&r.chart, &t.decorations.chart)
        // Swapped too: reading `r` in the condition, or assigning to its field, made the
        // compiler copy the whole result twice per run.
        if keepsOrigin {
            var name = t.originCollection?.name
            swap(&r.originRows, &t.origin)
            swap(&r.originCollection, &name)
        }
        return r
    }
}

extension Rows {
    /// From how many stored rows a result keeps its text by column (``ColumnarRows``)
    /// rather than as values: fewer (a prepared query's usual answer) are made at once,
    /// which costs less than setting up the columns.
    static let gatheredFrom = 32

    /// The bytes of text per gathered row above which a compiled file's strings are copied
    /// from the file (``StringPool/copies(of:)``) rather than read where they are mapped.
    static let copiedTextGap = 4096

    /// Stored rows as a result kept by column: each column read down the rows (its pages in
    /// order), text kept as ids into its pool. Every value is checked here, as making it
    /// would check it, so that damage in a compiled file fails this statement, not a later
    /// one that draws the table.
    static func gathered(_ c: KBCollection, _ sel: [Int32]?, _ env: Env) -> ResultTable {
        let count = sel?.count ?? c.count
        func row(_ i: Int) -> Int { sel.map { Int($0[i]) } ?? i }
        var cells: [ColumnarRows.Cells] = []
        cells.reserveCapacity(c.fields.count)
        for f in c.fields.indices {
            if case .string(let ids, let pool) = c.columns[forRows: f], pool.count < Int(ColumnarRows.unreadable) {
                let strings = UInt32(truncatingIfNeeded: pool.count)
                var gathered = [UInt32](repeating: StringPool.null, count: count)
                for i in 0..<count {
                    let id = ids[row(i)]
                    if id == StringPool.null { continue }
                    if id >= strings {
                        _ = c.damaged(f)
                    } else {
                        gathered[i] = pool.isReadable(id) ? id : ColumnarRows.unreadable
                    }
                }
                // A few rows over a large column (more than a page of text per row): their
                // strings are read from the file, not through the mapping, which would map and
                // unmap the pages around each one.
                if pool.byteCount / max(1, count) > Rows.copiedTextGap, let (bytes, ends) = pool.copies(of: gathered) {
                    cells.append(.copied(ids: gathered, bytes: bytes, ends: ends))
                } else {
                    cells.append(.text(ids: gathered, pool: pool))
                }
            } else {
                let read = storedReader(c, f, env.kb)
                cells.append(.values((0..<count).map { read(row($0)) }))
            }
        }
        var r = ResultTable(columns: c.fields.map { ResultColumn(name: $0.name, type: $0.type) },
                            columnar: ColumnarRows(count: count, columns: cells))
        r.originCollection = c.name
        r.originRows = sel ?? (0..<count).map { Int32($0) }
        return r
    }
}
