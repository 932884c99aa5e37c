import Foundation
import KBQ
import Testing

// kbq against a real PostgreSQL server: `.ci/run` starts one (scripts/pg-test-server.sh) and
// says where in KBQ_TEST_PG. Without it the tests are skipped on a developer's machine and
// fail in CI (CI=true), so a broken server set-up cannot pass unnoticed.

let testDatabaseServer = ProcessInfo.processInfo.environment["KBQ_TEST_PG"].flatMap { $0.isEmpty ? nil : $0 }
let runningInCI = ProcessInfo.processInfo.environment["CI"] == "true"
let databaseTestsEnabled = testDatabaseServer != nil || runningInCI

/// A database of its own for one test on the test server, dropped when the test ends, so
/// tests that push run side by side.
final class TestDatabase: Sendable {
    let url: String
    private let server: String
    private let name: String

    /// A database on `server` (a libpq URL), by default the test server KBQ_TEST_PG names.
    init(server: String? = testDatabaseServer) throws {
        guard let server else {
            throw DatabaseTestError("CI=true but KBQ_TEST_PG is unset: .ci/run starts a PostgreSQL server for these tests")
        }
        self.server = server
        name = "kbq_test_\(UInt32.random(in: 0...UInt32.max))"
        guard let slash = server.lastIndex(of: "/") else { throw DatabaseTestError("KBQ_TEST_PG is not a URL: \(server)") }
        url = server[..<slash] + "/" + name
        _ = try psql(server, "CREATE DATABASE \(name)")
    }

    deinit { _ = try? psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

    /// Runs SQL with psql (unaligned, tuples only) and returns what it printed.
    func query(_ sql: String) throws -> String { try psql(url, sql) }
}

struct DatabaseTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// psql, the server's own client, as an independent witness of what kbq wrote.
func psql(_ url: String, _ sql: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    p.arguments = ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw DatabaseTestError("psql failed on \(sql): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
}

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG (a PostgreSQL server; .ci/run starts one)"))
struct PushTests {
    @Test func pushWritesEveryCollectionWithItsRowsAndSchema() throws {
        let db = try TestDatabase()
        let scratch = try Scratch()
        let run = kbq(["push", db.url], scratch: scratch)
        #expect(run.status == 0, "\(run.error)")
        let article = KnowledgeBase.article.collections
        #expect(run.output == "pushed article: \(article.count) collections, \(article.reduce(0) { $0 + $1.count }) rows to \(db.url)\n")
        for c in KnowledgeBase.article.collections {
            #expect(try db.query("SELECT count(*) FROM \"\(c.name)\"") == String(c.count), "rows of \(c.name)")
        }
        // Intervals as bounds with open flags, partial dates as day ranges, hedges as ranks,
        // references as keys with their row and display text.
        #expect(try db.query("SELECT value, value__lo, value__hi, value__lo_open, value__hi_open FROM estimates WHERE id = 'e3'")
                == "16500|16500|Infinity|t|f")
        #expect(try db.query("SELECT period, period__lo, period__hi FROM estimates WHERE id = 'e2'") == "since 2022|18993|2147483647")
        #expect(try db.query("SELECT hedge, source, source__display FROM estimates WHERE id = 'e5'") == "1|south-korea|South Korea")
        #expect(try db.query("SELECT count(*) FROM estimates WHERE kbq_percent") == "1")
        // The schema kept beside the rows loads as a KB with the same collections and fields,
        // and (for checking names and literals as the file does) the rows of small collections.
        let schema = try db.query("SELECT value FROM kbq_meta WHERE key = 'schema'")
        let kb = try KnowledgeBase(json: Array(schema.utf8))
        #expect(kb.collections.map(\.name) == KnowledgeBase.article.collections.map(\.name))
        for c in kb.collections {
            let original = KnowledgeBase.article.collection(c.name)
            #expect(c.fields == original?.fields, "fields of \(c.name)")
            #expect(c.count == original?.count)
            for r in 0..<c.count {
                for f in c.fields {
                    #expect(c.value(row: r, field: f.name, in: kb) == original?.value(row: r, field: f.name, in: .article), "\(c.name)[\(r)].\(f.name)")
                }
            }
        }
        #expect(kb.hedges == KnowledgeBase.article.hedges)
        // The common clauses have indexes.
        let indexes = try db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'estimates' ORDER BY 1")
        #expect(indexes.split(separator: "\n").contains("kbq_estimates_source"))
        #expect(indexes.split(separator: "\n").contains("kbq_estimates_id"))
    }

    @Test func aPushReplacesThePreviousKBWhole() throws {
        let db = try TestDatabase()
        let scratch = try Scratch()
        let csv = try scratch.write("shipments.csv", "id,topic,value\ns1,containers,16500\ns2,shells,3000000\n")
        var run = kbq(["push", db.url, "--kb", csv], scratch: scratch)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == "pushed shipments: 1 collection, 2 rows to \(db.url)\n")
        #expect(try db.query("SELECT topic FROM shipments ORDER BY kbq_row") == "containers\nshells")
        run = kbq(["push", db.url], scratch: scratch)
        #expect(run.status == 0, "\(run.error)")
        #expect(try db.query("SELECT to_regclass('shipments') IS NULL") == "t")
    }

