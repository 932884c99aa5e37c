import Foundation
import KBQ
import KBQPostgres
import Testing

// The embedding API's choice of engine: a Swift program queries a KB pushed to PostgreSQL
// through `PostgresKB` as it queries a loaded KB through `Session`, with the same results.
// Against the real server `.ci/run` starts (KBQ_TEST_PG).

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG (a PostgreSQL server; .ci/run starts one)"))
struct DatabaseEmbeddingTests {
    /// Every result `run` gives for `text`, rendered as kbq prints tables, and the problems.
    private static func outcomes(_ text: String, parameters: [String: Value] = [:],
                                 run: (SourceText, [String: Value], (StatementOutcome) -> Void) throws -> [Diagnostic]) rethrows -> (tables: [String], problems: [String]) {
        var tables: [String] = []
        let problems = try run(SourceText(text), parameters) { outcome in
            if case .result(let table) = outcome { tables.append(table.rendered(as: .table, width: 100)) }
        }
        return (tables, problems.map(\.message))
    }

    @Test func aProgramQueriesThePushedKBAsItQueriesTheFile() throws {
        let db = try TestDatabase()
        let pushed = try PostgresKB.push(.article, to: db.url)
        let article = KnowledgeBase.article.collections
        #expect(pushed.collections == article.count && pushed.rows == article.reduce(0) { $0 + $1.count })
        let pg = try PostgresKB(db.url)
        #expect(pg.schema.collections.map(\.name) == article.map(\.name))
        var session = Session()
        let scripts: [(String, [String: Value])] = [
            ("estimates where topic = $t compare source", ["t": .string("containers")]),
            ("let big = estimates where maybe value > 20000\nbig select topic, value, source sort by topic", [:]),
            ("claims where hedge >= stated group by source aggregate count() as n sort by n desc, source", [:]),
            ("estimates where text contains \"artillery\" select id, topic", [:]),
        ]
        for (text, parameters) in scripts {
            let file = Self.outcomes(text, parameters: parameters) { session.run($0, parameters: $1, emit: $2) }
            let server = try Self.outcomes(text, parameters: parameters) { try pg.run($0, parameters: $1, emit: $2) }
            #expect(!file.tables.isEmpty && file.problems.isEmpty, "\(text)")
            #expect(server.tables == file.tables, "\(text)")
            #expect(server.problems == file.problems, "\(text)")
        }
    }

    @Test func aStatementThatDoesNotCheckRunsNothingAndTheServerSaysWhatItRefuses() throws {
        let db = try TestDatabase()
        try PostgresKB.push(.article, to: db.url)
        let pg = try PostgresKB(db.url)
        // Checked against the pushed schema, with did-you-mean, before anything runs.
        var ran = 0
        let problems = try pg.run(SourceText("estimates select topic\nestimates where topik = \"x\"")) { _ in ran += 1 }
        #expect(ran == 0)
        #expect(problems.map(\.message) == ["unknown field 'topik' in estimates"])
        #expect(problems.first?.suggestion == "topic")
        // What the server refuses is an error that says so, not a crash or an empty answer.
        _ = try db.query("DROP TABLE estimates CASCADE")
        #expect {
            _ = try pg.run(SourceText("estimates select topic")) { _ in }
        } throws: { error in
            (error as? DatabaseError)?.message.hasPrefix("the database refused the statement: relation \"estimates\" does not exist") == true
        }
    }

    @Test func aServerThatCannotBeReachedOrHoldsNoKBIsAClearError() throws {
        #expect {
            _ = try PostgresKB("postgresql://kbq@127.0.0.1:1/none?connect_timeout=2")
        } throws: { error in
            (error as? DatabaseError)?.message.hasPrefix("cannot connect to the database:") == true
        }
        let db = try TestDatabase()
        #expect {
            _ = try PostgresKB(db.url)
        } throws: { error in
            (error as? DatabaseError)?.message == "the database holds no kbq KB (no kbq_meta table): push one with kbq push URL [--kb FILE]"
        }
    }
}
