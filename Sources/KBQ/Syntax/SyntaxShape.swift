/// The syntax tree printed without its source ranges, fully bracketed: two scripts with the
/// same shape mean the same thing, however they are laid out. The formatter checks its
/// output against its input with it, so a layout can never change what a script says.
extension Statement {
    var shape: String {
        switch kind {
        case .query(let q): return q.shape
        case .let(let name, let q): return "(let \(name.text) \(q.shape))"
        case .explain(let q): return "(explain \(q.shape))"
        }
    }
}

extension Query {
    var shape: String {
        let head: String
        switch source {
        case .name(let n): head = "(name \(n.text))"
        case .describe(let s, _): head = "(describe \(s.debugDescription))"
        case .search(let s, _): head = "(search \(s.debugDescription))"
        case .conflicts: head = "(conflicts)"
        case .union(let names): head = "(union " + names.map(\.text).joined(separator: " ") + ")"
        }
        return "(query \(head)" + clauses.map { " " + $0.shape }.joined() + ")"
    }
}

extension Clause {
    var shape: String {
        func items(_ xs: [SelectItem]) -> String {
            xs.map { "(\($0.expr.shape)" + ($0.alias.map { " as \($0.text)" } ?? "") + ")" }.joined(separator: " ")
        }
        switch kind {
        case .where(let e, let maybe): return "(where\(maybe ? " maybe" : "") \(e.shape))"
        case .select(let xs): return "(select \(items(xs)))"
        case .sort(let keys): return "(sort " + keys.map { "(\($0.expr.shape)\($0.descending ? " desc" : ""))" }.joined(separator: " ") + ")"
        case .limit(let n, let offset): return "(limit \(n.shape)" + (offset.map { " offset \($0.shape)" } ?? "") + ")"
        case .group(let keys, let aggs): return "(group (\(items(keys))) (\(items(aggs))))"
        case .aggregate(let aggs): return "(aggregate \(items(aggs)))"
        case .compare(let f, let on): return "(compare \(f.shape)" + (on.map { " on \($0.shape)" } ?? "") + ")"
        case .cite: return "(cite)"
        case .timeline(let e): return "(timeline" + (e.map { " " + $0.shape } ?? "") + ")"
        case .chart(let e, let on): return "(chart" + (e.map { " " + $0.shape } ?? "") + (on.map { " on \($0.shape)" } ?? "") + ")"
        case .follow(let e): return "(follow \(e.shape))"
        case .referrers(let c, let f): return "(referrers" + (c.map { " " + $0.text } ?? "") + (f.map { "." + $0.text } ?? "") + ")"
        }
    }
}

extension Expr {
    /// Recursion is bounded by the parser's nesting limit (``Parser/maxDepth``).
    var shape: String {
        switch kind {
        case .literal(let l):
            switch l {
            case .string(let s): return s.debugDescription
            case .number(let n): return "\(n)"
            case .percent(let n): return "\(n)%"
            case .date(let d): return "date:\(d.description)"
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            }
        case .path(let names): return names.map(\.text).joined(separator: ".")
        case .parameter(let p): return "$" + p
        case .list(let items): return "[" + items.map(\.shape).joined(separator: " ") + "]"
        case .unary(let op, let x): return "(\(op.rawValue) \(x.shape))"
        case .binary(let op, let l, let r): return "(\(op.rawValue) \(l.shape) \(r.shape))"
        case .call(let n, let args): return "(call \(n.text)" + args.map { " " + $0.shape }.joined() + ")"
        case .between(let x, let lo, let hi, let neg): return "(\(neg ? "not-" : "")between \(x.shape) \(lo.shape) \(hi.shape))"
        case .isNull(let x, let neg): return "(\(neg ? "not-" : "")null \(x.shape))"
        case .inList(let x, let l, let neg): return "(\(neg ? "not-" : "")in \(x.shape) \(l.shape))"
        }
    }
}
