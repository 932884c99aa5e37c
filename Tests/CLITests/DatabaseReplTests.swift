import Foundation
import Testing

// `kbq --db URL` on a terminal: the real kbq (which hands over to kbq-db) under a
// pseudo-terminal, against the real PostgreSQL server KBQ_TEST_PG names, on a database of
// the test's own with the article KB pushed. What is asserted is what a person sees: TAB,
// "did you mean", results drawn exactly as the file REPL draws them, errors from the server
// with the prompt back, Ctrl-C cancelling the statement on the server, Ctrl-D's exit status.

private let containers = #"estimates where topic = "containers" compare source"#

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG (a PostgreSQL server; .ci/run starts one)"))
struct DatabaseReplTests {
    let scratch: Scratch
    let db: TestDatabase

    init() throws {
        scratch = try Scratch()
        db = try TestDatabase()
        let push = kbq(["push", db.url], scratch: scratch)
        guard push.status == 0 else { throw DatabaseTestError("kbq push failed: \(push.error)") }
    }

    /// kbq's REPL on the pushed KB, at its first prompt.
    private func repl(columns: UInt16 = 100, environment: [String: String?] = [:]) throws -> TerminalSession {
        let session = try TerminalSession(["--db", db.url], scratch: scratch, environment: environment, columns: columns)
        try session.expect("kbq> ")
        return session
    }

    /// The backends of kbq's connections to the test's database (pid, state, wait event).
    private func kbqBackends() throws -> [String] {
        let name = String(db.url[db.url.index(after: db.url.lastIndex(of: "/") ?? db.url.startIndex)...])
        let rows = try psql(db.url, "SELECT pid, state, coalesce(wait_event_type, '') FROM pg_stat_activity WHERE datname = '\(name)' AND application_name = 'kbq'")
        return rows.split(separator: "\n").map(String.init)
    }

