extension Planner {
    mutating func planGroup(_ keys: [SelectItem], _ aggs: [SelectItem], _ scope: Scope,
                            sortedAfter: Set<String> = []) throws(Failed) -> (Step, Scope) {
        var keyEvals: [Eval] = []
        var cols: [ResultColumn] = []
        var fastKey: (KBCollection, StringIDs, StringPool)?
        for k in keys {
            let c = try compile(k.expr, scope)
            keyEvals.append(c.eval)
            cols.append(ResultColumn(name: columnName(k), type: c.type))
            if keys.count == 1, let (col, fi) = c.column, case .string(let ids, let pool) = col.columns[fi] { fastKey = (col, ids, pool) }
        }
        var specs: [AggregateSpec] = []
        for a in aggs {
            guard case .call(let name, let args) = a.expr.kind, let f = Function(rawValue: name.text.lowercased()), f.isAggregate else {
                if case .call(let name, _) = a.expr.kind, Function(rawValue: name.text.lowercased()) == nil {
                    throw error(.unknownFunction, "unknown aggregate '\(name.text)'", at: name.range,
                                suggestion: suggest(name.text, from: Function.allCases.filter(\.isAggregate).map(\.rawValue)),
                                notes: ["aggregates: count(), sum(x), avg(x), min(x), max(x), spread(x)"])
                }
                throw error(.misplacedAggregate, "after 'aggregate' each item must be one aggregate call such as count() or max(value)", at: a.expr.range,
                            notes: ["aggregates: count(), sum(x), avg(x), min(x), max(x), spread(x)"])
            }
            guard f.arity.contains(args.count) else {
                throw error(.typeMismatch, "\(f.rawValue) takes \(f == .count ? "0 or 1 argument" : "1 argument"): \(f.signature)", at: a.expr.range)
            }
            var arg: Compiled?
            if let x = args.first {
                let c = try compile(x, scope)
                if [.sum, .avg, .spread].contains(f), !(c.type.isNumeric || c.type == .null) {
                    throw error(.typeMismatch, "\(f.rawValue) needs numbers, not \(describeType(c.type))", at: x.range, notes: [f.signature])
                }
                if case .list = c.type, f == .min || f == .max {
                    throw error(.typeMismatch, "\(f.rawValue) of a list is not defined", at: x.range)
                }
                arg = c
            }
            let type: FieldType
            switch f {
            case .count: type = .number()
            // A sum or mean of quantities given as intervals is an interval too.
            case .sum, .avg: type = arg?.type == .percent ? .percent : arg?.type == .number(qualified: true) ? .number(qualified: true) : .number()
            case .spread: type = arg?.type == .percent ? .percent : .number()
            default: type = arg?.type ?? .null
            }
            var spec = AggregateSpec(function: f, argument: arg?.eval, type: type, text: render(a.expr), range: a.expr.range)
            if f != .count, arg?.type.isNumeric == true { spec.unit = unitReader(scope, keys: keys) }
            specs.append(spec)
            cols.append(ResultColumn(name: columnName(a), type: type))
        }
        if keys.isEmpty && specs.isEmpty {
            throw error(.invalidClause, "'aggregate' needs at least one aggregate such as count()", at: SourceRange(0, 0))
        }
        let names = uniqueNames(cols.map(\.name))
        for i in cols.indices { cols[i].name = names[i] }
        // Groups differ in some key, so a sort over every key never ties two of them: the
        // order it gives is the whole order, and key order first would be work thrown away.
        let ordered = keys.isEmpty || !cols.prefix(keys.count).allSatisfy { sortedAfter.contains($0.name) }
        let detail = (keys.isEmpty ? "" : "by " + keys.map { render($0.expr) }.joined(separator: ", ") + " ") +
            (aggs.isEmpty ? "" : "aggregate " + aggs.map { render($0.expr) }.joined(separator: ", ")) +
            (ordered ? "" : " (in the order of the sort that follows)")
        let columns = cols
        let fk = fastKey
        let keysCopy = keyEvals
        let specsCopy = specs
        return (Step(name: keys.isEmpty ? "aggregate" : "group", detail: detail, run: { rows, env throws(Diagnostic) in
            try groupRows(rows, keys: keysCopy, fastKey: fk, aggregates: specsCopy, columns: columns, inKeyOrder: ordered, env)
        }), Scope(columns: cols, stored: nil, origin: nil, measure: nil))
    }

    func numericFields(_ scope: Scope) -> [String] { scope.columns.filter { $0.type.isNumeric }.map(\.name) }

    /// Which fields a measure could be, or that there are none.
    func numericNote(_ scope: Scope) -> String {
        let numeric = numericFields(scope)
        return numeric.isEmpty ? "no numeric field is in scope" : "numeric fields here: " + numeric.joined(separator: ", ")
    }

