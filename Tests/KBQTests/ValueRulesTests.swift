import Testing
@testable import KBQ

/// The rules REFERENCE states in "Order, nulls and percents" (issue 22): one byte order for
/// text everywhere, exact points without a qualifier, CSV cells that say what the table
/// says, interval arithmetic whose word describes its interval, and the loading rules for
/// percents, empty text and years. Each test loads a real bare CSV file.
@Suite struct ValueRulesTests {
    /// The bare CSV `t.csv` in a fresh folder.
    func load(_ text: String, function: String = #function) throws -> KnowledgeBase {
        let path = temporaryDirectory(function) + "/t.csv"
        writeFile(path, text)
        return try KnowledgeBase(contentsOfFile: path)
    }

    func rows(_ kb: KnowledgeBase, _ q: String) -> [[String]] {
        query(q, kb: kb).rows.map { $0.map(\.text) }
    }

    let fruit = "id,topic\na1,apple\na2,Banana\na3,cherry\na4,Apple\n"

    @Test func textHasOneByteOrderInSortGroupMinMaxAndComparisons() throws {
        let kb = try load(fruit)
        let bytes = ["Apple", "Banana", "apple", "cherry"]
        #expect(rows(kb, "t sort by topic select topic").map { $0[0] } == bytes)
        #expect(rows(kb, "t sort by topic desc select topic").map { $0[0] } == bytes.reversed())
        #expect(rows(kb, "t group by topic").map { $0[0] } == bytes)
        #expect(rows(kb, "t aggregate min(topic), max(topic)") == [["Apple", "cherry"]])
        // "Banana" < "apple" in bytes, so the range and the comparison agree with the sort.
        #expect(rows(kb, "t where topic < \"apple\" sort by topic select topic").map { $0[0] } == ["Apple", "Banana"])
        #expect(rows(kb, "t where topic between \"B\" and \"b\" sort by topic select topic").map { $0[0] } == ["Banana", "apple"])
        #expect(rows(kb, "t group by topic aggregate count() as n sort by topic desc limit 1") == [["cherry", "1"]])
    }

    let figures = """
        id,value,qualifier,unit
        q1,5,exactly,containers
        q2,5,,containers
        q3,5,exactly,percent
        q4,5,,%
        q5,0,about,containers
        q6,10,about,containers
        q7,3,over,percent

        """

