import Testing
@testable import KBQ

/// Every clause and operator, run on the article KB.
@Suite struct ClauseTests {
    @Test func whereAndSelectWithPathsAndAliases() {
        let r = query(#"estimates where topic = "containers" select source.name as who, source.kind, value"#)
        #expect(r.columns.map(\.name) == ["who", "source_kind", "value"])
        #expect(Set(texts(r, "who")) == ["U.S. intelligence", "South Korea"])
    }

    @Test func pipesAreOptionalAndStatementsSpanLines() {
        let a = query("estimates | where unit = \"containers\" | select id")
        let b = query("estimates\n  where unit = \"containers\"\n  select id")
        let c = query("estimates where unit = \"containers\" select id; # trailing comment")
        #expect(texts(a, "id") == texts(b, "id"))
        #expect(texts(a, "id") == texts(c, "id"))
        #expect(a.rows.count == 2)
    }

    @Test func sortBySeveralKeysWithNullsLast() {
        let r = query("estimates sort by value desc, id select id, value")
        #expect(texts(r, "id").last == "e1")  // the unknown troop number has no value
        #expect(r.rows.first?[1].text == "over 3,000,000")
        let asc = query("estimates sort by value select id")
        #expect(texts(asc, "id").last == "e1")
    }

    @Test func limit() {
        #expect(query("claims limit 3").rows.count == 3)
        #expect(query("claims limit 0").rows.isEmpty)
        #expect(query("claims limit $n", parameters: ["n": .number(2)]).rows.count == 2)
    }

    @Test func limitWithOffsetSkipsFirstAsSQLDoes() {
        let all = texts(query("claims select id"), "id")
        #expect(texts(query("claims select id limit 3 offset 2"), "id") == Array(all[2..<5]))
        // Stored rows, stored rows after a filter, computed rows, and the sort's top-N.
        #expect(texts(query("claims limit 3 offset 2 select id"), "id") == Array(all[2..<5]))
        let kept = texts(query("claims where hedge >= stated select id"), "id")
        #expect(texts(query("claims where hedge >= stated limit 2 offset 1 select id"), "id") == Array(kept[1..<3]))
        let sorted = texts(query("claims sort by topic, id select id"), "id")
        #expect(texts(query("claims sort by topic, id limit 4 offset 3 select id"), "id") == Array(sorted[3..<7]))
        #expect(query("explain claims sort by topic, id limit 4 offset 3").rendered(as: .table, width: 200).contains("first 7 only"))
        #expect(texts(query("claims select id limit $n offset $m", parameters: ["n": .number(2), "m": .number(70)]), "id") == Array(all[70..<72]))
        #expect(query("claims limit 5 offset 1000").rows.isEmpty)
        #expect(query("claims limit 0 offset 1").rows.isEmpty)
        // offset is no reserved word: a let may be called so.
        #expect(query("let offset = claims limit 1; offset select id").rows.count == 1)
        #expect(diagnostic("claims limit 2 offset -1")?.message == "offset needs a whole number of rows, 0 or more")
        #expect(diagnostic("claims offset 2")?.notes.contains { $0.contains("limit 10 offset 20") } == true)
    }

    @Test func groupByAggregate() {
        let r = query("estimates group by unit aggregate count() as n, max(value), min(value), sum(value), avg(value), spread(value)")
        #expect(r.columns.map(\.name) == ["unit", "n", "max_value", "min_value", "sum_value", "avg_value", "spread_value"])
        let containers = r.rows.first { $0[0].text == "containers" }
        #expect(containers?[1] == .number(2))
        // "over 16,500" plus "13,000": the sum and mean stay open above, as arithmetic does.
        #expect(containers?[4].text == "over 29,500")
        #expect(containers?[5].text == "over 14,750")
        if case .quantity(let q)? = containers?[4] { #expect(q.lo == 29_500 && q.loOpen && q.hi == .infinity) } else { Issue.record("sum is not an interval") }
        #expect(containers?[6] == .number(3_500))
        // Exact numbers still sum to a number.
        let exact = query("estimates where unit = \"percent\" aggregate sum(value) as s, avg(value) as a")
        #expect(exact.rows[0][0] == .percent(76.6) && exact.rows[0][1] == .percent(76.6))
        let whole = query("claims aggregate count()")
        #expect(whole.rows.count == 1 && whole.rows[0][0].number == Double(KnowledgeBase.article.collection("claims")!.count))
    }

    @Test func groupsFollowedByASortOverEveryKeyComeOutAsWhenKeyOrdered() throws {
        // A sort over every group key decides the order alone, so the group skips its own
        // key order (explain says so); the rows must be those a key-ordered group gives.
        let skipped = query("claims group by topic aggregate count() as n sort by n desc, topic")
        let keyOrdered = query("claims group by topic aggregate count() as n select topic, n sort by n desc, topic")
        #expect(skipped.rows == keyOrdered.rows && skipped.rows.count > 10)
        #expect(query("explain claims group by topic aggregate count() as n sort by n desc, topic")
            .rendered(as: .table, width: 200).contains("in the order of the sort that follows"))
        // A sort that leaves ties keeps key order among them (sanctions before treaty, 6 each).
        let ties = texts(query("claims group by topic aggregate count() as n sort by n desc"), "topic")
        #expect(try #require(ties.firstIndex(of: "sanctions")) < #require(ties.firstIndex(of: "treaty")))
        #expect(!query("explain claims group by topic aggregate count() as n sort by n desc")
            .rendered(as: .table, width: 200).contains("order of the sort"))
    }