    /// The column of the scope named `name` with a type accepted by `ok`.
    func column(_ scope: Scope, _ name: String, _ ok: (FieldType) -> Bool) -> Int? {
        guard let i = scope.index(of: name), ok(scope.columns[i].type) else { return nil }
        return i
    }

    func reader(_ scope: Scope, _ i: Int) -> Eval {
        if let c = scope.stored { return columnReader(c, i) }
        return { r, env in env.table[r][i] }
    }

    func isSentenceRef(_ t: FieldType) -> Bool {
        switch t {
        case .ref(let c): return kb.collection(c)?.field("text") != nil
        case .list(.ref(let c)?): return kb.collection(c)?.field("text") != nil
        default: return false
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

    mutating func planCompare(_ field: Expr, _ on: Expr?, _ scope: Scope, range: SourceRange) throws(Failed) -> (Step, Scope) {
        let key = try compile(field, scope)
        if case .list = key.type { throw error(.invalidClause, "compare groups by one value per row; \(render(field)) is a list", at: field.range) }
        let measure: Compiled
        if let on {
            measure = try compile(on, scope)
        } else if let m = scope.measure, let mi = scope.index(of: m) {
            measure = Compiled(type: scope.columns[mi].type, eval: reader(scope, mi), range: field.range)
        } else {
            throw error(.invalidClause, "compare needs a measure: name one with 'on FIELD'", at: range,
                        suggestion: numericFields(scope).first.map { "compare \(render(field)) on \($0)" }, notes: [numericNote(scope)])
        }
        guard measure.type.isNumeric else {
            throw error(.invalidClause, "compare needs a numeric measure; \(on.map(render) ?? "the measure") is \(describeType(measure.type))",
                        at: on?.range ?? range, notes: [numericNote(scope)])
        }
        let hedgeCol = column(scope, "hedge") { $0 == .hedge }
        let sentenceCol = column(scope, "sentence", isSentenceRef)
        let unitCol = column(scope, "unit") { $0 == .string }
        var sentenceType: FieldType = .null
        if let s = sentenceCol {
            if case .list = scope.columns[s].type { sentenceType = scope.columns[s].type } else { sentenceType = .list(scope.columns[s].type) }
        }
        var cols = [ResultColumn(name: columnName(SelectItem(expr: field, alias: nil)), type: key.type),
                    ResultColumn(name: "n", type: .number()),
                    ResultColumn(name: on.map { columnName(SelectItem(expr: $0, alias: nil)) } ?? scope.measure ?? "value", type: measure.type)]
        if unitCol != nil { cols.append(ResultColumn(name: "unit", type: .string)) }
        if hedgeCol != nil { cols.append(ResultColumn(name: "hedge", type: .hedge)) }
        if sentenceCol != nil { cols.append(ResultColumn(name: "sentence", type: sentenceType)) }
        let names = uniqueNames(cols.map(\.name))
        for i in cols.indices { cols[i].name = names[i] }
        var ids: CompareIDs?
        if let c = scope.stored, let (kc, kf) = key.column, kc === c, let keyID = integerForm(c, kf) {
            let unitID = unitCol.flatMap { integerForm(c, $0) }
            let hedgeID = hedgeCol.flatMap { integerForm(c, $0) }
            if (unitCol == nil) == (unitID == nil) && (hedgeCol == nil) == (hedgeID == nil) {
                ids = CompareIDs(key: keyID, unit: unitID, hedge: hedgeID)
            }
        }
        let spec = CompareSpec(key: key.eval, measure: measure.eval, hedge: hedgeCol.map { reader(scope, $0) },
                               sentence: sentenceCol.map { reader(scope, $0) }, unit: unitCol.map { reader(scope, $0) },
                               columns: cols, measureName: on.map(render) ?? scope.measure ?? "value", ids: ids)
        let detail = render(field) + " on " + (on.map(render) ?? scope.measure ?? "?") + (unitCol != nil ? ", kept apart by unit" : "")
        let next = Scope(columns: cols, stored: nil, origin: nil, measure: names[2])
        return (Step(name: "compare", detail: detail, run: { rows, env throws(Diagnostic) in
            try compareRows(rows, spec, env)
        }), next)
    }

    mutating func planCite(_ scope: Scope, range: SourceRange) throws(Failed) -> (Step, Scope) {
        var cols = scope.columns
        if let si = column(scope, "sentence", isSentenceRef) {
            let read = reader(scope, si)
            cols.append(ResultColumn(name: "paragraph", type: .number()))
            cols.append(ResultColumn(name: "quote", type: .string))
            let columns = cols
            return (Step(name: "cite", detail: "adds the text of each row's sentence", run: { rows, env throws(Diagnostic) in
                try citeRows(rows, columns: columns, env) { r, env in read(r, env) }
            }), Scope(columns: cols, stored: nil, origin: scope.origin, measure: scope.measure))
        }
        if let o = scope.origin, let sf = o.fields.firstIndex(where: { $0.name == "sentence" && isSentenceRef($0.type) }) {
            cols.append(ResultColumn(name: "paragraph", type: .number()))
            cols.append(ResultColumn(name: "quote", type: .string))
            let columns = cols
            let kb = self.kb
            let stored = scope.stored != nil
            return (Step(name: "cite", detail: "adds the text of each row's sentence (from \(o.name).sentence)", run: { rows, env throws(Diagnostic) in
                try citeRows(rows, columns: columns, env) { r, env in
                    if stored { return o.value(row: r, column: sf, kb: kb) }
                    guard case .table(let t) = rows, let origin = t.origin, r < origin.count else { return .null }
                    return o.value(row: Int(origin[r]), column: sf, kb: kb)
                }
            }), Scope(columns: cols, stored: nil, origin: scope.origin, measure: scope.measure))
        }
        let what = (scope.stored ?? scope.origin).map { "\($0.name) has" } ?? "these rows have"
        if let c = scope.stored ?? scope.origin, c.field("text") != nil, c.field("paragraph") != nil {
            throw error(.invalidClause, "cite adds each row's sentence, and rows of \(c.name) are sentences already", at: range)
        }
        throw error(.invalidClause, "cite needs rows with a 'sentence' field, and \(what) none", at: range,
                    notes: ["cite before a select that drops 'sentence', or select it too"])
    }

    mutating func planTimeline(_ field: Expr?, _ scope: Scope, range: SourceRange) throws(Failed) -> (Step, Scope) {
        let date: Compiled
        if let field {
            date = try compile(field, scope)
            guard date.type == .date else {
                throw error(.typeMismatch, "timeline needs a date, and \(render(field)) is \(describeType(date.type))", at: field.range)
            }
        } else if let i = column(scope, "date", { $0 == .date }) ?? scope.columns.firstIndex(where: { $0.type == .date }) {
            date = Compiled(type: .date, eval: reader(scope, i), range: range)
        } else {
            throw error(.invalidClause, "timeline needs a date field, and there is none here", at: range,
                        notes: ["fields here: " + scope.columns.map(\.name).joined(separator: ", ")])
        }
        let labelNames = ["description", "action", "text", "title", "name", "topic"]
        var label: Int?
        for n in labelNames where label == nil { label = column(scope, n) { $0 == .string } }
        let labelEval = label.map { reader(scope, $0) }
        let d = date.eval
        return (Step(name: "timeline", detail: "sort by \(field.map(render) ?? "date"), draw the dates", run: { rows, env throws(Diagnostic) in
            try timelineRows(rows, date: d, label: labelEval, env)
        }), Scope(columns: scope.columns, stored: scope.stored, origin: scope.origin, measure: scope.measure))
    }

    mutating func planChart(_ labelExpr: Expr?, _ on: Expr?, _ scope: Scope, range: SourceRange) throws(Failed) -> (Step, Scope) {
        let label: Compiled
        if let labelExpr { label = try compile(labelExpr, scope) } else if let i = scope.columns.firstIndex(where: {
            if case .ref = $0.type { return true }
            return $0.type == .string && $0.name != "id"
        }) {
            label = Compiled(type: scope.columns[i].type, eval: reader(scope, i), range: range)
        } else {
            throw error(.invalidClause, "chart needs a label field: write 'chart FIELD on MEASURE'", at: range)
        }
        let measure: Compiled
        if let on { measure = try compile(on, scope) } else if let m = scope.measure, let mi = scope.index(of: m) {
            measure = Compiled(type: scope.columns[mi].type, eval: reader(scope, mi), range: range)
        } else if let i = scope.columns.lastIndex(where: { $0.type.isNumeric }) {
            measure = Compiled(type: scope.columns[i].type, eval: reader(scope, i), range: range)
        } else {
            throw error(.invalidClause, "chart needs a numeric measure: write 'chart FIELD on MEASURE'", at: range)
        }
        guard measure.type.isNumeric else {
            throw error(.typeMismatch, "chart needs a numeric measure, not \(describeType(measure.type))", at: on?.range ?? range)
        }
        let l = label.eval, m = measure.eval
        let unit = column(scope, "unit") { $0 == .string }.map { reader(scope, $0) }
        return (Step(name: "chart", detail: "bars of \(on.map(render) ?? "the measure")", run: { rows, env throws(Diagnostic) in
            try chartRows(rows, label: l, measure: m, unit: unit, env)
        }), scope)
    }
}

