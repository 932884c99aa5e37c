import Synchronization
import KBQPattern

extension Lowering {
    /// The value of `e` when it is known before any row is seen (a constant, or arithmetic
    /// on constants).
    func folded(_ e: CheckedExpr) -> Value? {
        switch e.kind {
        case .constant(let v): return v
        case .arithmetic(let op, let a, let b):
            guard let x = folded(a), let y = folded(b) else { return nil }
            return arithmetic(x, op, y)
        default: return nil
        }
    }

    /// How to decide a condition for a row. Comparisons on stored columns against
    /// constants get fast paths that compare unboxed values (string ids, doubles, day
    /// numbers, hedge ranks).
    func predicate(_ e: CheckedExpr, _ input: RowShape) -> Pred {
        switch e.kind {
        case .and(let l, let r):
            let a = predicate(l, input), b = predicate(r, input)
            return { row, env in
                let x = a(row, env)
                if x == .no { return .no }
                return x && b(row, env)
            }
        case .or(let l, let r):
            let a = predicate(l, input), b = predicate(r, input)
            return { row, env in
                let x = a(row, env)
                if x == .yes { return .yes }
                return x || b(row, env)
            }
        case .not(let x):
            let p = predicate(x, input)
            return { row, env in !p(row, env) }
        case .compare(let op, let a, let b):
            return comparison(op, a, b, input)
        case .contains(let a, let b):
            return containsPredicate(a, b, input)
        case .matches(let a, let b):
            return matchesPredicate(a, b, input)
        case .between(let x, let lo, let hi, let negated):
            let a = comparison(.ge, x, lo, input)
            let b = comparison(.le, x, hi, input)
            if !negated, let both = dateRange(x, lo, hi) { return both }
            if negated { return { row, env in !(a(row, env) && b(row, env)) } }
            return { row, env in a(row, env) && b(row, env) }
        case .isNull(let x, let negated):
            if let (col, fi) = storedColumn(x), case .number(let v) = col.columns[fi] {
                if negated { return { r, _ in Truth(!v[r].isNaN) } }
                return { r, _ in Truth(v[r].isNaN) }
            }
            let f = eval(x, input)
            return { r, env in Truth(f(r, env).isNull != negated) }
        case .inList(let x, let items, let negated):
            return inPredicate(x, items, negated: negated, input)
        case .inValues(let x, let list, let negated):
            return membership(x, list, negated: negated, input)
        case .refersTo(let x, let collection, let rows, let negated):
            return refersTo(x, collection, rows, negated: negated, input)
        default:
            let f = eval(e, input)
            return { r, env in
                switch f(r, env) {
                case .bool(let b): return Truth(b)
                case .maybe: return .maybe
                default: return .unknown
                }
            }
        }
    }

    /// A reference against the rows a name picked: one array load per row.
    func refersTo(_ x: CheckedExpr, _ name: String, _ rows: [Int], negated: Bool, _ input: RowShape) -> Pred {
        let count = kb.collection(name)?.count ?? 0
        var picked = [Bool](repeating: false, count: count)
        for r in rows where r >= 0 && r < count { picked[r] = true }
        let hits = picked, isEq = !negated
        if let (c, fi) = storedColumn(x), case .ref(let targets) = c.columns[fi] {
            return { r, _ in
                let t = targets[r]
                return t < 0 || Int(t) >= hits.count ? .unknown : Truth(hits[Int(t)] == isEq)
            }
        }
        let f = eval(x, input)
        return { r, env in
            guard case .ref(let ref) = f(r, env) else { return .unknown }
            return Truth((ref.collection == name && ref.row < hits.count && hits[ref.row]) == isEq)
        }
    }

