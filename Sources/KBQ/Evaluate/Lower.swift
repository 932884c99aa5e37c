/// Lowers checked queries (Check/CheckedQuery.swift) into runnable plans: closures over
/// rows, with fast paths where a stored column meets a constant. Everything here was
/// checked already: lowering reports nothing and never fails; what it cannot speed up it
/// runs row by row.
struct Lowering {
    let kb: KnowledgeBase

    /// Collections up to this many rows get per-plan tables (their references, their
    /// qualifier words) instead of work on every row.
    static let smallTable = 4096
    /// Collections up to this many rows have the columns a plan reads boxed once per plan.
    static let smallColumn = 256

    /// The collection whose stored rows `shape` still is.
    func stored(_ shape: RowShape) -> KBCollection? { shape.stored.flatMap { kb.collection($0) } }

    /// The stored column `e` reads directly (no reference followed), for fast paths.
    func storedColumn(_ e: CheckedExpr) -> (KBCollection, Int)? {
        guard let (name, field) = e.storedColumn, let c = kb.collection(name), field < c.fields.count else { return nil }
        return (c, field)
    }

    // MARK: expressions

    /// How to compute `e` for a row of rows shaped `input`.
    func eval(_ e: CheckedExpr, _ input: RowShape) -> Eval {
        switch e.kind {
        case .constant(let v):
            return { _, _ in v }
        case .parameter(_, let slot):
            return { _, env in env.arg(slot) }
        case .field(let f):
            return field(f, input)
        case .list(let items):
            let evals = items.map { eval($0, input) }
            return { r, env in .list(evals.map { $0(r, env) }) }
        case .negate(let x):
            let f = eval(x, input)
            // -(over 16,500) is under -16,500, as 0 - value is: dropping the qualifier would
            // turn `-value < -16500` into a firm no where it is a firm yes.
            return { r, env in
                switch f(r, env) {
                case .number(let v): return .number(-v)
                case .percent(let v): return .percent(-v)
                case .quantity(let q): return Value(exactOrInterval: q.negated)
                default: return .null
                }
            }
        case .arithmetic(let op, let a, let b):
            let fa = eval(a, input), fb = eval(b, input)
            if let x = a.constant, let y = b.constant {
                let v = arithmetic(x, op, y)
                return { _, _ in v }
            }
            return { row, env in arithmetic(fa(row, env), op, fb(row, env)) }
        case .call(let f, let args):
            return call(f, args.map { eval($0, input) }, types: args.map(\.type), range: e.range)
        case .not, .and, .or, .compare, .contains, .matches, .between, .isNull, .inList, .inValues, .refersTo:
            let p = predicate(e, input)
            return { r, env in p(r, env).value }
        }
    }

    /// Reads a field of the rows flowing in, following references.
    func field(_ f: FieldReference, _ input: RowShape) -> Eval {
        let kb = self.kb
        var eval: Eval
        var column: (KBCollection, Int)?
        if let c = f.collection.flatMap({ kb.collection($0) }) {
            eval = columnReader(c, f.column)
            column = (c, f.column)
        } else {
            let ci = f.column
            eval = { r, env in env.table[r][ci] }
        }
        for step in f.path {
            guard let tc = kb.collection(step.collection) else { return { _, _ in .null } }
            let fi = step.index
            let base = eval
            if case .ref(let rows)? = column.map({ $0.0.columns[$0.1] }) {
                // Straight from the stored reference column: no boxing of the ref itself.
                let read = columnReader(tc, fi)
                eval = { r, env in
                    let t = rows[r]
                    return t < 0 ? .null : read(Int(t), env)
                }
            } else {
                eval = { r, env in
                    guard case .ref(let ref) = base(r, env) else { return .null }
                    return tc.value(row: ref.row, column: fi, kb: kb)
                }
            }
            column = nil
        }
        return eval
    }

    /// Reads column `i` of the rows flowing in.
    func reader(_ input: RowShape, _ i: Int) -> Eval {
        if let c = stored(input) { return columnReader(c, i) }
        return { r, env in env.table[r][i] }
    }

    /// Reads one stored column as values.
    func columnReader(_ c: KBCollection, _ f: Int) -> Eval {
        let read = unboxingReader(c, f)
        if c.count <= Lowering.smallColumn {
            // A small collection's column is boxed once per plan: a prepared query run many
            // times then reads each value as one array load, not by rebuilding it (a string
            // from its bytes, a quantity from its qualifier word).
            let env = Env(kb: kb, params: [:], lets: [:], limits: .none, cancel: nil)
            let values = (0..<c.count).map { read($0, env) }
            return { r, _ in values[r] }
        }
        return read
    }

