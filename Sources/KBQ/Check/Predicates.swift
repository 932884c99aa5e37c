import Synchronization

extension Planner {
    /// Compiles a condition. Comparisons on stored columns against constants get fast paths
    /// that compare unboxed values (string ids, doubles, day numbers, hedge ranks).
    mutating func predicate(_ e: Expr, _ scope: Scope) throws(Failed) -> Pred {
        switch e.kind {
        case .binary(.and, let l, let r):
            let a = try predicate(l, scope), b = try predicate(r, scope)
            return { row, env in
                let x = a(row, env)
                if x == .no { return .no }
                return x && b(row, env)
            }
        case .binary(.or, let l, let r):
            let a = try predicate(l, scope), b = try predicate(r, scope)
            return { row, env in
                let x = a(row, env)
                if x == .yes { return .yes }
                return x || b(row, env)
            }
        case .unary(.not, let x):
            let p = try predicate(x, scope)
            return { row, env in !p(row, env) }
        case .binary(let op, let l, let r) where op.isComparison:
            return try comparison(op, l, r, scope, range: e.range)
        case .binary(.contains, let l, let r):
            return try containsPredicate(l, r, scope)
        case .binary(.matches, let l, let r):
            return try matchesPredicate(l, r, scope)
        case .between(let x, let lo, let hi, let negated):
            let a = try comparison(.ge, x, lo, scope, range: e.range)
            let b = try comparison(.le, x, hi, scope, range: e.range)
            if !negated, let both = dateRange(x, lo, hi, scope) { return both }
            if negated { return { row, env in !(a(row, env) && b(row, env)) } }
            return { row, env in a(row, env) && b(row, env) }
        case .isNull(let x, let negated):
            let c = try compile(x, scope)
            let f = c.eval
            if let (col, fi) = c.column, case .number(let v) = col.columns[fi] {
                if negated { return { r, _ in Truth(!v[r].isNaN) } }
                return { r, _ in Truth(v[r].isNaN) }
            }
            return { r, env in Truth(f(r, env).isNull != negated) }
        case .inList(let x, let list, let negated):
            return try inPredicate(x, list, negated: negated, scope)
        default:
            let c = try compile(e, scope)
            guard c.type == .bool || c.type == .null else {
                throw error(.typeMismatch, "expected a condition (true or false), found \(describeType(c.type))", at: e.range,
                            notes: ["for example: where topic = \"containers\""])
            }
            let f = c.eval
            return { r, env in
                switch f(r, env) {
                case .bool(let b): return Truth(b)
                case .maybe: return .maybe
                default: return .unknown
                }
            }
        }
    }

    /// Resolves an operand compared with a hedge: a bare word or string must be a hedge word.
    mutating func hedgeOperand(_ c: Compiled) throws(Failed) -> Compiled {
        var word: String?
        var range = c.range
        if let n = c.unresolved { word = n.text; range = n.range }
        if case .string(let s)? = c.constant { word = s }
        guard let w = word else { return c }
        guard let rank = kb.hedges.rank(of: w) else {
            throw error(.unknownHedge, "'\(w)' is not a hedge word", at: range, suggestion: suggest(w, from: kb.hedges.words),
                        notes: ["hedges, strongest first: " + kb.hedges.words.joined(separator: " > ")])
        }
        return .constant(.hedge(rank: rank, word: kb.hedges.words[rank]), .hedge, range)
    }

