/// Checks statements against the KB schema and makes the checked query (CheckedQuery.swift)
/// of each. Every name is resolved and every type checked here, before anything runs;
/// problems become diagnostics with the exact range and a suggestion from the names in
/// scope. It reads the KB's schema and dictionaries, never its rows, and never the clock.
struct Checker {
    let kb: KnowledgeBase
    /// `let` names visible to the statement, with the shape of their rows.
    var lets: [String: RowShape]
    var diagnostics: [Diagnostic] = []
    /// Warnings: the query still runs (see ``namedValueComparison(_:_:_:in:listItem:)``).
    var warnings: [Diagnostic] = []
    /// Parameters the script reads, with the type each is compared against (if known).
    var parameters: [String: (FieldType?, SourceRange)] = [:]
    /// Parameters used as `matches` patterns: checked to compile when a run starts.
    var patternParameters: Set<String> = []
    /// Each parameter's slot, in the order they first appear: rows read a parameter by
    /// index, not by hashing its name.
    var parameterSlots: [String: Int] = [:]

    struct Failed: Error {}

    init(kb: KnowledgeBase, lets: [String: RowShape]) {
        self.kb = kb
        self.lets = lets
    }

    /// The slot of parameter `name`, given one when first seen.
    mutating func parameterSlot(_ name: String) -> Int {
        if let s = parameterSlots[name] { return s }
        let s = parameterSlots.count
        parameterSlots[name] = s
        return s
    }

    /// The parameters read so far, by name.
    var checkedParameters: [CheckedParameter] {
        parameters.keys.sorted().map { name in
            let (type, range) = parameters[name] ?? (nil, SourceRange(0, 0))
            return CheckedParameter(name: name, slot: parameterSlots[name] ?? -1, type: type,
                                    isPattern: patternParameters.contains(name), range: range)
        }
    }

    mutating func error(_ kind: Diagnostic.Kind, _ message: String, at range: SourceRange, suggestion: String? = nil, notes: [String] = []) -> Failed {
        diagnostics.append(Diagnostic(kind, message, at: range, suggestion: suggestion, notes: notes))
        return Failed()
    }

    // MARK: expressions

    /// An expression, or a bare word that names nothing here (`unresolved`), which the
    /// caller reads as a hedge word or reports with a hint fit for the place.
    struct Operand {
        var expr: CheckedExpr
        var unresolved: Name?

        var type: FieldType { expr.type }
        var range: SourceRange { expr.range }
        var constant: Value? { expr.constant }
        var parameter: String? { expr.parameter }

        static func constant(_ v: Value, _ t: FieldType, _ r: SourceRange) -> Operand {
            Operand(expr: CheckedExpr(.constant(v), type: t, range: r))
        }
    }

    /// Checks `e`.
    mutating func check(_ e: Expr, _ scope: RowShape) throws(Failed) -> CheckedExpr {
        try operand(e, scope, allowUnresolved: false).expr
    }