    @Test func aFailedPushLeavesTheDatabaseAsItWas() throws {
        let db = try TestDatabase()
        let scratch = try Scratch()
        #expect(kbq(["push", db.url], scratch: scratch).status == 0)
        // PostgreSQL cuts names at 63 bytes: these two collections get one table name, and
        // the second CREATE TABLE fails after the first tables were dropped and made.
        let long = String(repeating: "a", count: 70)
        let kbFile = try scratch.write("clash.kb.json", """
            {"kbq": 1, "collections": {
              "\(long)1": {"fields": {"x": "string"}, "rows": [{"x": "a"}]},
              "\(long)2": {"fields": {"x": "string"}, "rows": [{"x": "b"}]}}}
            """)
        let run = kbq(["push", db.url, "--kb", kbFile], scratch: scratch)
        #expect(run.status == 2)
        #expect(run.error.hasPrefix("kbq: the database refused the statement: relation"), "\(run.error)")
        #expect(run.output.isEmpty)
        #expect(try db.query("SELECT count(*) FROM claims") == String(KnowledgeBase.article.collection("claims")?.count ?? -1))
        #expect(try db.query("SELECT value FROM kbq_meta WHERE key = 'name'") == "article")
    }

    @Test func anUnreachableServerIsAClearErrorWithStatus2() throws {
        let scratch = try Scratch()
        let run = kbq(["push", "postgresql://kbq@127.0.0.1:1/none"], scratch: scratch)
        #expect(run.status == 2)
        #expect(run.error.hasPrefix("kbq: cannot connect to the database: connection to server at \"127.0.0.1\", port 1 failed"), "\(run.error)")
        let usage = kbq(["push"], scratch: scratch)
        #expect(usage.status == 2)
        #expect(usage.error.hasPrefix("kbq: usage: kbq push DATABASE-URL"))
    }
}