    /// Checks the two sides of a comparison fit, converting literals where the meaning is
    /// plain (a year against a date, a date string against a date, a word against a hedge).
    mutating func comparable(_ a0: Compiled, _ b0: Compiled, op: String, range: SourceRange, scope: Scope) throws(Failed) -> (Compiled, Compiled) {
        var a = a0, b = b0
        if a.type == .hedge { b = try hedgeOperand(b) }
        if b.type == .hedge { a = try hedgeOperand(a) }
        for (c, other) in [(a, b), (b, a)] {
            guard let n = c.unresolved else { continue }
            // What the other side is says what the name was meant to be: a word compared
            // with text wants quotes; a name compared with a date or a year wants one of the
            // date fields (`date > 2024` in estimates). A near name says it better.
            func hint() -> [String] {
                guard other.unresolved == nil else { return [] }
                let isYear = other.constant?.number.map { $0 == $0.rounded() && $0 >= 1000 && $0 <= 9999 } ?? false
                if other.type == .date || isYear {
                    let dates = scope.columns.filter { $0.type == .date }.map(\.name)
                    return dates.isEmpty ? [] : ["date fields here: " + dates.joined(separator: ", ")]
                }
                if other.type.isNumeric {
                    let numbers = numericFields(scope)
                    return numbers.isEmpty ? [] : ["number fields here: " + numbers.joined(separator: ", ")]
                }
                return other.type.isText ? ["to compare with text, put it in quotes: \"\(n.text)\""] : []
            }
            let hints = hint()
            throw unknownName(n, scope) { guessed in guessed ? [] : hints }
        }
        if let p = a.parameter { parameters[p] = (b.type == .null ? nil : b.type, a.range); return (a, b) }
        if let p = b.parameter { parameters[p] = (a.type == .null ? nil : a.type, b.range); return (a, b) }
        if case .null? = a.constant { throw error(.typeMismatch, "comparing with null is never true or false; use 'is null'", at: a.range) }
        if case .null? = b.constant { throw error(.typeMismatch, "comparing with null is never true or false; use 'is null' or 'is not null'", at: b.range) }
        func dateLiteral(_ c: Compiled) -> Compiled? {
            switch c.constant {
            case .number(let y)? where y == y.rounded() && y >= 1 && y <= 9999:
                return .constant(.date(PartialDate(year: Int(y))), .date, c.range)
            case .string(let s)?:
                return PartialDate.parse(s).map { .constant(.date($0), .date, c.range) }
            default: return nil
            }
        }
        if a.type == .date, b.type != .date, let d = dateLiteral(b) { b = d }
        if b.type == .date, a.type != .date, let d = dateLiteral(a) { a = d }
        let ok: Bool
        switch (a.type, b.type) {
        case (let x, let y) where x.isNumeric && y.isNumeric: ok = true
        case (.string, .string), (.date, .date), (.hedge, .hedge), (.bool, .bool): ok = true
        case (.ref, .string), (.string, .ref), (.ref, .ref): ok = true
        case (.list, .list): ok = op == "=" || op == "!="
        case (.null, _), (_, .null): ok = true
        default: ok = false
        }
        if !ok {
            let bad = b.constant != nil ? b : a.constant != nil ? a : b
            var notes: [String] = []
            if a.type == .date || b.type == .date { notes.append("dates are written 2024, 2024-06 or 2024-06-19, without quotes") }
            if case .list = a.type { notes.append("to test membership, write: VALUE in LIST, or LIST contains VALUE") }
            throw error(.typeMismatch, "cannot compare \(describeType(a.type)) with \(describeType(b.type)) using '\(op)'", at: bad.constant != nil ? bad.range : range, notes: notes)
        }
        return (a, b)
    }

    mutating func comparison(_ op: BinaryOp, _ l: Expr, _ r: Expr, _ scope: Scope, range: SourceRange) throws(Failed) -> Pred {
        let (a, b) = try comparable(try compile(l, scope, allowUnresolved: true), try compile(r, scope, allowUnresolved: true), op: op.rawValue, range: range, scope: scope)
        if let named = namedValueComparison(a, op, b, in: scope) ?? namedValueComparison(b, op.flipped, a, in: scope) { return named }
        let hedges = kb.hedges
        // A percent literal (76.6%) is about percentages: against a count of shells it
        // answers unknown rather than comparing 76.6 with 3,000,000.
        for (k, other, kop) in [(b, a, op), (a, b, op.flipped)] {
            if case .percent(let p)? = k.constant, other.type != .percent {
                let fo = other.eval
                let pv = Value.percent(p)
                return { row, env in
                    let v = fo(row, env)
                    switch v {
                    case .percent: return compareValues(v, kop, pv, hedges: hedges)
                    case .quantity(let q) where q.isPercent: return compareValues(v, kop, pv, hedges: hedges)
                    case .null: return .unknown
                    default: return .unknown
                    }
                }
            }
        }
        if let fast = fastComparison(a, op, b) { return fast }
        if let fast = fastComparison(b, op.flipped, a) { return fast }
        let fa = a.eval, fb = b.eval
        return { row, env in compareValues(fa(row, env), op, fb(row, env), hedges: hedges) }
    }

