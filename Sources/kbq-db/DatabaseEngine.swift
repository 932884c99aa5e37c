import KBQ
import KBQPostgres
import KBQShell

/// `kbq --db URL` on a terminal: the REPL a KB file gets (Sources/KBQShell), with each
/// statement checked against the schema `kbq push` kept in the database and run there.
/// Completion and "did you mean" read that schema (and the dictionaries kept beside it),
/// never the rows.
final class DatabaseEngine: ShellEngine {
    private let database: PostgresKB
    private let url: String

    init(database: PostgresKB, url: String) {
        self.database = database
        self.url = url
    }

    var kb: KnowledgeBase { database.schema }
    var letNames: [String] { database.session.letShapes.keys.sorted() }
    func columns(ofLet name: String) -> [ResultColumn]? { database.session.letShapes[name]?.columns }
    func rowCount(of collection: KBCollection) -> Int { database.schema.rowCount(of: collection) }
    var location: String? { masked(url) }
    var fixedKBReason: String? {
        "kbq --db queries the KB pushed to the database; push another with `kbq push URL --kb FILE`, or query a file with `kbq --kb FILE`"
    }

    func completions(for text: String, cursor: Int) -> (replaceFrom: Int, candidates: [String]) {
        Completion.candidates(for: text, cursor: cursor, kb: database.schema, lets: database.session.letShapes)
    }

    /// Checks the whole entry (nothing runs when any statement has an error, as on the file),
    /// then runs each query on the server. A statement the server refuses, or that Ctrl-C
    /// cancels there, ends the entry; the shell goes on.
    func run(_ source: SourceText, parameters: [String: Value], cancel: CancellationToken, keepGoing: Bool,
             emit: (EngineOutcome) -> Void) -> EngineRun {
        do {
            let diagnostics = try database.run(source, parameters: parameters, cancel: cancel, keepGoing: keepGoing,
                                               bound: { emit(.bound(name: $0, rows: nil)) }) { outcome in
                switch outcome {
                case .result(let table): emit(.result(table))
                case .warning(let w): emit(.warning(w))
                case .bound(let name, let rows): emit(.bound(name: name, rows: rows))
                }
            }
            return EngineRun(diagnostics: diagnostics)
        } catch {
            if cancel.isCancelled {
                return EngineRun(diagnostics: error.diagnostics + [Diagnostic(.cancelled, "the server cancelled the statement", at: error.range)])
            }
            guard !database.connection.isConnected, !error.reconnectFailed else {
                return EngineRun(diagnostics: error.diagnostics, failure: error.error.message)
            }
            let after: String
            switch database.connection.reconnect() {
            case .success: after = "connected again; the statement did not complete"
            case .failure(let again): after = "connecting again failed: \(again.message)"
            }
            return EngineRun(diagnostics: error.diagnostics, failure: error.error.message + "\n" + after)
        }
    }
}
