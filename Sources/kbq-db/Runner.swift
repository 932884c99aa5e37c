#if canImport(Glibc)
import Glibc
#endif
import KBQ
import KBQPostgres
import KBQShell
import Synchronization

/// Ctrl-C while a statement runs on the server cancels it there, rather than leaving it
/// running after kbq is gone: the handler cancels the statement's token, and the connection,
/// which looks at the token while it waits for the server, asks the server to cancel (as in
/// the REPL). Between statements Ctrl-C ends kbq at once.
enum Interrupt {
    /// The running statement's token (an unretained pointer's bits), or 0: a signal handler
    /// cannot capture context, nor allocate or lock.
    private static let running = Atomic<UInt>(0)

    static func install() {
        // A parent may have left SIGINT blocked (the mask is inherited across exec).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in
            let bits = Interrupt.running.load(ordering: .acquiring)
            guard let pointer = UnsafeRawPointer(bitPattern: bits) else { _exit(130) }
            // The runner keeps the token alive until it clears `running`; cancel() is one
            // atomic store.
            Unmanaged<CancellationToken>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.cancel() }
        }
    }

    /// Ctrl-C cancels `token` while `statementRuns`, and ends kbq otherwise.
    static func track(_ token: CancellationToken, statementRuns: Bool) {
        running.store(statementRuns ? UInt(bitPattern: Unmanaged.passUnretained(token).toOpaque()) : 0, ordering: .releasing)
    }
}

/// `kbq --db URL …` and `kbq --sql …`: the script runner over SQL. Scripts are read and
/// checked as the file's runner does (nothing runs when any statement has an error); each
/// query runs as one SQL statement on the server, and its rows render as from the file.
/// On a terminal with no script, `kbq --db URL` is the REPL (``DatabaseEngine``).
struct DatabaseRunner {
    var database: String?
    var printSQL = false
    var dialect: SQLDialect = .postgres
    var kbPath: String?
    var inputs: [(name: String, text: String)] = []
    var format: OutputFormat = .table
    var parameters: [String: Value] = [:]
    var keepGoing = false
    /// The most rows kbq reads of a collection to finish a statement SQL does not express whole.
    var finishRows: Int?
    /// No script and a terminal: the REPL.
    var interactive = false

    static let usage = "usage: kbq --db DATABASE-URL [-e QUERY | SCRIPT …] [--format F] [--param name=value] [--finish-rows N]\n" +
        "       kbq --sql [--dialect postgres|spark|duckdb|sqlite] [--kb FILE] [-e QUERY | SCRIPT …]"

    /// Reads the command line; fails with status 2 on anything it does not take.
    static func parse(_ arguments: [String]) -> DatabaseRunner {
        var r = DatabaseRunner()
        var i = 0
        var expressions: [String] = []
        var files: [String] = []
        var order: [Bool] = []
        func value(_ a: String, _ name: String) -> String {
            if a.hasPrefix(name + "=") { return String(a.dropFirst(name.count + 1)) }
            guard i + 1 < arguments.count else { fail("\(name) needs a value\n\(usage)") }
            i += 1
            return arguments[i]
        }
        var onlyFiles = false
        while i < arguments.count {
            let a = arguments[i]
            defer { i += 1 }
            if onlyFiles || a == "-" || !a.hasPrefix("-") { files.append(a); order.append(false); continue }
            switch a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a {
            case "--": onlyFiles = true
            case "--db": r.database = value(a, "--db")
            case "--sql": r.printSQL = true
            case "--dialect":
                let d = value(a, "--dialect")
                guard let dialect = SQLDialect(rawValue: d) else {
                    fail("--dialect takes one of " + SQLDialect.allCases.map(\.rawValue).joined(separator: ", ") + "; got '\(d)'")
                }
                r.dialect = dialect
            case "--kb": r.kbPath = value(a, "--kb")
            case "-e", "--execute":
                expressions.append(value(a, a.hasPrefix("--") ? "--execute" : "-e"))
                order.append(true)
            case "-f", "--format":
                let f = value(a, a.hasPrefix("--") ? "--format" : "-f")
                guard let format = OutputFormat(rawValue: f) else { fail("--format takes table, json, csv or markdown; got '\(f)'") }
                r.format = format
            case "-p", "--param":
                let p = value(a, a.hasPrefix("--") ? "--param" : "-p")
                guard let eq = p.firstIndex(of: "=") else { fail("--param expects name=value; got '\(p)'") }
                var name = String(p[..<eq])
                if name.hasPrefix("$") { name.removeFirst() }
                if r.parameters[name] != nil { fail("--param \(name) is given twice; give each parameter once") }
                r.parameters[name] = Value.parse(literal: String(p[p.index(after: eq)...]))
            case "-k", "--keep-going": r.keepGoing = true
            case "--finish-rows":
                let n = value(a, "--finish-rows")
                guard let rows = Int(n), rows >= 0 else { fail("--finish-rows takes a whole number of rows; got '\(n)'") }
                r.finishRows = rows
            default: fail("unknown option '\(a)'\n\(usage)")
            }
        }
        if r.database == nil && !r.printSQL { fail(usage) }
        if r.database != nil && r.printSQL { fail("--sql prints the SQL without running it; give --db or --sql, not both") }
        if r.database != nil && r.kbPath != nil { fail("--db reads the KB pushed to the database; --kb chooses a KB to push or to print SQL for") }
        var e = expressions.makeIterator(), f = files.makeIterator()
        for isExpression in order {
            if isExpression, let text = e.next() {
                r.inputs.append((expressions.count == 1 ? "-e" : "-e#\(r.inputs.count + 1)", text))
            } else if !isExpression, let path = f.next() {
                r.inputs.append((path == "-" ? "<stdin>" : path, readFile(path)))
            }
        }
        if r.inputs.isEmpty {
            if isatty(0) == 1 {
                if r.printSQL { fail("--sql prints the SQL of -e QUERY or a script; the REPL runs on a database: kbq --db URL") }
                r.interactive = true
            } else {
                r.inputs.append(("<stdin>", readFile("-")))
            }
        }
        return r
    }