    func comparison(_ op: BinaryOp, _ a: CheckedExpr, _ b: CheckedExpr, _ input: RowShape) -> Pred {
        let hedges = kb.hedges
        // A percent literal (76.6%) is about percentages: against a count of shells it
        // answers unknown rather than comparing 76.6 with 3,000,000.
        for (k, other, kop) in [(b, a, op), (a, b, op.flipped)] {
            if case .percent(let p)? = folded(k), other.type != .percent {
                let fo = eval(other, input)
                let pv = Value.percent(p)
                return { row, env in
                    let v = fo(row, env)
                    switch v {
                    case .percent: return compareValues(v, kop, pv, hedges: hedges)
                    case .quantity(let q) where q.isPercent: return compareValues(v, kop, pv, hedges: hedges)
                    default: return .unknown
                    }
                }
            }
        }
        if let fast = fastComparison(a, op, b) { return fast }
        if let fast = fastComparison(b, op.flipped, a) { return fast }
        let fa = eval(a, input), fb = eval(b, input)
        return { row, env in compareValues(fa(row, env), op, fb(row, env), hedges: hedges) }
    }

    /// `date between D1 and D2` on a stored date column with date literals: both bounds in
    /// one closure (the same answers as the two comparisons joined by `and`).
    func dateRange(_ x: CheckedExpr, _ lo: CheckedExpr, _ hi: CheckedExpr) -> Pred? {
        guard case .date(let l)? = lo.constant, case .date(let h)? = hi.constant, let (c, i) = storedColumn(x),
              case .date(let d) = c.columns[forRows: i] else { return nil }
        return { r, _ in
            guard let v = d.checked(r) else { _ = c.damaged(i); return .unknown }
            if v.isNullMarker { return .unknown }
            // compareDates(v, .ge, l) && compareDates(v, .le, h), spelled out.
            let vlo = v.knownLo, vhi = v.knownHi
            let a: Truth = vlo >= l.lo ? .yes : vhi < l.lo ? .no : .maybe
            let b: Truth = vhi <= h.hi ? .yes : vlo > h.hi ? .no : .maybe
            if a == .no || b == .no { return .no }
            return a == .maybe || b == .maybe ? .maybe : .yes
        }
    }

    /// A stored column against a constant, compared without boxing each row.
    func fastComparison(_ a: CheckedExpr, _ op: BinaryOp, _ b: CheckedExpr) -> Pred? {
        guard let (c, fi) = storedColumn(a) else { return nil }
        // Each value is checked as it is read, or compared without being used as an index:
        // a compiled file's column is read a row at a time (``Columns/subscript(forRows:)``).
        if case .parameter(_, let slot) = b.kind, op == .eq || op == .ne, case .string(let ids, let pool) = c.columns[forRows: fi] {
            // A string column against `$p`: the stored text against the parameter's, with no
            // boxing and no lookup of the parameter by name on each row.
            let isEq = op == .eq
            if pool.isDistinct {
                // Equal strings share an id: the parameter's id is found once per run (kept
                // in the run's Env) and each row compares integers.
                let memo = Env.memoKey()
                return { r, env in
                    let id = ids[r]
                    guard id != StringPool.null, slot < env.argCount else { return .unknown }
                    let target: UInt32
                    if let known = env.memo(memo) {
                        target = known
                    } else {
                        guard case .string(let s) = env.arg(slot) else {
                            return env.arg(slot).isNull ? .unknown : compareValues(.string(pool[id]), op, env.arg(slot), hedges: env.kb.hedges)
                        }
                        target = pool.lookup(s) ?? StringPool.null
                        env.setMemo(memo, target)
                    }
                    return Truth((id == target) == isEq)
                }
            }
            return { r, env in
                let id = ids[r]
                guard id != StringPool.null, slot < env.argCount else { return .unknown }
                guard case .string(let s) = env.arg(slot) else {
                    return env.arg(slot).isNull ? .unknown : compareValues(.string(pool[id]), op, env.arg(slot), hedges: env.kb.hedges)
                }
                return Truth(pool.equals(id, s) == isEq)
            }
        }
        guard let k = folded(b) else { return nil }
        switch (c.columns[forRows: fi], k) {
        case (.string(let ids, let pool), .string(let s)) where op == .eq || op == .ne:
            let isEq = op == .eq
            if !pool.isDistinct {
                // Equal strings may have different ids here: mark them all once.
                let hits = pool.marks(equalToAny: [s])
                return { r, _ in
                    let id = Int(ids[r])
                    if id >= hits.count { return id == Int(StringPool.null) ? .unknown : Truth(!isEq) }
                    return Truth(hits[id] == isEq)
                }
            }
            let target = pool.lookup(s) ?? (StringPool.null - 1)
            return { r, _ in
                let id = ids[r]
                if id == StringPool.null { return .unknown }
                return Truth((id == target) == isEq)
            }
        case (.number(let v), _) where c.qualifiers[fi] == nil:
            guard let p = k.number else { return nil }
            switch op {
            case .eq: return { r, _ in v[r].isNaN ? .unknown : Truth(v[r] == p) }
            case .ne: return { r, _ in v[r].isNaN ? .unknown : Truth(v[r] != p) }
            case .lt: return { r, _ in v[r].isNaN ? .unknown : Truth(v[r] < p) }
            case .le: return { r, _ in v[r].isNaN ? .unknown : Truth(v[r] <= p) }
            case .gt: return { r, _ in v[r].isNaN ? .unknown : Truth(v[r] > p) }
            case .ge: return { r, _ in v[r].isNaN ? .unknown : Truth(v[r] >= p) }
            default: return nil
            }
        case (.date(let d), .date(let p)):
            return { r, _ in
                guard let x = d.checked(r) else { _ = c.damaged(fi); return .unknown }
                if x.isNullMarker { return .unknown }
                return compareDates(x, op, p)
            }
        case (.hedge(let h), .hedge(let rank, _)):
            let target = UInt8(rank)
            return { r, _ in
                let x = h[r]
                if x == 255 { return .unknown }
                // Smaller rank is stronger, and stronger compares greater.
                let c = x < target ? 1 : x > target ? -1 : 0
                return Truth(ordered(c, op))
            }
        default:
            return nil
        }
    }

