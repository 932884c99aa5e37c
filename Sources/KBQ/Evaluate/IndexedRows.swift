/// Filters that read a stored index of a compiled file (Compiled/CompiledIndexes.swift)
/// instead of scanning columns: `where … date between A and B …` through the date column's
/// order, and, when a `sort by date … limit N` follows, only as far as the rows the sort and
/// limit keep. sqlite3 answers such a question from its date index; so does this, reading the
/// order and the pages of the rows it tests, and no more.
extension Lowering {
    /// The filter `e` as a walk of a stored date order, when `e` holds a date window (`and`-ed
    /// `between` with two date literals) on a stored date column that has one; `after` are
    /// the clauses that follow (a `sort` whose first key is that column, ascending, then a
    /// constant `limit`, let the walk stop early). Nil when no index serves: the filter runs
    /// as usual.
    func dateWalk(_ e: CheckedExpr, _ input: RowShape, then after: [CheckedClause]) -> PlanStep? {
        guard let c = stored(input), let indexes = c.indexes, let window = dateWindow(e, in: c),
              let order = indexes.dateOrder(window.field) else { return nil }
        var keep: Int?
        if after.count == 2, case .sort(let keys) = after[0].kind, let first = keys.first, !first.descending,
           let (sc, sf) = storedColumn(first.expr), sc === c, sf == window.field, case .limit(.constant(let n), let offset) = after[1].kind {
            switch offset {
            case nil: keep = n
            case .constant(let m)?: keep = n + m
            default: keep = nil
            }
        }
        let p = predicate(e, input)
        let scan = columnScan(e)
        // The window is decided from the order's own days; the rest of the condition on the
        // rows inside it.
        let rest = window.rest.map { predicate($0, input) }
        let walk = DateWalk(collection: c, order: order, from: window.from.lo, to: window.to.hi, keep: keep)
        let how = "walks the stored date order from the window's start" + (keep.map { ", up to the \($0) rows the sort and limit keep" } ?? "")
            + (rest == nil ? "" : ", testing the rest of the condition on each row in the window")
        return PlanStep(how: how, run: { rows, env throws(Diagnostic) in
            if case .stored(let rc, nil) = rows, rc === c, let found = try walk.rows(rest, env) { return .stored(c, found) }
            return try filter(rows, p, keep: .yes, scan: scan, env)
        })
    }

    /// The stored date column and the window of the first `and`-ed `between` of two date
    /// literals in `e`, with the rest of `e` (nil when `e` is the window alone).
    func dateWindow(_ e: CheckedExpr, in c: KBCollection) -> (field: Int, from: PartialDate, to: PartialDate, rest: CheckedExpr?)? {
        switch e.kind {
        case .and(let a, let b):
            if let w = dateWindow(a, in: c) {
                return (w.field, w.from, w.to, w.rest.map { CheckedExpr(.and($0, b), type: e.type, range: e.range) } ?? b)
            }
            if let w = dateWindow(b, in: c) {
                return (w.field, w.from, w.to, w.rest.map { CheckedExpr(.and(a, $0), type: e.type, range: e.range) } ?? a)
            }
            return nil
        case .between(let x, let lo, let hi, false):
            guard case .date(let l)? = lo.constant, case .date(let h)? = hi.constant, let (xc, f) = storedColumn(x), xc === c,
                  c.fields[f].type == .date else { return nil }
            return (f, l, h, nil)
        default:
            return nil
        }
    }
}

/// A walk of a date order over a window of days (see ``Lowering/dateWalk(_:_:then:)``).
struct DateWalk: Sendable {
    let collection: KBCollection
    let order: DateOrder
    /// The window's first and last day. A row is inside it when its date is on the calendar
    /// (not relative to another date, whose reach is not known) and its first day is `from`
    /// or later and its last day `to` or earlier: as `between` decides it (`knownLo`,
    /// `knownHi`). So the walk starts at the first entry starting on `from` or later, and
    /// stops at the first entry starting after `to`.
    let from: Int32
    let to: Int32
    /// The rows a sort by this date and a limit keep; nil: every row of the window.
    let keep: Int?

    /// The rows inside the window that `rest` (the rest of the condition; nil: none) is `yes`
    /// for (or, with `keep`, every such row the sort could put among its first `keep`: those
    /// up to the `keep`-th and the rows whose date ties with it), in increasing order. Nil
    /// when the walk does not pay (a window over much of the collection without a limit: a
    /// scan reads less) or the index was found damaged.
    func rows(_ rest: Pred?, _ env: Env) throws(Diagnostic) -> [Int32]? {
        if keep == 0 { return [] }
        let n = order.count
        guard let start = firstEntry(startingAfter: from &- 1, n) else { return nil }
        if keep == nil {
            guard let end = firstEntry(startingAfter: to, n), end - start <= collection.count / 8 else { return nil }
        }
        var found: [Int32] = []
        var tie: (Int32, Int32)?
        var k = start
        while k < n {
            if (k - start) % tickEvery == tickEvery - 1 { try env.tick(tickEvery) }
            guard let e = order.entry(k) else { return nil }
            if e.lo > to { break }
            if let t = tie, (e.lo, e.hi) != t { break }
            if !e.relative && e.hi <= to && rest.map({ $0(e.row, env) == .yes }) ?? true {
                found.append(Int32(truncatingIfNeeded: e.row))
                if let keep, found.count == keep { tie = (e.lo, e.hi) }
            }
            k += 1
        }
        try env.tick((k - start) % tickEvery)
        found.sort()
        return found
    }

    /// The first entry of the order whose date starts after day `day` (binary search); nil
    /// when the index is damaged.
    private func firstEntry(startingAfter day: Int32, _ n: Int) -> Int? {
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi) / 2
            guard let e = order.entry(mid) else { return nil }
            if e.lo > day { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
