extension Checker {
    /// Checks one statement.
    mutating func check(_ st: Statement) throws(Failed) -> CheckedStatement {
        try tick(st.range)
        switch st.kind {
        case .query(let q): return CheckedStatement(kind: .query(try check(q)), range: st.range)
        case .explain(let q): return CheckedStatement(kind: .explain(try check(q)), range: st.range)
        case .let(let name, let q):
            if kb.collection(name.text) != nil {
                throw error(.invalidClause, "'\(name.text)' is a collection of the KB; choose another name for the let", at: name.range)
            }
            let checked = try check(q)
            lets[name.text] = checked.output
            return CheckedStatement(kind: .let(name.text, checked), range: st.range)
        }
    }

    mutating func check(_ q: Query) throws(Failed) -> CheckedQuery {
        let source = try checkSource(q.source)
        var scope = source.output
        var clauses: [CheckedClause] = []
        for c in q.clauses {
            do {
                let kind = try checkClause(c, scope)
                scope = try shape(after: kind, scope, clause: c)
                clauses.append(CheckedClause(kind: kind, output: scope, range: c.range))
            } catch {
                // Later clauses depend on this one's output: checking them would only
                // report follow-on errors.
                throw error
            }
        }
        return CheckedQuery(source: source, clauses: clauses, range: q.range)
    }

    mutating func checkSource(_ s: QuerySource) throws(Failed) -> CheckedSource {
        switch s {
        case .name(let n):
            if let c = kb.collection(n.text) {
                let shape = RowShape(columns: c.fields.map { ResultColumn(name: $0.name, type: $0.type) }, stored: c.name, origin: c.name,
                                     measure: c.measure)
                return CheckedSource(kind: .collection(c.name), output: shape, range: n.range)
            }
            if let shape = lets[n.text] {
                return CheckedSource(kind: .letName(n.text), output: shape, range: n.range)
            }
            let names = kb.collections.map(\.name) + lets.keys.sorted()
            throw error(.unknownCollection, "unknown collection '\(n.text)'", at: n.range, suggestion: suggest(n.text, from: names),
                        notes: ["collections: " + kb.collections.map(\.name).joined(separator: ", ") + (lets.isEmpty ? "" : "; let names: " + lets.keys.sorted().joined(separator: ", "))])
        case .describe(let name, let range):
            return try checkDescribe(name, range)
        case .search(let text, let range):
            return try checkSearch(text, range)
        case .conflicts(let range):
            return try checkConflicts(range)
        case .union(let names):
            return try checkUnion(names)
        }
    }

    mutating func checkClause(_ c: Clause, _ scope: RowShape) throws(Failed) -> CheckedClause.Kind {
        switch c.kind {
        case .where(let e, let maybe):
            return .filter(try condition(e, scope), keepMaybe: maybe)
        case .select(let items):
            var cols: [CheckedColumn] = []
            let names = uniqueNames(items.map(columnName))
            var failure: Failed?
            for (i, item) in items.enumerated() {
                do { cols.append(CheckedColumn(name: names[i], expr: try check(item.expr, scope))) } catch { failure = error }
            }
            if let failure { throw failure }
            return .select(cols)
        case .sort(let keys):
            var checked: [CheckedSortKey] = []
            for k in keys {
                let c = try check(k.expr, scope)
                if case .list = c.type {
                    throw error(.typeMismatch, "cannot sort by a list", at: k.expr.range)
                }
                checked.append(CheckedSortKey(expr: c, descending: k.descending))
            }
            return .sort(checked)
        case .limit(let e, let offset):
            let count = try rowCount(e, scope, for: "limit")
            return .limit(count, offset: try offset.map { (o) throws(Failed) in try rowCount(o, scope, for: "offset") })
        case .group(let keys, let aggs):
            return try checkGroup(keys, aggs, scope, range: c.keywordRange)
        case .aggregate(let aggs):
            return try checkGroup([], aggs, scope, range: c.keywordRange)
        case .compare(let field, let on):
            return try checkCompare(field, on, scope, range: c.range)
        case .cite:
            return try checkCite(scope, range: c.keywordRange)
        case .timeline(let field):
            return try checkTimeline(field, scope, range: c.keywordRange)
        case .chart(let label, let on):
            return try checkChart(label, on, scope, range: c.keywordRange)
        case .follow(let e):
            return try checkFollow(e, scope).0
        case .referrers(let collection, let field):
            return try checkReferrers(collection, field, scope, range: c.keywordRange).0
        }
    }

