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
final class TestDatabase {
    let url: String
    private let server: String
    private let name: String

    init() throws {
        guard let server = testDatabaseServer else {
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
        #expect(run.output == "pushed article: 9 collections, 255 rows to \(db.url)\n")
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
        // The schema kept beside the rows loads as a KB with the same collections and fields.
        let schema = try db.query("SELECT value FROM kbq_meta WHERE key = 'schema'")
        let kb = try KnowledgeBase(json: Array(schema.utf8))
        #expect(kb.collections.map(\.name) == KnowledgeBase.article.collections.map(\.name))
        for c in kb.collections {
            #expect(c.fields == KnowledgeBase.article.collection(c.name)?.fields, "fields of \(c.name)")
            #expect(c.count == 0)
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
