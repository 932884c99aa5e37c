extension Planner {
    /// `x is relative` (`relative(x)`): the date is stated from another ("days after
    /// 2024-10-13"), so no day, month or year of its own is known. `x is exact`
    /// (`exact(x)`): the value is one point known exactly, a number with no qualifier or a
    /// date given to the day; "over 16,500", 2024-06 and "since 2022" are not.
    mutating func dateTest(_ f: Function, _ a: Compiled, range: SourceRange) throws(Failed) -> Compiled {
        let ok = f == .relative ? (a.type == .date || a.type == .null) : (a.type.isNumeric || a.type == .date || a.type == .null)
        guard ok else {
            throw error(.typeMismatch, "'is \(f.rawValue)' needs \(f == .relative ? "a date" : "a number or a date"), not \(describeType(a.type))",
                        at: a.range, notes: ["for example: events where date is relative; estimates where value is not exact"])
        }
        if let p = a.parameter, parameters[p]?.0 == nil, f == .relative { parameters[p] = (.date, a.range) }
        let x = a.eval
        if f == .relative {
            return Compiled(type: .bool, eval: { r, env in
                guard case .date(let d) = x(r, env) else { return .null }
                return .bool(d.isRelative)
            }, range: range)
        }
        return Compiled(type: .bool, eval: { r, env in
            switch x(r, env) {
            case .number, .percent: return .bool(true)
            case .quantity(let q): return .bool(q.isExact)
            case .date(let d): return .bool(d.form == .point && d.precision == .day)
            default: return .null
            }
        }, range: range)
    }
}