    /// `date between D1 and D2` on a stored date column with date literals: both bounds in
    /// one closure (the same answers as the two comparisons joined by `and`).
    mutating func dateRange(_ x: Expr, _ lo: Expr, _ hi: Expr, _ scope: Scope) -> Pred? {
        guard case .path(let names) = x.kind, names.count == 1, case .literal(.date(let l)) = lo.kind,
              case .literal(.date(let h)) = hi.kind, let i = scope.index(of: names[0].text), let c = scope.stored,
              case .date(let d) = c.columns[i] else { return nil }
        return { r, _ in
            let v = d[r]
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
    func fastComparison(_ a: Compiled, _ op: BinaryOp, _ b: Compiled) -> Pred? {
        if let (c, fi) = a.column, let p = b.parameter, let slot = parameterSlots[p], op == .eq || op == .ne,
           case .string(let ids, let pool) = c.columns[fi] {
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
        guard let (c, fi) = a.column, let k = b.constant else { return nil }
        switch (c.columns[fi], k) {
        case (.string(let ids, let pool), .string(let s)) where op == .eq || op == .ne:
            let isEq = op == .eq
            if !pool.isDistinct {
                // Equal strings may have different ids here: mark them all once.
                let hits = pool.marks(equalToAny: [s])
                return { r, _ in
                    let id = ids[r]
                    if id == StringPool.null { return .unknown }
                    return Truth(hits[Int(id)] == isEq)
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
                let x = d[r]
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

    /// The error for a name that is no field here: a near name suggested, else the fields
    /// listed; then the `hints` for it (told whether a near name was found).
    mutating func unknownName(_ n: Name, _ scope: Scope, hints: (_ guessed: Bool) -> [String]) -> Failed {
        let names = scope.columns.map(\.name)
        let guess = suggest(n.text, from: names)
        return error(.unknownField, "unknown field '\(n.text)'" + (scope.stored.map { " in \($0.name)" } ?? ""), at: n.range,
                     suggestion: guess, notes: (guess == nil ? ["fields here: " + names.joined(separator: ", ")] : []) + hints(guess != nil))
    }

    /// The text to look for after `contains` or `matches`: a bare word there is meant as
    /// text far more often than as a field (`text contains Kursk`), so its error says so.
    mutating func searchedText(_ r: Expr, _ scope: Scope, for word: String) throws(Failed) -> Compiled {
        let b = try compile(r, scope, allowUnresolved: true)
        guard let n = b.unresolved else { return b }
        throw unknownName(n, scope) { _ in ["to \(word) text, put it in quotes: \"\(n.text)\""] }
    }

    mutating func containsPredicate(_ l: Expr, _ r: Expr, _ scope: Scope) throws(Failed) -> Pred {
        let a = try compile(l, scope), b = try searchedText(r, scope, for: "search for")
        switch a.type {
        case .string, .ref, .hedge, .null: break
        case .list: break
        default:
            throw error(.typeMismatch, "'contains' needs text or a list on the left, not \(describeType(a.type))", at: a.range,
                        notes: ["for numbers, compare with = < > or between"])
        }
        if case .list = a.type {
            let fa = a.eval, fb = b.eval
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
        guard b.type == .string || b.type == .null else {
            throw error(.typeMismatch, "'contains' looks for text, not \(describeType(b.type))", at: b.range,
                        notes: b.type.isNumeric ? ["put the number in quotes to search for it as text: \"\(b.constant?.text ?? "…")\""] : [])
        }
        if let p = b.parameter { parameters[p] = (.string, b.range) }
        // Stored text and a constant needle: decide once per distinct string, not per row.
        if let (c, fi) = a.column, case .string(let ids, let pool) = c.columns[fi], case .string(let needle)? = b.constant {
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
        let fa = a.eval, fb = b.eval
        return { row, env in
            let x = fa(row, env), y = fb(row, env)
            guard !x.isNull, case .string(let n) = y else { return .unknown }
            return Truth(containsText(x.text, n))
        }
    }

    mutating func matchesPredicate(_ l: Expr, _ r: Expr, _ scope: Scope) throws(Failed) -> Pred {
        let a = try compile(l, scope), b = try searchedText(r, scope, for: "match")
        switch a.type {
        case .string, .ref, .hedge, .null: break
        default:
            throw error(.typeMismatch, "'matches' needs text on the left, not \(describeType(a.type))", at: a.range)
        }
        guard b.type == .string || b.type == .null else {
            throw error(.typeMismatch, "'matches' needs a pattern in quotes, not \(describeType(b.type))", at: b.range)
        }
        let fa = a.eval
        if case .string(let source)? = b.constant {
            let pattern: Pattern
            do { pattern = try Pattern(source) } catch {
                // Point at the offending byte inside the string literal (after its quote).
                let at = b.range.start + 1 + error.offset
                throw self.error(.invalidLiteral, "invalid pattern: \(error.message)", at: SourceRange(at, min(at + 1, b.range.end)))
            }
            // Each distinct string of a column is matched once, here, unless that takes
            // long (a large program over much text): then row by row in the run, where the
            // run's time limit and cancellation can stop it.
            if let (c, fi) = a.column, case .string(let ids, let pool) = c.columns[fi],
               let hits = Planner.matchEach(pool, pattern, within: .milliseconds(200)) {
                return { r, _ in
                    let id = ids[r]
                    return id == StringPool.null ? .unknown : Truth(hits[Int(id)])
                }
            }
            return { row, env in
                let x = fa(row, env)
                return x.isNull ? .unknown : Truth(pattern.matches(x.text, interrupt: { env.mustStop }))
            }
        }
        if let p = b.parameter { parameters[p] = (.string, b.range); patternParameters.insert(p) }
        let fb = b.eval
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
    func membership(_ a: Compiled, _ l: Compiled, negated: Bool) -> Pred {
        let fa = a.eval, fl = l.eval
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
        if let (c, fi) = a.column, case .string(let ids, let pool) = c.columns[fi] {
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

    mutating func inPredicate(_ x: Expr, _ list: Expr, negated: Bool, _ scope: Scope) throws(Failed) -> Pred {
        let a = try compile(x, scope, allowUnresolved: true)
        guard case .list(let items) = list.kind else {
            let l = try compile(list, scope)
            guard case .list = l.type else {
                // A parameter after 'in' must be bound to a list: a string there once matched
                // nothing, silently.
                if let p = l.parameter { parameters[p] = (.list(nil), l.range); return membership(a, l, negated: negated) }
                throw error(.typeMismatch, "'in' needs a list such as [\"a\", \"b\"], not \(describeType(l.type))", at: l.range,
                            notes: ["to search text, use: contains"])
            }
            return membership(a, l, negated: negated)
        }
        var preds: [Pred] = []
        for item in items {
            let (p, q) = try comparable(a, try compile(item, scope, allowUnresolved: true), op: "in", range: item.range, scope: scope)
            if let named = namedValueComparison(p, .eq, q, in: scope, listItem: true) { preds.append(named); continue }
            if let fast = fastComparison(p, .eq, q) { preds.append(fast); continue }
            let fa = p.eval, fb = q.eval
            let hedges = kb.hedges
            preds.append { row, env in compareValues(fa(row, env), .eq, fb(row, env), hedges: hedges) }
        }
        // Stored strings against a list of constants: one set lookup per row.
        if let (c, fi) = a.column, case .string(let ids, let pool) = c.columns[fi],
           case .list(let consts)? = try? compile(list, scope).constant,
           consts.allSatisfy({ if case .string = $0 { return true }; return false }) {
            var strings: [String] = []
            for case .string(let s) in consts { strings.append(s) }
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
}

extension Planner {
    /// Whether each string of `pool` matches, or nil when finding out takes longer than
    /// `budget`: checking a query is not bounded by a run's limits, so it must stay short.
    static func matchEach(_ pool: StringPool, _ pattern: Pattern, within budget: Duration) -> [Bool]? {
        let deadline = ContinuousClock.now.advanced(by: budget)
        var late = false
        let tooLate = { late = late || ContinuousClock.now > deadline; return late }
        var hit = [Bool](repeating: false, count: pool.count)
        // A long match asks `tooLate` itself; short ones are timed every 64 KB of text.
        var bytes = 0
        for id in 0..<pool.count {
            hit[id] = pool.withBytes(UInt32(id)) { text in
                bytes &+= text.count
                return pattern.matches(text, interrupt: tooLate)
            }
            if late { return nil }
            if bytes > 1 << 16 {
                bytes = 0
                if tooLate() { return nil }
            }
        }
        return hit
    }
}

extension Planner {
    /// The column-scanning form of a `where` condition (see ``ColumnScan``), for the shapes
    /// that dominate large filters: a stored string field `=` a string, a stored date field
    /// `between` two dates, and `and` of conditions (one such part is enough: the rest is
    /// checked on the rows it finds). Called after ``predicate(_:_:)`` checked `e`.
    func columnScan(_ e: Expr, _ scope: Scope) -> ColumnScan? {
        guard let c = scope.stored else { return nil }
        switch e.kind {
        case .binary(.and, let l, let r):
            switch (columnScan(l, scope), columnScan(r, scope)) {
            case (let a?, let b?): return a.then(b)
            case (let a?, nil): return a.partial
            case (nil, let b?): return b.partial
            default: return nil
            }
        case .binary(.eq, let l, let r):
            func fieldAndText(_ f: Expr, _ t: Expr) -> (Int, String)? {
                guard case .path(let names) = f.kind, names.count == 1, let i = scope.index(of: names[0].text),
                      case .literal(.string(let s)) = t.kind else { return nil }
                return (i, s)
            }
            guard let (i, text) = fieldAndText(l, r) ?? fieldAndText(r, l), case .string(let ids, let pool) = c.columns[i] else { return nil }
            return ColumnScan.equal(ids, pool, text)
        case .between(let x, let lo, let hi, false):
            guard case .path(let names) = x.kind, names.count == 1, case .literal(.date(let l)) = lo.kind,
                  case .literal(.date(let h)) = hi.kind, let i = scope.index(of: names[0].text),
                  case .date(let d) = c.columns[i] else { return nil }
            return ColumnScan.between(d, l, h)
        default:
            return nil
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