    @Test func bannerSaysWhereTheStatementsRun() throws {
        let kbq = try repl()
        #expect(kbq.text.contains("article KB on \(db.url), 9 collections"))
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func tabCompletesFromTheSchemaKeptInTheDatabase() throws {
        let kbq = try repl()
        kbq.send("estim\t")
        try kbq.expect("estimates ")
        // `t` fits `topic` and `text`; `text` is prose, so TAB completes `topic`, as on the file.
        kbq.send("where t\t")
        try kbq.expect("where topic ")
        kbq.send("= \"c\t")
        try kbq.expect("\"containers\" ")
        try kbq.enter("compare source", expecting: "relative spread 21%")
        // A field of the collection a reference points to.
        kbq.send("estimates where source.n\t")
        try kbq.expect("source.name ")
        try kbq.enter("contains \"South\" select topic", expecting: "(1 row)")
        // Dot-commands complete as on the file, with the database's collections.
        kbq.send(".schema ev\t")
        try kbq.expect(".schema events ")
        try kbq.enter("", expecting: "events: 16 rows, key id")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func didYouMeanComesFromTheSchemaAndThePromptStays() throws {
        let kbq = try repl()
        kbq.send("estimtes\r")
        try kbq.expect("unknown collection 'estimtes'")
        try kbq.expect("did you mean 'estimates'?")
        try kbq.expect("kbq> ")
        kbq.send("sources where nme = \"x\"\r")
        try kbq.expect("unknown field 'nme' in sources")
        try kbq.expect("did you mean 'name'?")
        try kbq.expect("kbq> ")
        try kbq.enter("sources aggregate count()", expecting: "13")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    /// The text a statement prints, from the line typed to the next prompt.
    private func output(of statement: String, in session: TerminalSession) throws -> String {
        session.send(statement + "\r")
        try session.expect(statement)
        return try session.expect("kbq> ")
    }

    @Test func resultsAreDrawnExactlyAsOnTheFile() throws {
        let statements = [
            containers,
            #"sources where name contains "intel" select name, kind sort by name"#,
            "events where date >= 2024-06 sort by date limit 4 timeline",
            "estimates group by unit aggregate count() as n, max(value) as most sort by unit",
            #"claims where hedge in ["reportedly", "likely"] sort by id limit 5 select source.name, hedge"#,
            "let firm = estimates where hedge >= stated",
            "firm select topic, value sort by topic",
        ]
        let file = try TerminalSession(scratch: scratch, columns: 100)
        try file.expect("kbq> ")
        let database = try repl()
        for s in statements {
            let expected = try output(of: s, in: file)
            let actual = try output(of: s, in: database)
            if s.hasPrefix("let ") {
                // The file counts the rows as it binds them; the database runs the query when a
                // statement reads it.
                #expect(actual.contains("firm: bound"), "\(actual)")
            } else {
                #expect(actual == expected, "\(s):\n\(difference(expected, actual))")
            }
        }
        file.send("\u{04}")
        database.send("\u{04}")
        #expect(file.waitForExit() == 0)
        #expect(database.waitForExit() == 0)
    }

    @Test func dotCommandsWorkOrSayWhyNot() throws {
        let kbq = try repl()
        kbq.send(".format json\r")
        try kbq.expect("kbq> ")
        try kbq.enter("sources where id = \"zelensky\" select name", expecting: #"{"name": "Volodymyr Zelensky"}"#)
        kbq.send(".format table\r")
        try kbq.expect("kbq> ")
        kbq.send(".timer on\r")
        try kbq.expect("kbq> ")
        try kbq.enter("sources aggregate count()", expecting: "time: ")
        // The KB is the one pushed: loading or attaching a file does not apply.
        kbq.send(".load article\r")
        try kbq.expect(".load does not apply here")
        try kbq.expect("kbq push URL --kb FILE")
        try kbq.expect("kbq> ")
        try kbq.enter(".help", expecting: "Commands:")
        // A script read at the prompt runs on the database too, `let` and all.
        let script = try scratch.write("firm.kbq", "let firm = estimates where hedge >= stated\nfirm aggregate count() as firm_rows\n")
        try kbq.enter(".read \(script)", expecting: "firm_rows")
        // psql's \d is .schema, on the database's collections.
        try kbq.enter("\\d estimates", expecting: "estimates: 5 rows, key id, measure value")
        kbq.send("\\q\r")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func aServerErrorIsSaidAndThePromptComesBack() throws {
        let kbq = try repl()
        // The table goes behind kbq's back: the server refuses the statement.
        _ = try db.query("ALTER TABLE sources RENAME TO sources_elsewhere")
        kbq.send("sources limit 1\r")
        try kbq.expect("error: the database refused the statement:")
        try kbq.expect(#"relation "sources" does not exist"#)
        try kbq.expect("kbq> ")
        try kbq.enter("estimates aggregate count()", expecting: "(1 row)")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func ctrlCCancelsTheStatementOnTheServer() throws {
        let kbq = try repl()
        // Another session holds the table: kbq's statement waits on the server until cancelled.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        holder.arguments = ["-X", "-q", "-d", db.url, "-c", "BEGIN; LOCK TABLE estimates; SELECT pg_sleep(60);"]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        holder.environment = ["PGAPPNAME": "kbq-test-lock"]
        try holder.run()
        defer {
            // Its server side ends it: psql waits out pg_sleep whatever signal it gets.
            _ = try? psql(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kbq-test-lock'")
            holder.waitUntilExit()
        }
        try waitUntil("the table is locked") {
            try psql(db.url, "SELECT count(*) FROM pg_locks WHERE relation = 'estimates'::regclass AND mode = 'AccessExclusiveLock' AND granted") == "1"
        }
        kbq.send("estimates where value > 1000 select topic\r")
        try waitUntil("kbq's statement waits on the server") { try kbqBackends().contains { $0.hasSuffix("|active|Lock") } }
        kbq.send("\u{03}", waitingForEditor: false)
        try kbq.expect("interrupted (Ctrl-C): the query stopped")
        try kbq.expect("kbq> ")
        // The server stopped it: kbq's backend is idle again, with the lock still held.
        try waitUntil("kbq's backend is idle") { try kbqBackends().allSatisfy { $0.contains("|idle|") } }
        #expect(holder.isRunning)
        try kbq.enter("sources aggregate count()", expecting: "13")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func ctrlCAtThePromptDropsTheInputAndCtrlDLeaves() throws {
        let kbq = try repl()
        kbq.send("estimates where (value >\r")
        try kbq.expect("...(> ")
        kbq.send("\u{03}")
        try kbq.expect("kbq> ")
        try kbq.enter("sources aggregate count()", expecting: "13")
        kbq.send(".exit 3\r")
        #expect(kbq.waitForExit() == 3)
    }

    @Test func aLostConnectionIsSaidAndConnectedAgain() throws {
        let kbq = try repl()
        let name = String(db.url[db.url.index(after: db.url.lastIndex(of: "/") ?? db.url.startIndex)...])
        _ = try psql(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND application_name = 'kbq'")
        // As psql: the statement fails saying why, kbq connects again, and the next one runs.
        kbq.send("sources aggregate count()\r")
        try kbq.expect("error: the connection to the database was lost:")
        try kbq.expect("connected again; the statement did not complete")
        try kbq.expect("kbq> ")
        try kbq.enter("sources aggregate count()", expecting: "13")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func valuesOfALargeCollectionCompleteFromTheKeptDictionaries() throws {
        // More rows than kbq_meta keeps for checking: no row is kept, but the topics are.
        var generated = GeneratedEstimates(seed: 7)
        let csv = try scratch.write("estimates.csv", generated.csv(count: 5_000))
        let push = kbq(["push", db.url, "--kb", csv], scratch: scratch)
        try #require(push.status == 0, "\(push.error)")
        #expect(try db.query("SELECT position('topic-0000' in value) = 0 FROM kbq_meta WHERE key = 'schema'") == "t")
        #expect(try db.query("SELECT position('topic-0000' in value) > 0 FROM kbq_meta WHERE key = 'rows'") == "t")
        let kbq = try repl()
        kbq.send("estimates where topic = \"topic-001\t")
        try kbq.expect("\"topic-0010\"  \"topic-0011\"")
        kbq.send("2\t")
        try kbq.expect("\"topic-0012\" ")
        try kbq.enter("aggregate count()", expecting: "(1 row)")
        // A topic the dictionary lacks is warned about, as on the file.
        try kbq.enter("estimates where topic = \"topic-9999\" aggregate count()", expecting: "warning")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }
}

/// Waits up to 20 seconds for `condition`, checking every 50 ms.
private func waitUntil(_ what: String, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
        if try condition() { return }
        usleep(50_000)
    }
    throw DatabaseTestError("timed out waiting until \(what)")
}
