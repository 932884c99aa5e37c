/// A conversation with a knowledge base: statements run one input at a time (a REPL line,
/// a script file), and `let` names bound by one input stay visible to the next.
public struct Session: Sendable {
    /// The knowledge base queries run against.
    public var kb: KnowledgeBase {
        didSet { lets = [:]; letShapes = [:] }
    }
    var lets: [String: RowsBox] = [:]
    /// The shape of each `let` name's rows, for checking the next input.
    public private(set) var letShapes: [String: RowShape] = [:]

    struct RowsBox: @unchecked Sendable { let rows: Rows }

    /// Starts a session on `kb` with no `let` names.
    public init(kb: KnowledgeBase = .article) {
        self.kb = kb
    }

    /// The `let` names bound so far, sorted.
    public var letNames: [String] { lets.keys.sorted() }

    /// The columns of a `let` name's rows.
    public func columns(ofLet name: String) -> [ResultColumn]? { letShapes[name]?.columns }

    /// The collection a `let` name's rows come from, when they are still its rows.
    public func collection(ofLet name: String) -> KBCollection? {
        letShapes[name].flatMap { ($0.stored ?? $0.origin).flatMap { kb.collection($0) } }
    }

    /// Checks every statement of `source`, then runs them in order, passing each outcome to
    /// `emit`. If any statement fails to check, nothing runs (unless `keepGoing`, which runs
    /// the statements that checked and goes on after run-time errors). Warnings are given
    /// to `emit` before anything runs (``StatementOutcome/warning(_:)``) and never stop it.
    /// Returns every problem; an empty array means success.
    public mutating func run(_ source: SourceText, parameters: [String: Value] = [:], limits: Limits = .none,
                             cancel: CancellationToken? = nil, keepGoing: Bool = false,
                             emit: (StatementOutcome) -> Void) -> [Diagnostic] {
        // With syntax errors the statements that parsed are still checked, so that one run
        // reports every independent problem; none of them runs unless `keepGoing`.
        // Checking counts against the run's time: one clock from the text to the results.
        let started = ContinuousClock.now
        let checked = check(source: source.text, kb: kb, lets: letShapes, limits: limits, cancel: cancel, started: started)
        // Checking reads a KB's dictionaries: a damaged one stops the run here.
        let checkErrors = checked.diagnostics + (kb.damageDiagnostic().map { [$0] } ?? [])
        if !checkErrors.isEmpty && !keepGoing { return Diagnostic.reported(checkErrors) }
        guard !checked.statements.isEmpty else { return Diagnostic.reported(checkErrors) }
        // Warnings come first, before anything runs, and never stop it.
        for w in checked.warnings { emit(.warning(w)) }
        let prepared = PreparedQuery(kb: kb, source: source, checked: checked)
        let planned = prepared.statements
        let (runErrors, bound) = prepared.execute(planned, parameters: parameters, limits: limits, cancel: cancel,
                                                  lets: lets.mapValues(\.rows), keepGoing: keepGoing, started: started, emit: emit)
        for st in planned {
            if case .bind(let name, let p) = st, let rows = bound[name] {
                lets[name] = RowsBox(rows: rows)
                letShapes[name] = p.checked.output
            }
        }
        return Diagnostic.reported(checkErrors + runErrors)
    }
}
