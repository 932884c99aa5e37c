extension Lowering {
    /// Lowers one checked statement.
    func plan(_ st: CheckedStatement) -> PlannedStatement {
        switch st.kind {
        case .query(let q): return .query(plan(q))
        case .explain(let q): return .explain(plan(q))
        case .let(let name, let q): return .bind(name, plan(q))
        }
    }

    /// Lowers a checked query: its source, then a step per clause. Neighbouring clauses
    /// shape each other's steps: a `sort` before a `limit` need only find the first rows,
    /// a `group` before a `sort` over all its keys need not order the groups.
    func plan(_ q: CheckedQuery) -> QueryPlan {
        let (how, source) = lowerSource(q.source)
        var input = q.source.output
        var steps: [PlanStep] = []
        for (i, c) in q.clauses.enumerated() {
            let next = i + 1 < q.clauses.count ? q.clauses[i + 1] : nil
            var keep: Int?
            if case .sort = c.kind, case .limit(.constant(let n), let offset)? = next?.kind {
                // With an offset, the first N after M: the sort needs M + N.
                switch offset {
                case nil: keep = n
                case .constant(let m)?: keep = n + m
                default: keep = nil
                }
            }
            var sortedAfter: Set<String> = []
            if case .group = c.kind, case .sort(let keys)? = next?.kind {
                for k in keys { if case .field(let f) = k.expr.kind, f.path.isEmpty { sortedAfter.insert(f.name) } }
            }
            if case .filter(let e, false) = c.kind, let walk = dateWalk(e, input, then: Array(q.clauses.dropFirst(i + 1).prefix(2))) {
                steps.append(walk)
                input = c.output
                continue
            }
            steps.append(step(c, input, keep: keep, sortedAfter: sortedAfter))
            input = c.output
        }
        return QueryPlan(checked: q, sourceHow: how, source: source, steps: steps)
    }

    func lowerSource(_ s: CheckedSource) -> (String, @Sendable (Env) throws(Diagnostic) -> Rows) {
        let columns = s.output.columns
        let range = s.range
        switch s.kind {
        case .collection(let name):
            guard let c = kb.collection(name) else { return ("nothing: no such collection", { _ in .table(Table(columns: columns, rows: [])) }) }
            return ("the stored columns of \(c.count) rows", { _ in .stored(c, nil) })
        case .letName(let name):
            return ("the rows the let bound", { env throws(Diagnostic) in
                guard let rows = env.lets[name] else { throw Diagnostic(.unknownCollection, "'\(name)' is not bound in this run", at: range) }
                return rows
            })
        case .describe(let name):
            return ("finds the entity by name, alias or id, then every row that refers to it", { env throws(Diagnostic) in
                try describe(name, columns: columns, at: range, env)
            })
        case .search(let text):
            guard let c = kb.collection("sentences") else { return ("nothing", { _ in .table(Table(columns: columns, rows: [])) }) }
            let terms = SearchTerms(text)
            return ("every sentence's text for " + terms.described + ", any case, anywhere", { env throws(Diagnostic) in
                try searchSentences(c, terms, columns: columns, env)
            })
        case .conflicts(let names):
            let collections = names.compactMap { kb.collection($0) }
            return ("groups each collection's rows by topic and unit", { env throws(Diagnostic) in
                try findConflicts(collections, columns: columns, env)
            })
        case .union(let names):
            let collections = names.compactMap { kb.collection($0) }
            return ("each collection's rows in turn, the shared fields boxed", { env throws(Diagnostic) in
                try unionRows(collections, columns: columns, env)
            })
        }
    }

    /// - Parameters:
    ///   - keep: a `limit` right after a `sort`: the sort need only find that many rows.
    ///   - sortedAfter: the plain column names a `sort` right after a `group` orders by.
    func step(_ c: CheckedClause, _ input: RowShape, keep: Int?, sortedAfter: Set<String>) -> PlanStep {
        switch c.kind {
        case .filter(let e, let maybe):
            let p = predicate(e, input)
            let want: Truth = maybe ? .maybe : .yes
            // Stored columns compared with constants also get a form that scans whole columns.
            let scan = maybe || stored(input) == nil ? nil : columnScan(e)
            let how = scan.map { $0.exact ? "scans the stored columns" : "scans the stored columns, then tests the rest on the rows found" }
                ?? (stored(input) != nil ? "tests each stored row" : "tests each row")
            return PlanStep(how: how, run: { rows, env throws(Diagnostic) in
                try filter(rows, p, keep: want, scan: scan, env)
            })
        case .select(let cols):
            let evals = cols.map { eval($0.expr, input) }
            let columns = c.output.columns
            return PlanStep(how: "computes \(cols.count) column\(cols.count == 1 ? "" : "s") per row", run: { rows, env throws(Diagnostic) in
                try project(rows, columns, evals, env)
            })
        case .sort(let keys):
            let sortKeys = keys.map { (eval($0.expr, input), $0.descending) }
            return PlanStep(how: "sorts, nulls last" + (keep.map { ", finding the first \($0) only" } ?? ""), run: { rows, env throws(Diagnostic) in
                try sortRows(rows, sortKeys, env, keep: keep)
            })
        case .limit(let count, let offset):
            let n = rowCount(count, word: "limit")
            guard let offset else {
                return PlanStep(how: "keeps the first rows", run: { rows, env throws(Diagnostic) in limitRows(rows, try n(env)) })
            }
            let skip = rowCount(offset, word: "offset")
            return PlanStep(how: "skips rows, then keeps the next ones", run: { rows, env throws(Diagnostic) in
                limitRows(rows, try n(env), skipping: try skip(env))
            })
        case .group(let keys, let aggs):
            return group(keys, aggs, input, output: c.output, sortedAfter: sortedAfter)
        case .compare(let key, let measure, let measureName, let unit, let hedge, let sentence, let provenance):
            var ids: CompareIDs?
            if let s = stored(input), let (kc, kf) = storedColumn(key), kc === s, let keyID = integerForm(s, kf) {
                let unitID = unit.flatMap { integerForm(s, $0) }
                let hedgeID = hedge.flatMap { integerForm(s, $0) }
                if (unit == nil) == (unitID == nil) && (hedge == nil) == (hedgeID == nil) {
                    ids = CompareIDs(key: keyID, unit: unitID, hedge: hedgeID)
                }
            }
            let spec = CompareSpec(key: eval(key, input), measure: eval(measure, input), hedge: hedge.map { reader(input, $0) },
                                   sentence: sentence.map { reader(input, $0) }, unit: unit.map { reader(input, $0) },
                                   columns: c.output.columns, measureName: measureName, ids: ids,
                                   provenance: provenance.map { p in
                                       CompareProvenance(inferred: reader(input, p.inferred), reason: p.reason.map { reader(input, $0) },
                                                         id: p.id.map { reader(input, $0) }, shown: p.shown, keyField: p.keyField)
                                   })
            return PlanStep(how: ids != nil ? "groups the stored rows by integer keys" : "groups the rows by value", run: { rows, env throws(Diagnostic) in
                try compareRows(rows, spec, env)
            })
        case .cite(let from):
            let columns = c.output.columns
            switch from {
            case .column(let i):
                let read = reader(input, i)
                let origin = stored(input) ?? input.origin.flatMap { kb.collection($0) }
                return PlanStep(how: "reads each row's sentence", run: { rows, env throws(Diagnostic) in
                    try citeRows(rows, columns: columns, env, origin: origin) { r, env in read(r, env) }
                })
            case .origin(let name, let sf, _):
                guard let o = kb.collection(name) else { return PlanStep(how: "nothing", run: { rows, _ in rows }) }
                let kb = self.kb
                let isStored = stored(input) != nil
                return PlanStep(how: "reads each row's sentence from the \(name) row it comes from", run: { rows, env throws(Diagnostic) in
                    try citeRows(rows, columns: columns, env, origin: o) { r, env in
                        if isStored { return o.value(row: r, column: sf, kb: kb) }
                        guard case .table(let t) = rows, let origin = t.origin, r < origin.count else { return .null }
                        return o.value(row: Int(origin[r]), column: sf, kb: kb)
                    }
                })
            }
        case .timeline(let date, let label):
            let d = eval(date, input)
            let labelEval = label.map { reader(input, $0) }
            return PlanStep(how: "sorts by date and draws the dates", run: { rows, env throws(Diagnostic) in
                try timelineRows(rows, date: d, label: labelEval, env)
            })
        case .chart(let label, let measure, let unit):
            let l = eval(label, input), m = eval(measure, input)
            let u = unit.map { reader(input, $0) }
            return PlanStep(how: "draws a bar per row", run: { rows, env throws(Diagnostic) in
                try chartRows(rows, label: l, measure: m, unit: u, env)
            })
        case .follow(let ref, let name):
            guard let target = kb.collection(name) else { let columns = c.output.columns; return PlanStep(how: "nothing: no such collection", run: { _, _ in .table(Table(columns: columns, rows: [])) }) }
            let read = eval(ref, input)
            return PlanStep(how: "reads each row's reference, keeping each row of \(name) once", run: { rows, env throws(Diagnostic) in
                try followRows(rows, read, target: target, env)
            })
        case .referrers(let name, let links, let listed):
            guard let target = kb.collection(name) else { let columns = c.output.columns; return PlanStep(how: "nothing: no such collection", run: { _, _ in .table(Table(columns: columns, rows: [])) }) }
            let range = c.range
            if listed {
                let columns = c.output.columns
                return PlanStep(how: "scans every collection's references to \(name), then what refers to the rows found", run: { rows, env throws(Diagnostic) in
                    try referrerList(rows, target: target, columns: columns, at: range, env)
                })
            }
            return PlanStep(how: "scans the references of \(links.first?.collection ?? "") to \(name)", run: { rows, env throws(Diagnostic) in
                try referrerRows(rows, target: target, links: links, at: range, env)
            })
        }
    }

    /// The number of rows a `limit` or `offset` gives, when the run starts.
    func rowCount(_ count: CheckedRowCount, word: String) -> @Sendable (Env) throws(Diagnostic) -> Int {
        switch count {
        case .constant(let n): return { _ in n }
        case .parameter(let p, let slot, let range):
            return { env throws(Diagnostic) in
                guard let n = env.arg(slot).number, n >= 0, n == n.rounded(), n <= 1e15 else {
                    throw Diagnostic(.unboundParameter, "$\(p) must be a whole number of rows for \(word)", at: range)
                }
                return Int(n)
            }
        }
    }

    func group(_ keys: [CheckedColumn], _ aggs: [CheckedAggregate], _ input: RowShape, output: RowShape, sortedAfter: Set<String>) -> PlanStep {
        let keyEvals = keys.map { eval($0.expr, input) }
        var stringKey: (KBCollection, StringIDs, StringPool)?
        if keys.count == 1, let (col, fi) = storedColumn(keys[0].expr), case .string(let ids, let pool) = col.columns[fi] { stringKey = (col, ids, pool) }
        let fastKey = stringKey
        let specs = aggs.map { a in
            AggregateSpec(function: aggregation(a.function), argument: a.argument.map { eval($0, input) }, type: a.type,
                          unit: a.function != .count && a.argument?.type.isNumeric == true ? unitReader(input, keys: keys) : nil,
                          text: a.text, range: a.range)
        }
        // Groups differ in some key, so a sort over every key never ties two of them: the
        // order it gives is the whole order, and key order first would be work thrown away.
        let ordered = keys.isEmpty || !keys.allSatisfy { sortedAfter.contains($0.name) }
        let columns = output.columns
        let how = (fastKey != nil ? "groups by the stored strings' ids" : keys.isEmpty ? "folds every row" : "groups by value")
            + (ordered ? "" : ", in the order of the sort that follows")
        return PlanStep(how: how, run: { rows, env throws(Diagnostic) in
            try groupRows(rows, keys: keyEvals, fastKey: fastKey, aggregates: specs, columns: columns, inKeyOrder: ordered, env)
        })
    }

    /// The reader of the rows' `unit` text, for aggregates that must not mix units; nil
    /// when the rows carry no unit, or the groups already keep units apart (a key is
    /// `unit`), or the unit field's dictionary holds one unit at most. Rows that drop the
    /// field (`select source, value`) are taken to mean it: their values add up as numbers.
    func unitReader(_ input: RowShape, keys: [CheckedColumn]) -> UnitReader? {
        guard let i = input.index(of: "unit"), input.columns[i].type == .string else { return nil }
        let grouped = keys.contains { if case .field(let f) = $0.expr.kind { return f.path.isEmpty && f.name == "unit" }; return false }
        if grouped { return nil }
        if let c = stored(input), case .string(let ids, let pool) = c.columns[i], pool.isDistinct {
            return pool.count <= 1 ? nil : .stored(ids, pool)
        }
        return .computed(reader(input, i))
    }

    func aggregation(_ f: BuiltinFunction) -> Aggregation {
        switch f {
        case .sum: return .sum
        case .avg: return .avg
        case .min: return .min
        case .max: return .max
        case .spread: return .spread
        default: return .count
        }
    }

    /// A stored column as integers that are equal exactly when the values are (see
    /// ``CompareIDs``); -1 for null. Nil for columns without such a form.
    func integerForm(_ c: KBCollection, _ f: Int) -> (@Sendable (Int) -> Int)? {
        switch c.columns[f] {
        case .ref(let targets):
            return { r in Int(targets[r]) < 0 ? -1 : Int(targets[r]) }
        case .string(let ids, let pool) where pool.isDistinct:
            return { r in ids[r] == StringPool.null ? -1 : Int(ids[r]) }
        case .hedge(let ranks):
            let known = c.hedges.words.count
            return { r in Int(ranks[r]) >= known ? -1 : Int(ranks[r]) }
        default:
            return nil
        }
    }
}