    @Test func compareShowsTheHeadlineExample() {
        let r = query(#"estimates where topic = "containers" compare source"#)
        #expect(r.columns.map(\.name) == ["source", "n", "value", "unit", "hedge", "sentence", "inferred"])
        #expect(texts(r, "source") == ["U.S. intelligence", "South Korea"])
        let s = r.summaries.first
        #expect(s?["spread"] == .number(3_500))
        #expect(s?["relative spread"] == .percent(21))
        #expect(s?["ratio"] == .number(1.27))
        #expect(s?.verdict?.hasPrefix("conflict") == true)
        guard case .bars(let bars)? = r.chart else { Issue.record("no chart"); return }
        #expect(bars.map(\.text) == ["over 16,500", "13,000"])
        let text = r.rendered(as: .table, width: 100)
        #expect(text.contains("spread 3,500"))
        #expect(text.contains("█"))
    }

    @Test func compareCallsOnlyEqualExactValuesAnAgreement() throws {
        // "at least 5" and "up to 5" were "agreement: every value is the same", with min and max
        // both "at least 5"; they can only both be right at 5.
        func kb(_ a: String, _ b: String) throws -> KnowledgeBase {
            try loadKB("""
            {"kbq": 1, "collections": {"sources": {"key": "id", "fields": {"id": "string"}, "rows": [{"id": "a"}, {"id": "b"}]},
              "estimates": {"measure": "value", "fields": {"value": {"type": "number", "qualifier": "q"}, "q": "string", "source": {"ref": "sources"}},
                "rows": [{"value": 5, "q": \(a), "source": "a"}, {"value": 5, "q": \(b), "source": "b"}]}}}
            """).get()
        }
        let open = query("estimates compare source", kb: try kb(#""at least""#, #""up to""#))
        #expect(open.summaries.first?.verdict == "possible agreement: the values' intervals overlap")
        #expect(open.summaries.first?["min"]?.text == "up to 5" && open.summaries.first?["max"]?.text == "at least 5")
        let exact = query("estimates compare source", kb: try kb("null", "null"))
        #expect(exact.summaries.first?.verdict == "agreement: every value is the same")
    }

    @Test func compareNeverMixesUnits() {
        let r = query(#"estimates where value > 0 compare source"#)
        #expect(r.summaries.count >= 2)
        #expect(r.notes.contains { $0.contains("each unit is compared on its own") })
    }

    @Test func compareSaysWhenASourceGivesNoValue() {
        let r = query(#"estimates where topic = "troops" compare source"#)
        #expect(r.notes.contains { $0.contains("is mentioned but gives no value") })
    }

    @Test func citeAddsTheSentence() {
        let r = query(#"estimates where unit = "shells" and value > 1e6 cite"#)
        #expect(r.rows.count == 1)
        #expect(texts(r, "quote").first?.hasPrefix("Since 2022, North Korea has reportedly supplied Russia") == true)
        #expect(r.column("paragraph")?.first == .number(4))
        let afterSelect = query(#"estimates where unit = "shells" select value cite"#)
        #expect(afterSelect.columns.map(\.name) == ["value", "paragraph", "quote"])
    }

    @Test func timelineSortsByDateAndDraws() {
        let r = query("events where date >= 2024-06 timeline")
        let dates = texts(r, "date")
        #expect(dates.first == "2024-06")
        #expect(dates.contains("2024-10-13") && dates.contains("2024-11"))
        guard case .timeline(let marks)? = r.chart else { Issue.record("no timeline"); return }
        #expect(marks.count == r.rows.count)
        #expect(marks.map(\.date) == marks.map(\.date).sorted())
    }

    @Test func chartDrawsBars() {
        let r = query(#"estimates where value > 0 chart topic on value"#)
        guard case .bars(let bars)? = r.chart else { Issue.record("no chart"); return }
        #expect(bars.count == r.rows.count)
    }

    @Test func describeFindsByAlias() {
        let r = query(#"describe "Pyongyang""#)
        #expect(r.title == "North Korea (country)")
        #expect(r.rows.count > 20)
        #expect(texts(r, "collection").contains("estimates"))
        #expect(r.rows.contains { $0[3].text.contains("no value given") })
    }

    @Test func searchMarksMatches() {
        let r = query(#"search "kursk""#)
        #expect(r.rows.count == 2)
        #expect(texts(r, "text").allSatisfy { $0.contains("«Kursk»") })
    }

    @Test func textSearchTakesStraightQuotesForCurlyOnes() {
        // The article writes "Zelensky’s"; an analyst types "Zelensky's".
        let r = query(#"search "Zelensky's""#)
        #expect(texts(r, "sentence") == ["p1.2", "p3.2"])
        #expect(texts(r, "text").allSatisfy { $0.contains("«Zelensky’s»") })
        #expect(texts(query(#"sentences where text contains "Russia's" select id"#), "id") == ["p1.2", "p3.2", "p7.2"])
        #expect(texts(query(#"sentences where text contains '"military and other' select id"#), "id") == ["p6.2"])
        #expect(texts(query(#"claims where text contains "Russia’s" select id"#), "id") == ["c9", "c25"])
        #expect(query(#"describe "Russia's Kursk Oblast""#).title == "Kursk Oblast (region)")
    }

    @Test func describeCountsInGoodEnglish() {
        #expect(query(#"describe "Putin""#).notes.last == "1 row in the KB refers to Vladimir Putin")
        #expect(query(#"describe "Kursk""#).notes.last == "3 rows in the KB refer to Kursk Oblast")
    }

    @Test func letNamesFlowIntoLaterStatements() {
        let r = query("""
        let shipments = estimates where topic in ["containers", "artillery shells"]
        shipments compare source on value
        """)
        #expect(r.rows.count == 3)
        var s = Session()
        _ = s.run(SourceText("let c = claims where hedge = likely")) { _ in }
        #expect(s.letNames == ["c"])
        var got = 0
        _ = s.run(SourceText("c aggregate count()")) { if case .result(let r) = $0 { got = Int(r.rows[0][0].number ?? 0) } }
        #expect(got > 0)
    }

    @Test func explainShowsThePlanWithoutRunning() {
        let r = query("explain estimates where value > 1000 sort by value desc")
        #expect(texts(r, "operation") == ["scan", "filter", "sort"])
        #expect(r.title?.contains("nothing was run") == true)
    }

    @Test func conflictsFindsTheContainers() {
        let r = query("conflicts")
        #expect(Set(texts(r, "source")) == ["U.S. intelligence", "South Korea"])
        #expect(texts(r, "topic").allSatisfy { $0 == "containers" })
    }

    @Test func parametersAreValuesNotText() {
        let r = query("estimates where topic = $t select id", parameters: ["t": .string("containers")])
        #expect(r.rows.count == 2)
        // A parameter holding query text is compared as text, never run.
        let injected = query("estimates where topic = $t select id", parameters: ["t": .string("x\" or topic != \"")])
        #expect(injected.rows.isEmpty)
    }
}

@Suite struct OperatorTests {
    func ids(_ q: String) -> [String] { texts(query(q + " sort by id select id"), "id") }

    @Test func comparisonsAndLogic() {
        #expect(ids(#"estimates where unit = "containers" and value < 15000"#) == ["e5"])
        #expect(ids(#"estimates where unit = "shells" or unit = "percent""#) == ["e2", "e4"])
        #expect(ids(#"estimates where not unit = "containers" and value is not null"#) == ["e2", "e4"])
        #expect(ids(#"estimates where unit != "containers""#) == ["e1", "e2", "e4"])
        #expect(ids("estimates where value <= 13000") == ["e4", "e5"])
        #expect(ids("estimates where value >= 13000") == ["e2", "e3", "e5"])
    }

    @Test func inContainsMatchesBetween() {
        #expect(ids(#"estimates where topic in ["containers", "troops"]"#) == ["e1", "e3", "e5"])
        #expect(ids(#"estimates where topic not in ["containers", "troops"]"#) == ["e2", "e4"])
        #expect(ids(#"estimates where text contains "MUNITIONS""#) == ["e3"])
        #expect(ids(#"estimates where text matches "^over [0-9]""#) == ["e3"])
        #expect(ids("estimates where value between 10000 and 15000") == ["e5"])
        #expect(query(#"entities where aliases contains "dprk" select name"#).rows.first?[0].text == "North Korea")
    }

    @Test func isNull() {
        #expect(ids("estimates where value is null") == ["e1"])
    }

    @Test func arithmeticAndFunctions() {
        let r = query(#"estimates where topic = "containers" select value * 2 as double, value - 500 as less, lower(topic) as t, len(topic) as n, abs(-3) as a, round(value / 7, 1) as r, year(source.entity.sentence.document.date) as y"#)
        #expect(texts(r, "double") == ["over 33,000", "26,000"])  // intervals stay intervals
        #expect(texts(r, "less") == ["over 16,000", "12,500"])
        #expect(texts(r, "n") == ["10", "10"])
        #expect(texts(r, "r") == ["2,357.1", "1,857.1"])
        let q = query(#"estimates where unit = "shells" select low(value), high(value), qualifier(value), text(value)"#)
        #expect(q.rows[0].map(\.text) == ["3,000,000", "", "over", "over 3,000,000"])
        #expect(query("estimates where value / 0 is null select id").rows.count == 5)
    }

    @Test func textAndRoundingFunctions() {
        let r = query(#"claims where id = "c1" select concat(source.name, ": ", substr(text, 1, 11)) as said, substr(text, -2, 5) as s, substr(text, 100) as e, substr(text, 3, 0) as z, replace(text, "North Korea", "DPRK") as t, concat(null, "x", 1) as c"#)
        #expect(r.rows[0].map(\.text) == ["Volodymyr Zelensky: North Korea", "No", "", "", "DPRK had begun transferring military personnel to Russia.", "x1"])
        let n = query(#"estimates where value is not null sort by id select floor(value / 1000) as f, ceil(value / 1000) as c"#)
        #expect(texts(n, "f") == ["3,000", "16", "0%", "13"])
        #expect(texts(n, "c") == ["3,000", "17", "1%", "13"])
        let d = query(#"events where id in ["ev1", "ev7", "ev4"] sort by id select day(date) as d, month(date) as m"#)
        #expect(texts(d, "d") == ["13", "", ""])  // a day, a month, a year-only period
        #expect(texts(d, "m") == ["10", "", "6"])
        #expect(diagnostic(#"claims select source.name + text"#)?.notes == ["to join texts, write concat(a, b, …)"])
        #expect(diagnostic(#"claims select substr(text, "a")"#)?.kind == .typeMismatch)
        #expect(diagnostic(#"claims select replace(text, 1, "b")"#)?.kind == .typeMismatch)
    }

    @Test func aConditionThatMayHoldShowsAsMaybeAndStaysMaybe() {
        // "over 16,500" may or may not be over 2 million; the troops figure is unknown.
        let r = query("estimates sort by id select id, value > 2e6 as big")
        #expect(texts(r, "big") == ["", "true", "maybe", "false", "false"])
        #expect(r.rows[2][1] == .maybe && r.rows[0][1] == .null)
        #expect(r.rendered(as: .json).contains(#"{"id": "e3", "big": "maybe"}"#))
        #expect(r.rendered(as: .csv).split(whereSeparator: \.isNewline).contains("e3,maybe"))
        // Read again by a later statement, maybe is maybe: kept by `where maybe` only, left
        // alone by `not`, and sorted between false and true.
        let t = "let t = estimates select id, value > 2e6 as big; "
        #expect(texts(query(t + "t where big sort by id"), "id") == ["e2"])
        #expect(texts(query(t + "t where maybe big sort by id"), "id") == ["e2", "e3"])
        #expect(texts(query(t + "t where not big sort by id"), "id") == ["e4", "e5"])
        #expect(texts(query(t + "t where maybe big = true sort by id"), "id") == ["e2", "e3"])
        #expect(texts(query(t + "t sort by big, id"), "big") == ["false", "false", "maybe", "true", ""])
    }

    @Test func remainderWorksOnStatedNumbersAndByZeroIsNull() {
        // 13,000 % 7 is 1, not 13,007 (the remainder once went through interval addition).
        let r = query(#"estimates where unit = "containers" select value % 7 as r, value % 0 as z"#)
        #expect(texts(r, "r") == ["1", "1"])
        #expect(texts(r, "z") == ["", ""])
    }

    @Test func roundRefusesDigitsItCannotUse() {
        // round(value, 1000) or round(value, -3) once gave an empty column without a word.
        for bad in ["1000", "-3", "2.5", #""x""#] {
            let d = diagnostic("estimates select round(value, \(bad))")
            #expect(d?.kind == .typeMismatch && d?.message.hasPrefix("round's digits must be a whole number from 0 to 12") == true, "\(bad)")
            #expect(d?.range?.start == 30)
        }
        #expect(diagnostics("estimates select round(value, $d)", parameters: ["d": .string("x")]).map(\.kind) == [.unboundParameter])
        #expect(texts(query("estimates where id = \"e4\" select round(value / 7, $d) as r", parameters: ["d": .number(1)]), "r") == ["10.9%"])
    }

    @Test func negationAndSignsKeepTheInterval() {
        // -(over 16,500) is under -16,500, as 0 - value is; a firm yes below -16,500.
        let r = query(#"estimates where unit = "containers" select -value as n, 0 - value as m, value * -1 as k, abs(-value) as a"#)
        #expect(texts(r, "n") == ["under -16,500", "-13,000"])
        #expect(texts(r, "m") == texts(r, "n"))
        #expect(texts(r, "k") == texts(r, "n"))  // not "up to": -16,500 itself is excluded
        #expect(texts(r, "a") == ["over 16,500", "13,000"])
        #expect(ids("estimates where -value < -16500") == ["e2", "e3"])
        #expect(query(#"estimates where id = "e5" select -value as n"#).rows[0][0] == .number(-13_000))
    }

    @Test func literals() {
        #expect(ids("estimates where value = 13_000") == ["e5"])
        #expect(ids("estimates where value > 3e6") == ["e2"])  // over 3 million is a firm yes
        #expect(ids("estimates where value >= 76.6% and unit = \"percent\"") == ["e4"])
        #expect(query("events where date = 2024 select id").rows.count >= 3)
        #expect(query("events where date = 2024-10-13 select id").rows.count >= 1)
    }
}

/// Each error kind: positioned, with a caret, and nothing runs.
@Suite struct ErrorTests {
    func rendered(_ q: String) -> String {
        diagnostics(q).map { SourceText(q, name: "q.kbq").render($0) }.joined()
    }

    @Test func anUnknownNameIsExplainedByWhatItIsComparedWith() {
        // A bare word against a text field wants quotes; against a year or a date, one of
        // the date fields; against a number, one of the number fields.
        #expect(diagnostic(#"estimates where topic = containers"#)?.notes.last == #"to compare with text, put it in quotes: "containers""#)
        #expect(diagnostic(#"estimates where containers = topic"#)?.notes.last == #"to compare with text, put it in quotes: "containers""#)
        #expect(diagnostic("estimates where date > 2024")?.notes.last == "date fields here: period, reported")
        #expect(diagnostic("estimates where date < 2024-06")?.notes.last == "date fields here: period, reported")
        #expect(diagnostic("estimates where amount > 5")?.notes.last == "number fields here: value, value_high")
        #expect(diagnostic("claims where text contains Kursk")?.notes.last == #"to search for text, put it in quotes: "Kursk""#)
        #expect(diagnostic("claims where text matches Kursk")?.notes.last == #"to match text, put it in quotes: "Kursk""#)
        #expect(diagnostic("claims where text contains topc")?.suggestion == "topic")
        // compare on a field that is no number, where no field is one: said so, no empty list.
        #expect(diagnostic("sources compare kind on name")?.notes == ["no numeric field is in scope"])
    }

    @Test func unknownCollectionWithSuggestion() {
        let d = diagnostic("estimats where value > 1")
        #expect(d?.kind == .unknownCollection)
        #expect(d?.suggestion == "estimates")
        #expect(d?.range == SourceRange(0, 8))
        #expect(rendered("estimats where value > 1") == """
        q.kbq:1:1: error: unknown collection 'estimats'
         1 | estimats where value > 1
           | ^~~~~~~~
           = note: collections: documents, sentences, entities, sources, events, estimates, claims, relations, recommendations
           = help: did you mean 'estimates'?

        """)
    }

    @Test func wordsFromOtherQueryLanguagesGetTheKBQWay() {
        func one(_ q: String) -> Diagnostic? {
            let ds = diagnostics(q)
            #expect(ds.count == 1, "\(q): \(ds.map(\.message))")
            return ds.first
        }
        #expect(one("estimates order by value")?.suggestion == "sort")
        // One error at 'like', not also "where text is no condition" for the half it parsed.
        let like = one(#"claims where text like "%Kursk%""#)
        #expect(like?.range == SourceRange(18, 22) && like?.suggestion == "contains")
        #expect(like?.notes.first?.contains("text contains") == true)
        #expect(one("claims group by topic having count() > 5")?.suggestion == "where")
        #expect(one("claims select distinct topic")?.notes.first?.contains("group by topic") == true)
        #expect(one("claims | take 3")?.suggestion == "limit")
        #expect(one("claims offset 3")?.notes.first?.contains("limit 10 offset 20") == true)
        #expect(one("estimates select *")?.notes == ["kbq has no '*': a query without select shows every field"])
        let and = one(#"claims where topic == "china" && hedge = likely"#)
        #expect(and?.message == "unexpected '&&'" && and?.notes == ["write 'and'"] && and?.range == SourceRange(30, 32))
        #expect(one(#"claims where topic = "china" || hedge = likely"#)?.notes == ["write 'or'"])
    }

    @Test func aByteOrderMarkIsSkippedAndInvisibleCharactersAreNamed() {
        // A script saved with a BOM failed on its first byte with "unexpected character ''".
        #expect(diagnostics("\u{FEFF}estimates limit 1 select id").isEmpty)
        #expect(query("\u{FEFF}estimates limit 1 select id").rows.count == 1)
        let zw = diagnostic("estimates\u{200B} limit 1")
        #expect(zw?.message == "unexpected character '\\u{200b}'")
        #expect(zw?.notes == ["an invisible character; delete it, or type a plain space"])
        #expect(diagnostic("estimates\u{A0}limit 1")?.message == "unexpected character '\\u{a0}'")
    }

    @Test func unknownFieldAndPathStep() {
        #expect(diagnostic(#"estimates where topc = "containers""#)?.suggestion == "topic")
        let d = diagnostic("estimates select source.nme")
        #expect(d?.kind == .unknownField && d?.suggestion == "name")
        #expect(d?.range == SourceRange(24, 27))
        #expect(diagnostic("estimates select topic.name")?.kind == .unknownField)
    }

    @Test func unknownFunction() {
        let d = diagnostic("estimates select lowr(topic)")
        #expect(d?.kind == .unknownFunction && d?.suggestion == "lower")
    }

    @Test func unknownLetName() {
        #expect(diagnostic("shipmnts compare source")?.kind == .unknownCollection)
    }

    @Test func typeMismatches() {
        let d = diagnostic(#"events where date > "x""#)
        #expect(d?.kind == .typeMismatch)
        #expect(d?.range == SourceRange(20, 23))
        #expect(diagnostic("estimates where value contains 3")?.kind == .typeMismatch)
        #expect(diagnostic("estimates where topic + 1 > 2")?.kind == .typeMismatch)
        #expect(diagnostic("estimates where value = null")?.kind == .typeMismatch)
        #expect(diagnostic("estimates where topic")?.kind == .typeMismatch)
    }

    @Test func aggregateOutsideGroupBy() {
        let d = diagnostic("estimates select max(value)")
        #expect(d?.kind == .misplacedAggregate)
        #expect(diagnostic("estimates group by topic aggregate lower(topic)")?.kind == .misplacedAggregate)
    }

    @Test func compareOverAMissingFieldOrNonNumericMeasure() {
        #expect(diagnostic("estimates compare sorce")?.kind == .unknownField)
        let d = diagnostic("estimates compare source on topic")
        #expect(d?.kind == .invalidClause)
        #expect(diagnostic("claims compare source")?.kind == .invalidClause)
    }

    @Test func unknownHedgeWord() {
        let d = diagnostic("claims where hedge >= stat")
        #expect(d?.kind == .unknownHedge && d?.suggestion == "stated")
    }

    @Test func unknownEntity() {
        let d = diagnostic(#"describe "Pyongyan""#)
        #expect(d?.kind == .unknownEntity && d?.suggestion == "Pyongyang")
    }

    @Test func syntaxErrors() {
        #expect(diagnostic(#"estimates where topic = "containers"#)?.kind == .syntax)
        #expect(diagnostic("estimates where (value > 1")?.kind == .syntax)
        #expect(diagnostic("estimates sort value")?.kind == .syntax)
        #expect(diagnostic("where value > 1")?.kind == .syntax)
        #expect(diagnostic("estimates whre value > 1")?.suggestion == "where")
        #expect(diagnostic("estimates where a < b < c")?.kind == .syntax)
        #expect(diagnostic("events where date > 2024-13")?.kind == .invalidLiteral)
        #expect(diagnostic("estimates where value > 1e999")?.kind == .invalidLiteral)
    }

    @Test func severalIndependentErrorsInOneRun() {
        let d = diagnostics("""
        estimates where topc = 1
        claims select x
        sources where (
        events limit 2
        """)
        #expect(d.count == 3)
        #expect(d.map { $0.range.map { SourceText("").lineColumn(of: $0.start).line } ?? 0 }.count == 3)
    }

    @Test func aWrongQueryNeverRuns() {
        var s = Session()
        var ran = 0
        let d = s.run(SourceText("let a = estimates\nestimates select nope")) { _ in ran += 1 }
        #expect(!d.isEmpty && ran == 0)
        #expect(s.letNames.isEmpty)
    }

    @Test func unboundParameter() {
        let d = diagnostics("estimates where topic = $t")
        #expect(d.first?.kind == .unboundParameter)
        let wrong = diagnostics("estimates where value > $v", parameters: ["v": .string("many")])
        #expect(wrong.first?.kind == .unboundParameter)
    }

    @Test func limitsEndWithClearErrors() {
        #expect(diagnostics("claims", limits: Limits(maxRows: 5)).first?.kind == .tooManyRows)
        #expect(diagnostics("claims sort by text", limits: Limits(maxWork: 10)).first?.kind == .workLimit)
        let token = CancellationToken()
        token.cancel()
        var s = Session()
        #expect(s.run(SourceText("claims"), cancel: token) { _ in }.first?.kind == .cancelled)
    }
}

@Suite struct KeywordTests {
    /// The parser asks `isClauseStart` (a switch, for start-up time); it must say what the
    /// public set says.
    @Test func isClauseStartAgreesWithClauseStarts() {
        for k in Keyword.allCases {
            #expect(k.isClauseStart == Keyword.clauseStarts.contains(k), "\(k)")
        }
    }
}