/// The article KB pushed once into a database of its own, shared by the query tests.
let pushedArticle: Result<TestDatabase, DatabaseTestError> = {
    do {
        let db = try TestDatabase()
        let run = kbq(["push", db.url], scratch: try Scratch())
        guard run.status == 0 else { return .failure(DatabaseTestError("push failed: \(run.error)")) }
        return .success(db)
    } catch let e as DatabaseTestError {
        return .failure(e)
    } catch {
        return .failure(DatabaseTestError("\(error)"))
    }
}()

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG (a PostgreSQL server; .ci/run starts one)"))
struct DatabaseQueryTests {
    /// Queries whose rows PostgreSQL must give exactly as the file does: each of kbq's
    /// semantics the SQL carries (intervals with `where` and `where maybe`, day ranges,
    /// hedge ranks, references by key or name, case-insensitive `contains`, stable sorts
    /// with NULLs last, limits before and after filters, `let`, parameters).
    static let corpus: [(query: String, parameters: [String])] = [
        ("estimates", []),
        ("estimates where value > 10000 select topic, value, source", []),
        ("estimates where maybe value > 20000 select topic, value, source", []),
        ("estimates where value between 15000 and 20000 select topic, value", []),
        ("estimates where maybe value between 15000 and 20000 select topic, value", []),
        ("estimates where not (value > 4e6) select id, value", []),
        ("estimates where maybe not (value >= 3e6) select id, value", []),
        ("estimates where value = 13000 or value != 16500 select id, value", []),
        ("estimates where maybe value = 16600 select id, value", []),
        ("estimates where value is null select id, topic", []),
        // kbq's four-valued and/or under not: or(maybe, unknown) is maybe, and(maybe, unknown) unknown.
        ("estimates where maybe not (value > 17000 or value_high > 1) select id, value", []),
        ("estimates where maybe not (value > 17000 and value_high > 1) select id, value", []),
        ("estimates where not (value > 17000 and value_high > 1) or value > 3e6 select id, value", []),
        ("estimates where unit = \"percent\" and value > 75% select topic, value", []),
        ("events where date > 2024-10-13 select id, date", []),
        ("events where maybe date <= 2024-10-20 select id, date", []),
        ("events where date = 2024 select id, date", []),
        ("events where maybe date < 2024-10-20 select id, date sort by date desc", []),
        ("events where maybe date != 2024-06 select id, date sort by date desc, id", []),
        ("events where date is not null select date, action, actor, hedge sort by date", []),
        ("claims where hedge < stated select id, hedge, source, text sort by hedge desc, id", []),
        ("claims where hedge >= \"by some estimates\" select id, hedge sort by hedge, id limit 7", []),
        ("claims where source = \"Ukrainian intelligence\" select id, source", []),
        ("claims where source = \"ukrainian-intelligence\" select id", []),
        ("claims where source = \"Trump\" or source in [\"Zelensky\", \"nobody\"] select id, source", []),
        ("claims where source != \"the article\" and topic = \"nuclear weapons\" select id", []),
        ("claims where source != \"the article\" select source, hedge, text sort by source, hedge desc", []),
        ("claims where text contains \"KURSK\" select id, text", []),
        ("claims where text contains \"100%\" select id", []),
        // The article writes "Korea’s": a straight apostrophe finds it, as on the file.
        ("sentences where text contains \"korea's\" select id", []),
        ("claims where text contains $w select id", ["-p", "w=ZELENSKY'S"]),
        ("entities where name contains \"KIM\" or description contains \"kursk\" select id, name", []),
        ("claims group by topic aggregate count() as n where topic contains \"Korea\" sort by topic", []),
        ("claims sort by text limit 3 where text contains \"nuclear\" select id", []),
        ("claims where sentence.paragraph >= 20 select id, hedge, text, sentence", []),
        ("claims where topic in [\"south korean opinion\", \"nuclear\"] select id, topic sort by topic desc", []),
        ("claims where topic not in [\"south korean opinion\"] select id limit 5", []),
        ("claims sort by topic limit 10 where hedge >= stated select id, topic", []),
        ("claims limit 20 offset 5 sort by id desc select id", []),
        ("relations select from, relation, to, since sort by since desc, from", []),
        ("entities where kind = \"person\" select name, aliases, description", []),
        ("entities select name, lower(name) as l, upper(kind) as k sort by l limit 5", []),
        ("sentences where paragraph * 2 - 1 > 40 select id, paragraph / 4 as quarter", []),
        // x / 0 is null in kbq; the server would refuse the statement.
        ("sentences where paragraph > 40 select id, paragraph / (paragraph - paragraph) as none", []),
        ("documents select id, date", []),
        ("estimates where topic = $t select id, value", ["-p", "t=containers"]),
        ("estimates where value > $v select id", ["-p", "v=1e4"]),
        ("events where date >= $d select id, date", ["-p", "d=2024-06"]),
        ("claims where hedge >= $h select id limit $n", ["-p", "h=stated", "-p", "n=3"]),
        ("let big = estimates where value > 10000\nbig where maybe value > 20000 select id\nbig select topic", []),
        ("claims group by source aggregate count() as claims sort by claims desc, source", []),
        ("claims group by source, hedge aggregate count() as n where n > 1 sort by n desc", []),
        ("claims aggregate count() as n, count(reported) as r", []),
        ("sentences group by paragraph aggregate count() as n, min(position) as first, max(position) as last, avg(position) as mean, spread(position) as sp sort by n desc, paragraph limit 5", []),
        ("claims where hedge <= likely group by topic aggregate count() as hedged sort by hedged desc, topic", []),
        ("claims group by hedge aggregate count() as claims sort by hedge desc", []),
        ("events group by place aggregate count() as n", []),
        ("claims limit 30 group by hedge aggregate count() as n select hedge, n * 2 as twice", []),
        ("estimates select id, value, qualifier(value) as q, low(value) as lo, high(value) as hi, stated(value) as s", []),
        ("estimates group by unit aggregate count() as n, min(value) as lo, max(value) as hi, spread(value) as sp", []),
        ("estimates group by unit aggregate min(value) as lo, max(value) as hi, avg(stated(value)) as mean, sum(value_high) as s", []),
    ]

