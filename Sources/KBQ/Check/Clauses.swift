extension Planner {
    /// Checks and compiles one statement.
    mutating func plan(_ st: Statement) throws(Failed) -> PlannedStatement {
        try tick(st.range)
        switch st.kind {
        case .query(let q): return .query(try plan(q))
        case .explain(let q): return .explain(try plan(q))
        case .let(let name, let q):
            if kb.collection(name.text) != nil {
                throw error(.invalidClause, "'\(name.text)' is a collection of the KB; choose another name for the let", at: name.range)
            }
            let p = try plan(q)
            lets[name.text] = p.output.scope
            return .bind(name.text, p)
        }
    }

    mutating func plan(_ q: Query) throws(Failed) -> QueryPlan {
        var (scope, sourceName, detail, source) = try planSource(q.source)
        var steps: [Step] = []
        var failed = false
        for (i, c) in q.clauses.enumerated() {
            // `sort by … limit N`: the sort need only find the first N rows.
            var keep: Int?
            func count(_ e: Expr) -> Int? {
                guard case .literal(.number(let n)) = e.kind, n >= 0, n == n.rounded(), n < 1e9 else { return nil }
                return Int(n)
            }
            if case .sort = c.kind, i + 1 < q.clauses.count, case .limit(let e, let offset) = q.clauses[i + 1].kind, let n = count(e) {
                // With an offset, the first N after M: the sort needs M + N.
                if let offset { keep = count(offset).map { n + $0 } } else { keep = n }
            }
            // `group by k … sort by …, k`: a sort over every group key decides the whole
            // order, so the groups need not be put in key order first.
            var sortedAfter: Set<String> = []
            if case .group = c.kind, i + 1 < q.clauses.count, case .sort(let keys) = q.clauses[i + 1].kind {
                for k in keys { if case .path(let names) = k.expr.kind, names.count == 1 { sortedAfter.insert(names[0].text) } }
            }
            do {
                let (step, next) = try planClause(c, scope, keep: keep, sortedAfter: sortedAfter)
                steps.append(step)
                scope = next
            } catch {
                // Later clauses depend on this one's output: checking them would only
                // report follow-on errors.
                failed = true
                break
            }
        }
        if failed { throw Failed() }
        return QueryPlan(sourceName: sourceName, sourceDetail: detail, source: source, steps: steps, output: ScopeBox(scope: scope), range: q.range)
    }

    mutating func planSource(_ s: QuerySource) throws(Failed) -> (Scope, String, String, @Sendable (Env) throws(Diagnostic) -> Rows) {
        switch s {
        case .name(let n):
            if let c = kb.collection(n.text) {
                return (Scope.of(c), "scan", "\(c.name) (\(c.count) rows)", { _ in .stored(c, nil) })
            }
            if let scope = lets[n.text] {
                let name = n.text
                return (scope, "let", name, { env throws(Diagnostic) in
                    guard let rows = env.lets[name] else { throw Diagnostic(.unknownCollection, "'\(name)' is not bound in this run", at: n.range) }
                    return rows
                })
            }
            let names = kb.collections.map(\.name) + lets.keys.sorted()
            throw error(.unknownCollection, "unknown collection '\(n.text)'", at: n.range, suggestion: suggest(n.text, from: names),
                        notes: ["collections: " + kb.collections.map(\.name).joined(separator: ", ") + (lets.isEmpty ? "" : "; let names: " + lets.keys.sorted().joined(separator: ", "))])
        case .describe(let name, let range):
            return try planDescribe(name, range)
        case .search(let text, let range):
            return try planSearch(text, range)
        case .conflicts(let range):
            return try planConflicts(range)
        }
    }

    /// - Parameters:
    ///   - keep: a `limit` right after a `sort`: the sort need only find that many rows.
    ///   - sortedAfter: the plain column names a `sort` right after a `group` orders by.
    mutating func planClause(_ c: Clause, _ scope: Scope, keep: Int? = nil, sortedAfter: Set<String> = []) throws(Failed) -> (Step, Scope) {
        switch c.kind {
        case .where(let e, let maybe):
            let p = try predicate(e, scope)
            let keep: Truth = maybe ? .maybe : .yes
            // Stored columns compared with constants also get a form that scans whole columns.
            let scan = maybe ? nil : columnScan(e, scope)
            return (Step(name: maybe ? "filter (yes or maybe)" : "filter", detail: render(e), run: { rows, env throws(Diagnostic) in
                try filter(rows, p, keep: keep, scan: scan, env)
            }), scope)
        case .select(let items):
            return try planSelect(items, scope)
        case .sort(let keys):
            var compiled: [(Eval, Bool)] = []
            for k in keys {
                let c = try compile(k.expr, scope)
                if case .list = c.type {
                    throw error(.typeMismatch, "cannot sort by a list", at: k.expr.range)
                }
                compiled.append((c.eval, k.descending))
            }
            let detail = keys.map { render($0.expr) + ($0.descending ? " desc" : "") }.joined(separator: ", ")
            let sortKeys = compiled
            return (Step(name: "sort", detail: detail + " (nulls last)" + (keep.map { ", first \($0) only" } ?? ""),
                         run: { rows, env throws(Diagnostic) in
                try sortRows(rows, sortKeys, env, keep: keep)
            }), scope)
        case .limit(let e, let offset):
            let (count, countText) = try rowCount(e, scope, for: "limit")
            if let offset {
                let (skip, skipText) = try rowCount(offset, scope, for: "offset")
                return (Step(name: "limit", detail: "\(countText) offset \(skipText)", run: { rows, env throws(Diagnostic) in
                    limitRows(rows, try count(env), skipping: try skip(env))
                }), scope)
            }
            return (Step(name: "limit", detail: countText, run: { rows, env throws(Diagnostic) in
                limitRows(rows, try count(env))
            }), scope)
        case .group(let keys, let aggs):
            return try planGroup(keys, aggs, scope, sortedAfter: sortedAfter)
        case .aggregate(let aggs):
            return try planGroup([], aggs, scope)
        case .compare(let field, let on):
            return try planCompare(field, on, scope, range: c.range)
        case .cite:
            return try planCite(scope, range: c.keywordRange)
        case .timeline(let field):
            return try planTimeline(field, scope, range: c.keywordRange)
        case .chart(let label, let on):
            return try planChart(label, on, scope, range: c.keywordRange)
        }
    }

    /// The number of rows `limit` or `offset` names: a whole number of 0 or more, written
    /// in the query or given as a `$parameter` (checked when the run binds it); and how
    /// explain shows it.
    mutating func rowCount(_ e: Expr, _ scope: Scope, for word: String) throws(Failed) -> (@Sendable (Env) throws(Diagnostic) -> Int, String) {
        let c = try compile(e, scope)
        if let v = c.constant {
            guard let n = v.number, n >= 0, n == n.rounded(), n <= 1e15 else {
                throw error(.typeMismatch, "\(word) needs a whole number of rows, 0 or more", at: e.range)
            }
            let count = Int(n)
            return ({ _ in count }, "\(count)")
        }
        guard let p = c.parameter else {
            throw error(.typeMismatch, "\(word) needs a number (or a $parameter), not an expression over rows", at: e.range)
        }
        parameters[p] = (.number(), e.range)
        let range = e.range
        return ({ env throws(Diagnostic) in
            guard let n = env.params[p]?.number, n >= 0, n == n.rounded(), n <= 1e15 else {
                throw Diagnostic(.unboundParameter, "$\(p) must be a whole number of rows for \(word)", at: range)
            }
            return Int(n)
        }, "$\(p)")
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

    mutating func planSelect(_ items: [SelectItem], _ scope: Scope) throws(Failed) -> (Step, Scope) {
        var evals: [Eval] = []
        var cols: [ResultColumn] = []
        let names = uniqueNames(items.map(columnName))
        var failure: Failed?
        for (i, item) in items.enumerated() {
            do {
                let c = try compile(item.expr, scope)
                evals.append(c.eval)
                cols.append(ResultColumn(name: names[i], type: c.type))
            } catch { failure = error }
        }
        if let failure { throw failure }
        var next = Scope(columns: cols, stored: nil, origin: scope.origin, measure: nil)
        if let m = scope.measure, let mi = scope.index(of: m) {
            // The measure survives a select that keeps it under its own name.
            if let k = items.firstIndex(where: { if case .path(let n) = $0.expr.kind { return n.count == 1 && n[0].text == m }; return false }),
               cols[k].type == scope.columns[mi].type { next.measure = names[k] }
        }
        let detail = zip(items, names).map { render($0.expr) + ($0.alias != nil ? " as \($1)" : "") }.joined(separator: ", ")
        let columns = cols
        let itemEvals = evals
        return (Step(name: "select", detail: detail, run: { rows, env throws(Diagnostic) in
            try project(rows, columns, itemEvals, env)
        }), next)
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
