import KBQPattern

extension Checker {
    /// Checks a condition: its operands are made comparable (a word against a hedge is
    /// that hedge, a year against a date is that year's date) and the result is a bool.
    mutating func condition(_ e: Expr, _ scope: RowShape) throws(Failed) -> CheckedExpr {
        switch e.kind {
        case .binary(.and, let l, let r):
            let a = try condition(l, scope), b = try condition(r, scope)
            return CheckedExpr(.and(a, b), type: .bool, range: e.range)
        case .binary(.or, let l, let r):
            let a = try condition(l, scope), b = try condition(r, scope)
            return CheckedExpr(.or(a, b), type: .bool, range: e.range)
        case .unary(.not, let x):
            return CheckedExpr(.not(try condition(x, scope)), type: .bool, range: e.range)
        case .binary(let op, let l, let r) where op.isComparison:
            let (a, b) = try comparable(try operand(l, scope, allowUnresolved: true), try operand(r, scope, allowUnresolved: true),
                                        op: op.rawValue, range: e.range, scope: scope)
            if let named = namedValueComparison(a.expr, op, b.expr, in: scope, range: e.range)
                ?? namedValueComparison(b.expr, op.flipped, a.expr, in: scope, range: e.range) { return named }
            return CheckedExpr(.compare(op, a.expr, b.expr), type: .bool, range: e.range)
        case .binary(.contains, let l, let r):
            return try containsCondition(l, r, scope, range: e.range)
        case .binary(.matches, let l, let r):
            return try matchesCondition(l, r, scope, range: e.range)
        case .between(let x, let lo, let hi, let negated):
            let x0 = try operand(x, scope, allowUnresolved: true)
            let (a, low) = try comparable(x0, try operand(lo, scope, allowUnresolved: true), op: ">=", range: e.range, scope: scope)
            let (_, high) = try comparable(x0, try operand(hi, scope, allowUnresolved: true), op: "<=", range: e.range, scope: scope)
            return CheckedExpr(.between(a.expr, low.expr, high.expr, negated: negated), type: .bool, range: e.range)
        case .isNull(let x, let negated):
            return CheckedExpr(.isNull(try check(x, scope), negated: negated), type: .bool, range: e.range)
        case .inList(let x, let list, let negated):
            return try inCondition(x, list, negated: negated, scope, range: e.range)
        default:
            let c = try check(e, scope)
            guard c.type == .bool || c.type == .null else {
                // A list (`inferred`, `aliases`) reads as a question of what it holds.
                var example = "for example: where topic = \"containers\""
                if case .list = c.type { example = "a list is tested by what it holds: where \(render(e)) != [] (not empty), where \(render(e)) contains \"…\"" }
                throw error(.typeMismatch, "expected a condition (true or false), found \(describeType(c.type))", at: e.range, notes: [example])
            }
            return c
        }
    }

    /// Resolves an operand compared with a hedge: a bare word or string must be a hedge word.
    mutating func hedgeOperand(_ c: Operand) throws(Failed) -> Operand {
        var word: String?
        var range = c.range
        if let n = c.unresolved { word = n.text; range = n.range }
        if case .string(let s)? = c.constant { word = s }
        guard let w = word else { return c }
        guard let rank = kb.hedges.rank(of: w) else {
            throw error(.unknownHedge, "'\(w)' is not a hedge word", at: range, suggestion: suggest(w, from: kb.hedges.words),
                        notes: ["hedges, strongest first: " + kb.hedges.words.joined(separator: " > ")])
        }
        return .constant(.hedge(rank: rank, word: kb.hedges.words[rank]), .hedge, range)
    }

