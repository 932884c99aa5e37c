import KBQPattern

/// The version of kbq.
public let kbqVersion = "0.1.0"

/// A checked query, ready to run many times with different parameters. Immutable and safe
/// to share across threads.
public final class PreparedQuery: Sendable {
    /// The knowledge base the query was checked against.
    public let kb: KnowledgeBase
    /// The query text.
    public let source: SourceText
    /// The parameters the query reads (`$name`), sorted.
    public let parameterNames: [String]
    /// The checked statements, as data: what explain, an editor or a SQL backend read.
    public let checked: CheckedScript
    let statements: [PlannedStatement]
    let parameterTypes: [String: ParamInfo]
    /// How many slots the plan reads parameters from (``Env/args``).
    let slotCount: Int
    /// The parameters to check, by name (the order their problems are reported in), with
    /// the slot each goes to.
    let checkOrder: [ParamCheck]
    /// Whether some parameter takes a date or hedge, whose strings are read as one.
    let coerces: Bool
    /// The `field = $name` conditions an empty result is explained by (``ParameterProbe``).
    let probes: [ParameterProbe]

    struct ParamInfo: Sendable {
        let type: FieldType?
        let range: SourceRange
        var isPattern = false

        /// What a value for the parameter must be, worked out once rather than per run.
        var check: Check {
            guard let type else { return .any }
            if type.isNumeric { return .numeric }
            switch type {
            case .string, .ref: return .text
            case .date: return .date
            case .bool: return .bool
            case .hedge: return .hedge
            case .list: return .list
            default: return .none
            }
        }

        enum Check { case any, numeric, text, date, bool, hedge, list, none }
    }

    /// A parameter as a run checks and binds it. A class: a run reads each one with a
    /// retain, where a struct of a name and a type was copied field by field.
    final class ParamCheck: Sendable {
        let name: String
        let info: ParamInfo
        let check: ParamInfo.Check
        let slot: Int?

        init(name: String, info: ParamInfo, check: ParamInfo.Check, slot: Int?) {
            self.name = name
            self.info = info
            self.check = check
            self.slot = slot
        }
    }

    /// Parses and checks `text` against `kb`. Throws every problem found, each with its
    /// range; nothing is left half-prepared.
    ///
    /// Checking is bounded like a run: by the query text's size and nesting, by at most
    /// 10,000 items in one select or aggregate list, and by `limits.maxSeconds` and
    /// `cancel` (checking a script of 30,000 statements takes time too). Pass the limits
    /// the query will run under when its text comes from someone you do not trust.
    public convenience init(_ text: String, kb: KnowledgeBase = .article, name: String = "<query>",
                            limits: Limits = .none, cancel: CancellationToken? = nil) throws(Diagnostics) {
        let checked = check(source: text, kb: kb, limits: limits, cancel: cancel)
        if !checked.diagnostics.isEmpty { throw Diagnostics(Diagnostic.reported(checked.diagnostics)) }
        if checked.statements.isEmpty { throw Diagnostics([Diagnostic(.syntax, "the query is empty", at: SourceRange(0, 0))]) }
        self.init(kb: kb, source: SourceText(text, name: name), checked: checked)
    }

    /// What checking found that does not stop the query: a literal that matches no value
    /// of the field it is compared with (``Diagnostic/Kind/noMatch``). An empty result of
    /// such a query says so in its notes too.
    public var warnings: [Diagnostic] { checked.warnings }

    /// Lowers a checked script into runnable plans.
    init(kb: KnowledgeBase, source: SourceText, checked: CheckedScript) {
        let lowering = Lowering(kb: kb)
        self.kb = kb
        self.source = source
        self.checked = checked
        self.statements = checked.statements.map { lowering.plan($0) }
        var types: [String: ParamInfo] = [:]
        for p in checked.parameters { types[p.name] = ParamInfo(type: p.type, range: p.range, isPattern: p.isPattern) }
        self.parameterTypes = types
        self.parameterNames = types.keys.sorted()
        self.slotCount = checked.parameters.count
        self.checkOrder = checked.parameters.map {
            let info = types[$0.name] ?? ParamInfo(type: $0.type, range: $0.range)
            return ParamCheck(name: $0.name, info: info, check: info.check, slot: $0.slot)
        }
        self.coerces = types.values.contains { $0.type == .date || $0.type == .hedge }
        self.probes = checked.parameters.isEmpty ? [] : checked.statements.flatMap { st -> [ParameterProbe] in
            switch st.kind {
            case .query(let q), .let(_, let q): return ParameterProbe.probes(of: q)
            case .explain: return []
            }
        }
    }