    /// The rows a clause gives, from the rows it is given.
    mutating func shape(after kind: CheckedClause.Kind, _ scope: RowShape, clause: Clause) throws(Failed) -> RowShape {
        switch kind {
        case .filter, .limit, .chart: return scope
        case .sort: return RowShape(columns: scope.columns, stored: scope.stored, origin: scope.origin, measure: scope.measure)
        case .timeline: return scope
        case .follow(_, let name):
            return kb.collection(name).map(storedShape) ?? RowShape(columns: [])
        case .referrers(_, let links, let listed):
            if listed { return referrerListShape() }
            return links.first.flatMap { kb.collection($0.collection) }.map(storedShape) ?? RowShape(columns: [])
        case .select(let cols):
            var next = RowShape(columns: cols.map { ResultColumn(name: $0.name, type: $0.expr.type) }, stored: nil, origin: scope.origin, measure: nil)
            if let m = scope.measure, let mi = scope.index(of: m) {
                // The measure survives a select that keeps it under its own name.
                if let k = cols.firstIndex(where: { if case .field(let f) = $0.expr.kind { return f.path.isEmpty && f.name == m }; return false }),
                   cols[k].expr.type == scope.columns[mi].type { next.measure = cols[k].name }
            }
            return next
        case .group(let keys, let aggs):
            let cols = keys.map { ResultColumn(name: $0.name, type: $0.expr.type) } + aggs.map { ResultColumn(name: $0.name, type: $0.type) }
            return RowShape(columns: cols)
        case .compare(let key, let measure, _, let unit, let hedge, let sentence, let provenance):
            var cols = [ResultColumn(name: compareKeyName(clause), type: key.type),
                        ResultColumn(name: "n", type: .number()),
                        ResultColumn(name: compareMeasureName(clause, scope), type: measure.type)]
            if unit != nil { cols.append(ResultColumn(name: "unit", type: .string)) }
            if hedge != nil { cols.append(ResultColumn(name: "hedge", type: .hedge)) }
            if let s = sentence {
                let t = scope.columns[s].type
                if case .list = t { cols.append(ResultColumn(name: "sentence", type: t)) } else { cols.append(ResultColumn(name: "sentence", type: .list(t))) }
            }
            if provenance != nil { cols.append(ResultColumn(name: "inferred", type: .list(.string))) }
            let names = uniqueNames(cols.map(\.name))
            for i in cols.indices { cols[i].name = names[i] }
            return RowShape(columns: cols, measure: names[2])
        case .cite:
            let cols = scope.columns + [ResultColumn(name: "paragraph", type: .number()), ResultColumn(name: "quote", type: .string)]
            return RowShape(columns: cols, origin: scope.origin, measure: scope.measure)
        }
    }

    func compareKeyName(_ c: Clause) -> String {
        guard case .compare(let field, _) = c.kind else { return "key" }
        return columnName(SelectItem(expr: field, alias: nil))
    }

    func compareMeasureName(_ c: Clause, _ scope: RowShape) -> String {
        guard case .compare(_, let on) = c.kind else { return "value" }
        return on.map { columnName(SelectItem(expr: $0, alias: nil)) } ?? scope.measure ?? "value"
    }

