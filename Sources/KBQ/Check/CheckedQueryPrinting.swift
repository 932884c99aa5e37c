// The stable printed form of a checked query (see CheckedQuery.swift): one line per
// source and clause, expressions as typed S-expressions. The golden test of Examples/
// compares it; `explain` shows it.

extension CheckedExpr: CustomStringConvertible {
    /// The expression as a typed S-expression: `(= estimates.topic#2:string "containers")`.
    public var description: String { printed(ranges: false) }

    /// The expression as a typed S-expression, each node followed by its range
    /// (`@start..end`) when `ranges`.
    public func printed(ranges: Bool) -> String {
        let at = ranges ? "@\(range.start)..\(range.end)" : ""
        func p(_ e: CheckedExpr) -> String { e.printed(ranges: ranges) }
        func node(_ head: String, _ parts: [CheckedExpr]) -> String {
            "(" + ([head] + parts.map(p)).joined(separator: " ") + ")" + at + ":" + type.description
        }
        switch kind {
        case .constant(let v): return printedValue(v) + at + ":" + type.description
        case .field(let f): return f.description + at + ":" + type.description
        // A parameter's type is known only when a run binds it: `any`, not the `null` the
        // checker types it with so that it fits wherever a value may stand.
        case .parameter(let name, let slot): return "$\(name)#\(slot)" + at + ":" + (type == .null ? "any" : type.description)
        case .list(let items): return "[" + items.map(p).joined(separator: ", ") + "]" + at + ":" + type.description
        case .negate(let x): return node("-", [x])
        case .not(let x): return node("not", [x])
        case .and(let a, let b): return node("and", [a, b])
        case .or(let a, let b): return node("or", [a, b])
        case .compare(let op, let a, let b): return node(op.rawValue, [a, b])
        case .arithmetic(let op, let a, let b): return node(op.rawValue, [a, b])
        case .call(let f, let args): return node(f.rawValue, args)
        case .contains(let a, let b): return node("contains", [a, b])
        case .matches(let a, let b): return node("matches", [a, b])
        case .between(let x, let lo, let hi, let negated): return node(negated ? "not-between" : "between", [x, lo, hi])
        case .isNull(let x, let negated): return node(negated ? "is-not-null" : "is-null", [x])
        case .inList(let x, let items, let negated):
            return "(" + (negated ? "not-in " : "in ") + p(x) + " [" + items.map(p).joined(separator: ", ") + "])" + at + ":" + type.description
        case .inValues(let x, let list, let negated): return node(negated ? "not-in" : "in", [x, list])
        case .refersTo(let x, let c, let rows, let negated):
            return "(" + (negated ? "not-refers-to " : "refers-to ") + p(x) + " \(c)\(rows))" + at + ":" + type.description
        }
    }
}

extension FieldReference: CustomStringConvertible {
    /// `estimates.topic#2` for a stored column, `.n#1` for a computed one, then each
    /// reference followed: `estimates.source#5->sources.name#1`.
    public var description: String {
        var s = (collection ?? "") + "." + name + "#\(column)"
        for step in path { s += "->\(step.collection).\(step.field)#\(step.index)" }
        return s
    }
}

/// A value as a literal of the printed form: strings quoted, hedges and dates marked.
func printedValue(_ v: Value) -> String {
    switch v {
    case .string(let s): return "\"" + s.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"") + "\""
    case .number(let n): return formatNumber(n).replacingCommas
    case .percent(let n): return formatNumber(n, percent: true).replacingCommas
    case .date(let d): return d.description
    case .hedge(let rank, let word): return "hedge(\(word) #\(rank))"
    case .list(let items): return "[" + items.map(printedValue).joined(separator: ", ") + "]"
    case .null: return "null"
    default: return v.text
    }
}

extension RowShape: CustomStringConvertible {
    /// The columns with their types, then what the rows still are.
    public var description: String {
        var s = columns.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
        var marks: [String] = []
        if let stored { marks.append("stored \(stored)") } else if let origin { marks.append("from \(origin)") }
        if let measure { marks.append("measure \(measure)") }
        if !marks.isEmpty { s += " (" + marks.joined(separator: "; ") + ")" }
        return s
    }
}

extension CheckedRowCount: CustomStringConvertible {
    /// `10` or `$n#0`.
    public var description: String {
        switch self {
        case .constant(let n): return "\(n)"
        case .parameter(let name, let slot, _): return "$\(name)#\(slot)"
        }
    }
}

extension CheckedSource {
    /// The source's operation name and what it reads, as `explain` shows them.
    public var summary: (operation: String, detail: String) {
        switch kind {
        case .collection(let c): return ("scan", c)
        case .letName(let n): return ("let", n)
        case .describe(let name): return ("describe", "everything that refers to \(printedValue(.string(name)))")
        case .search(let text): return ("search", "sentences containing \(printedValue(.string(text))) (any case)")
        case .conflicts(let cs): return ("conflicts", "topics in " + cs.joined(separator: ", ") + " on which sources give values that cannot all be right")
        case .union(let cs): return ("union", cs.joined(separator: ", ") + ", one after another, with the fields they share")
        }
    }
}