    /// Checks the two sides of a comparison fit, converting literals where the meaning is
    /// plain (a year against a date, a date string against a date, a word against a hedge).
    mutating func comparable(_ a0: Operand, _ b0: Operand, op: String, range: SourceRange, scope: RowShape) throws(Failed) -> (Operand, Operand) {
        var a = a0, b = b0
        if a.type == .hedge { b = try hedgeOperand(b) }
        if b.type == .hedge { a = try hedgeOperand(a) }
        for (c, other) in [(a, b), (b, a)] {
            guard let n = c.unresolved else { continue }
            // What the other side is says what the name was meant to be: a word compared
            // with text wants quotes; a name compared with a date or a year wants one of the
            // date fields (`date > 2024` in estimates). A near name says it better.
            func hint() -> [String] {
                guard other.unresolved == nil else { return [] }
                let isYear = other.constant?.number.map { $0 == $0.rounded() && $0 >= 1000 && $0 <= 9999 } ?? false
                if other.type == .date || isYear {
                    let dates = scope.columns.filter { $0.type == .date }.map(\.name)
                    return dates.isEmpty ? [] : ["date fields here: " + dates.joined(separator: ", ")]
                }
                if other.type.isNumeric {
                    let numbers = numericFields(scope)
                    return numbers.isEmpty ? [] : ["number fields here: " + numbers.joined(separator: ", ")]
                }
                return other.type.isText ? ["to compare with text, put it in quotes: \"\(n.text)\""] : []
            }
            let hints = hint()
            throw unknownName(n, scope) { guessed in guessed ? [] : hints }
        }
        if let p = a.parameter { parameters[p] = (b.type == .null ? nil : b.type, a.range); return (a, b) }
        if let p = b.parameter { parameters[p] = (a.type == .null ? nil : a.type, b.range); return (a, b) }
        if case .null? = a.constant { throw error(.typeMismatch, "comparing with null is never true or false; use 'is null'", at: a.range) }
        if case .null? = b.constant { throw error(.typeMismatch, "comparing with null is never true or false; use 'is null' or 'is not null'", at: b.range) }
        func dateLiteral(_ c: Operand) -> Operand? {
            switch c.constant {
            case .number(let y)? where y == y.rounded() && y >= 1 && y <= 9999:
                return .constant(.date(PartialDate(year: Int(y))), .date, c.range)
            case .string(let s)?:
                return PartialDate.parse(s).map { .constant(.date($0), .date, c.range) }
            default: return nil
            }
        }
        if a.type == .date, b.type != .date, let d = dateLiteral(b) { b = d }
        if b.type == .date, a.type != .date, let d = dateLiteral(a) { a = d }
        let ok: Bool
        switch (a.type, b.type) {
        case (let x, let y) where x.isNumeric && y.isNumeric: ok = true
        case (.string, .string), (.date, .date), (.hedge, .hedge), (.bool, .bool): ok = true
        case (.ref, .string), (.string, .ref), (.ref, .ref): ok = true
        case (.list, .list): ok = op == "=" || op == "!="
        case (.null, _), (_, .null): ok = true
        default: ok = false
        }
        if !ok {
            // `hedge = reported`: a field whose name is near a hedge word was meant as the word.
            for (h, f) in [(a, b), (b, a)] where h.type == .hedge {
                guard case .field(let reference) = f.expr.kind else { continue }
                let name = reference.path.last?.field ?? reference.name
                guard let word = suggest(name, from: kb.hedges.words) else { continue }
                throw error(.typeMismatch, "cannot compare a hedge with '\(name)', \(describeType(f.type)) field", at: f.range,
                            suggestion: "\"\(word)\"",
                            notes: ["the hedge word is \"\(word)\"; hedges, strongest first: " + kb.hedges.words.joined(separator: " > ")])
            }
            let bad = b.constant != nil ? b : a.constant != nil ? a : b
            var notes: [String] = []
            if a.type == .date || b.type == .date { notes.append("dates are written 2024, 2024-06 or 2024-06-19, without quotes") }
            if case .list = a.type { notes.append("to test membership, write: VALUE in LIST, or LIST contains VALUE") }
            throw error(.typeMismatch, "cannot compare \(describeType(a.type)) with \(describeType(b.type)) using '\(op)'", at: bad.constant != nil ? bad.range : range, notes: notes)
        }
        return (a, b)
    }

    /// The error for a name that is no field here: a near name suggested, else the fields
    /// listed; then the `hints` for it (told whether a near name was found).
    mutating func unknownName(_ n: Name, _ scope: RowShape, hints: (_ guessed: Bool) -> [String]) -> Failed {
        let names = scope.columns.map(\.name)
        // A field of the collection that an earlier `select` left out: that is the fix, not a
        // near name or quotes.
        if scope.stored == nil, let origin = scope.origin.flatMap({ kb.collection($0) }),
           origin.fields.contains(where: { $0.name == n.text }) {
            return error(.unknownField, "unknown field '\(n.text)': the select before this clause left it out", at: n.range,
                         notes: ["'\(n.text)' is a field of \(origin.name), but the rows here have only: " + names.joined(separator: ", "),
                                 "put this clause before the select, or add \(n.text) to the select"])
        }
        let guess = suggest(n.text, from: names)
        return error(.unknownField, "unknown field '\(n.text)'" + (scope.stored.map { " in \($0)" } ?? ""), at: n.range,
                     suggestion: guess, notes: (guess == nil ? ["fields here: " + names.joined(separator: ", ")] : []) + hints(guess != nil))
    }

