/// Checks statements against the KB schema and compiles them into runnable plans. Every
/// name is resolved and every type checked here, before anything runs; problems become
/// diagnostics with the exact range and a suggestion from the names in scope.
struct Planner {
    let kb: KnowledgeBase
    /// `let` names visible to the statement, with the scope of their rows.
    var lets: [String: Scope]
    var diagnostics: [Diagnostic] = []
    /// Warnings: the query still runs (see ``namedValueComparison(_:_:_:in:)``).
    var warnings: [Diagnostic] = []
    /// Parameters the plan reads, with the type each is compared against (if known).
    var parameters: [String: (FieldType?, SourceRange)] = [:]
    /// Parameters used as `matches` patterns: checked to compile when a run starts.
    var patternParameters: Set<String> = []
    /// Each parameter's place in ``Env/args``, in the order they first appear: rows read a
    /// parameter by index, not by hashing its name.
    var parameterSlots: [String: Int] = [:]

    struct Failed: Error {}

    init(kb: KnowledgeBase, lets: [String: Scope]) {
        self.kb = kb
        self.lets = lets
    }

    /// Collections up to this many rows get per-plan tables (their references, their
    /// qualifier words) instead of work on every row.
    static let smallTable = 4096
    /// Collections up to this many rows have the columns a plan reads boxed once per plan.
    static let smallColumn = 256

    /// The slot of parameter `name`, given one when first seen.
    mutating func parameterSlot(_ name: String) -> Int {
        if let s = parameterSlots[name] { return s }
        let s = parameterSlots.count
        parameterSlots[name] = s
        return s
    }

    mutating func error(_ kind: Diagnostic.Kind, _ message: String, at range: SourceRange, suggestion: String? = nil, notes: [String] = []) -> Failed {
        diagnostics.append(Diagnostic(kind, message, at: range, suggestion: suggestion, notes: notes))
        return Failed()
    }

    // MARK: expressions

    /// Compiles `e`; a bare word that names nothing is returned unresolved for the caller
    /// to read as a hedge word or to report.
    mutating func compile(_ e: Expr, _ scope: Scope, allowUnresolved: Bool = false) throws(Failed) -> Compiled {
        switch e.kind {
        case .literal(let l):
            switch l {
            case .string(let s): return .constant(.string(s), .string, e.range)
            case .number(let n): return .constant(.number(n), .number(), e.range)
            case .percent(let n): return .constant(.percent(n), .percent, e.range)
            case .date(let d): return .constant(.date(d), .date, e.range)
            case .bool(let b): return .constant(.bool(b), .bool, e.range)
            case .null: return .constant(.null, .null, e.range)
            }
        case .parameter(let p):
            if parameters[p] == nil { parameters[p] = (nil, e.range) }
            let slot = parameterSlot(p)
            var c = Compiled(type: .null, eval: { _, env in env.arg(slot) }, range: e.range)
            c.parameter = p
            return c
        case .path(let names):
            return try compilePath(names, scope, allowUnresolved: allowUnresolved, range: e.range)
        case .list(let items):
            var compiled: [Compiled] = []
            for item in items { compiled.append(try compile(item, scope)) }
            var elem: FieldType?
            for c in compiled where c.type != .null {
                if let e = elem {
                    if !sameKind(e, c.type) {
                        throw error(.typeMismatch, "a list's items must be of one type: \(e) and \(c.type) are mixed", at: c.range)
                    }
                } else {
                    elem = c.type
                }
            }
            let constants = compiled.compactMap(\.constant)
            if constants.count == compiled.count {
                return .constant(.list(constants), .list(elem), e.range)
            }
            let evals = compiled.map(\.eval)
            return Compiled(type: .list(elem), eval: { r, env in .list(evals.map { $0(r, env) }) }, range: e.range)
        case .unary(.negate, let x):
            let c = try compile(x, scope)
            guard c.type.isNumeric || c.type == .null else {
                throw error(.typeMismatch, "'-' needs a number, not \(describeType(c.type))", at: x.range)
            }
            let f = c.eval
            if let k = c.constant {
                switch k {
                case .number(let v): return .constant(.number(-v), .number(), e.range)
                case .percent(let v): return .constant(.percent(-v), .percent, e.range)
                default: break
                }
            }
            // -(over 16,500) is under -16,500, as 0 - value is: dropping the qualifier would
            // turn `-value < -16500` into a firm no where it is a firm yes.
            return Compiled(type: c.type, eval: { r, env in
                switch f(r, env) {
                case .number(let v): return .number(-v)
                case .percent(let v): return .percent(-v)
                case .quantity(let q): return Value(exactOrInterval: q.negated)
                default: return .null
                }
            }, range: e.range)
        case .unary(.not, _), .binary(.and, _, _), .binary(.or, _, _), .between, .isNull, .inList,
             .binary(.eq, _, _), .binary(.ne, _, _), .binary(.lt, _, _), .binary(.le, _, _), .binary(.gt, _, _),
             .binary(.ge, _, _), .binary(.contains, _, _), .binary(.matches, _, _):
            let p = try predicate(e, scope)
            return Compiled(type: .bool, eval: { r, env in p(r, env).value }, range: e.range)
        case .binary(let op, let l, let rr):
            return try arithmetic(op, l, rr, scope, range: e.range)
        case .call(let name, let args):
            return try call(name, args, scope, range: e.range)
        }
    }