    /// Checks `e`; with `allowUnresolved`, a bare word that names nothing is returned
    /// unresolved for the caller to read as a hedge word or to report.
    mutating func operand(_ e: Expr, _ scope: RowShape, allowUnresolved: Bool) throws(Failed) -> Operand {
        switch e.kind {
        case .literal(let l):
            switch l {
            case .string(let s): return .constant(.string(s), .string, e.range)
            case .number(let n): return .constant(.number(n), .number(), e.range)
            case .percent(let n): return .constant(.percent(n), .percent, e.range)
            case .date(let d): return .constant(.date(d), .date, e.range)
            case .bool(let b): return .constant(.bool(b), .bool, e.range)
            case .null: return .constant(.null, .null, e.range)
            }
        case .parameter(let p):
            if parameters[p] == nil { parameters[p] = (nil, e.range) }
            return Operand(expr: CheckedExpr(.parameter(name: p, slot: parameterSlot(p)), type: .null, range: e.range))
        case .path(let names):
            return try path(names, scope, allowUnresolved: allowUnresolved, range: e.range)
        case .list(let items):
            var checked: [CheckedExpr] = []
            for item in items { checked.append(try check(item, scope)) }
            var elem: FieldType?
            for c in checked where c.type != .null {
                if let e = elem {
                    if !sameKind(e, c.type) {
                        throw error(.typeMismatch, "a list's items must be of one type: \(e) and \(c.type) are mixed", at: c.range)
                    }
                } else {
                    elem = c.type
                }
            }
            let constants = checked.compactMap(\.constant)
            if constants.count == checked.count { return .constant(.list(constants), .list(elem), e.range) }
            return Operand(expr: CheckedExpr(.list(checked), type: .list(elem), range: e.range))
        case .unary(.negate, let x):
            let c = try check(x, scope)
            guard c.type.isNumeric || c.type == .null else {
                throw error(.typeMismatch, "'-' needs a number, not \(describeType(c.type))", at: x.range)
            }
            switch c.constant {
            case .number(let v)?: return .constant(.number(-v), .number(), e.range)
            case .percent(let v)?: return .constant(.percent(-v), .percent, e.range)
            default: return Operand(expr: CheckedExpr(.negate(c), type: c.type, range: e.range))
            }
        case .unary(.not, _), .binary(.and, _, _), .binary(.or, _, _), .between, .isNull, .inList,
             .binary(.eq, _, _), .binary(.ne, _, _), .binary(.lt, _, _), .binary(.le, _, _), .binary(.gt, _, _),
             .binary(.ge, _, _), .binary(.contains, _, _), .binary(.matches, _, _):
            return Operand(expr: try condition(e, scope))
        case .binary(let op, let l, let r):
            return Operand(expr: try checkArithmetic(op, l, r, scope, range: e.range))
        case .call(let name, let args):
            return Operand(expr: try call(name, args, scope, range: e.range))
        }
    }

    func sameKind(_ a: FieldType, _ b: FieldType) -> Bool {
        if a.isNumeric && b.isNumeric { return true }
        switch (a, b) {
        case (.ref, .ref), (.list, .list): return true
        default: return a == b
        }
    }

    func describeType(_ t: FieldType) -> String {
        switch t {
        case .number(let q): return q ? "a quantity" : "a number"
        case .string: return "text"
        case .percent: return "a percent"
        case .date: return "a date"
        case .bool: return "a bool"
        case .hedge: return "a hedge"
        case .list: return "a list"
        case .ref(let c): return "a reference to \(c)"
        case .null: return "null"
        }
    }

    /// A field of the scope's columns, read directly (`topic`) or through references
    /// (`source.name`).
    mutating func path(_ names: [Name], _ scope: RowShape, allowUnresolved: Bool, range: SourceRange) throws(Failed) -> Operand {
        let first = names[0]
        guard let ci = scope.index(of: first.text) else {
            if allowUnresolved && names.count == 1 {
                return Operand(expr: CheckedExpr(.constant(.null), type: .null, range: range), unresolved: first)
            }
            throw error(.unknownField, "unknown field '\(first.text)'" + (scope.stored.map { " in \($0)" } ?? ""), at: first.range,
                        suggestion: suggest(first.text, from: scope.columns.map(\.name)),
                        notes: ["fields here: " + scope.columns.map(\.name).joined(separator: ", ")])
        }
        var type = scope.columns[ci].type
        var steps: [FieldReference.Step] = []
        for step in names.dropFirst() {
            guard case .ref(let target) = type, let tc = kb.collection(target) else {
                throw error(.unknownField, "'\(step.text)': \(describeType(type)) has no fields; only a reference can be followed with '.'", at: step.range)
            }
            guard let fi = tc.fields.firstIndex(where: { $0.name == step.text }) else {
                throw error(.unknownField, "unknown field '\(step.text)' in \(target)", at: step.range,
                            suggestion: suggest(step.text, from: tc.fields.map(\.name)),
                            notes: ["fields of \(target): " + tc.fields.map(\.name).joined(separator: ", ")])
            }
            steps.append(FieldReference.Step(collection: target, index: fi, field: step.text, range: step.range))
            type = tc.fields[fi].type
        }
        let ref = FieldReference(column: ci, name: first.text, collection: scope.stored, path: steps)
        return Operand(expr: CheckedExpr(.field(ref), type: type, range: range))
    }