    /// The text to look for after `contains` or `matches`: a bare word there is meant as
    /// text far more often than as a field (`text contains Kursk`), so its error says so.
    mutating func searchedText(_ r: Expr, _ scope: RowShape, for word: String) throws(Failed) -> CheckedExpr {
        let b = try operand(r, scope, allowUnresolved: true)
        guard let n = b.unresolved else { return b.expr }
        throw unknownName(n, scope) { _ in ["to \(word) text, put it in quotes: \"\(n.text)\""] }
    }

    mutating func containsCondition(_ l: Expr, _ r: Expr, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedExpr {
        let a = try check(l, scope), b = try searchedText(r, scope, for: "search for")
        switch a.type {
        case .string, .ref, .hedge, .null, .list: break
        default:
            throw error(.typeMismatch, "'contains' needs text or a list on the left, not \(describeType(a.type))", at: a.range,
                        notes: ["for numbers, compare with = < > or between"])
        }
        if case .list = a.type {} else {
            guard b.type == .string || b.type == .null else {
                throw error(.typeMismatch, "'contains' looks for text, not \(describeType(b.type))", at: b.range,
                            notes: b.type.isNumeric ? ["put the number in quotes to search for it as text: \"\(b.constant?.text ?? "…")\""] : [])
            }
            if let p = b.parameter { parameters[p] = (.string, b.range) }
        }
        return CheckedExpr(.contains(a, b), type: .bool, range: range)
    }

    mutating func matchesCondition(_ l: Expr, _ r: Expr, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedExpr {
        let a = try check(l, scope), b = try searchedText(r, scope, for: "match")
        switch a.type {
        case .string, .ref, .hedge, .null: break
        default:
            throw error(.typeMismatch, "'matches' needs text on the left, not \(describeType(a.type))", at: a.range)
        }
        guard b.type == .string || b.type == .null else {
            throw error(.typeMismatch, "'matches' needs a pattern in quotes, not \(describeType(b.type))", at: b.range)
        }
        if case .string(let source)? = b.constant {
            do { _ = try Pattern(source) } catch {
                // Point at the offending byte inside the string literal (after its quote).
                let at = b.range.start + 1 + error.offset
                throw self.error(.invalidLiteral, "invalid pattern: \(error.message)", at: SourceRange(at, min(at + 1, b.range.end)))
            }
        }
        if let p = b.parameter { parameters[p] = (.string, b.range); patternParameters.insert(p) }
        return CheckedExpr(.matches(a, b), type: .bool, range: range)
    }

    mutating func inCondition(_ x: Expr, _ list: Expr, negated: Bool, _ scope: RowShape, range: SourceRange) throws(Failed) -> CheckedExpr {
        let a = try operand(x, scope, allowUnresolved: true)
        guard case .list(let items) = list.kind else {
            let l = try check(list, scope)
            guard case .list = l.type else {
                // A parameter after 'in' must be bound to a list: a string there once matched
                // nothing, silently.
                if let p = l.parameter {
                    parameters[p] = (.list(nil), l.range)
                    return CheckedExpr(.inValues(a.expr, l, negated: negated), type: .bool, range: range)
                }
                throw error(.typeMismatch, "'in' needs a list such as [\"a\", \"b\"], not \(describeType(l.type))", at: l.range,
                            notes: ["to search text, use: contains"])
            }
            return CheckedExpr(.inValues(a.expr, l, negated: negated), type: .bool, range: range)
        }
        var checked: [CheckedExpr] = []
        var x = a.expr
        // Names a reference is compared with pick rows; all of them together are the rows
        // any of them picks.
        var named: [Int]? = []
        var target: String?
        for item in items {
            let (p, q) = try comparable(a, try operand(item, scope, allowUnresolved: true), op: "in", range: item.range, scope: scope)
            if checked.isEmpty { x = p.expr }
            checked.append(q.expr)
            if case .refersTo(_, let c, let rows, _)? = namedValueComparison(p.expr, .eq, q.expr, in: scope, listItem: true, range: item.range)?.kind {
                named? += rows
                target = c
            } else {
                named = nil
            }
        }
        if let named, let target, !items.isEmpty {
            return CheckedExpr(.refersTo(x, collection: target, rows: Array(Set(named)).sorted(), negated: negated), type: .bool, range: range)
        }
        return CheckedExpr(.inList(x, checked, negated: negated), type: .bool, range: range)
    }
}