    @Test func aSinglePointHasNoQualifier() throws {
        let kb = try load(figures)
        #expect(rows(kb, "t select id, value, qualifier(value) as q") == [
            ["q1", "5", ""], ["q2", "5", ""], ["q3", "5%", ""], ["q4", "5%", ""],
            ["q5", "0", ""], ["q6", "about 10", "about"], ["q7", "over 3%", "over"],
        ])
        #expect(query("t where qualifier(value) is null select id", kb: kb).rows.count == 5)
    }

    @Test func exactPercentsAndNumbersGroupAlike() throws {
        let kb = try load(figures)
        // `5` and `exactly 5` are one number; `5%` (either way of writing it) one percent,
        // kept apart from the number 5 because it prints differently.
        #expect(rows(kb, "t group by value aggregate count() as n") == [
            ["0", "1"], ["over 3%", "1"], ["5", "2"], ["5%", "2"], ["about 10", "1"],
        ])
    }

    @Test func csvCellsAreTheTableText() throws {
        let kb = try load(figures)
        let r = query("t select value, value - 10000 - value as anything, -value as minus", kb: kb)
        let csv = r.rendered(as: .csv)
        #expect(csv == "value,anything,minus\r\n5,-10000,-5\r\n5,-10000,-5\r\n5%,-10000%,-5%\r\n5%,-10000%,-5%\r\n" +
                       "0,-10000,0\r\nabout 10,between -10002 and -9998,about -10\r\nover 3%,any value,under -3%\r\n")
        for (row, cells) in r.rows.enumerated() {
            for (c, v) in cells.enumerated() {
                #expect(v.plainText == v.text.replacingOccurrences(",", ""), "row \(row) column \(c)")
            }
        }
    }

    @Test func intervalArithmeticIsExactAndItsWordDescribesTheResult() throws {
        let kb = try load(figures)
        let r = query("t where id = \"q6\" select value + 7 as plus, value * 2 as twice, -value as neg, value * -1 as times_neg, value - value as diff, low(value + 7) as lo, high(value + 7) as hi", kb: kb)
        #expect(r.rows.map { $0.map(\.text) } == [["between 16 and 18", "about 20", "about -10", "about -10", "between -2 and 2", "16", "18"]])
        // (about 10) + 7 is [16, 18]: 15.5 is no, 17.5 yes, and "about 17" would have said maybe.
        #expect(rows(kb, "t where id = \"q6\" select value + 7 > 15.5 as a, value + 7 >= 16 as b, value + 7 > 17 as c") == [["true", "true", "maybe"]])
        #expect(rows(kb, "t where id = \"q6\" select qualifier(value * 2), qualifier(value + 7)") == [["about", "between"]])
        // Sums follow the same rule: about 10 and 5 add up to [14, 16], not about 15.
        #expect(rows(kb, "t where id in [\"q2\", \"q6\"] aggregate sum(value), avg(value)") == [["between 14 and 16", "between 7 and 8"]])
        #expect(rows(kb, "t where id in [\"q6\", \"q6\"] or id = \"q5\" aggregate sum(value)") == [["about 10"]])
    }

    @Test func percentUnitsEmptyTextAndYears() throws {
        let kb = try load("id,topic,value,unit,d\nr1,,2,%,2024-06-19\nr2,b,3,percent,2023\nr3,c,4,shells,\n")
        // A `unit` of exactly `percent` or `%` makes the row's numbers percents.
        #expect(rows(kb, "t select value") == [["2%"], ["3%"], ["4"]])
        // An empty text field is null: `= ""` matches nothing, `is null` finds it.
        #expect(rows(kb, "t where topic = \"\" select id").isEmpty)
        #expect(rows(kb, "t where topic is null select id") == [["r1"]])
        // year() is the whole year as a date: it compares with dates and years, and is no
        // number for arithmetic.
        #expect(rows(kb, "t where year(d) = 2024 select id, year(d)") == [["r1", "2024"]])
        #expect(rows(kb, "t where year(d) >= 2023-06 select id") == [["r1"]])
        #expect(diagnostic("t select year(d) + 1", kb: kb)?.kind == .typeMismatch)
    }
}

/// The MCP server builds its answers from `JSON(value)` and `kbq --format json` writes
/// `JSONRenderer.value`: one value must read the same in both, for every value the article
/// KB stores and for the quantities arithmetic makes (open bounds, percents, infinities).
@Suite struct JSONTreeAgreementTests {
    func agree(_ v: Value, sourceLocation: SourceLocation = #_sourceLocation) {
        let written = JSONRenderer.value(v)
        guard let parsed = try? JSONParser.parse(Array(written.utf8)) else {
            Issue.record("kbq's JSON output for \(v) does not parse: \(written)", sourceLocation: sourceLocation)
            return
        }
        #expect(parsed.text == JSON(v).text, "\(v)", sourceLocation: sourceLocation)
    }

    @Test func everyStoredValueOfTheArticleKB() {
        let kb = KnowledgeBase.article
        var seen = 0
        for c in kb.collections {
            for f in c.fields.indices {
                for r in 0..<c.count {
                    agree(c.value(row: r, column: f, kb: kb))
                    seen += 1
                }
            }
        }
        #expect(seen > 1000)
    }

    @Test func computedQuantitiesAndLists() {
        let r = query("""
            estimates where value is not null select value, value * 1e308 as huge, value / 3 as third limit 20
            """)
        let spread = query("estimates group by topic aggregate spread(value) as s")
        #expect(r.rows.count == 4 && spread.rows.count > 1)
        for row in r.rows + spread.rows { for v in row { agree(v) } }
        agree(.list([.number(1.5), .string("a\"b"), .null, .maybe, .percent(12.5)]))
    }
}
