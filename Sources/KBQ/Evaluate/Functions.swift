extension Lowering {
    /// The built-in function `f` over its arguments' closures (`types`: their checked types).
    func call(_ f: BuiltinFunction, _ args: [Eval], types: [FieldType], range: SourceRange) -> Eval {
        guard let x = args.first else { return { _, _ in .null } }
        switch f {
        case .lower, .upper, .trim:
            return { r, env in
                let v = x(r, env)
                if v.isNull { return .null }
                switch f {
                case .lower: return .string(v.text.lowercased())
                case .upper: return .string(v.text.uppercased())
                default: return .string(v.text.trimmingSpaces)
                }
            }
        case .len:
            return { r, env in
                switch x(r, env) {
                case .string(let s): return .number(Double(s.count))
                case .list(let l): return .number(Double(l.count))
                case .null: return .null
                case let v: return .number(Double(v.text.count))
                }
            }
        case .abs:
            return { r, env in
                switch x(r, env) {
                case .percent(let v): return .percent(Swift.abs(v))
                case .quantity(let q): return Value(exactOrInterval: q.magnitude)
                case let v: return v.number.map { .number(Swift.abs($0)) } ?? .null
                }
            }
        case .round:
            let zero: Eval = { _, _ in Value.number(0) }
            let digits: Eval = args.count > 1 ? args[1] : zero
            return { r, env in
                let v = x(r, env)
                guard let n = v.number, let d = digits(r, env).number, d >= 0, d <= 12, d == d.rounded() else { return .null }
                var scale = 1.0
                for _ in 0..<Int(d) { scale *= 10 }
                // A number too large to scale has no digits after the point to round.
                let out = (n * scale).isFinite ? (n * scale).rounded() / scale : n
                if case .percent = v { return .percent(out) }
                return .number(out)
            }
        case .year:
            return { r, env in
                // A date relative to another ("days after 2024-10-13") names no year of its
                // own; years are 0001 to 9999, as dates are written.
                guard case .date(let d) = x(r, env), !d.isRelative, case let y = civilFromDays(Int(d.lo)).0, (1...9999).contains(y) else { return .null }
                return .date(PartialDate(year: y))
            }
        case .month, .day:
            return { r, env in
                // A date that does not name its month (or day) has none to give.
                // Nor does one relative to another: "days after 2024-10-13" has no day 14.
                guard case .date(let d) = x(r, env), !d.isRelative, d.precision != .year, f == .month || d.precision == .day else { return .null }
                let (_, m, day) = civilFromDays(Int(d.lo))
                return .number(Double(f == .month ? m : day))
            }
        case .floor, .ceil:
            return { r, env in
                // The number as stated: floor(over 16,500.5) is 16,500, as the table shows it.
                let v = x(r, env)
                guard let n = v.number else { return .null }
                let out = f == .floor ? n.rounded(.down) : n.rounded(.up)
                if case .percent = v { return .percent(out) }
                if case .quantity(let q) = v, q.isPercent { return .percent(out) }
                return .number(out)
            }
        case .substr:
            let start = args[1], length: Eval? = args.count > 2 ? args[2] : nil
            return { r, env in
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
            }
        case .replace:
            let old = args[1], new = args[2]
            return { r, env in
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
            }
        case .concat:
            // Each value as the table shows it; nulls add nothing (as PostgreSQL's concat).
            return { r, env in
                var parts: [String] = []
                var bytes = 0
                for e in args {
                    let v = e(r, env)
                    guard !v.isNull else { continue }
                    let text = v.text
                    bytes += text.utf8.count
                    parts.append(text)
                }
                guard env.mayBuildText(bytes, by: "concat", at: range) else { return .null }
                return .string(parts.joined())
            }
        case .coalesce:
            return { r, env in
                for e in args { let v = e(r, env); if !v.isNull { return v } }
                return .null
            }
        case .low, .high:
            return { r, env in
                let v = x(r, env)
                guard let q = quantity(of: v) else { return .null }
                let b = f == .low ? q.lo : q.hi
                return b.isFinite ? (q.isPercent ? .percent(b) : .number(b)) : .null
            }
        case .qualifier:
            return { r, env in
                guard case .quantity(let q) = x(r, env) else { return .null }
                return q.qualifier.isEmpty ? .null : .string(q.qualifier)
            }
        case .stated:
            return { r, env in
                let v = x(r, env)
                guard case .quantity(let q) = v else { return v }
                return q.isPercent ? .percent(q.value) : .number(q.value)
            }
        case .text:
            return { r, env in
                let v = x(r, env)
                return v.isNull ? .null : .string(v.text)
            }
        case .relative:
            return { r, env in
                guard case .date(let d) = x(r, env) else { return .null }
                return .bool(d.isRelative)
            }
        case .exact:
            return { r, env in
                switch x(r, env) {
                case .number, .percent: return .bool(true)
                case .quantity(let q): return .bool(q.isExact)
                case .date(let d): return .bool(d.form == .point && d.precision == .day)
                default: return .null
                }
            }
        case .count, .sum, .avg, .min, .max, .spread:
            // Aggregates are lowered by their clause (`Aggregation`); the checker allows
            // them nowhere else.
            return { _, _ in .null }
        }
    }
}
