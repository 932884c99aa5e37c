import CLibPQ
#if canImport(Glibc)
import Glibc
#endif
import KBQ

/// A failure talking to the database: the server's message (with its SQLSTATE) or the
/// client's, for the user as it is.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, said for a person.
    public let message: String
    /// The message.
    public var description: String { message }

    package init(message: String) { self.message = message }
}

/// One connection to PostgreSQL through libpq. Connection strings and URLs follow libpq's
/// conventions, environment included (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE …).
package final class Connection {
    private let handle: OpaquePointer

    /// Opens a connection; throws with libpq's message when it cannot.
    package init(_ conninfo: String) throws(DatabaseError) {
        // Named kbq in pg_stat_activity unless the URL or PGAPPNAME names it otherwise.
        let opened = "dbname".withCString { dbname in
            "fallback_application_name".withCString { application in
                conninfo.withCString { info in
                    "kbq".withCString { kbq in
                        let keywords: [UnsafePointer<CChar>?] = [dbname, application, nil]
                        let values: [UnsafePointer<CChar>?] = [info, kbq, nil]
                        return PQconnectdbParams(keywords, values, 1)
                    }
                }
            }
        }
        guard let h = opened else { throw DatabaseError(message: "out of memory opening a connection") }
        if PQstatus(h) != CONNECTION_OK {
            let m = Connection.message(PQerrorMessage(h))
            PQfinish(h)
            throw DatabaseError(message: "cannot connect to the database: \(m)")
        }
        handle = h
        // The server's notices ("table … does not exist, skipping") are not the user's concern.
        PQclear(PQexec(h, "SET client_min_messages TO warning"))
    }

    deinit { PQfinish(handle) }

    private static func message(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "unknown error" }
        var s = String(cString: p)
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }

    /// A lost connection says so, rather than only repeating the last error.
    private func failure(_ result: OpaquePointer?) -> DatabaseError {
        var m = result.map { Connection.message(PQresultErrorMessage($0)) } ?? ""
        if m.isEmpty { m = Connection.message(PQerrorMessage(handle)) }
        if PQstatus(handle) != CONNECTION_OK { return DatabaseError(message: "the connection to the database was lost: \(m)") }
        if m.hasPrefix("ERROR:  ") { m.removeFirst(8) }
        if let r = result, let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))), String(cString: state) == "22003" {
            // numeric_value_out_of_range: kbq's arithmetic and aggregates give null past
            // Double's range, PostgreSQL's stop the statement; said so, not only "overflow".
            m += ": a number went past ±1.8e308, which kbq gives as null on the file and PostgreSQL refuses (docs/ENGINES.md)"
        }
        return DatabaseError(message: "the database refused the statement: \(m)")
    }

    /// Runs statements that return no rows (DDL, BEGIN, COMMIT).
    package func execute(_ sql: String) throws(DatabaseError) {
        let r = PQexec(handle, sql)
        defer { PQclear(r) }
        let s = PQresultStatus(r)
        guard s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK else { throw failure(r) }
    }

    /// Runs one query with bind parameters (as text, NULL as nil) and returns its rows as
    /// text cells. The statement and its parameters travel apart: nothing is spliced.
    /// When `cancel` is cancelled while the server runs the statement (Ctrl-C in the REPL),
    /// the server is asked to cancel it, and the query fails with the server's error.
    package func query(_ sql: String, parameters: [String?] = [], cancel: CancellationToken? = nil) throws(DatabaseError) -> [[String?]] {
        let cParams = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for p in cParams { free(p) } }
        let values: [UnsafePointer<CChar>?] = cParams.map { $0.map { UnsafePointer($0) } }
        let r = cancel.map { execute(sql, values, cancel: $0) } ?? PQexecParams(handle, sql, Int32(values.count), nil, values, nil, nil, 0)
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(r) }
        let rows = Int(PQntuples(r)), cols = Int(PQnfields(r))
        var out: [[String?]] = []
        out.reserveCapacity(rows)
        for i in 0..<rows {
            var row: [String?] = []
            row.reserveCapacity(cols)
            for j in 0..<cols {
                if PQgetisnull(r, Int32(i), Int32(j)) == 1 { row.append(nil) }
                else { row.append(String(cString: PQgetvalue(r, Int32(i), Int32(j)))) }
            }
            out.append(row)
        }
        return out
    }

    /// PQexecParams, but waiting for the result in steps of a tenth of a second (or until a
    /// signal interrupts the wait), so that a cancelled token cancels the statement on the
    /// server: from this thread, not from the signal handler. The last result, or nil.
    private func execute(_ sql: String, _ values: [UnsafePointer<CChar>?], cancel: CancellationToken) -> OpaquePointer? {
        guard PQsendQueryParams(handle, sql, Int32(values.count), nil, values, nil, nil, 0) == 1 else { return nil }
        var cancelSent = false
        while PQisBusy(handle) == 1 {
            if cancel.isCancelled && !cancelSent {
                cancelSent = true
                makeCanceller()?.cancelRunningStatement()
            }
            var wait = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            _ = poll(&wait, 1, 100)
            // A connection that broke gives its error as the result below.
            if PQconsumeInput(handle) == 0 { break }
        }
        var last: OpaquePointer?
        while let r = PQgetResult(handle) {
            PQclear(last)
            last = r
        }
        return last
    }

    /// Whether the connection is up (it may have been lost since the last statement).
    package var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Connects again with the same parameters, as psql does when it finds its connection
    /// lost; returns whether it is up, or libpq's message.
    package func reconnect() -> Result<Void, DatabaseError> {
        PQreset(handle)
        guard isConnected else { return .failure(DatabaseError(message: Connection.message(PQerrorMessage(handle)))) }
        PQclear(PQexec(handle, "SET client_min_messages TO warning"))
        return .success(())
    }

    /// `COPY … FROM STDIN`: sends what `chunks` yields (text-format rows) until it yields
    /// nil, then ends the copy.
    package func copyIn(_ statement: String, chunks: () -> [UInt8]?) throws(DatabaseError) {
        let r = PQexec(handle, statement)
        let status = PQresultStatus(r)
        PQclear(r)
        guard status == PGRES_COPY_IN else { throw failure(nil) }
        while let chunk = chunks() {
            if chunk.isEmpty { continue }
            let sent = chunk.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            if sent != 1 {
                _ = PQputCopyEnd(handle, "kbq could not send the rows")
                throw failure(nil)
            }
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw failure(nil) }
        var lastError: DatabaseError?
        while let res = PQgetResult(handle) {
            if PQresultStatus(res) != PGRES_COMMAND_OK { lastError = failure(res) }
            PQclear(res)
        }
        if let lastError { throw lastError }
    }

    /// A handle another thread (the Ctrl-C handler) can use to cancel the running statement
    /// on the server.
    package func makeCanceller() -> Canceller? {
        PQgetCancel(handle).map(Canceller.init)
    }
}

/// Cancels the statement running on a connection (libpq's PQcancel, safe from a signal
/// handler's thread).
package final class Canceller: @unchecked Sendable {
    // @unchecked: PQcancel is documented as safe to call from any thread and from a signal
    // handler; the object is freed only when the canceller goes.
    private let cancel: OpaquePointer
    init(_ c: OpaquePointer) { cancel = c }
    deinit { PQfreeCancel(cancel) }

    /// Asks the server to cancel; returns whether the request was sent.
    @discardableResult
    package func cancelRunningStatement() -> Bool {
        // On the stack: this runs in a signal handler, where allocating is not safe.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { PQcancel(cancel, $0.baseAddress, 256) == 1 }
    }
}