    /// Runs the query. The result is that of the last statement (a script of `let`s and
    /// one query returns the query's result).
    public func run(parameters: [String: Value] = [:], limits: Limits = .none, cancel: CancellationToken? = nil) throws(Diagnostics) -> ResultTable {
        if statements.count == 1, case .query(let plan) = statements[0] {
            // One query, the usual prepared statement: what `execute` does, without the
            // bookkeeping a script of several statements needs.
            let parameters = coerce(parameters)
            let (args, problems) = bindParameters(parameters)
            if !problems.isEmpty { throw Diagnostics(problems) }
            let env = Env(kb: kb, params: parameters, args: args, lets: [:], limits: limits, cancel: cancel)
            do throws(Diagnostic) {
                let table = try plan.run(env).result(env).bounded(by: limits, at: plan.range)
                if let d = kb.damageDiagnostic() { throw d }
                return explained(table, within: plan.range, parameters)
            } catch {
                var d = error
                if d.range == nil { d.range = plan.range }
                throw Diagnostics([d])
            }
        }
        var last: ResultTable?
        let (diags, _) = execute(statements, parameters: parameters, limits: limits, cancel: cancel, lets: [:], keepGoing: false) { outcome in
            if case .result(let r) = outcome { last = r }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
        return last ?? ResultTable(columns: [], rows: [])
    }

    /// The checked plan, as `explain` shows it (one result per statement).
    public var plans: [ResultTable] {
        statements.map {
            switch $0 {
            case .query(let p), .explain(let p), .bind(_, let p): return p.explanation
            }
        }
    }

    /// Checks parameter values against what the query expects of them, and puts each in
    /// its slot.
    func bindParameters(_ params: [String: Value]) -> (args: Arguments, problems: [Diagnostic]) {
        var out: [Diagnostic] = []
        var args = Arguments(count: slotCount)
        for p in checkOrder {
            guard let v = value(of: p.name, in: params) else {
                out.append(Diagnostic(.unboundParameter, "no value given for parameter $\(p.name)", at: p.info.range,
                                      notes: ["bind it with --param \(p.name)=VALUE, or in the API's parameters"]))
                continue
            }
            if let slot = p.slot { args[slot] = v }
            if v.isNull { continue }
            let ok: Bool
            switch (p.check, v) {
            case (.any, _): continue
            case (.numeric, _): ok = v.number != nil
            case (.text, .string), (.date, .date), (.bool, .bool), (.hedge, .hedge), (.list, .list): ok = true
            case (.hedge, .string(let w)): ok = kb.hedges.rank(of: w) != nil
            case (.date, .number(let y)): ok = y == y.rounded() && y >= 1 && y <= 9999
            case (.date, .string(let s)): ok = PartialDate.parse(s) != nil
            default: ok = false
            }
            if ok, p.info.isPattern, case .string(let source) = v {
                do { _ = try Pattern(source) } catch {
                    out.append(Diagnostic(.invalidLiteral, "parameter $\(p.name) is not a valid pattern: \(error.message)", at: p.info.range))
                }
            }
            if !ok, p.check == .list {
                out.append(Diagnostic(.unboundParameter, "parameter $\(p.name) follows 'in' and needs a list, but was given \(v.kindName) \(sanitizeForTerminal(v.text))", at: p.info.range,
                                      notes: ["a list is written as in a query: --param \(p.name)='[\"a\", \"b\"]' or --param \(p.name)='[1, 2]'"]))
            } else if !ok, p.info.type != nil {
                // Said by what the place needs, not how it is used: a parameter may be compared
                // with a field or given to a function (floor($x)).
                let needs: String
                switch p.check {
                case .numeric: needs = "a number"
                case .text: needs = "text"
                case .date: needs = "a date (2024, 2024-06 or 2024-06-19)"
                case .bool: needs = "true or false"
                case .hedge: needs = "a hedge word (" + kb.hedges.words.joined(separator: ", ") + ")"
                default: needs = p.info.type.map { "\($0)" } ?? "another kind of value"
                }
                out.append(Diagnostic(.unboundParameter, "parameter $\(p.name) needs \(needs) here, but was given \(v.kindName) \(sanitizeForTerminal(v.text))", at: p.info.range))
            }
        }
        return (args, out)
    }

    /// `params[name]`. Among a few parameters (the usual prepared query takes one or two) the
    /// names are compared rather than hashed: hashing a name costs more than a few comparisons.
    private func value(of name: String, in params: [String: Value]) -> Value? {
        if params.count > 4 { return params[name] }
        for (k, v) in params where k == name { return v }
        return nil
    }

    func execute(_ statements: [PlannedStatement], parameters: [String: Value], limits: Limits, cancel: CancellationToken?,
                 lets initial: [String: Rows], keepGoing: Bool, started: ContinuousClock.Instant = .now,
                 emit: (StatementOutcome) -> Void) -> ([Diagnostic], [String: Rows]) {
        let parameters = coerce(parameters)
        let (args, problems) = bindParameters(parameters)
        if !problems.isEmpty { return (problems, initial) }
        var lets = initial
        var diags: [Diagnostic] = []
        // The limits bound the whole run: a script of many statements shares one clock and
        // one work count (and, from `Session.run`, the clock checking started).
        var work = 0, text = 0
        for st in statements {
            // The statement's environment holds the bindings so far: it is gone before the
            // new binding is added, or adding it would copy every binding (30,000 `let`s
            // took 28 s).
            let outcome: Result<(String, Rows)?, Diagnostic> = {
                let env = Env(kb: kb, params: parameters, args: args, lets: lets, limits: limits, cancel: cancel, started: started,
                              work: work, builtText: text)
                defer { work = env.work; text = env.builtText }
                do throws(Diagnostic) {
                    // A column of a compiled file found damaged as the statement read it
                    // fails the statement, rather than answer from a column of nulls.
                    switch st {
                    case .query(let p):
                        let table = try p.run(env).result(env).bounded(by: limits, at: p.range)
                        if let d = kb.damageDiagnostic() { throw d }
                        emit(.result(explained(table, within: p.range, parameters)))
                    case .explain(let p):
                        emit(.result(p.explanation))
                    case .bind(let name, let p):
                        let rows = try p.run(env)
                        if let d = kb.damageDiagnostic() { throw d }
                        return .success((name, rows))
                    }
                    return .success(nil)
                } catch {
                    return .failure(error)
                }
            }()
            switch outcome {
            case .success(let bound?):
                lets[bound.0] = bound.1
                emit(.bound(name: bound.0, rows: bound.1.count))
            case .success(nil):
                break
            case .failure(var d):
                if d.range == nil { d.range = st.range }
                diags.append(d)
                if !keepGoing { return (diags, lets) }
            }
        }
        return (diags, lets)
    }

    /// An empty result says why: a warning about the statement, or a parameter given a value
    /// that no row of the field it is compared with holds.
    func explained(_ table: consuming ResultTable, within range: SourceRange, _ parameters: [String: Value]) -> ResultTable {
        guard table.rowCount == 0, !warnings.isEmpty || !probes.isEmpty else { return table }
        var t = table
        for w in warnings {
            guard let r = w.range, r.start >= range.start, r.end <= range.end else { continue }
            t.notes.append("empty because " + w.message)
        }
        for p in probes where p.range.start >= range.start && p.range.end <= range.end {
            if let note = p.emptyBecause(parameters, kb: kb), !t.notes.contains(note) { t.notes.append(note) }
        }
        return t
    }

    /// Strings given for date- or hedge-typed parameters are read as dates and hedges.
    func coerce(_ params: [String: Value]) -> [String: Value] {
        if !coerces { return params }
        var out = params
        for (name, info) in parameterTypes {
            guard let v = params[name], let t = info.type else { continue }
            switch (t, v) {
            case (.date, .string(let s)): if let d = PartialDate.parse(s) { out[name] = .date(d) }
            case (.date, .number(let y)) where y == y.rounded() && y >= 1 && y <= 9999: out[name] = .date(PartialDate(year: Int(y)))
            case (.hedge, .string(let w)): if let r = kb.hedges.rank(of: w) { out[name] = .hedge(rank: r, word: kb.hedges.words[r]) }
            default: break
            }
        }
        return out
    }
}

extension PlannedStatement {
    var range: SourceRange {
        switch self {
        case .query(let p), .explain(let p), .bind(_, let p): return p.range
        }
    }
}

/// A `field = $name` condition of a prepared query on a stored text column: when a run's
/// result is empty, the value given is looked up in the column's dictionary, so that an
/// empty answer for a value the KB does not hold says so, as a literal's warning does.
struct ParameterProbe: Sendable {
    let parameter: String
    let collection: String
    let field: Int
    let range: SourceRange

