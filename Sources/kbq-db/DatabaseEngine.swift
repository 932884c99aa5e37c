import KBQ
import KBQShell

/// `kbq --db URL` on a terminal: the REPL a KB file gets (Sources/KBQShell), with each
/// statement checked against the schema `kbq push` kept in the database and run there.
/// Completion and "did you mean" read that schema (and the dictionaries kept beside it),
/// never the rows.
final class DatabaseEngine: ShellEngine {
    private let connection: Connection
    private let url: String
    private var session: SQLSession

    init(connection: Connection, url: String, session: SQLSession) {
        self.connection = connection
        self.url = url
        self.session = session
    }

    var kb: KnowledgeBase { session.schema }
    var letNames: [String] { session.letShapes.keys.sorted() }
    func columns(ofLet name: String) -> [ResultColumn]? { session.letShapes[name]?.columns }
    func rowCount(of collection: KBCollection) -> Int { session.schema.rowCount(of: collection) }
    var location: String? { masked(url) }
    var fixedKBReason: String? {
        "kbq --db queries the KB pushed to the database; push another with `kbq push URL --kb FILE`, or query a file with `kbq --kb FILE`"
    }

    func completions(for text: String, cursor: Int) -> (replaceFrom: Int, candidates: [String]) {
        Completion.candidates(for: text, cursor: cursor, kb: session.schema, lets: session.letShapes)
    }

    /// Checks the whole entry (nothing runs when any statement has an error, as on the file),
    /// then runs each query on the server. A statement the server refuses, or that Ctrl-C
    /// cancels there, ends the entry; the shell goes on.
    func run(_ source: SourceText, parameters: [String: Value], cancel: CancellationToken, keepGoing: Bool,
             emit: (EngineOutcome) -> Void) -> EngineRun {
        let (statements, problems) = session.compile(source)
        let errors = problems.filter { !$0.isWarning }
        guard errors.isEmpty else { return EngineRun(diagnostics: errors) }
        for w in problems { emit(.warning(w)) }
        var diagnostics: [Diagnostic] = []
        for st in statements {
            if case .bind(let name) = st.kind {
                emit(.bound(name: name, rows: nil))
                continue
            }
            // psql's habit: a connection found lost is connected again before the next statement.
            if !connection.isConnected, case .failure(let e) = connection.reconnect() {
                return EngineRun(diagnostics: diagnostics, failure: "not connected to the database (\(masked(url))), and connecting again failed: \(e.message)")
            }
            do {
                emit(.result(try DatabaseEngine.execute(st, on: connection, parameters: parameters, cancel: cancel)))
            } catch let d as Diagnostic {
                diagnostics.append(d)
                if !keepGoing { break }
            } catch let e as DatabaseError {
                if cancel.isCancelled {
                    return EngineRun(diagnostics: diagnostics + [Diagnostic(.cancelled, "the server cancelled the statement", at: st.range)])
                }
                guard !connection.isConnected else { return EngineRun(diagnostics: diagnostics, failure: e.message) }
                let after: String
                switch connection.reconnect() {
                case .success: after = "connected again; the statement did not complete"
                case .failure(let again): after = "connecting again failed: \(again.message)"
                }
                return EngineRun(diagnostics: diagnostics, failure: e.message + "\n" + after)
            } catch {
                return EngineRun(diagnostics: diagnostics, failure: String(describing: error))
            }
        }
        return EngineRun(diagnostics: diagnostics)
    }

    /// Runs one query statement on the server and gives its result as on the file: the SQL
    /// alone, or, for a statement SQL does not express whole, the rows it reads finished by
    /// kbq's engine. Throws a ``Diagnostic`` (a parameter, the finishing row limit), a
    /// ``DatabaseError`` (the server's), or an ``SQLError`` (rows kbq cannot read).
    static func execute(_ st: SQLStatement, on connection: Connection, parameters: [String: Value],
                        cancel: CancellationToken? = nil) throws -> ResultTable {
        guard st.isFinishedInKBQ else {
            let rows = try connection.query(st.sql, parameters: try st.arguments(parameters), cancel: cancel)
            return try st.result(rows)
        }
        // The database picks the rows; kbq finishes the statement over them.
        var tables: [ResultTable] = []
        for fetch in st.fetches {
            let rows = try connection.query(fetch.sql, parameters: try fetch.arguments(parameters), cancel: cancel)
            tables.append(try fetch.result(rows))
        }
        return try st.finish(tables, parameters: parameters, cancel: cancel)
    }
}