    /// A field of the scope read as it is, for clauses that pick a column themselves (the
    /// measure `compare` uses when none is named).
    func column(_ i: Int, _ scope: RowShape, range: SourceRange) -> CheckedExpr {
        let ref = FieldReference(column: i, name: scope.columns[i].name, collection: scope.stored, path: [])
        return CheckedExpr(.field(ref), type: scope.columns[i].type, range: range)
    }

    mutating func checkArithmetic(_ binary: BinaryOp, _ l: Expr, _ r: Expr, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedExpr {
        let a = try check(l, scope), b = try check(r, scope)
        for c in [a, b] where !(c.type.isNumeric || c.type == .null) {
            throw error(.typeMismatch, "'\(binary.rawValue)' needs numbers, not \(describeType(c.type))", at: c.range,
                        notes: binary == .add && c.type == .string ? ["to join texts, write concat(a, b, …)"] : [])
        }
        let op = binary
        if op == .mul, a.type == .percent, b.type == .percent {
            // 50% * 50% is 2,500 as the numbers are written and 25% as shares: no answer is
            // plainly meant, and 2,500% is wrong either way.
            throw error(.typeMismatch, "a percent times a percent is not a percent", at: range,
                        notes: ["for a share of a share write the second as a fraction (50% * 0.5 is 25%); for the numbers as written, stated(…) or a number (50 * 50)"])
        }
        let percent = a.type == .percent && (b.type == .percent || op == .mul || op == .div) && !(op == .div && b.type == .percent)
        // A remainder of an interval is no interval: `%` works on the numbers as stated.
        let qualified = op != .mod && (a.type == .number(qualified: true) || b.type == .number(qualified: true))
        let t: FieldType = qualified ? .number(qualified: true) : percent ? .percent : .number()
        return CheckedExpr(.arithmetic(op, a, b), type: t, range: range)
    }

    mutating func call(_ name: Name, _ args: [Expr], _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedExpr {
        guard let f = BuiltinFunction(rawValue: name.text.lowercased()) else {
            throw error(.unknownFunction, "unknown function '\(name.text)'", at: name.range,
                        suggestion: suggest(name.text, from: BuiltinFunction.allCases.map(\.rawValue)),
                        notes: ["functions: " + BuiltinFunction.allCases.map(\.signature).joined(separator: ", ")])
        }
        if f.isAggregate {
            throw error(.misplacedAggregate, "aggregate '\(f.rawValue)' can only be used in 'group by … aggregate' or 'aggregate'",
                        at: range, notes: ["for example: estimates group by topic aggregate \(f.signature)"])
        }
        guard f.arity.contains(args.count) else {
            throw error(.typeMismatch, "\(f.rawValue) takes \(f.arity.lowerBound == f.arity.upperBound ? "\(f.arity.lowerBound)" : "\(f.arity.lowerBound) to \(f.arity.upperBound)") argument\(f.arity.upperBound == 1 ? "" : "s"), not \(args.count): \(f.signature)", at: range)
        }
        var cs: [CheckedExpr] = []
        for a in args { cs.append(try check(a, scope)) }
        // A parameter given where a number or a date goes is checked when the run binds it,
        // as after a comparison: `floor($x)` given "ten" is an error, not a silent null.
        func expect(_ i: Int, _ t: FieldType) {
            guard i < cs.count, let p = cs[i].parameter, parameters[p]?.0 == nil else { return }
            parameters[p] = (t, cs[i].range)
        }
        switch f {
        case .abs, .floor, .ceil, .low, .high, .stated, .qualifier: expect(0, .number())
        case .round: expect(0, .number()); expect(1, .number())
        case .year, .month, .day, .relative: expect(0, .date)
        case .substr: expect(1, .number()); expect(2, .number())
        default: break
        }
        let a0 = cs[0]
        func need(_ ok: Bool, _ what: String) throws(Failed) {
            if !ok && a0.type != .null { throw error(.typeMismatch, "\(f.rawValue) needs \(what), not \(describeType(a0.type))", at: a0.range, notes: [f.signature]) }
        }
        let numberOrPercent: FieldType = a0.type == .percent ? .percent : .number()
        let type: FieldType
        switch f {
        case .lower, .upper, .trim:
            try need(a0.type.isText, "text")
            type = .string
        case .len:
            type = .number()
        case .abs:
            try need(a0.type.isNumeric, "a number")
            type = a0.type == .percent ? .percent : a0.type == .number(qualified: true) ? a0.type : .number()
        case .round:
            try need(a0.type.isNumeric, "a number")
            // Digits out of range gave a silent empty column; a constant one is caught here.
            if cs.count > 1 {
                let d = cs[1]
                let fit: Bool = { guard let v = d.constant?.number else { return true }; return v == v.rounded() && v >= 0 && v <= 12 }()
                guard (d.type == .number() || d.type == .null) && fit else {
                    throw error(.typeMismatch, "round's digits must be a whole number from 0 to 12, not \(d.type == .number() ? d.constant.map { sanitizeForTerminal($0.text) } ?? "" : describeType(d.type))",
                                at: d.range, notes: [f.signature])
                }
            }
            type = numberOrPercent
        case .year:
            // A year is the date of that whole year: it prints as 2024 (not 2,024) and
            // compares with dates and year numbers alike.
            try need(a0.type == .date, "a date")
            type = .date
        case .month, .day:
            try need(a0.type == .date, "a date")
            type = .number()
        case .floor, .ceil:
            try need(a0.type.isNumeric, "a number")
            type = numberOrPercent
        case .substr:
            try need(a0.type.isText, "text")
            for c in cs.dropFirst() where !(c.type == .number() || c.type == .null) {
                throw error(.typeMismatch, "substr's start and length are whole numbers, not \(describeType(c.type))", at: c.range, notes: [f.signature])
            }
            type = .string
        case .replace:
            try need(a0.type.isText, "text")
            for c in cs.dropFirst() where !(c.type == .string || c.type == .null) {
                throw error(.typeMismatch, "replace's old and new texts are strings, not \(describeType(c.type))", at: c.range, notes: [f.signature])
            }
            type = .string
        case .concat, .text, .qualifier:
            if f == .qualifier { try need(a0.type.isNumeric, "a number") }
            type = .string
        case .coalesce:
            type = cs.first(where: { $0.type != .null })?.type ?? .null
        case .low, .high:
            try need(a0.type.isNumeric, "a number")
            type = .number()
        case .stated:
            try need(a0.type.isNumeric, "a number")
            type = numberOrPercent
        case .relative, .exact:
            // `x is relative` (`relative(x)`): the date is stated from another ("days after
            // 2024-10-13"). `x is exact` (`exact(x)`): the value is one point known exactly.
            let ok = f == .relative ? (a0.type == .date || a0.type == .null) : (a0.type.isNumeric || a0.type == .date || a0.type == .null)
            guard ok else {
                throw error(.typeMismatch, "'is \(f.rawValue)' needs \(f == .relative ? "a date" : "a number or a date"), not \(describeType(a0.type))",
                            at: a0.range, notes: ["for example: events where date is relative; estimates where value is not exact"])
            }
            type = .bool
        case .count, .sum, .avg, .min, .max, .spread:
            throw error(.misplacedAggregate, "aggregate '\(f.rawValue)' can only be used in 'group by … aggregate' or 'aggregate'", at: range)
        }
        return CheckedExpr(.call(f, cs), type: type, range: range)
    }
}