    /// Runs every input, or the REPL; returns the exit status.
    func run() -> Status {
        if interactive { return repl() }
        Interrupt.install()
        // With a database, statements run on it (through PostgresKB's statement loop, as the
        // REPL's); without one, `--sql` prints each statement's SQL.
        var database: PostgresKB?
        var session: SQLSession?
        if let url = self.database {
            let (connection, opened) = DatabaseRunner.open(url, dialect: dialect)
            database = PostgresKB(connection: connection, session: opened)
            if let finishRows { database?.finishingRowLimit = finishRows }
        } else {
            var kb = KnowledgeBase.article
            if let kbPath {
                do { kb = try KnowledgeBase(contentsOfFile: kbPath) } catch { fail(String(describing: error)) }
            }
            do { session = try SQLSession(schema: kb, dialect: dialect) } catch { fail(error.message) }
            if let finishRows { session?.finishingRowLimit = finishRows }
        }
        let width = DatabaseRunner.tableWidth()
        var shown = 0
        var status = Status.ok
        /// Prints one statement's output as kbq does: JSON results one a line (NDJSON), others
        /// a blank line apart.
        func show(_ output: String) {
            var text = output
            if text.utf8.last != UInt8(ascii: "\n") { text += "\n" }
            if shown > 0 && format != .json { text = "\n" + text }
            shown += 1
            print(text, terminator: "")
        }
        for input in inputs {
            let source = SourceText(input.text, name: input.name)
            let (statements, problems) = database?.compile(source) ?? session?.compile(source) ?? ([], [])
            for d in problems { writeError(source.render(d)) }
            if problems.contains(where: { !$0.isWarning }) { status = .queryError; if keepGoing { continue } else { break } }
            guard let database else {
                for st in statements where st.kind == .query { show(DatabaseRunner.printable(st, dialect: dialect)) }
                continue
            }
            let token = CancellationToken()
            var failed = false
            do {
                try database.run(statements, parameters: parameters, cancel: token, keepGoing: keepGoing, bound: { _ in },
                                 running: { Interrupt.track(token, statementRuns: $0) },
                                 failed: { d in
                                     writeError(source.render(d))
                                     status = .queryError
                                     failed = true
                                 }) { outcome in
                    if case .result(let table) = outcome { show(table.rendered(as: format, width: format == .table ? width : nil)) }
                }
            } catch {
                if token.isCancelled { fail("cancelled: the server stopped the statement", .queryError) }
                fail(error.error.message)
            }
            if failed && !keepGoing { return status }
        }
        return status
    }

    /// The connection to `database` and a session over the KB pushed there; fails (exit 2)
    /// saying why when either cannot be had.
    static func open(_ database: String, dialect: SQLDialect) -> (Connection, SQLSession) {
        do {
            let c = try Connection(database)
            let metadata = try PostgresKB.metadata(of: c)
            do { return (c, try SQLSession(metadata: metadata, dialect: dialect)) } catch { fail(error.message) }
        } catch {
            fail(error.message)
        }
    }

    /// `kbq --db URL` on a terminal: the shell of Sources/KBQShell (prompt, history, completion,
    /// dot-commands, Ctrl-C) over the database. It ends with status 0 like the file's REPL,
    /// or with the status `.exit N` asks for.
    private func repl() -> Status {
        guard let database else { fail(DatabaseRunner.usage) }
        var (connection, session) = DatabaseRunner.open(database, dialect: dialect)
        if let finishRows { session.finishingRowLimit = finishRows }
        let engine = DatabaseEngine(database: PostgresKB(connection: connection, session: session), url: database)
        let shell = Shell(engine: engine, format: format, parameters: parameters, keepGoing: keepGoing, interactive: true)
        let status = Repl.run(shell)
        shell.closeResultFile()
        if let asked = shell.exitStatus { exit(asked) }
        terminate(status)
    }

    /// The SQL of a statement as `--sql` prints it: which kbq parameter each bind parameter
    /// takes, then the statement.
    static func printable(_ st: SQLStatement, dialect: SQLDialect) -> String {
        if st.isFinishedInKBQ {
            return "-- kbq finishes this statement over the rows these statements read\n" +
                st.fetches.map { printable($0, dialect: dialect) }.joined()
        }
        var out = ""
        if !st.parameterNames.isEmpty {
            out += "-- bind parameters: " + st.parameterNames.map { "$" + $0 }.joined(separator: ", ") + " (kbq --db binds them from --param)\n"
        }
        return out + st.sql + ";\n"
    }

    /// As kbq's: the terminal's width, else $COLUMNS, else 100 (what Examples/*.out are recorded at).
    static func tableWidth() -> Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let c = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), c > 0 { return c }
        return 100
    }
}

/// A script's text; a file that cannot be read is a usage error.
func readFile(_ path: String) -> String {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    guard fd >= 0 else { fail("cannot read \(path): \(String(cString: strerror(errno)))") }
    defer { if fd != 0 { close(fd) } }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 { fail("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        bytes += buffer[0..<n]
        if bytes.count > 1 << 20 { fail("\(path) is over the 1 MiB of query text kbq runs") }
    }
    return String(decoding: bytes, as: UTF8.self)
}
