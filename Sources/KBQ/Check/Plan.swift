/// One step of a checked plan: what it is (for `explain`) and how to run it.
///
/// A class, so that running a plan's steps retains one reference each rather than two
/// strings and a closure.
final class Step: Sendable {
    let name: String
    let detail: String
    let run: @Sendable (Rows, Env) throws(Diagnostic) -> Rows

    init(name: String, detail: String, run: @escaping @Sendable (Rows, Env) throws(Diagnostic) -> Rows) {
        self.name = name
        self.detail = detail
        self.run = run
    }
}

/// A checked, compiled query: where rows come from, the steps they pass through, and the
/// columns that come out.
///
/// A class: a prepared query hands its plan to every run, and a reference is one retain
/// where a struct of closures and arrays is several.
final class QueryPlan: Sendable {
    let sourceName: String
    let sourceDetail: String
    let source: @Sendable (Env) throws(Diagnostic) -> Rows
    let steps: [Step]
    let output: ScopeBox
    let range: SourceRange

    init(sourceName: String, sourceDetail: String, source: @escaping @Sendable (Env) throws(Diagnostic) -> Rows, steps: [Step],
         output: ScopeBox, range: SourceRange) {
        self.sourceName = sourceName
        self.sourceDetail = sourceDetail
        self.source = source
        self.steps = steps
        self.output = output
        self.range = range
    }

    /// Runs the plan.
    func run(_ env: Env) throws(Diagnostic) -> Rows {
        try env.tick(0)
        var rows = try source(env)
        for s in steps {
            rows = try s.run(rows, env)
            try env.checkFailure()
            try env.tick(0)
        }
        // Handing the rows over is work too: a bare scan of a big collection counts.
        try env.tick(rows.count)
        if rows.count > env.limits.maxRows {
            throw Diagnostic(.tooManyRows, "the result has \(rows.count) rows, more than the \(env.limits.maxRows) allowed for this run",
                             at: range, notes: ["add 'limit N', or a narrower 'where'"])
        }
        let columns = output.scope.columns.count
        let (values, overflow) = rows.count.multipliedReportingOverflow(by: columns)
        if overflow || values > env.limits.maxValues {
            throw Diagnostic(.tooManyRows, "the result has \(rows.count) rows of \(columns) columns, more than the \(env.limits.maxValues) values allowed for this run",
                             at: range, notes: ["add 'limit N', or select fewer columns"])
        }
        return rows
    }

    /// The plan as `explain` shows it.
    var explanation: ResultTable {
        var rows: [[Value]] = [[.number(1), .string(sourceName), .string(sourceDetail)]]
        for (i, s) in steps.enumerated() { rows.append([.number(Double(i + 2)), .string(s.name), .string(s.detail)]) }
        let cols = output.scope.columns.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
        return ResultTable(columns: [ResultColumn(name: "step", type: .number()), ResultColumn(name: "operation", type: .string),
                                     ResultColumn(name: "detail", type: .string)],
                           rows: rows, title: "plan (checked; nothing was run)", notes: ["output columns: " + cols])
    }
}

/// A scope made safe to keep in a Sendable plan (collections are immutable).
struct ScopeBox: @unchecked Sendable {
    let scope: Scope
}

/// A checked statement.
enum PlannedStatement: Sendable {
    case query(QueryPlan)
    case bind(String, QueryPlan)
    case explain(QueryPlan)
}