    func sameKind(_ a: FieldType, _ b: FieldType) -> Bool {
        if a.isNumeric && b.isNumeric { return true }
        switch (a, b) {
        case (.ref, .ref), (.list, .list): return true
        default: return a == b
        }
    }

    func describeType(_ t: FieldType) -> String {
        switch t {
        case .number(let q): return q ? "a quantity" : "a number"
        case .string: return "text"
        case .percent: return "a percent"
        case .date: return "a date"
        case .bool: return "a bool"
        case .hedge: return "a hedge"
        case .list: return "a list"
        case .ref(let c): return "a reference to \(c)"
        case .null: return "null"
        }
    }

    mutating func compilePath(_ names: [Name], _ scope: Scope, allowUnresolved: Bool, range: SourceRange) throws(Failed) -> Compiled {
        let first = names[0]
        guard let ci = scope.index(of: first.text) else {
            if allowUnresolved && names.count == 1 {
                return Compiled(type: .null, eval: { _, _ in .null }, unresolved: first, range: range)
            }
            let where_ = scope.stored?.name
            throw error(.unknownField, "unknown field '\(first.text)'" + (where_.map { " in \($0)" } ?? ""), at: first.range,
                        suggestion: suggest(first.text, from: scope.columns.map(\.name)),
                        notes: ["fields here: " + scope.columns.map(\.name).joined(separator: ", ")])
        }
        var type = scope.columns[ci].type
        var eval: Eval
        var column: (KBCollection, Int)?
        if let c = scope.stored {
            eval = columnReader(c, ci)
            column = (c, ci)
        } else {
            eval = { r, env in env.table[r][ci] }
        }
        for step in names.dropFirst() {
            guard case .ref(let target) = type, let tc = kb.collection(target) else {
                throw error(.unknownField, "'\(step.text)': \(describeType(type)) has no fields; only a reference can be followed with '.'", at: step.range)
            }
            guard let fi = tc.fields.firstIndex(where: { $0.name == step.text }) else {
                throw error(.unknownField, "unknown field '\(step.text)' in \(target)", at: step.range,
                            suggestion: suggest(step.text, from: tc.fields.map(\.name)),
                            notes: ["fields of \(target): " + tc.fields.map(\.name).joined(separator: ", ")])
            }
            let base = eval
            let kb = self.kb
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
            type = tc.fields[fi].type
        }
        return Compiled(type: type, eval: eval, column: names.count == 1 ? column : nil, range: range)
    }