    /// The number of rows `limit` or `offset` names: a whole number of 0 or more, written
    /// in the query or given as a `$parameter` (checked when the run binds it).
    mutating func rowCount(_ e: Expr, _ scope: RowShape, for word: String) throws(Failed) -> CheckedRowCount {
        let c = try check(e, scope)
        if let v = c.constant {
            guard let n = v.number, n >= 0, n == n.rounded(), n <= 1e15 else {
                throw error(.typeMismatch, "\(word) needs a whole number of rows, 0 or more", at: e.range)
            }
            return .constant(Int(n))
        }
        guard case .parameter(let p, let slot) = c.kind else {
            throw error(.typeMismatch, "\(word) needs a number (or a $parameter), not an expression over rows", at: e.range)
        }
        parameters[p] = (.number(), e.range)
        return .parameter(name: p, slot: slot, range: e.range)
    }

    /// A column name for an expression: the last step of a path, else the function name.
    func columnName(_ item: SelectItem) -> String {
        if let a = item.alias { return a.text }
        switch item.expr.kind {
        case .path(let names): return names.count == 1 ? names[0].text : names.map(\.text).joined(separator: "_")
        case .call(let n, let args):
            if args.isEmpty { return n.text.lowercased() }
            if case .path(let names) = args[0].kind { return n.text.lowercased() + "_" + names.map(\.text).joined(separator: "_") }
            return n.text.lowercased()
        default: return "expr"
        }
    }

    func uniqueNames(_ names: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return names.map { n in
            let k = seen[n, default: 0]
            seen[n] = k + 1
            return k == 0 ? n : "\(n)_\(k + 1)"
        }
    }
}

/// Renders an expression back to text, for `explain`.
func render(_ e: Expr) -> String {
    switch e.kind {
    case .literal(let l):
        switch l {
        case .string(let s): return "\"" + s.replacingOccurrences("\"", "\\\"") + "\""
        case .number(let n): return formatNumber(n).replacingCommas
        case .percent(let n): return formatNumber(n, percent: true).replacingCommas
        case .date(let d): return d.description
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    case .path(let names): return names.map(\.text).joined(separator: ".")
    case .parameter(let p): return "$" + p
    case .list(let items): return "[" + items.map(render).joined(separator: ", ") + "]"
    case .unary(.not, let x): return "not " + render(x)
    case .unary(.negate, let x): return "-" + render(x)
    case .binary(let op, let l, let r):
        let inner: (Expr) -> String = { x in
            if case .binary(let o, _, _) = x.kind, (o == .or && op == .and) { return "(" + render(x) + ")" }
            return render(x)
        }
        return inner(l) + " \(op.rawValue) " + inner(r)
    case .call(let n, let args): return n.text + "(" + args.map(render).joined(separator: ", ") + ")"
    case .between(let x, let lo, let hi, let neg): return render(x) + (neg ? " not" : "") + " between " + render(lo) + " and " + render(hi)
    case .isNull(let x, let neg): return render(x) + (neg ? " is not null" : " is null")
    case .inList(let x, let l, let neg): return render(x) + (neg ? " not in " : " in ") + render(l)
    }
}

extension String {
    /// `self` with every occurrence of `a` replaced by `b`, found by comparing UTF-8 bytes
    /// (as the lexer and the CSV writer see text: a quote is a quote even when a combining
    /// mark follows it). Not `firstRange(of:)`: that generic search over Characters costs
    /// about 0.2 million instructions the first time it runs (the Swift runtime building its
    /// types), and every plan renders its expressions for `explain`.
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var text = self, needle = a, replacement = b
        return text.withUTF8 { hay in
            needle.withUTF8 { n in
                guard let first = n.first, hay.count >= n.count else { return self }
                var out: [UInt8] = []
                var copied = 0, i = 0
                let last = hay.count - n.count
                while i <= last {
                    if hay[i] == first, n.count == 1 || hay[i..<(i + n.count)].elementsEqual(n) {
                        if out.isEmpty { out.reserveCapacity(hay.count + 16) }
                        out.append(contentsOf: hay[copied..<i])
                        replacement.withUTF8 { out.append(contentsOf: $0) }
                        i += n.count
                        copied = i
                    } else {
                        i += 1
                    }
                }
                guard copied > 0 else { return self }
                out.append(contentsOf: hay[copied...])
                return String(decoding: out, as: UTF8.self)
            }
        }
    }
}
