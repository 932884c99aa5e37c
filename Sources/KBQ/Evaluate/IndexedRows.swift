/// Filters that read a stored index of a compiled file (Compiled/CompiledIndexes.swift)
/// instead of scanning columns: `where … date between A and B …` through the date column's
/// order, and, when a `sort by date … limit N` follows, only as far as the rows the sort and
/// limit keep. sqlite3 answers such a question from its date index; so does this, reading the
/// pages of the rows it walks and no more.
extension Lowering {
    /// The filter `e` as a walk of a stored date order, when `e` holds a date window (`and`-ed
    /// `between` with two date literals) on a stored date column that has one; `after` are
    /// the clauses that follow (a `sort` whose first key is that column, ascending, then a
    /// constant `limit`, let the walk stop early). Nil when no index serves: the filter runs
    /// as usual.
    func dateWalk(_ e: CheckedExpr, _ input: RowShape, then after: [CheckedClause]) -> PlanStep? {
        guard let c = stored(input), let indexes = c.indexes, let (f, l, h) = dateWindow(e, in: c),
              let order = indexes.dateOrder(f), case .date(let dates) = c.columns.forRows(f) else { return nil }
        var keep: Int?
        if after.count == 2, case .sort(let keys) = after[0].kind, let first = keys.first, !first.descending,
           let (sc, sf) = storedColumn(first.expr), sc === c, sf == f, case .limit(.constant(let n), let offset) = after[1].kind {
            switch offset {
            case nil: keep = n
            case .constant(let m)?: keep = n + m
            default: keep = nil
            }
        }
        let p = predicate(e, input)
        let scan = columnScan(e)
        let walk = DateWalk(collection: c, field: f, order: order, dates: dates, from: l.lo, to: h.hi, keep: keep)
        let how = "walks the stored date order from the window's start" + (keep.map { ", up to the \($0) rows the sort and limit keep" } ?? "")
            + ", testing the condition on each row"
        return PlanStep(how: how, run: { rows, env throws(Diagnostic) in
            if case .stored(let rc, nil) = rows, rc === c, let found = try walk.rows(p, env) { return .stored(c, found) }
            return try filter(rows, p, keep: .yes, scan: scan, env)
        })
    }

    /// The stored date column and the window of an `and`-ed `between` of two date literals in `e`.
    func dateWindow(_ e: CheckedExpr, in c: KBCollection) -> (Int, PartialDate, PartialDate)? {
        switch e.kind {
        case .and(let a, let b):
            return dateWindow(a, in: c) ?? dateWindow(b, in: c)
        case .between(let x, let lo, let hi, false):
            guard case .date(let l)? = lo.constant, case .date(let h)? = hi.constant, let (xc, f) = storedColumn(x), xc === c else { return nil }
            return (f, l, h)
        default:
            return nil
        }
    }
}

/// A walk of a date order over a window of days (see ``Lowering/dateWalk(_:_:then:)``).
struct DateWalk: Sendable {
    let collection: KBCollection
    let field: Int
    let order: DateOrder
    let dates: Stored<PartialDate>
    /// The window's first and last day: a row inside it has its first day at `from` or
    /// later (so the walk starts at the first such entry) and its last day at `to` or
    /// earlier (so it stops at the first entry that starts after `to`).
    let from: Int32
    let to: Int32
    /// The rows a sort by this date and a limit keep; nil: every row of the window.
    let keep: Int?

    /// The rows the condition `p` is `yes` for (or, with `keep`, every such row the sort
    /// could put among its first `keep`: those up to the `keep`-th and the rows tied with
    /// it), in increasing order. Nil when the walk does not pay (a window over much of the
    /// collection without a limit: a scan reads less) or the index was found damaged.
    func rows(_ p: Pred, _ env: Env) throws(Diagnostic) -> [Int32]? {
        if keep == 0 { return [] }
        let n = order.rows.count
        guard let start = firstEntry(startingAfter: from - 1, n) else { return nil }
        if keep == nil {
            guard let end = firstEntry(startingAfter: to, n), end - start <= collection.count / 8 else { return nil }
        }
        var found: [Int32] = []
        var tie: (Int32, Int32)?
        var k = start
        while k < n {
            if (k - start) % tickEvery == tickEvery - 1 { try env.tick(tickEvery) }
            guard let r = order.row(k) else { return nil }
            guard let d = dates.checked(r) else { _ = collection.damaged(field); return nil }
            if d.lo > to { break }
            if let t = tie, (d.lo, d.hi) != t { break }
            if p(r, env) == .yes {
                found.append(Int32(truncatingIfNeeded: r))
                if let keep, found.count == keep { tie = (d.lo, d.hi) }
            }
            k += 1
        }
        try env.tick((k - start) % tickEvery)
        found.sort()
        return found
    }

    /// The first entry of the order whose date starts after day `day` (binary search); nil
    /// when the index or a date it reaches is damaged.
    private func firstEntry(startingAfter day: Int32, _ n: Int) -> Int? {
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi) / 2
            guard let r = order.row(mid) else { return nil }
            guard let d = dates.checked(r) else { _ = collection.damaged(field); return nil }
            if d.lo > day { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
