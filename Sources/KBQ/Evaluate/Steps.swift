/// How often (in rows) a long loop checks the run's time, work and cancellation bounds.
let tickEvery = 4096

/// Keeps the rows whose condition is `yes` (or, with `where maybe`, `maybe` too).
func filter(_ rows: Rows, _ p: Pred, keep: Truth, _ env: Env) throws(Diagnostic) -> Rows {
    func keeps(_ t: Truth) -> Bool { t == .yes || (keep == .maybe && t == .maybe) }
    switch rows {
    case .stored(let c, let sel):
        var out: [Int32] = []
        if let sel {
            var i = 0
            while i < sel.count {
                let end = min(sel.count, i + tickEvery)
                try env.tick(end - i)
                for k in i..<end where keeps(p(Int(sel[k]), env)) { out.append(sel[k]) }
                i = end
            }
        } else {
            var i = 0
            while i < c.count {
                let end = min(c.count, i + tickEvery)
                try env.tick(end - i)
                for r in i..<end where keeps(p(r, env)) { out.append(Int32(r)) }
                i = end
            }
        }
        return .stored(c, out)
    case .table(var t):
        env.table = t.rows
        var rowsOut: [[Value]] = []
        var origin: [Int32]? = t.origin == nil ? nil : []
        try env.tick(t.rows.count)
        for i in t.rows.indices where keeps(p(i, env)) {
            rowsOut.append(t.rows[i])
            if let o = t.origin { origin?.append(o[i]) }
        }
        t.rows = rowsOut
        t.origin = origin
        return .table(t)
    }
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

/// Sorts by several keys, each ascending or descending, nulls last either way.
func sortRows(_ rows: Rows, _ keys: [(Eval, Bool)], _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    var keyValues: [[Value]] = []
    keyValues.reserveCapacity(idx.count)
    for r in idx { keyValues.append(keys.map { $0.0(r, env) }) }
    let desc = keys.map(\.1)
    var order = Array(idx.indices)
    order.sort { a, b in
        let ka = keyValues[a], kb = keyValues[b]
        for k in 0..<desc.count {
            let x = ka[k], y = kb[k]
            if x.isNull != y.isNull { return !x.isNull }
            if x.isNull { continue }
            let c = orderValues(x, y)
            if c != 0 { return desc[k] ? c > 0 : c < 0 }
        }
        return a < b
    }
    switch rows {
    case .stored(let c, _):
        return .stored(c, order.map { Int32(idx[$0]) })
    case .table(var t):
        t.rows = order.map { t.rows[$0] }
        if let o = t.origin { t.origin = order.map { o[$0] } }
        return .table(t)
    }
}

func limitRows(_ rows: Rows, _ n: Int) -> Rows {
    switch rows {
    case .stored(let c, let sel):
        if let sel { return .stored(c, Array(sel.prefix(n))) }
        return .stored(c, (0..<min(n, c.count)).map { Int32($0) })
    case .table(var t):
        t.rows = Array(t.rows.prefix(n))
        if let o = t.origin { t.origin = Array(o.prefix(n)) }
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
    for r in idx { out.append(evals.map { $0(r, env) }) }
    var t = Table(columns: columns, rows: out)
    switch rows {
    case .stored: t.origin = idx.map { Int32($0) }
    case .table(let old):
        t.origin = old.origin
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
        for r in idx { out.append((0..<c.fields.count).map { c.value(row: r, column: $0, kb: env.kb) }) }
        return Table(columns: cols, rows: out, origin: idx.map { Int32($0) })
    }
}

extension Rows {
    /// The rows as a result for the caller.
    func result(_ env: Env) -> ResultTable {
        let t = materialize(self, env)
        return ResultTable(columns: t.columns, rows: t.rows, title: t.decorations.title, notes: t.decorations.notes,
                           summaries: t.decorations.summaries, chart: t.decorations.chart)
    }
}
