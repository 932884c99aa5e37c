import KBQ

/// A KB pushed to PostgreSQL (`kbq push`, or ``push(_:to:)``), queried from a Swift program
/// in kbq's language: the engine `kbq --db` uses, as ``Session`` is the one `kbq --kb` uses.
///
/// Each statement is checked against the schema `kbq push` kept in the database (the
/// `kbq_meta` table: collections, fields, hedge scale, aliases; no rows are read for it) and
/// runs on the server as one SQL statement, with `$name` parameters bound, never spliced.
/// Statements SQL does not express whole (`compare`, `conflicts`, `search`, timelines …)
/// read their rows from the server and kbq finishes them. Results are the ``ResultTable``s
/// the file's engine gives, rendered alike.
///
/// ```swift
/// let db = try PostgresKB("postgresql://me@db.example/kbq")
/// let problems = try db.run(SourceText("estimates where topic = $t compare source"),
///                           parameters: ["t": .string("containers")]) { outcome in
///     if case .result(let table) = outcome { print(table.rendered(as: .table)) }
/// }
/// ```
///
/// Not for use from two threads at once: it holds one connection.
public final class PostgresKB {
    package let connection: Connection
    package private(set) var session: SQLSession

    /// Connects with a libpq connection string or URL (`PGHOST`, `PGUSER`, `PGPASSWORD`,
    /// `sslmode` … apply) and reads the pushed KB's schema. Throws when the server cannot be
    /// reached or holds no pushed KB.
    public convenience init(_ url: String) throws(DatabaseError) {
        let connection = try Connection(url)
        let metadata = try PostgresKB.metadata(of: connection)
        let session: SQLSession
        do { session = try SQLSession(metadata: metadata, dialect: .postgres) } catch { throw DatabaseError(message: error.message) }
        self.init(connection: connection, session: session)
    }

    /// Over a connection already made and the session read from its metadata (kbq-db).
    package init(connection: Connection, session: SQLSession) {
        self.connection = connection
        self.session = session
    }

    /// The pushed KB's schema: its collections and fields, hedge scale and aliases, without
    /// rows. Completion and did-you-mean read it as they read a loaded KB.
    public var schema: KnowledgeBase { session.schema }

    /// The most rows kbq reads of one collection to finish a statement SQL does not express
    /// whole (1,000,000 unless set); past it the statement fails with a diagnostic.
    public var finishingRowLimit: Int {
        get { session.finishingRowLimit }
        set { session.finishingRowLimit = newValue }
    }

    /// Checks every statement of `source`, then runs each on the server in order, giving its
    /// result to `emit`, as ``Session/run(_:parameters:limits:cancel:keepGoing:emit:)`` does
    /// on a file: if any statement fails to check nothing runs, and warnings come first.
    /// A `let` binds its name for the statements after it (in this call and later ones); it
    /// gives no outcome of its own, since its rows are read only where they are used.
    ///
    /// Returns the problems with the statements (an empty array is success). Throws when the
    /// server refuses a statement or the connection is lost (after one attempt to connect
    /// again, as psql makes); a cancelled `cancel` cancels the running statement on the
    /// server, which then throws.
    public func run(_ source: SourceText, parameters: [String: Value] = [:], cancel: CancellationToken? = nil,
                    keepGoing: Bool = false, emit: (StatementOutcome) -> Void) throws(DatabaseError) -> [Diagnostic] {
        do {
            return try run(source, parameters: parameters, cancel: cancel, keepGoing: keepGoing, bound: { _ in }, emit: emit)
        } catch {
            if cancel?.isCancelled == true { throw DatabaseError(message: "cancelled: the server stopped the statement (\(error.error.message))") }
            throw error.error
        }
    }

    /// A statement the server did not complete: its error, where the statement is, and the
    /// problems of the statements before it.
    package struct StatementFailure: Error {
        package let error: DatabaseError
        package let range: SourceRange
        package var diagnostics: [Diagnostic]
        /// The connection was found lost before the statement, and connecting again failed.
        package var reconnectFailed = false
    }

    /// ``run(_:parameters:cancel:keepGoing:emit:)``, telling `bound` each name a `let` binds
    /// (the REPL says so), and leaving what to do about a failed statement to the caller.
    package func run(_ source: SourceText, parameters: [String: Value], cancel: CancellationToken?, keepGoing: Bool,
                     bound: (String) -> Void, emit: (StatementOutcome) -> Void) throws(StatementFailure) -> [Diagnostic] {
        let (statements, problems) = compile(source)
        let errors = problems.filter { !$0.isWarning }
        if !errors.isEmpty && !keepGoing { return errors }
        for w in problems where w.isWarning { emit(.warning(w)) }
        var diagnostics = errors
        do {
            try run(statements, parameters: parameters, cancel: cancel, keepGoing: keepGoing, bound: bound,
                    failed: { diagnostics.append($0) }, emit: emit)
        } catch {
            var failure = error
            failure.diagnostics = diagnostics
            throw failure
        }
        return diagnostics
    }