    /// The probes of a checked query's `where` conditions (through `and`; an `or` or `not`
    /// can keep rows whatever one comparison says). Walked with a stack: no recursion on
    /// the depth of the condition.
    static func probes(of query: CheckedQuery) -> [ParameterProbe] {
        var out: [ParameterProbe] = []
        for clause in query.clauses {
            guard case .filter(let condition, _) = clause.kind else { continue }
            var stack = [condition]
            while let e = stack.popLast() {
                switch e.kind {
                case .and(let a, let b): stack.append(a); stack.append(b)
                case .compare(.eq, let a, let b):
                    for (field, param) in [(a, b), (b, a)] {
                        guard let name = param.parameter, let (collection, column) = field.storedColumn else { continue }
                        out.append(ParameterProbe(parameter: name, collection: collection, field: column, range: param.range))
                    }
                default: break
                }
            }
        }
        return out
    }

    /// Why the result is empty, when the value given matches no value of the column.
    func emptyBecause(_ parameters: [String: Value], kb: KnowledgeBase) -> String? {
        guard case .string(let given)? = parameters[parameter], let c = kb.collection(collection), field < c.fields.count,
              case .string(_, let pool) = c.columns[field], pool.isDistinct, pool.lookup(given) == nil else { return nil }
        let values = pool.count <= Checker.nearValueStrings ? (0..<pool.count).map { pool[UInt32($0)] } : []
        let near = Checker.nearest(given, among: values)
        var note = "empty because no \(c.name) have \(c.fields[field].name) \"\(sanitizeForTerminal(given))\" ($\(parameter))"
        if !near.isEmpty { note += "; did you mean " + near.map { "\"\(sanitizeForTerminal($0))\"" }.joined(separator: " or ") + "?" }
        return note
    }
}