    func containsPredicate(_ a: CheckedExpr, _ b: CheckedExpr, _ input: RowShape) -> Pred {
        let fa = eval(a, input), fb = eval(b, input)
        if case .list = a.type {
            let hedges = kb.hedges
            return { row, env in
                guard case .list(let items) = fa(row, env) else { return .unknown }
                let needle = fb(row, env)
                if needle.isNull { return .unknown }
                for item in items {
                    if case .string(let s) = item, case .string(let n) = needle, s.lowercased() == n.lowercased() { return .yes }
                    if compareValues(item, .eq, needle, hedges: hedges) == .yes { return .yes }
                }
                return .no
            }
        }
        // Stored text and a constant needle: decide once per distinct string, not per row.
        if let (c, fi) = storedColumn(a), case .string(let ids, let pool) = c.columns[fi], case .string(let needle)? = b.constant {
            let folded = foldedBytes(needle)
            // A quote mark in the needle matches straight and curly ones: that test is per string.
            let ascii = needle.utf8.allSatisfy { $0 < 0x80 } && !hasQuoteMarks(needle)
            var hit: [Bool]
            if ascii {
                hit = pool.marks(containingFolded: folded)
            } else {
                hit = [Bool](repeating: false, count: pool.count)
                for id in 0..<pool.count { hit[id] = containsText(pool[UInt32(id)], needle) }
            }
            let hits = hit
            return { r, _ in
                let id = ids[r]
                return id == StringPool.null ? .unknown : Truth(hits[Int(id)])
            }
        }
        return { row, env in
            let x = fa(row, env), y = fb(row, env)
            guard !x.isNull, case .string(let n) = y else { return .unknown }
            return Truth(containsText(x.text, n))
        }
    }

