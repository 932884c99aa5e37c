extension Planner {
    /// The reader of the rows' `unit` text, for aggregates that must not mix units; nil
    /// when the rows carry no unit, or the groups already keep units apart (a key is
    /// `unit`), or the unit field's dictionary holds one unit at most. Rows that drop the
    /// field (`select source, value`) are taken to mean it: their values add up as numbers.
    func unitReader(_ scope: Scope, keys: [SelectItem]) -> UnitReader? {
        guard let i = scope.index(of: "unit"), scope.columns[i].type == .string else { return nil }
        let grouped = keys.contains { if case .path(let n) = $0.expr.kind { return n.count == 1 && n[0].text == "unit" }; return false }
        if grouped { return nil }
        if let c = scope.stored, case .string(let ids, let pool) = c.columns[i], pool.isDistinct {
            return pool.count <= 1 ? nil : .stored(ids, pool)
        }
        return .computed(reader(scope, i))
    }
}
