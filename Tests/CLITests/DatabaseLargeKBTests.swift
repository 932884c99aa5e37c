import Foundation
import KBQTestSupport
import Testing

// A generated KB larger than the collections whose rows `kbq push` keeps in kbq_meta for
// checking (4,096 rows): checking on the database reads what the metadata keeps of the
// rest (row counts, dictionaries of text fields), so the output through `kbq --db` must be
// the file's, warnings and notes included, for the benchmark's questions and others.

/// Rows in the shape of ../shared/bench/gen.py (id, topic, subject, source, value, unit,
/// qualifier, date, hedge, text), from a fixed seed: topics skewed so that a few are
/// common, a percent unit among the others, one text in a hundred mentions artillery.
struct GeneratedEstimates {
    static let header = "id,topic,subject,source,value,unit,qualifier,date,hedge,text"
    static let units = ["containers", "shells", "troops", "percent", "rounds", "missiles", "tonnes", "launchers", "vehicles", "dollars"]
    static let qualifiers = ["", "over", "about", "at least", "up to"]
    static let hedges = ["", "reportedly", "likely", "by some estimates", "claimed"]
    static let words = ["supply", "shipment", "rail", "port", "border", "estimate", "officials", "analysts", "convoy", "depot"]

    private var random: SplitMix

    init(seed: UInt64) { random = SplitMix(seed: seed) }

    private mutating func below(_ n: Int) -> Int { random.below(n) }