    func matchesPredicate(_ a: CheckedExpr, _ b: CheckedExpr, _ input: RowShape) -> Pred {
        let fa = eval(a, input)
        if case .string(let source)? = b.constant, let pattern = try? Pattern(source) {
            // Each distinct string of a column is matched once, on the first run that needs
            // it, under that run's limits and cancellation; later runs reuse the answers.
            if let (c, fi) = storedColumn(a), case .string(let ids, let pool) = c.columns[fi] {
                let matches = PoolMatches(pool, pattern)
                return { r, env in
                    let id = ids[r]
                    if id == StringPool.null { return .unknown }
                    guard let hits = matches.hits(env) else { return .unknown }
                    return Truth(hits[Int(id)])
                }
            }
            return { row, env in
                let x = fa(row, env)
                return x.isNull ? .unknown : Truth(pattern.matches(x.text, interrupt: { env.mustStop }))
            }
        }
        let fb = eval(b, input)
        // A pattern from a parameter is compiled once per run, on first use.
        let cache = PatternCache()
        return { row, env in
            let x = fa(row, env)
            guard !x.isNull, case .string(let s) = fb(row, env), let p = cache.pattern(s) else { return .unknown }
            return Truth(p.matches(x.text, interrupt: { env.mustStop }))
        }
    }

    /// `x in LIST` where the list is known only when the query runs (a parameter, an
    /// expression). A stored string against a long list looks each row up in a set made
    /// once per run; otherwise each item is compared, stopping at the first match, and a
    /// long list gives up when the run must stop (the next tick then reports why).
    func membership(_ a: CheckedExpr, _ l: CheckedExpr, negated: Bool, _ input: RowShape) -> Pred {
        let fa = eval(a, input), fl = eval(l, input)
        let hedges = kb.hedges
        @Sendable func linear(_ v: Value, _ vs: [Value], _ env: Env) -> Truth {
            var t = Truth.no
            for (i, item) in vs.enumerated() {
                t = t || compareValues(v, .eq, item, hedges: hedges)
                if t == .yes { break }
                if i & 255 == 255 && env.mustStop { return .unknown }
            }
            return t
        }
        if let (c, fi) = storedColumn(a), case .string(let ids, let pool) = c.columns[fi] {
            let key = Env.memoKey()
            return { row, env in
                let id = ids[row]
                if id == StringPool.null { return .unknown }
                guard case .list(let vs) = fl(row, env) else { return .unknown }
                let t: Truth
                if vs.count <= 8 {
                    t = linear(.string(pool[id]), vs, env)
                } else {
                    let set = env.perRun(key) { StringListSet(vs) }
                    if set.strings.contains(pool[id]) {
                        t = .yes
                    } else {
                        t = linear(.string(pool[id]), set.others, env)
                    }
                }
                return negated ? !t : t
            }
        }
        return { row, env in
            guard case .list(let vs) = fl(row, env) else { return .unknown }
            let t = linear(fa(row, env), vs, env)
            return negated ? !t : t
        }
    }

    func inPredicate(_ a: CheckedExpr, _ items: [CheckedExpr], negated: Bool, _ input: RowShape) -> Pred {
        // Stored strings against a list of constant strings: one set lookup per row.
        if let (c, fi) = storedColumn(a), case .string(let ids, let pool) = c.columns[fi] {
            var strings: [String] = []
            for item in items { if case .string(let s)? = item.constant { strings.append(s) } }
            if strings.count == items.count {
                if !pool.isDistinct {
                    let hits = pool.marks(equalToAny: strings)
                    return { r, _ in
                        let id = ids[r]
                        if id == StringPool.null { return .unknown }
                        return Truth(hits[Int(id)] != negated)
                    }
                }
                var set = Set<UInt32>()
                for s in strings { if let id = pool.lookup(s) { set.insert(id) } }
                let members = set
                return { r, _ in
                    let id = ids[r]
                    if id == StringPool.null { return .unknown }
                    return Truth(members.contains(id) != negated)
                }
            }
        }
        let hedges = kb.hedges
        var preds: [Pred] = []
        for item in items {
            if let fast = fastComparison(a, .eq, item) { preds.append(fast); continue }
            let fa = eval(a, input), fb = eval(item, input)
            preds.append { row, env in compareValues(fa(row, env), .eq, fb(row, env), hedges: hedges) }
        }
        let alternatives = preds
        return { row, env in
            var t = Truth.no
            for p in alternatives {
                t = t || p(row, env)
                if t == .yes { break }
            }
            return negated ? !t : t
        }
    }