    /// Checks `source` against the pushed KB's schema and compiles each statement to SQL;
    /// a `let` binds its name for the statements after it. Gives every problem, warnings
    /// among them, in the order of the text.
    package func compile(_ source: SourceText) -> (statements: [SQLStatement], diagnostics: [Diagnostic]) {
        session.compile(source)
    }

    /// The statement loop of every caller (the REPL, scripts, embedders): runs each compiled
    /// statement on the server in order, giving its result to `emit`. A statement that fails
    /// on kbq's side (a parameter, the finishing row limit) goes to `failed`, and ends the
    /// run unless `keepGoing`; one the server refuses, or that `cancel` cancels there, or a
    /// connection lost and not had again throws, its problem in ``StatementFailure/error``.
    /// `running` is told when a statement starts on the server and when it ends (kbq-db's
    /// script runner lets Ctrl-C end kbq at once between statements).
    package func run(_ statements: [SQLStatement], parameters: [String: Value], cancel: CancellationToken?, keepGoing: Bool,
                     bound: (String) -> Void, running: (Bool) -> Void = { _ in }, failed: (Diagnostic) -> Void,
                     emit: (StatementOutcome) -> Void) throws(StatementFailure) {
        for st in statements {
            if case .bind(let name) = st.kind {
                bound(name)
                continue
            }
            // psql's habit: a connection found lost is connected again before the next statement.
            if !connection.isConnected, case .failure(let e) = connection.reconnect() {
                throw StatementFailure(error: DatabaseError(message: "not connected to the database, and connecting again failed: \(e.message)"),
                                       range: st.range, diagnostics: [], reconnectFailed: true)
            }
            let result: ResultTable
            do {
                running(true)
                defer { running(false) }
                result = try PostgresKB.execute(st, on: connection, parameters: parameters, cancel: cancel)
            } catch let d as Diagnostic {
                failed(d)
                if keepGoing { continue } else { break }
            } catch {
                let e = (error as? DatabaseError) ?? DatabaseError(message: (error as? SQLError)?.message ?? String(describing: error))
                throw StatementFailure(error: e, range: st.range, diagnostics: [])
            }
            emit(.result(result))
        }
    }

    /// Writes `kb` to the database at `url` as `kbq push` does: a table for every collection,
    /// with the columns kbq's semantics need and the indexes its common clauses use, the rows
    /// by COPY, and the metadata (`kbq_meta`), in one transaction, so that the database holds
    /// all of the KB or, after any failure, what it held before. A KB pushed before is
    /// replaced. Returns how many collections and rows were written.
    @discardableResult
    public static func push(_ kb: KnowledgeBase, to url: String) throws(DatabaseError) -> (collections: Int, rows: Int) {
        let connection = try Connection(url)
        let (tables, rows) = try Push.run(kb: kb, into: connection)
        return (tables, rows)
    }

    /// Runs one query statement on the server and gives its result as on the file: the SQL
    /// alone, or, for a statement SQL does not express whole, the rows it reads finished by
    /// kbq's engine. Throws a ``Diagnostic`` (a parameter, the finishing row limit), a
    /// ``DatabaseError`` (the server's), or an ``SQLError`` (rows kbq cannot read).
    package static func execute(_ st: SQLStatement, on connection: Connection, parameters: [String: Value],
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

    /// The metadata `kbq push` kept beside the rows (the KB's schema among it).
    package static func metadata(of c: Connection) throws(DatabaseError) -> [String: String] {
        let exists = try c.query("SELECT to_regclass($1) IS NOT NULL", parameters: [SQLLayout.metaTable])
        guard exists.first?.first == "t" else {
            throw DatabaseError(message: "the database holds no kbq KB (no \(SQLLayout.metaTable) table): push one with kbq push URL [--kb FILE]")
        }
        var values: [String: String] = [:]
        for r in try c.query("SELECT key, value FROM \(SQLDialect.postgres.quoted(SQLLayout.metaTable))") where r.count == 2 {
            if let k = r[0], let v = r[1] { values[k] = v }
        }
        return values
    }
}

/// A connection string with its password masked, for messages.
package func masked(_ url: String) -> String {
    let parts = url.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, let schemeEnd = parts[0].firstIndex(of: "/"),
          let colon = parts[0][schemeEnd...].firstIndex(of: ":") else { return url }
    return String(parts[0][..<colon]) + ":***@" + parts[1]
}
