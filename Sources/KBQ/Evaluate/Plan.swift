/// One step of a lowered plan: how it runs, and what lowering chose (for `explain`).
///
/// A class, so that running a plan's steps retains one reference each rather than a
/// string and a closure.
final class PlanStep: Sendable {
    /// How the clause is run, as `explain` shows it ("row by row", "column scan", …).
    let how: String
    let run: @Sendable (Rows, Env) throws(Diagnostic) -> Rows

    init(how: String, run: @escaping @Sendable (Rows, Env) throws(Diagnostic) -> Rows) {
        self.how = how
        self.run = run
    }
}

/// A lowered query: where rows come from, the steps they pass through, and the checked
/// query it was lowered from.
///
/// A class: a prepared query hands its plan to every run, and a reference is one retain
/// where a struct of closures and arrays is several.
final class QueryPlan: Sendable {
    let checked: CheckedQuery
    let sourceHow: String
    let source: @Sendable (Env) throws(Diagnostic) -> Rows
    let steps: [PlanStep]

    init(checked: CheckedQuery, sourceHow: String, source: @escaping @Sendable (Env) throws(Diagnostic) -> Rows, steps: [PlanStep]) {
        self.checked = checked
        self.sourceHow = sourceHow
        self.source = source
        self.steps = steps
    }

    var range: SourceRange { checked.range }

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
        return rows
    }

    /// The plan as `explain` shows it: each step's checked form (from the checked query)
    /// beside how lowering runs it.
    var explanation: ResultTable {
        let s = checked.source.summary
        var rows: [[Value]] = [[.number(1), .string(s.operation), .string(s.detail), .string(sourceHow)]]
        for (i, (c, step)) in zip(checked.clauses, steps).enumerated() {
            let (op, detail) = c.summary()
            rows.append([.number(Double(i + 2)), .string(op), .string(detail), .string(step.how)])
        }
        let cols = checked.output.columns.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
        return ResultTable(columns: [ResultColumn(name: "step", type: .number()), ResultColumn(name: "operation", type: .string),
                                     ResultColumn(name: "checked", type: .string), ResultColumn(name: "runs as", type: .string)],
                           rows: rows, title: "plan (checked; nothing was run)", notes: ["output columns: " + cols])
    }
}

/// A lowered statement.
enum PlannedStatement: Sendable {
    case query(QueryPlan)
    case bind(String, QueryPlan)
    case explain(QueryPlan)
}