    /// Reads one stored column as values.
    func columnReader(_ c: KBCollection, _ f: Int) -> Eval {
        let read = unboxingReader(c, f)
        if c.count <= Planner.smallColumn {
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
    func unboxingReader(_ c: KBCollection, _ f: Int) -> Eval {
        let kb = self.kb
        switch c.columns[f] {
        case .string(let ids, let pool):
            return { r, _ in
                let id = ids[r]
                return id == StringPool.null ? .null : .string(pool[id])
            }
        case .number(let v):
            if c.fields[f].type == .percent { return { r, _ in v[r].isNaN ? .null : .percent(v[r]) } }
            if let (qf, uf) = c.qualifiers[f], let qf, case .string(let qids, let qpool) = c.columns[qf], qpool.count <= Planner.smallTable {
                // Qualifier words are few: each is read and classified once per plan, not
                // once per row.
                let words = (0..<qpool.count).map { Quantity.Qualifier(qpool[UInt32($0)]) }
                let upper: [Double]? = uf.flatMap { if case .number(let u) = c.columns[$0] { return u }; return nil }
                return { r, _ in
                    let x = v[r]
                    if x.isNaN { return .null }
                    let percent = c.isPercentRow(r)
                    let id = qids[r]
                    let word = id == StringPool.null ? Quantity.Qualifier.none : words[Int(id)]
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
            if target.count <= Planner.smallTable {
                // A small collection's references are made once per plan: each carries its
                // key and display text, which would otherwise be read out on every row.
                let refs = (0..<target.count).map { Value.ref(target.rowRef($0, kb: kb)) }
                return { r, _ in
                    let t = Int(targets[r])
                    return t >= 0 && t < refs.count ? refs[t] : .null
                }
            }
            return { r, _ in
                let t = Int(targets[r])
                return t >= 0 && t < target.count ? .ref(target.rowRef(t, kb: kb)) : .null
            }
        default:
            return { r, _ in c.value(row: r, column: f, kb: kb) }
        }
    }

    mutating func arithmetic(_ op: BinaryOp, _ l: Expr, _ r: Expr, _ scope: Scope, range: SourceRange) throws(Failed) -> Compiled {
        let a = try compile(l, scope), b = try compile(r, scope)
        for c in [a, b] where !(c.type.isNumeric || c.type == .null) {
            throw error(.typeMismatch, "'\(op.rawValue)' needs numbers, not \(describeType(c.type))", at: c.range,
                        notes: op == .add && c.type == .string ? ["to join texts, write concat(a, b, …)"] : [])
        }
        let fa = a.eval, fb = b.eval
        let percent = a.type == .percent && (b.type == .percent || op == .mul || op == .div) && !(op == .div && b.type == .percent)
        // A remainder of an interval is no interval: `%` works on the numbers as stated.
        let qualified = op != .mod && (a.type == .number(qualified: true) || b.type == .number(qualified: true))
        let t: FieldType = qualified ? .number(qualified: true) : percent ? .percent : .number()
        let eval: Eval = { row, env in
            let va = fa(row, env), vb = fb(row, env)
            // Intervals stay intervals: over 16,500 + 13,000 is over 29,500.
            if op != .mod, va.isQuantity || vb.isQuantity, let qa = quantity(of: va), let qb = quantity(of: vb) {
                return Quantity.combine(qa, op, qb).map(Value.init(exactOrInterval:)) ?? .null
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
        if let ca = a.constant, let cb = b.constant {
            let v = eval(0, Env(kb: kb, params: [:], lets: [:], limits: .none, cancel: nil))
            _ = (ca, cb)
            return .constant(v, t, range)
        }
        return Compiled(type: t, eval: eval, range: range)
    }

    mutating func call(_ name: Name, _ args: [Expr], _ scope: Scope, range: SourceRange) throws(Failed) -> Compiled {
        guard let f = Function(rawValue: name.text.lowercased()) else {
            throw error(.unknownFunction, "unknown function '\(name.text)'", at: name.range,
                        suggestion: suggest(name.text, from: Function.allCases.map(\.rawValue)),
                        notes: ["functions: " + Function.allCases.map(\.signature).joined(separator: ", ")])
        }
        if f.isAggregate {
            throw error(.misplacedAggregate, "aggregate '\(f.rawValue)' can only be used in 'group by … aggregate' or 'aggregate'",
                        at: range, notes: ["for example: estimates group by topic aggregate \(f.signature)"])
        }
        guard f.arity.contains(args.count) else {
            throw error(.typeMismatch, "\(f.rawValue) takes \(f.arity.lowerBound == f.arity.upperBound ? "\(f.arity.lowerBound)" : "\(f.arity.lowerBound) to \(f.arity.upperBound)") argument\(f.arity.upperBound == 1 ? "" : "s"), not \(args.count): \(f.signature)", at: range)
        }
        var cs: [Compiled] = []
        for a in args { cs.append(try compile(a, scope)) }
        // A parameter given where a number or a date goes is checked when the run binds it,
        // as after a comparison: `floor($x)` given "ten" is an error, not a silent null.
        func bind(_ i: Int, _ t: FieldType) {
            guard i < cs.count, let p = cs[i].parameter, parameters[p]?.0 == nil else { return }
            parameters[p] = (t, cs[i].range)
        }
        switch f {
        case .abs, .floor, .ceil, .low, .high, .stated, .qualifier: bind(0, .number())
        case .round: bind(0, .number()); bind(1, .number())
        case .year, .month, .day: bind(0, .date)
        case .substr: bind(1, .number()); bind(2, .number())
        default: break
        }
        let a0 = cs[0], x = a0.eval
        func need(_ ok: Bool, _ what: String) throws(Failed) {
            if !ok && a0.type != .null { throw error(.typeMismatch, "\(f.rawValue) needs \(what), not \(describeType(a0.type))", at: a0.range, notes: [f.signature]) }
        }
        switch f {
        case .lower, .upper, .trim:
            try need(a0.type.isText, "text")
            return Compiled(type: .string, eval: { r, env in
                let v = x(r, env)
                if v.isNull { return .null }
                switch f {
                case .lower: return .string(v.text.lowercased())
                case .upper: return .string(v.text.uppercased())
                default: return .string(v.text.trimmingSpaces)
                }
            }, range: range)
        case .len:
            return Compiled(type: .number(), eval: { r, env in
                switch x(r, env) {
                case .string(let s): return .number(Double(s.count))
                case .list(let l): return .number(Double(l.count))
                case .null: return .null
                case let v: return .number(Double(v.text.count))
                }
            }, range: range)
        case .abs:
            try need(a0.type.isNumeric, "a number")
            return Compiled(type: a0.type == .percent ? .percent : a0.type == .number(qualified: true) ? a0.type : .number(), eval: { r, env in
                switch x(r, env) {
                case .percent(let v): return .percent(Swift.abs(v))
                case .quantity(let q): return Value(exactOrInterval: q.magnitude)
                case let v: return v.number.map { .number(Swift.abs($0)) } ?? .null
                }
            }, range: range)
        case .round:
            try need(a0.type.isNumeric, "a number")
            // Digits out of range gave a silent empty column; a constant one is caught here.
            if cs.count > 1 {
                let d = cs[1]
                let fit: Bool = { guard let v = d.constant?.number else { return true }; return v == v.rounded() && v >= 0 && v <= 12 }()
                guard (d.type == .number() || d.type == .null) && fit else {
                    throw error(.typeMismatch, "round's digits must be a whole number from 0 to 12, not \(d.type == .number() ? d.constant.map { sanitizeForTerminal($0.text) } ?? "" : describeType(d.type))",
                                at: d.range, notes: [f.signature])
                }
            }
            let zero: Eval = { _, _ in Value.number(0) }
            let digits: Eval = cs.count > 1 ? cs[1].eval : zero
            return Compiled(type: a0.type == .percent ? .percent : .number(), eval: { r, env in
                let v = x(r, env)
                guard let n = v.number, let d = digits(r, env).number, d >= 0, d <= 12, d == d.rounded() else { return .null }
                var scale = 1.0
                for _ in 0..<Int(d) { scale *= 10 }
                // A number too large to scale has no digits after the point to round.
                let out = (n * scale).isFinite ? (n * scale).rounded() / scale : n
                if case .percent = v { return .percent(out) }
                return .number(out)
            }, range: range)
        case .year:
            // A year is the date of that whole year: it prints as 2024 (not 2,024) and
            // compares with dates and year numbers alike.
            try need(a0.type == .date, "a date")
            return Compiled(type: .date, eval: { r, env in
                // A date relative to another ("days after 2024-10-13") names no year of its own.
                guard case .date(let d) = x(r, env), !d.isRelative else { return .null }
                return .date(PartialDate(year: civilFromDays(Int(d.lo)).0))
            }, range: range)
        case .month, .day:
            try need(a0.type == .date, "a date")
            return Compiled(type: .number(), eval: { r, env in
                // A date that does not name its month (or day) has none to give.
                // Nor does one relative to another: "days after 2024-10-13" has no day 14.
                guard case .date(let d) = x(r, env), !d.isRelative, d.precision != .year, f == .month || d.precision == .day else { return .null }
                let (_, m, day) = civilFromDays(Int(d.lo))
                return .number(Double(f == .month ? m : day))
            }, range: range)
        case .floor, .ceil:
            try need(a0.type.isNumeric, "a number")
            return Compiled(type: a0.type == .percent ? .percent : .number(), eval: { r, env in
                // The number as stated: floor(over 16,500.5) is 16,500, as the table shows it.
                let v = x(r, env)
                guard let n = v.number else { return .null }
                let out = f == .floor ? n.rounded(.down) : n.rounded(.up)
                if case .percent = v { return .percent(out) }
                if case .quantity(let q) = v, q.isPercent { return .percent(out) }
                return .number(out)
            }, range: range)
        case .substr:
            try need(a0.type.isText, "text")
            for c in cs.dropFirst() where !(c.type == .number() || c.type == .null) {
                throw error(.typeMismatch, "substr's start and length are whole numbers, not \(describeType(c.type))", at: c.range, notes: [f.signature])
            }
            let start = cs[1].eval, length: Eval? = cs.count > 2 ? cs[2].eval : nil
            return Compiled(type: .string, eval: { r, env in
                // Characters, counted from 1 as in SQL; a start before 1 or past the end
                // gives what overlaps, as SQL's substr does.
                let v = x(r, env)
                guard !v.isNull, let s0 = start(r, env).number, s0.isFinite, s0 == s0.rounded() else { return .null }
                var n = Double.infinity
                if let length {
                    guard let l = length(r, env).number, l.isFinite, l == l.rounded(), l >= 0 else { return .null }
                    n = l
                }
                let chars = Array(v.text)
                let lo = Swift.max(s0, 1), hi = Swift.min(s0 + n, Double(chars.count + 1))
                guard lo < hi else { return .string("") }
                return .string(String(chars[(Int(lo) - 1)..<(Int(hi) - 1)]))
            }, range: range)
        case .replace:
            try need(a0.type.isText, "text")
            for c in cs.dropFirst() where !(c.type == .string || c.type == .null) {
                throw error(.typeMismatch, "replace's old and new texts are strings, not \(describeType(c.type))", at: c.range, notes: [f.signature])
            }
            let old = cs[1].eval, new = cs[2].eval
            return Compiled(type: .string, eval: { r, env in
                let v = x(r, env), o = old(r, env), n = new(r, env)
                if v.isNull || o.isNull || n.isNull { return .null }
                let from = o.text, text = v.text, to = n.text
                if from.isEmpty { return .string(text) }
                // At most this long: every byte an occurrence's first, each one replaced.
                let most = to.utf8.count > from.utf8.count ? text.utf8.count / from.utf8.count * to.utf8.count + text.utf8.count : text.utf8.count
                // The most it could make is checked before it is made; the run is charged
                // what it did make.
                guard env.mayBuildOneText(most, by: "replace", at: range) else { return .null }
                let out = text.replacingOccurrences(from, to)
                guard env.charge(out.utf8.count, by: "replace", at: range) else { return .null }
                return .string(out)
            }, range: range)
        case .concat:
            // Each value as the table shows it; nulls add nothing (as PostgreSQL's concat).
            let evals = cs.map(\.eval)
            return Compiled(type: .string, eval: { r, env in
                var parts: [String] = []
                var bytes = 0
                for e in evals {
                    let v = e(r, env)
                    guard !v.isNull else { continue }
                    let text = v.text
                    bytes += text.utf8.count
                    parts.append(text)
                }
                guard env.mayBuildText(bytes, by: "concat", at: range) else { return .null }
                return .string(parts.joined())
            }, range: range)
        case .coalesce:
            let evals = cs.map(\.eval)
            let t = cs.first(where: { $0.type != .null })?.type ?? .null
            return Compiled(type: t, eval: { r, env in
                for e in evals { let v = e(r, env); if !v.isNull { return v } }
                return .null
            }, range: range)
        case .low, .high:
            try need(a0.type.isNumeric, "a number")
            return Compiled(type: .number(), eval: { r, env in
                let v = x(r, env)
                guard let q = quantity(of: v) else { return .null }
                let b = f == .low ? q.lo : q.hi
                return b.isFinite ? (q.isPercent ? .percent(b) : .number(b)) : .null
            }, range: range)
        case .qualifier:
            try need(a0.type.isNumeric, "a number")
            return Compiled(type: .string, eval: { r, env in
                guard case .quantity(let q) = x(r, env) else { return .null }
                return q.qualifier.isEmpty ? .null : .string(q.qualifier)
            }, range: range)
        case .stated:
            try need(a0.type.isNumeric, "a number")
            return Compiled(type: a0.type == .percent ? .percent : .number(), eval: { r, env in
                let v = x(r, env)
                guard case .quantity(let q) = v else { return v }
                return q.isPercent ? .percent(q.value) : .number(q.value)
            }, range: range)
        case .relative, .exact:
            return try dateTest(f, a0, range: range)
        case .text:
            return Compiled(type: .string, eval: { r, env in
                let v = x(r, env)
                return v.isNull ? .null : .string(v.text)
            }, range: range)
        default:
            throw error(.unknownFunction, "unknown function '\(name.text)'", at: name.range)
        }
    }
}