    /// The column-scanning form of a `where` condition (see ``ColumnScan``), for the shapes
    /// that dominate large filters: a stored string field `=` a string, a stored date field
    /// `between` two dates, and `and` of conditions (one such part is enough: the rest is
    /// checked on the rows it finds).
    func columnScan(_ e: CheckedExpr) -> ColumnScan? {
        switch e.kind {
        case .and(let l, let r):
            switch (columnScan(l), columnScan(r)) {
            case (let a?, let b?): return a.then(b)
            case (let a?, nil): return a.partial
            case (nil, let b?): return b.partial
            default: return nil
            }
        case .compare(.eq, let l, let r):
            func fieldAndText(_ f: CheckedExpr, _ t: CheckedExpr) -> ((KBCollection, Int), String)? {
                guard let column = storedColumn(f), case .string(let s)? = t.constant else { return nil }
                return (column, s)
            }
            guard let ((c, i), text) = fieldAndText(l, r) ?? fieldAndText(r, l), case .string(let ids, let pool) = c.columns[forRows: i] else { return nil }
            return ColumnScan.equal(ids, pool, text, postings: c.indexes?.postings(i))
        case .between(let x, let lo, let hi, false):
            guard case .date(let l)? = lo.constant, case .date(let h)? = hi.constant, let (c, i) = storedColumn(x) else { return nil }
            return ColumnScan.between(c, i, l, h)
        default:
            return nil
        }
    }
}

/// Whether each string of a column's pool matches a pattern: worked out by the first run
/// that needs it, under that run's time limit and cancellation (an interrupted run leaves
/// it for the next), then shared by every later run of the plan.
final class PoolMatches: @unchecked Sendable {
    private let pool: StringPool
    private let pattern: Pattern
    private let lock = Mutex<Void>(())
    private let ready = Atomic<Bool>(false)
    /// Written once, under `lock`, before `ready` is set; read only after `ready` is seen.
    private var answers: [Bool] = []

    init(_ pool: StringPool, _ pattern: Pattern) {
        self.pool = pool
        self.pattern = pattern
    }

    /// The answers, or nil when the run must stop before they are all found.
    @inline(__always)
    func hits(_ env: Env) -> [Bool]? {
        if ready.load(ordering: .acquiring) { return answers }
        return compute(env)
    }

    private func compute(_ env: Env) -> [Bool]? {
        // A run that must stop does not start again on every row it has left.
        if env.mustStop { return nil }
        return lock.withLock { _ -> [Bool]? in
            if ready.load(ordering: .acquiring) { return answers }
            var hit = [Bool](repeating: false, count: pool.count)
            var stopped = false
            let stop = { stopped = stopped || env.mustStop; return stopped }
            // A long match asks `stop` itself; short ones are polled every 64 KB of text.
            var bytes = 0
            for id in 0..<pool.count {
                hit[id] = pool.withBytes(UInt32(id)) { text in
                    bytes &+= text.count
                    return pattern.matches(text, interrupt: stop)
                }
                if stopped { return nil }
                if bytes > 1 << 16 {
                    bytes = 0
                    if stop() { return nil }
                }
            }
            answers = hit
            ready.store(true, ordering: .releasing)
            return hit
        }
    }
}

/// A list's strings as a set, and its other items (which compare by their own rules).
struct StringListSet: Sendable {
    let strings: Set<String>
    let others: [Value]
    init(_ items: [Value]) {
        var strings = Set<String>()
        var others: [Value] = []
        for v in items {
            if case .string(let s) = v { strings.insert(s) } else { others.append(v) }
        }
        self.strings = strings
        self.others = others
    }
}

/// Compiled patterns from parameters, kept for the life of one plan.
final class PatternCache: Sendable {
    private let cache = Mutex<[String: Pattern]>([:])

    func pattern(_ s: String) -> Pattern? {
        if let p = cache.withLock({ $0[s] }) { return p }
        guard let p = try? Pattern(s) else { return nil }
        cache.withLock {
            if $0.count > 64 { $0.removeAll() }
            $0[s] = p
        }
        return p
    }
}