    /// Reads one stored column as values, building each value from the column as it goes.
    /// Each value is checked as it is read (``KBCollection/value(row:column:kb:)``), so that
    /// a column of a compiled file is not checked whole to read a few of its rows.
    func unboxingReader(_ c: KBCollection, _ f: Int) -> Eval {
        let kb = self.kb
        switch c.columns[forRows: f] {
        case .string(let ids, let pool):
            let strings = UInt32(truncatingIfNeeded: pool.count)
            return { r, _ in
                let id = ids[r]
                if id == StringPool.null { return .null }
                return id < strings ? .string(pool[id]) : c.damaged(f)
            }
        case .number(let v):
            if c.fields[f].type == .percent { return { r, _ in v[r].isNaN ? .null : .percent(v[r]) } }
            if let (qf, uf) = c.qualifiers[f], let qf, case .string(let qids, let qpool) = c.columns[forRows: qf], qpool.count <= Lowering.smallTable {
                // Qualifier words are few: each is read and classified once per plan, not
                // once per row.
                let words = (0..<qpool.count).map { Quantity.Qualifier(qpool[UInt32($0)]) }
                let upper: Stored<Double>? = uf.flatMap { if case .number(let u) = c.columns[forRows: $0] { return u }; return nil }
                return { r, _ in
                    let x = v[r]
                    if x.isNaN { return .null }
                    let percent = c.isPercentRow(r)
                    let id = qids[r]
                    var word = Quantity.Qualifier.none
                    if id != StringPool.null { if Int(id) < words.count { word = words[Int(id)] } else { _ = c.damaged(qf) } }
                    let u = upper.map { $0[r] }.flatMap { $0.isNaN ? nil : $0 }
                    let q = Quantity(x, qualifier: word, upper: u, percent: percent) ?? Quantity(exactly: x, percent: percent)
                    return q.isExact && q.isPercent ? .percent(x) : .quantity(q)
                }
            }
            if c.qualifiers[f] != nil || c.percentRows != nil {
                return { r, _ in c.value(row: r, column: f, kb: kb) }
            }
            return { r, _ in v[r].isNaN ? .null : .number(v[r]) }
        case .ref(let targets):
            guard case .ref(let name) = c.fields[f].type, let target = kb.collection(name) else { return { _, _ in .null } }
            if target.count <= Lowering.smallTable {
                // A small collection's references are made once per plan: each carries its
                // key and display text, which would otherwise be read out on every row.
                let refs = (0..<target.count).map { Value.ref(target.rowRef($0, kb: kb)) }
                return { r, _ in
                    let t = Int(targets[r])
                    if t >= 0 && t < refs.count { return refs[t] }
                    return t == -1 ? .null : c.damaged(f)
                }
            }
            return { r, _ in
                let t = Int(targets[r])
                if t >= 0 && t < target.count { return .ref(target.rowRef(t, kb: kb)) }
                return t == -1 ? .null : c.damaged(f)
            }
        default:
            return { r, _ in c.value(row: r, column: f, kb: kb) }
        }
    }
}

/// `a op b` for the arithmetic operators: intervals stay intervals, a division by zero
/// or an overflow is null, and percents stay percents where the result is one.
func arithmetic(_ va: Value, _ op: BinaryOp, _ vb: Value) -> Value {
    // Intervals stay intervals: over 16,500 + 13,000 is over 29,500.
    if op != .mod, va.isQuantity || vb.isQuantity, let qa = quantity(of: va), let qb = quantity(of: vb) {
        return Quantity.combine(qa, op, qb).flatMap { $0.unlessOverflowed(qa, qb) }.map(Value.init(exactOrInterval:)) ?? .null
    }
    guard let x = va.number, let y = vb.number else { return .null }
    let v: Double
    switch op {
    case .add: v = x + y
    case .sub: v = x - y
    case .mul: v = x * y
    case .div: if y == 0 { return .null }; v = x / y
    case .mod: if y == 0 { return .null }; v = x.truncatingRemainder(dividingBy: y)
    default: return .null
    }
    guard v.isFinite else { return .null }
    let isPercent: Bool = {
        if case .percent = va { return !(op == .div) || !{ if case .percent = vb { return true }; return false }() }
        if case .percent = vb { return op == .add || op == .sub || op == .mul }
        return false
    }()
    return isPercent ? .percent(v) : .number(v)
}
