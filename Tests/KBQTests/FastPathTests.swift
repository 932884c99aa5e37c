import Testing
@testable import KBQ

/// The engine has faster paths for the shapes a prepared query usually takes (`compare` over
/// stored rows grouped by integer ids, `field = $param` on interned strings, parameters read
/// by slot). Each must answer exactly as the general path does; these tests run both on
/// the same data and compare whole results.
@Suite struct FastPathTests {
    /// 12 sources (more than compare's linear search covers), 40 claims in two units, some
    /// with no value, several per source, hedges of every strength, one sentence each.
    static let kb: KnowledgeBase = {
        var sources: [String] = []
        for i in 0..<12 { sources.append(#"{"id": "s\#(i)", "name": "Source \#(i)"}"#) }
        var sentences: [String] = []
        for i in 0..<40 { sentences.append(#"{"id": "t\#(i)", "text": "Sentence \#(i).", "paragraph": \#(i / 4 + 1)}"#) }
        let hedges = ["confirmed", "stated", "reportedly", "by some estimates", "likely", "claimed", "unknown"]
        let qualifiers = ["null", #""over""#, #""about""#, #""up to""#, "null"]
        var claims: [String] = []
        for i in 0..<40 {
            let value = i % 9 == 4 ? "null" : String(1000 + (i * 337) % 5000)
            let unit = i % 3 == 0 ? "shells" : "containers"
            let topic = ["containers", "shells", "troops"][i % 3]
            claims.append(#"{"id": "c\#(i)", "topic": "\#(topic)", "source": "s\#((i * 7) % 12)", "value": \#(value), "q": \#(qualifiers[i % 5]), "unit": "\#(unit)", "hedge": "\#(hedges[i % 7])", "sentence": "t\#(i)"}"#)
        }
        let json = #"""
        {"kbq": 1, "name": "fast", "collections": {
          "sources": {"key": "id", "fields": {"id": "string", "name": "string"}, "rows": [\#(sources.joined(separator: ","))]},
          "sentences": {"key": "id", "fields": {"id": "string", "text": "string", "paragraph": "number"}, "rows": [\#(sentences.joined(separator: ","))]},
          "claims": {"key": "id", "measure": "value",
                     "fields": {"id": "string", "topic": "string", "source": {"ref": "sources"},
                                "value": {"type": "number", "qualifier": "q"}, "q": "string", "unit": "string",
                                "hedge": "hedge", "sentence": {"ref": "sentences"}},
                     "rows": [\#(claims.joined(separator: ","))]}
        }}
        """#
        do { return try KnowledgeBase(json: Array(json.utf8), name: "fast") } catch { return KnowledgeBase.article }
    }()

    func run(_ query: String, _ params: [String: Value] = [:], kb: KnowledgeBase = FastPathTests.kb) throws -> ResultTable {
        try PreparedQuery(query, kb: kb).run(parameters: params)
    }

    @Test func theTestKBLoaded() {
        #expect(Self.kb.name == "fast")
        #expect(Self.kb.collection("claims")?.count == 40)
    }

    /// Stored rows take the integer-grouping path; the same rows passed through `select`
    /// are a computed table and take the general one.
    @Test(arguments: ["", " where topic = \"containers\"", " where topic = \"troops\"", " where value > 3000", " where id = \"c1\""])
    func compareOverStoredRowsMatchesComputedRows(_ filter: String) throws {
        let stored = try run("claims\(filter) compare source")
        let computed = try run("claims\(filter) select id, topic, source, value, unit, hedge, sentence compare source")
        #expect(stored.rows == computed.rows)
        #expect(stored.summaries == computed.summaries)
        #expect(stored.notes == computed.notes)
        #expect(stored.chart == computed.chart)
        #expect(stored.rendered(as: .table) == computed.rendered(as: .table))
    }

    @Test func compareGroupsEverySourceOncePerUnit() throws {
        let r = try run("claims compare source")
        // Two units, so two summaries; each (source, unit) pair is one row.
        #expect(r.summaries.count == 2)
        var pairs = Set<String>()
        for row in r.rows { pairs.insert(row[0].text + "|" + row[3].text) }
        #expect(pairs.count == r.rows.count)
        // Every claim is counted once: stated values in n, the rest noted as giving none.
        let stated = r.rows.reduce(0) { $0 + Int($1[1].number ?? 0) }
        let all = try run("claims where value is not null aggregate count() as n")
        #expect(Double(stated) == all.rows[0][0].number)
        // A group's sentences are all its rows' sentences, in row order.
        let s1 = try #require(r.rows.first { $0[0].text == "Source 1" && $0[3].text == "containers" })
        let expected = try run("claims where source = \"s1\" and unit = \"containers\" sort by id")
        #expect(expected.rows.count == 3)
        let sentenceIDs = expected.column("sentence")?.compactMap { v -> String? in if case .ref(let ref) = v { return ref.key }; return nil }
        guard case .list(let listed) = s1[5] else { Issue.record("sentence column is not a list"); return }
        #expect(listed.compactMap { v -> String? in if case .ref(let ref) = v { return ref.key }; return nil }.sorted() == sentenceIDs?.sorted())
    }

    @Test func weakestHedgeSpeaksForTheGroup() throws {
        let r = try run("claims where source = \"s0\" compare source")
        #expect(r.rows.count == 1)
        let hedges = try run("claims where source = \"s0\"").column("hedge") ?? []
        let ranks = hedges.compactMap { v -> Int? in if case .hedge(let rank, _) = v { return rank }; return nil }
        #expect(ranks.count == 4)
        // The weakest is the largest rank (claimed, of confirmed/claimed/by some estimates/stated).
        #expect(r.rows[0][4].text == "claimed")
        #expect(ranks.max() == Self.kb.hedges.rank(of: "claimed"))
    }

    @Test func stringParameterAnswersAsTheLiteral() throws {
        for topic in ["containers", "shells", "troops", "nothing", ""] {
            let literal = try run("claims where topic = \"\(topic)\" compare source")
            let param = try run("claims where topic = $t compare source", ["t": .string(topic)])
            // The same rows and notes; a value that matches nothing is said to, by either form.
            #expect(literal.rows == param.rows && literal.columns == param.columns && literal.summaries == param.summaries, "topic \(topic)")
            #expect(literal.notes.filter { !$0.hasPrefix("empty because") } == param.notes.filter { !$0.hasPrefix("empty because") })
            #expect(literal.notes.contains { $0.hasPrefix("empty because") } == param.notes.contains { $0.hasPrefix("empty because") && $0.contains("($t)") },
                    "topic \(topic)")
            let ne = try run("claims where topic != $t aggregate count() as n", ["t": .string(topic)])
            let neLiteral = try run("claims where topic != \"\(topic)\" aggregate count() as n")
            #expect(ne == neLiteral)
        }
    }

    /// Two parameter comparisons in one condition share the run's one memo slot: they take
    /// turns and must stay right.
    @Test func twoParametersInOneConditionStayApart() throws {
        let q = try PreparedQuery("claims where topic = $a or unit = $b sort by id", kb: Self.kb)
        let literal = try run("claims where topic = \"troops\" or unit = \"shells\" sort by id")
        #expect(try q.run(parameters: ["a": .string("troops"), "b": .string("shells")]) == literal)
        let swapped = try run("claims where topic = \"shells\" or unit = \"containers\" sort by id")
        #expect(try q.run(parameters: ["a": .string("shells"), "b": .string("containers")]) == swapped)
        // The same prepared query, run again with the first values: nothing carried over.
        #expect(try q.run(parameters: ["a": .string("troops"), "b": .string("shells")]) == literal)
    }

    @Test func moreThanTwoParametersEachReachTheirPlace() throws {
        let q = try PreparedQuery("claims where (topic = $a or topic = $b) and unit = $c and value > $d sort by id", kb: Self.kb)
        #expect(q.parameterNames == ["a", "b", "c", "d"])
        let got = try q.run(parameters: ["a": .string("troops"), "b": .string("containers"), "c": .string("containers"), "d": .number(2000)])
        let literal = try run("claims where (topic = \"troops\" or topic = \"containers\") and unit = \"containers\" and value > 2000 sort by id")
        #expect(got == literal)
        #expect(!got.rows.isEmpty)
    }

    @Test func nonStringParameterAgainstStringColumnIsChecked() throws {
        let q = try PreparedQuery("claims where topic = $t", kb: Self.kb)
        #expect(throws: Diagnostics.self) { try q.run(parameters: ["t": .number(3)]) }
        // null compares as unknown: no rows, no error.
        #expect(try q.run(parameters: ["t": .null]).rows.isEmpty)
    }

    /// Over 262,144 rows a filter runs on both cores: two parameter comparisons, sharing
    /// the run's memo from two threads at once, must still answer as the literals do.
    @Test func parameterMemoIsSafeWhenTheFilterRunsOnBothCores() throws {
        let dir = temporaryDirectory(#function)
        var csv = "id,grp,cat\n"
        for i in 0..<300_000 { csv += "r\(i),g\(i % 37),c\(i % 11)\n" }
        writeFile(dir + "/t.csv", csv)
        let kb = try KnowledgeBase(contentsOfFile: dir + "/t.csv")
        #expect(ParallelWork.parts(forRows: 300_000) == min(ParallelWork.width, 2))
        let q = try PreparedQuery("t where grp = $a or cat = $b aggregate count() as n", kb: kb)
        for (a, b) in [("g3", "c4"), ("g36", "c0"), ("g0", "none"), ("none", "c10")] {
            let literal = try PreparedQuery("t where grp = \"\(a)\" or cat = \"\(b)\" aggregate count() as n", kb: kb).run()
            let got = try q.run(parameters: ["a": .string(a), "b": .string(b)])
            #expect(got == literal, "\(a) \(b)")
            var expected = 0
            for i in 0..<300_000 where "g\(i % 37)" == a || "c\(i % 11)" == b { expected += 1 }
            #expect(got.rows[0][0] == .number(Double(expected)))
        }
    }

    /// A string field `in $list`: short lists compare item by item, long ones look each row
    /// up in a set made once per run; both answer as the literal list does, with other
    /// kinds of items (null, numbers) keeping their own rules.
    @Test(arguments: [3, 9, 500])
    func stringInListParameterAnswersAsTheLiteral(_ size: Int) throws {
        var items: [Value] = (0..<size).map { .string("topic \($0)") }
        items[size / 2] = .string("shells")
        items[size - 1] = .string("troops")
        let literalItems = items.map { v -> String in if case .string(let s) = v { return "\"\(s)\"" }; return "null" }
        let q = try PreparedQuery("claims where topic in $l sort by id", kb: Self.kb)
        let got = try q.run(parameters: ["l": .list(items)])
        let literal = try run("claims where topic in [\(literalItems.joined(separator: ", "))] sort by id")
        #expect(got == literal)
        #expect(got.rows.count == 26)  // 13 shells + 13 troops of the 40 claims
        let negated = try PreparedQuery("claims where topic not in $l aggregate count() as n", kb: Self.kb).run(parameters: ["l": .list(items)])
        #expect(negated.rows[0][0] == .number(14))
        // A null item makes "not found" unknown rather than no: no row passes `not in`.
        let withNull = try PreparedQuery("claims where topic not in $l aggregate count() as n", kb: Self.kb)
            .run(parameters: ["l": .list(items + [.null])])
        #expect(withNull.rows[0][0] == .number(0))
        // ... while found rows still pass `in`.
        let found = try PreparedQuery("claims where topic in $l aggregate count() as n", kb: Self.kb)
            .run(parameters: ["l": .list(items + [.null])])
        #expect(found.rows[0][0] == .number(26))
    }

    @Test func articleContainersThroughTheFastPaths() throws {
        let r = try run("estimates where topic = $t compare source", ["t": .string("containers")], kb: .article)
        #expect(r.rows.count == 2)
        #expect(r.summaries.first?.verdict?.hasPrefix("conflict: U.S. intelligence (over 16,500) and South Korea (13,000)") == true)
        if case .bars(let bars) = r.chart {
            #expect(bars.map(\.text) == ["over 16,500", "13,000"])
        } else {
            Issue.record("compare draws bars")
        }
    }
}

/// Aggregates over quantities given with qualifiers: the word survives when every interval
/// reaches the same way; otherwise the bounds do; `stated()` gives the numbers as written.
@Suite struct IntervalAggregateTests {
    static let kb: KnowledgeBase = {
        let json = #"""
        {"kbq": 1, "collections": {"v": {"fields": {"k": "string", "x": {"type": "number", "qualifier": "q"}, "q": "string"},
          "rows": [{"k": "over", "x": 100, "q": "over"}, {"k": "over", "x": 50, "q": "at least"},
                   {"k": "about", "x": 10, "q": "about"}, {"k": "about", "x": 20, "q": "about"},
                   {"k": "under", "x": 5, "q": "up to"}, {"k": "exact", "x": 7, "q": null},
                   {"k": "mixed", "x": 100, "q": "over"}, {"k": "mixed", "x": 10, "q": "up to"}]}}}
        """#
        do { return try KnowledgeBase(json: Array(json.utf8), name: "iv") } catch { return KnowledgeBase.article }
    }()

    func texts(_ q: String) throws -> [[String]] {
        try PreparedQuery(q, kb: Self.kb).run().rows.map { $0.map(\.text) }
    }

    @Test func oneWayIntervalsKeepTheirWord() throws {
        #expect(try texts("v where k = \"over\" or k = \"exact\" aggregate sum(x), avg(x)") == [["over 157", "over 52.3333"]])
        #expect(try texts("v where k = \"about\" aggregate sum(x), avg(x)") == [["about 30", "about 15"]])
        #expect(try texts("v where k = \"under\" or k = \"exact\" aggregate sum(x)") == [["up to 12"]])
        #expect(try texts("v where k = \"exact\" aggregate sum(x)") == [["7"]])
    }

    @Test func mixedIntervalsGiveTheirBounds() throws {
        // over 100 plus up to 10: anything at all.
        #expect(try texts("v where k = \"mixed\" aggregate sum(x)") == [["any value"]])
        // about 10, about 20 and over 100: more than 9 + 18 + 100.
        #expect(try texts("v where (k = \"about\" or k = \"over\") and q != \"at least\" aggregate sum(x)") == [["over 127"]])
    }

    @Test func statedGivesTheNumbersAsWritten() throws {
        #expect(try texts("v aggregate sum(stated(x)), avg(stated(x))") == [["302", "37.75"]])
        #expect(try texts("v where k = \"over\" select stated(x) as s, qualifier(x) as q sort by s") == [["50", "at least"], ["100", "over"]])
        let article = try PreparedQuery("estimates where topic = \"containers\" select stated(value) as s sort by s", kb: .article).run()
        #expect(article.rows.map { $0[0] } == [.number(13_000), .number(16_500)])
    }
}

/// `sort by … limit N` finds the first N rows without sorting the rest; it must give exactly
/// the rows, in exactly the order, of a full sort cut to N (ties keep their order, nulls
/// last in either direction).
@Suite struct TopRowsTests {
    static let kb: KnowledgeBase = {
        let dir = temporaryDirectory("TopRowsTests")
        var csv = "id,n,name,d\n"
        for i in 0..<1000 {
            let n = i % 13 == 0 ? "" : String((i * 7919) % 37)
            let name = i % 17 == 0 ? "" : "name \((i * 31) % 101)"
            csv += "r\(i),\(n),\(name),2024-\(String(format: "%02d", 1 + i % 12))-01\n"
        }
        writeFile(dir + "/t.csv", csv)
        do { return try KnowledgeBase(contentsOfFile: dir + "/t.csv") } catch { return KnowledgeBase.article }
    }()

    func ids(_ q: String) throws -> [String] {
        try PreparedQuery(q, kb: Self.kb).run().rows.map { $0[0].text }
    }

    @Test(arguments: ["n", "n desc", "name", "name desc, n", "n desc, name desc", "d desc, n, name"], [0, 1, 10, 100, 249])
    func firstRowsAreAFullSortCut(_ keys: String, _ k: Int) throws {
        #expect(Self.kb.collection("t")?.count == 1000)
        let fused = try ids("t sort by \(keys) limit \(k)")
        // A select between sort and limit: the full sort, then the cut.
        let full = try ids("t sort by \(keys) select id, n limit \(k)")
        #expect(fused.count == k)
        #expect(fused == full)
    }

    @Test func explainSaysTheSortKeepsOnlyTheFirstRows() throws {
        let plan = try PreparedQuery("t sort by n desc limit 5", kb: Self.kb).plans[0]
        // Column 3: how lowering runs each step (column 2 is the checked step).
        #expect(plan.rows.contains { $0[3].text.contains("first 5 only") })
    }
}

/// The clock is first read once some rows of work have passed; a run given no time at all
/// still ends at once, and a small run with time to spare is never cut short.
@Suite struct FirstClockReadTests {
    @Test func noTimeAtAllStillTimesOut() throws {
        let q = try PreparedQuery("estimates where topic = $t compare source")
        #expect(throws: Diagnostics.self) { try q.run(parameters: ["t": .string("containers")], limits: Limits(maxSeconds: 0)) }
        do {
            _ = try q.run(parameters: ["t": .string("containers")], limits: Limits(maxSeconds: 0))
        } catch {
            #expect(error.items.map(\.kind) == [.timeout])
        }
        #expect(try q.run(parameters: ["t": .string("containers")], limits: Limits(maxSeconds: 1)).rows.count == 2)
    }
}