extension CheckedClause {
    /// The clause's operation name and its checked content, as `explain` shows them.
    public func summary(ranges: Bool = false) -> (operation: String, detail: String) {
        func p(_ e: CheckedExpr) -> String { e.printed(ranges: ranges) }
        func col(_ i: Int?, _ what: String) -> String? { i.map { "\(what) #\($0)" } }
        switch kind {
        case .filter(let e, let maybe): return (maybe ? "filter (yes or maybe)" : "filter", p(e))
        case .select(let cols): return ("select", cols.map { "\($0.name) = \(p($0.expr))" }.joined(separator: ", "))
        case .sort(let keys): return ("sort", keys.map { p($0.expr) + ($0.descending ? " desc" : "") }.joined(separator: ", "))
        case .limit(let n, let offset): return ("limit", n.description + (offset.map { " offset \($0)" } ?? ""))
        case .group(let keys, let aggs):
            let k = keys.map { "\($0.name) = \(p($0.expr))" }.joined(separator: ", ")
            let a = aggs.map { "\($0.name) = (\($0.function.rawValue)\($0.argument.map { " " + p($0) } ?? "")):\($0.type)" }
                .joined(separator: ", ")
            return keys.isEmpty ? ("aggregate", a) : ("group", "by " + k + (aggs.isEmpty ? "" : " aggregate " + a))
        case .compare(let key, let measure, let name, let unit, let hedge, let sentence, let provenance):
            let kept = [col(unit, "unit"), col(hedge, "hedge"), col(sentence, "sentence"), col(provenance?.inferred, "inferred")].compactMap { $0 }
            return ("compare", p(key) + " on \(name) = " + p(measure) + (kept.isEmpty ? "" : ", keeping " + kept.joined(separator: ", ")))
        case .cite(let from):
            switch from {
            case .column(let i): return ("cite", "the sentence in column #\(i)")
            case .origin(let c, let i, let f): return ("cite", "the sentence of \(c).\(f)#\(i)")
            }
        case .timeline(let date, let label): return ("timeline", "by " + p(date) + (label.map { ", labelled by #\($0)" } ?? ""))
        case .chart(let label, let measure, let unit):
            return ("chart", "bars of " + p(measure) + " labelled by " + p(label) + (unit.map { ", unit #\($0)" } ?? ""))
        case .follow(let ref, let c): return ("follow", p(ref) + " to rows of " + c)
        case .referrers(let target, let links, let listed):
            return ("referrers", "rows whose " + links.map { "\($0.collection).\($0.field)#\($0.index)" }.joined(separator: ", ")
                        + " points at these rows of \(target)" + (listed ? ", listed as describe lists them" : ""))
        }
    }
}

extension CheckedQuery {
    /// The query, one line per source and clause, each followed by the columns it gives
    /// when they differ from the columns it was given.
    public func printed(ranges: Bool = false, indent: String = "") -> String {
        let at: (SourceRange) -> String = { ranges ? " @\($0.start)..\($0.end)" : "" }
        let s = source.summary
        var lines = [indent + "\(s.operation) \(s.detail)\(at(source.range))", indent + "  → " + source.output.description]
        var shape = source.output
        for c in clauses {
            let (op, detail) = c.summary(ranges: ranges)
            lines.append(indent + "\(op) \(detail)\(at(c.range))")
            if c.output != shape { lines.append(indent + "  → " + c.output.description) }
            shape = c.output
        }
        return lines.joined(separator: "\n")
    }
}

extension CheckedStatement {
    /// The statement: its kind on one line, then its query indented.
    public func printed(ranges: Bool = false) -> String {
        let at = ranges ? " @\(range.start)..\(range.end)" : ""
        switch kind {
        case .query(let q): return "query\(at)\n" + q.printed(ranges: ranges, indent: "  ")
        case .let(let name, let q): return "let \(name)\(at)\n" + q.printed(ranges: ranges, indent: "  ")
        case .explain(let q): return "explain\(at)\n" + q.printed(ranges: ranges, indent: "  ")
        }
    }
}

extension CheckedScript {
    /// Every statement, then the parameters and the problems found.
    public func printed(ranges: Bool = false) -> String {
        var parts = statements.map { $0.printed(ranges: ranges) }
        for p in parameters {
            parts.append("parameter $\(p.name) slot \(p.slot): \(p.type.map(\.description) ?? "any")\(p.isPattern ? " (pattern)" : "")"
                + (ranges ? " @\(p.range.start)..\(p.range.end)" : ""))
        }
        for d in diagnostics + warnings {
            parts.append("\(d.kind.rawValue): \(d.message)" + (ranges ? d.range.map { " @\($0.start)..\($0.end)" } ?? "" : ""))
        }
        return parts.joined(separator: "\n") + "\n"
    }
}