    @Test(arguments: corpus.indices)
    func theDatabaseGivesTheFilesRows(_ i: Int) throws {
        let db = try pushedArticle.get()
        let (query, parameters) = DatabaseQueryTests.corpus[i]
        let scratch = try Scratch()
        for format in ["table", "json"] {
            let file = kbq(parameters + ["--format", format, "-e", query], scratch: scratch)
            let sql = kbq(parameters + ["--format", format, "--db", db.url, "-e", query], scratch: scratch)
            #expect(file.status == 0, "\(query): \(file.error)")
            // Warnings too (a literal that matches nothing): checking reads the same names.
            #expect(sql.error == file.error, "\(query)")
            #expect(sql.status == 0)
            #expect(sql.output == file.output, "\(query) (\(format)):\n\(difference(file.output, sql.output))")
        }
    }

    /// Every Example gives, through the database, exactly the output it gives from the file,
    /// in every output format: statements SQL expresses whole run as one SQL statement, the
    /// others (compare, cite, timeline, describe, search, conflicts, several collections,
    /// explain) are finished by kbq over the rows the database picks.
    @Test func everyExampleGivesTheFilesOutput() throws {
        let db = try pushedArticle.get()
        let scratch = try Scratch()
        let examples = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Examples").path)
            .filter { $0.hasSuffix(".kbq") }.sorted()
        #expect(examples.count >= 30)
        for name in examples {
            let path = "Examples/" + name
            for format in ["table", "json", "csv"] {
                let file = kbq(["--format", format, path], scratch: scratch, directory: packageRoot.path)
                let sql = kbq(["--format", format, "--db", db.url, path], scratch: scratch, directory: packageRoot.path)
                #expect(sql.status == file.status, "\(name) (\(format)): \(sql.error)")
                #expect(sql.error == file.error, "\(name) (\(format))")
                #expect(sql.output == file.output, "\(name) (\(format)):\n\(difference(file.output, sql.output))")
            }
        }
    }

    /// What SQL does not express is finished by kbq over rows the database picked: the
    /// statement's own collection filtered there by its leading `where`, every collection it
    /// reads whole otherwise. How many rows kbq reads is bounded (--finish-rows); past the
    /// bound the statement is refused, naming the construct and the engine, and nothing runs.
    @Test func finishingInKBQReadsFilteredRowsWithinABound() throws {
        let db = try pushedArticle.get()
        let scratch = try Scratch()
        let sql = kbq(["--sql", "-e", "estimates where topic = \"containers\" compare source"], scratch: scratch)
        #expect(sql.status == 0, "\(sql.error)")
        #expect(sql.output.hasPrefix("-- kbq finishes this statement over the rows these statements read\n"), "\(sql.output)")
        #expect(sql.output.contains("FROM \"estimates\" AS \"t1\"\nWHERE (\"t1\".\"topic\" = 'containers')"), "\(sql.output)")
        #expect(sql.output.contains("FROM \"sources\" AS \"t1\"\nORDER BY"), "\(sql.output)")
        let refused = kbq(["--db", db.url, "--finish-rows", "5", "-e", "estimates select id\nestimates compare source"], scratch: scratch)
        #expect(refused.status == 1)
        #expect(refused.error.hasPrefix("-e:2:1: error: compare does not run in PostgreSQL's SQL, and kbq finishes it over at most 5 rows of a collection; '"), "\(refused.error)")
        // The first statement ran and printed; the refused one printed nothing.
        #expect(refused.output == kbq(["-e", "estimates select id"], scratch: scratch).output)
    }