    /// The CSV text of `count` rows.
    mutating func csv(count: Int) -> String {
        var lines = [GeneratedEstimates.header]
        lines.reserveCapacity(count + 1)
        for i in 1...count {
            // A skewed topic: the square of a uniform number favours the low topics.
            let u = Double(below(1 << 20)) / Double(1 << 20)
            let topic = String(format: "topic-%04d", Int(u * u * 400))
            let value = Double(below(2_000_000)) / 10
            var text = "Report on \(topic):"
            for _ in 0..<6 { text += " " + GeneratedEstimates.words[below(GeneratedEstimates.words.count)] }
            if below(100) == 0 { text += " artillery" }
            let ymd = String(format: "%04d-%02d-%02d", 2014 + below(12), 1 + below(12), 1 + below(28))
            let row = [String(format: "e%07d", i), topic, String(format: "entity-%03d", below(50)), String(format: "source-%03d", below(60)),
                       String(value), GeneratedEstimates.units[below(10)], GeneratedEstimates.qualifiers[below(5)], ymd,
                       GeneratedEstimates.hedges[below(5)], text + "."]
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG (a PostgreSQL server; .ci/run starts one)"))
struct DatabaseLargeKBTests {
    static let rows = 20_000

    /// The benchmark's questions (scripts/bench.py's QUESTIONS), then literals that match
    /// nothing (warned about from the dictionaries kbq_meta keeps), near spellings, percents
    /// among plain numbers in aggregates, and statements kbq finishes over filtered rows.
    static let bareQueries = [
        "estimates where topic = \"topic-0042\" sort by id",
        "estimates where topic = \"topic-0042\" select source, value group by source aggregate count() as n, min(value) as lo, max(value) as hi, avg(stated(value)) as mean\nestimates where topic = \"topic-0042\" select value aggregate count() as n, spread(value) as spread",
        "estimates group by topic aggregate count() as n sort by n desc, topic limit 10",
        "estimates where text contains \"artillery\" aggregate count() as n",
        "estimates where date between 2016-06-01 and 2016-10-31 and unit = \"containers\" sort by date, id limit 20",
        "estimates where topic = \"topic-9999\" select id",
        "estimates where topic = \"Topic-0042\" limit 3",
        "estimates where unit = \"containerz\" select id",
        "estimates where topic = \"topic-0042\" and unit = \"nothing\" compare source",
        "estimates where topic = \"topic-0007\" and unit = \"percent\" compare source",
        "estimates group by unit aggregate count() as n, avg(stated(value)) as m, sum(stated(value)) as s, min(stated(value)) as lo, spread(value) as sp",
        "estimates where id = \"e0000077\"",
    ]

    /// The same rows as a KB with references: estimates refer to sources (60 rows, named),
    /// and reviews (a small collection) refer into estimates, whose rows kbq_meta does not keep.
    static let kbQueries = [
        "estimates where source = \"Source 7\" select id, topic, value sort by id limit 5",
        "estimates where source = \"Source Seven\" select id",
        "estimates where source.name = \"Source 8\" aggregate count() as n",
        "reviews where estimate = \"e0000097\" select id, reviewer",
        "reviews where estimate = \"e0000005\" select id",
        "reviews where reviewer = \"Source 3\" select id, estimate",
        "reviews select id, estimate.topic, reviewer.name sort by id limit 4",
        "sources where name = \"Source 12\" referrers",
        "estimates where topic = \"topic-0003\" and hedge >= reportedly compare source",
    ]

    @Test func aKBLargerThanTheKeptRowsGivesTheFilesOutput() throws {
        let scratch = try Scratch()
        var generator = GeneratedEstimates(seed: 7)
        let csv = try scratch.write("estimates.csv", generator.csv(count: DatabaseLargeKBTests.rows))
        var sources: [String] = []
        for i in 0..<60 { sources.append("{\"id\": \"source-\(String(format: "%03d", i))\", \"name\": \"Source \(i)\"}") }
        var reviews: [String] = []
        for i in 1...40 { reviews.append("{\"id\": \"r\(i)\", \"estimate\": \"e\(String(format: "%07d", i * 97))\", \"reviewer\": \"source-\(String(format: "%03d", i % 7))\"}") }
        let kb = try scratch.write("kb.json", """
            {"kbq": 1, "name": "generated", "hedges": ["stated", "reportedly", "likely", "by some estimates", "claimed"],
             "collections": {
              "sources": {"key": "id", "fields": {"id": "string", "name": "string"}, "rows": [\(sources.joined(separator: ",\n"))]},
              "estimates": {"key": "id", "measure": "value", "file": "estimates.csv",
                "fields": {"id": "string", "topic": "string", "subject": "string", "source": {"ref": "sources"},
                           "value": {"type": "number", "qualifier": "qualifier"}, "unit": "string", "qualifier": "string",
                           "date": "date", "hedge": "hedge", "text": "string"}},
              "reviews": {"key": "id", "fields": {"id": "string", "estimate": {"ref": "estimates"}, "reviewer": {"ref": "sources"}},
                          "rows": [\(reviews.joined(separator: ",\n"))]}}}
            """)
        for (file, queries) in [(csv, DatabaseLargeKBTests.bareQueries), (kb, DatabaseLargeKBTests.kbQueries)] {
            let db = try TestDatabase()
            let push = kbq(["push", db.url, "--kb", file], scratch: scratch, timeout: 300)
            #expect(push.status == 0, "\(push.error)")
            #expect(try db.query("SELECT count(*) FROM estimates") == String(DatabaseLargeKBTests.rows))
            for query in queries {
                for format in ["table", "json"] {
                    let fromFile = kbq(["--kb", file, "--format", format, "-e", query], scratch: scratch)
                    let fromDB = kbq(["--db", db.url, "--format", format, "-e", query], scratch: scratch)
                    #expect(fromFile.status == 0, "\(query): \(fromFile.error)")
                    #expect(fromDB.status == fromFile.status, "\(query): \(fromDB.error)")
                    #expect(fromDB.error == fromFile.error, "\(query) (\(format)):\n\(difference(fromFile.error, fromDB.error))")
                    // JSON writes every digit of a sum, which depends on the order the engine
                    // added the numbers in: compared to 12 significant digits.
                    let (want, got) = format == "json" ? (digits12(fromFile.output), digits12(fromDB.output)) : (fromFile.output, fromDB.output)
                    #expect(got == want, "\(query) (\(format)):\n\(difference(want, got))")
                }
            }
        }
    }
}

extension DatabaseLargeKBTests {
    /// The generated SQL is as good as a hand-written query on the same tables: PostgreSQL's
    /// plan for it reads the index a person would have it read (a date window sorted by date,
    /// a sort by key with a limit: an ordered index scan that stops early, not every row),
    /// and `contains` searches the folded text without lowering every row.
    @Test func theGeneratedSQLReadsTheIndexesAHandWrittenQueryWould() throws {
        let scratch = try Scratch()
        var generator = GeneratedEstimates(seed: 7)
        let csv = try scratch.write("estimates.csv", generator.csv(count: DatabaseLargeKBTests.rows))
        let db = try TestDatabase()
        let push = kbq(["push", db.url, "--kb", csv], scratch: scratch, timeout: 300)
        #expect(push.status == 0, "\(push.error)")
        func plan(_ query: String) throws -> String {
            let sql = kbq(["--sql", "--kb", csv, "-e", query], scratch: scratch)
            #expect(sql.status == 0, "\(query): \(sql.error)")
            return try db.query("EXPLAIN " + sql.output)
        }
        for (query, index) in [
            ("estimates where date between 2016-06-01 and 2016-10-31 and unit = \"containers\" sort by date, id limit 20", "kbq_estimates_date__start_date__end"),
            ("estimates where date >= 2025-12-20 select id, date", "kbq_estimates_date__start_date__end"),
            ("estimates sort by date limit 3", "kbq_estimates_date__start_date__end"),
            ("estimates sort by id limit 5", "kbq_estimates_id"),
            ("estimates where id < \"e0000100\" select id", "kbq_estimates_id"),
        ] {
            let p = try plan(query)
            #expect(p.contains(index), "\(query):\n\(p)")
            #expect(!p.contains("Seq Scan"), "\(query):\n\(p)")
        }
        let contains = kbq(["--sql", "--kb", csv, "-e", "estimates where text contains \"Artillery\" aggregate count() as n"], scratch: scratch)
        #expect(contains.output.contains("strpos(coalesce(\"t1\".\"text__folded\", \"t1\".\"text\"), 'artillery') > 0"), "\(contains.output)")
    }
}

/// `text` with every number of more than 12 significant digits rounded to 12.
func digits12(_ text: String) -> String {
    guard let pattern = try? NSRegularExpression(pattern: "-?[0-9]+\\.[0-9]+(e[-+]?[0-9]+)?") else { return text }
    var out = text
    for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
        guard let r = Range(m.range, in: text), let d = Double(text[r]) else { continue }
        out.replaceSubrange(r, with: String(format: "%.12g", d))
    }
    return out
}
