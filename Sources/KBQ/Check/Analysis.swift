extension Checker {
    mutating func checkGroup(_ keys: [SelectItem], _ aggs: [SelectItem], _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedClause.Kind {
        var checkedKeys: [CheckedColumn] = []
        var names: [String] = []
        for k in keys {
            checkedKeys.append(CheckedColumn(name: columnName(k), expr: try check(k.expr, scope)))
            names.append(columnName(k))
        }
        var checkedAggs: [CheckedAggregate] = []
        for a in aggs {
            guard case .call(let name, let args) = a.expr.kind, let f = BuiltinFunction(rawValue: name.text.lowercased()), f.isAggregate else {
                if case .call(let name, _) = a.expr.kind, BuiltinFunction(rawValue: name.text.lowercased()) == nil {
                    throw error(.unknownFunction, "unknown aggregate '\(name.text)'", at: name.range,
                                suggestion: suggest(name.text, from: BuiltinFunction.allCases.filter(\.isAggregate).map(\.rawValue)),
                                notes: ["aggregates: count(), sum(x), avg(x), min(x), max(x), spread(x)"])
                }
                throw error(.misplacedAggregate, "after 'aggregate' each item must be one aggregate call such as count() or max(value)", at: a.expr.range,
                            notes: ["aggregates: count(), sum(x), avg(x), min(x), max(x), spread(x)"])
            }
            guard f.arity.contains(args.count) else {
                throw error(.typeMismatch, "\(f.rawValue) takes \(f == .count ? "0 or 1 argument" : "1 argument"): \(f.signature)", at: a.expr.range)
            }
            var arg: CheckedExpr?
            if let x = args.first {
                let c = try check(x, scope)
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
            checkedAggs.append(CheckedAggregate(name: columnName(a), function: f, argument: arg, type: type, text: render(a.expr), range: a.expr.range))
            names.append(columnName(a))
        }
        if keys.isEmpty && checkedAggs.isEmpty {
            throw error(.invalidClause, "'aggregate' needs at least one aggregate such as count()", at: range)
        }
        let unique = uniqueNames(names)
        for i in checkedKeys.indices { checkedKeys[i].name = unique[i] }
        for i in checkedAggs.indices { checkedAggs[i].name = unique[checkedKeys.count + i] }
        return .group(keys: checkedKeys, aggregates: checkedAggs)
    }

    func numericFields(_ scope: RowShape) -> [String] { scope.columns.filter { $0.type.isNumeric }.map(\.name) }

    /// Which fields a measure could be, or that there are none.
    func numericNote(_ scope: RowShape) -> String {
        let numeric = numericFields(scope)
        return numeric.isEmpty ? "no numeric field is in scope" : "numeric fields here: " + numeric.joined(separator: ", ")
    }

    /// The column of the scope named `name` with a type accepted by `ok`.
    func column(_ scope: RowShape, _ name: String, _ ok: (FieldType) -> Bool) -> Int? {
        guard let i = scope.index(of: name), ok(scope.columns[i].type) else { return nil }
        return i
    }

    func isSentenceRef(_ t: FieldType) -> Bool {
        switch t {
        case .ref(let c): return kb.collection(c)?.field("text") != nil
        case .list(.ref(let c)?): return kb.collection(c)?.field("text") != nil
        default: return false
        }
    }

    mutating func checkCompare(_ field: Expr, _ on: Expr?, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedClause.Kind {
        let key = try check(field, scope)
        if case .list = key.type { throw error(.invalidClause, "compare groups by one value per row; \(render(field)) is a list", at: field.range) }
        let measure: CheckedExpr
        if let on {
            measure = try check(on, scope)
        } else if let m = scope.measure, let mi = scope.index(of: m) {
            measure = column(mi, scope, range: field.range)
        } else {
            throw error(.invalidClause, "compare needs a measure: name one with 'on FIELD'", at: range,
                        suggestion: numericFields(scope).first.map { "compare \(render(field)) on \($0)" }, notes: [numericNote(scope)])
        }
        guard measure.type.isNumeric else {
            throw error(.invalidClause, "compare needs a numeric measure; \(on.map(render) ?? "the measure") is \(describeType(measure.type))",
                        at: on?.range ?? range, notes: [numericNote(scope)])
        }
        // When the rows say which of their fields are inferred, compare says it too, for the fields shown.
        var provenance: CheckedProvenance?
        if let ii = column(scope, "inferred", { $0 == .list(.string) }) {
            func fieldName(_ e: CheckedExpr) -> String? {
                if case .field(let f) = e.kind, f.path.isEmpty { return f.name }
                return nil
            }
            let keyField = fieldName(key)
            let shown = [keyField, fieldName(measure), "unit", "hedge", "sentence"].compactMap { $0 }
            provenance = CheckedProvenance(inferred: ii, reason: column(scope, "reason") { $0 == .string }, id: scope.index(of: "id"),
                                           shown: shown, keyField: keyField)
        }
        return .compare(key: key, measure: measure, measureName: on.map(render) ?? scope.measure ?? "value",
                        unit: column(scope, "unit") { $0 == .string }, hedge: column(scope, "hedge") { $0 == .hedge },
                        sentence: column(scope, "sentence", isSentenceRef), provenance: provenance)
    }

    mutating func checkCite(_ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedClause.Kind {
        if let si = column(scope, "sentence", isSentenceRef) { return .cite(.column(si)) }
        let origin = scope.origin.flatMap { kb.collection($0) }
        if let o = origin, let sf = o.fields.firstIndex(where: { $0.name == "sentence" && isSentenceRef($0.type) }) {
            return .cite(.origin(collection: o.name, index: sf, field: "sentence"))
        }
        let c = scope.stored.flatMap { kb.collection($0) } ?? origin
        let what = c.map { "\($0.name) has" } ?? "these rows have"
        if let c, c.field("text") != nil, c.field("paragraph") != nil {
            throw error(.invalidClause, "cite adds each row's sentence, and rows of \(c.name) are sentences already", at: range)
        }
        throw error(.invalidClause, "cite needs rows with a 'sentence' field, and \(what) none", at: range,
                    notes: ["cite before a select that drops 'sentence', or select it too"])
    }

    mutating func checkTimeline(_ field: Expr?, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedClause.Kind {
        let date: CheckedExpr
        if let field {
            date = try check(field, scope)
            guard date.type == .date else {
                throw error(.typeMismatch, "timeline needs a date, and \(render(field)) is \(describeType(date.type))", at: field.range)
            }
        } else if let i = column(scope, "date", { $0 == .date }) ?? scope.columns.firstIndex(where: { $0.type == .date }) {
            date = column(i, scope, range: range)
        } else {
            throw error(.invalidClause, "timeline needs a date field, and there is none here", at: range,
                        notes: ["fields here: " + scope.columns.map(\.name).joined(separator: ", ")])
        }
        let labelNames = ["description", "action", "text", "title", "name", "topic"]
        var label: Int?
        for n in labelNames where label == nil { label = column(scope, n) { $0 == .string } }
        return .timeline(date: date, label: label)
    }

    mutating func checkChart(_ labelExpr: Expr?, _ on: Expr?, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedClause.Kind {
        let label: CheckedExpr
        if let labelExpr { label = try check(labelExpr, scope) } else if let i = scope.columns.firstIndex(where: {
            if case .ref = $0.type { return true }
            return $0.type == .string && $0.name != "id"
        }) {
            label = column(i, scope, range: range)
        } else {
            throw error(.invalidClause, "chart needs a label field: write 'chart FIELD on MEASURE'", at: range)
        }
        let measure: CheckedExpr
        if let on { measure = try check(on, scope) } else if let m = scope.measure, let mi = scope.index(of: m) {
            measure = column(mi, scope, range: range)
        } else if let i = scope.columns.lastIndex(where: { $0.type.isNumeric }) {
            measure = column(i, scope, range: range)
        } else {
            throw error(.invalidClause, "chart needs a numeric measure: write 'chart FIELD on MEASURE'", at: range)
        }
        guard measure.type.isNumeric else {
            throw error(.typeMismatch, "chart needs a numeric measure, not \(describeType(measure.type))", at: on?.range ?? range)
        }
        return .chart(label: label, measure: measure, unit: column(scope, "unit") { $0 == .string })
    }
}