    /// `contains` ignores case as kbq does, on the database as on the file: Unicode's
    /// lower case, curly quote marks as straight ones, `%`, `_` and `\` as themselves, and a
    /// constant of ASCII alone matched against the text's ASCII letters only (a Kelvin sign
    /// is no "k" there, a dotted capital I no "i"), whether the needle is a constant, a
    /// parameter or another field.
    @Test func containsFoldsTextAsTheFileDoes() throws {
        let scratch = try Scratch()
        let kb = try scratch.write("kb.json", #"""
            {"kbq": 1, "name": "folding", "collections": {"notes": {"key": "id", "fields": {"id": "string", "text": "string", "word": "string"}, "rows": [
             {"id": "n1", "text": "Kelvin: 5 \u212a, not K", "word": "KELVIN"},
             {"id": "n2", "text": "\u0130STANBUL and Istanbul", "word": "i\u0307stanbul"},
             {"id": "n3", "text": "PAR\u0130S", "word": "Paris"},
             {"id": "n4", "text": "Zelensky\u2019s \u201cplan\u201d", "word": "zelensky's"},
             {"id": "n5", "text": "100% of a_b, back\\slash", "word": "A_B"},
             {"id": "n6", "text": "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 \u00c9t\u00e9", "word": "\u00e9t\u00c9"},
             {"id": "n7", "text": null, "word": "k"}]}}}
            """#)
        let db = try TestDatabase()
        let push = kbq(["push", db.url, "--kb", kb], scratch: scratch)
        #expect(push.status == 0, "\(push.error)")
        let needles = ["k", "kelvin", "K,", "i", "pari", "PAR\u{130}S", "pari\u{307}", "istanbul", "i\u{307}stanbul", "zelensky's",
                       "ZELENSKY\u{2019}S", "\u{2019}s \u{201C}plan\u{201D}", "%", "_", "a_b", "\\", "ÉTÉ", "été", ""]
        var queries = needles.map { (#"notes where text contains "\#($0.replacingOccurrences(of: "\\", with: "\\\\"))" select id"#, [String]()) }
        queries += needles.map { ("notes where text contains $w select id", ["-p", "w=" + $0]) }
        queries += [("notes where text contains word select id", []), ("notes where word contains \"K\" or text contains word select id", [])]
        for (query, parameters) in queries {
            let file = kbq(parameters + ["--kb", kb, "-e", query], scratch: scratch)
            let sql = kbq(parameters + ["--db", db.url, "-e", query], scratch: scratch)
            #expect(file.status == 0, "\(query): \(file.error)")
            #expect(sql.error == file.error, "\(query) \(parameters)")
            #expect(sql.output == file.output, "\(query) \(parameters):\n\(difference(file.output, sql.output))")
        }
    }

    @Test func serverErrorsAndBadDatabasesAreClearErrorsWithStatus2() throws {
        let scratch = try Scratch()
        // A sum past Double's range: null on the file, refused by PostgreSQL, and said so.
        let big = try scratch.write("big.json", #"""
            {"kbq": 1, "name": "big", "collections": {"nums": {"fields": {"x": "number"}, "rows": [{"x": 1e308}, {"x": 1e308}, {"x": 5}]}}}
            """#)
        let overflowing = try TestDatabase()
        #expect(kbq(["push", overflowing.url, "--kb", big], scratch: scratch).status == 0)
        #expect(kbq(["--kb", big, "-e", "nums aggregate sum(x) as s"], scratch: scratch).output == "s\n─\n\n(1 row)\n")
        let refused = kbq(["--db", overflowing.url, "-e", "nums aggregate sum(x) as s"], scratch: scratch)
        #expect(refused.status == 2)
        #expect(refused.error == "kbq: the database refused the statement: value out of range: overflow: a number went past ±1.8e308, which kbq gives as null on the file and PostgreSQL refuses (docs/ENGINES.md)\n", "\(refused.error)")
        let down = kbq(["--db", "postgresql://kbq@127.0.0.1:1/none", "-e", "estimates"], scratch: scratch)
        #expect(down.status == 2)
        #expect(down.error.hasPrefix("kbq: cannot connect to the database"), "\(down.error)")
        let empty = try TestDatabase()
        let none = kbq(["--db", empty.url, "-e", "estimates"], scratch: scratch)
        #expect(none.status == 2)
        #expect(none.error == "kbq: the database holds no kbq KB (no kbq_meta table): push one with kbq push URL [--kb FILE]\n")
        // A table dropped behind kbq's back: the server's own message, status 2.
        #expect(kbq(["push", empty.url], scratch: scratch).status == 0)
        _ = try empty.query("DROP TABLE estimates")
        let gone = kbq(["--db", empty.url, "-e", "estimates select id"], scratch: scratch)
        #expect(gone.status == 2)
        #expect(gone.error.hasPrefix("kbq: the database refused the statement: relation \"estimates\" does not exist"), "\(gone.error)")
    }
}

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG (a PostgreSQL server; .ci/run starts one)"))
struct DatabaseCancelTests {
    /// kbq with `arguments` on `db`, whose `estimates` another session holds locked: once a
    /// statement of kbq's waits on the lock, kbq is interrupted (SIGINT, as Ctrl-C sends).
    func interruptedOnTheLock(_ arguments: [String], _ db: TestDatabase, _ scratch: Scratch) throws
        -> (status: Int32, output: String, error: String, seconds: Double) {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        holder.arguments = ["-X", "-q", "-d", db.url, "-c", "BEGIN; LOCK TABLE estimates IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(20);"]
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        // Wait until the lock is held (a loaded machine may take seconds to start psql).
        try waitFor("the lock", db, "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'estimates'::regclass")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: kbqBinary)
        run.arguments = arguments
        run.environment = scratch.environment()
        let out = Pipe(), err = Pipe()
        run.standardError = err
        run.standardOutput = out
        try run.run()
        // Wait until the statement waits on the lock, then interrupt.
        try waitFor("kbq's statement", db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        let started = Date()
        run.interrupt()
        // Read before waiting: a full pipe would stop kbq.
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        return (run.terminationStatus, output, error, Date().timeIntervalSince(started))
    }

    /// Ctrl-C while the server runs a statement cancels it there: a statement waiting on a
    /// lock another session holds ends at once, and kbq says so.
    @Test func ctrlCCancelsTheStatementOnTheServer() throws {
        let db = try TestDatabase()
        let scratch = try Scratch()
        #expect(kbq(["push", db.url], scratch: scratch).status == 0)
        let run = try interruptedOnTheLock(["--db", db.url, "-e", "estimates select id"], db, scratch)
        #expect(run.seconds < 5)
        #expect(run.status == 1)
        #expect(run.error == "kbq: cancelled: the server stopped the statement\n")
        #expect(try db.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "0")
    }

    /// In a script, Ctrl-C cancels the statement the server runs: what the statements before
    /// it printed stays, and no statement after it runs.
    @Test func ctrlCInAScriptStopsAtTheCancelledStatement() throws {
        let db = try TestDatabase()
        let scratch = try Scratch()
        #expect(kbq(["push", db.url], scratch: scratch).status == 0)
        let first = "sources select id sort by id limit 2"
        let script = try scratch.write("three.kbq", "\(first)\nestimates select id\nsentences select id limit 1\n")
        let run = try interruptedOnTheLock(["--db", db.url, script], db, scratch)
        #expect(run.status == 1)
        #expect(run.error == "kbq: cancelled: the server stopped the statement\n")
        let alone = kbq(["--db", db.url, "-e", first], scratch: scratch)
        #expect(alone.status == 0 && !alone.output.isEmpty)
        #expect(run.output == alone.output)
        #expect(try db.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "0")
    }
}

/// Polls `sql` until it counts more than zero, for at most a minute.
func waitFor(_ what: String, _ db: TestDatabase, _ sql: String) throws {
    let deadline = Date().addingTimeInterval(60)
    while try db.query(sql) == "0" {
        guard Date() < deadline else { throw DatabaseTestError("\(what) never showed on the server") }
        usleep(50_000)
    }
}

@Suite struct SQLTextTests {
    /// `--sql` needs no database: the SQL of each dialect, parameters bound, never spliced.
    @Test func sqlIsPrintedPerDialectWithBindParameters() throws {
        let scratch = try Scratch()
        let q = "estimates where topic = $t and value > 1e4 sort by source desc limit 2"
        let pg = kbq(["--sql", "-e", q], scratch: scratch)
        #expect(pg.status == 0, "\(pg.error)")
        #expect(pg.output.contains("(\"t1\".\"topic\" = $1)"), "\(pg.output)")
        #expect(pg.output.contains("DESC NULLS LAST"))
        #expect(pg.output.hasPrefix("-- bind parameters: $t"))
        let spark = kbq(["--sql", "--dialect", "spark", "-e", q], scratch: scratch)
        #expect(spark.output.contains("(`t1`.`topic` = ?)"), "\(spark.output)")
        #expect(!spark.output.contains("DESC NULLS LAST"))
        let text = kbq(["--sql", "--dialect", "spark", "-e", #"claims where text contains "it's \\ 100%" select id"#], scratch: scratch)
        // Folded by kbq, found in the folded column: no LIKE, so `%` and `\` mean themselves.
        #expect(text.output.contains(#"instr(coalesce(`t1`.`text__folded`, `t1`.`text`), 'it\'s \\ 100%') > 0"#), "\(text.output)")
        let bad = kbq(["--sql", "--dialect", "oracle", "-e", "claims"], scratch: scratch)
        #expect(bad.status == 2)
        #expect(bad.error == "kbq: --dialect takes one of postgres, spark, duckdb, sqlite; got 'oracle'\n")
    }
}

/// The same corpus on DuckDB (its Python module) and on Spark SQL (pyspark, local mode: the
/// engine a cluster runs): the article KB's tables written as CSV (as `kbq export` writes
/// them), each query's SQL in the engine's dialect run there, and the rows read back by the
/// decoder PostgreSQL's rows go through must render exactly as the file's.
@Suite struct CrossEngineTests {
    @Test(arguments: [SQLDialect.duckdb, .spark])
    func theCorpusGivesTheFilesRows(on dialect: SQLDialect) throws {
        let module = dialect == .duckdb ? "duckdb" : "pyspark"
        guard pythonHas(module) else {
            if runningInCI { Issue.record("CI=true but python3 cannot import \(module): .ci/run installs it") }
            return
        }
        let scratch = try Scratch()
        let layout = try SQLLayout(.article)
        let schema = layout.createStatements(dialect).joined(separator: ";\n") + ";\n"
        try schema.write(toFile: scratch.file("schema.sql"), atomically: true, encoding: .utf8)
        for t in layout.tables {
            let bytes = layout.csvHeader(of: t) + layout.copyRows(of: t, from: 0, count: Int.max, format: .csv)
            #expect(FileManager.default.createFile(atPath: scratch.file(t.name + ".csv"), contents: Data(bytes)))
        }
        // Each script's statements, translated for the engine.
        var scripts: [(query: String, statements: [SQLStatement])] = []
        for (query, parameters) in DatabaseQueryTests.corpus where parameters.isEmpty {
            var session = try SQLSession(schema: .article, dialect: dialect)
            let (statements, problems) = session.compile(SourceText(query))
            #expect(problems.filter { !$0.isWarning }.isEmpty, "\(query): \(problems)")
            scripts.append((query, statements.filter { $0.kind == .query }))
        }
        let sql = scripts.flatMap { $0.statements.map(\.sql) }
        try JSONSerialization.data(withJSONObject: sql).write(to: URL(fileURLWithPath: scratch.file("queries.json")))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageRoot.appendingPathComponent("scripts/cross-engine.py").path,
                       "--engine", module == "duckdb" ? "duckdb" : "spark", "--data", scratch.path, "--queries", scratch.file("queries.json")]
        p.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let answers = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        var next = answers.makeIterator()
        for (query, statements) in scripts {
            var shown: [String] = []
            for st in statements {
                guard let answer = next.next() else {
                    Issue.record("\(query): \(dialect) gave fewer answers than statements")
                    break
                }
                guard let rows = answer["rows"] as? [[Any]] else {
                    Issue.record("\(query): \(dialect) refused \(st.sql): \(answer["error"] ?? "")")
                    continue
                }
                let cells = rows.map { $0.map { $0 as? String } }
                shown.append(try st.result(cells).rendered(as: .table, width: 100))
            }
            let file = kbq(["-e", query], scratch: scratch)
            let engine = shown.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(separator: "\n")
            #expect(engine == file.output, "\(query) on \(dialect):\n\(difference(file.output, engine))")
        }
    }
}

/// Whether python3 can import `module`.
func pythonHas(_ module: String) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import \(module)"]
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}
