import Testing
@testable import KBQ

/// CSV input read by the streaming reader (Formats/CSVReader.swift): RFC 4180 quoting,
/// line endings, nulls, the last line, errors with file:line, and files large enough to
/// cross the reader's chunks and switch text columns to unindexed storage.
@Suite struct CSVLoadingTests {
    /// Loads `text` as the bare CSV `name` in a fresh folder.
    func load(_ text: String, name: String = "t.csv", function: String = #function) -> Result<KnowledgeBase, KBLoadError> {
        let dir = temporaryDirectory(function)
        let path = dir + "/" + name
        writeFile(path, text)
        do throws(KBLoadError) {
            return .success(try KnowledgeBase(contentsOfFile: path))
        } catch {
            return .failure(error)
        }
    }

    func rows(_ kb: KnowledgeBase, _ q: String) -> [[String]] {
        query(q, kb: kb).rows.map { $0.map(\.text) }
    }

    @Test func quotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let kb = try load("id,text,n\n" +
                          "a,\"one, two\",1\n" +
                          "b,\"she said \"\"no\"\"\",2\n" +
                          "c,\"line one\nline two\",3\n" +
                          "d,\"\",4\n").get()
        #expect(rows(kb, "t select id, text") == [["a", "one, two"], ["b", "she said \"no\""], ["c", "line one\nline two"], ["d", ""]])
        // A quoted empty field is empty text, read as null like an unquoted one.
        #expect(rows(kb, "t where text is null select id") == [["d"]])
    }

    @Test func crlfLineEndings() throws {
        let kb = try load("id,topic,value\r\nx1,a,1.5\r\nx2,\"b\r\nc\",2\r\n").get()
        #expect(rows(kb, "t select id, topic, value") == [["x1", "a", "1.5"], ["x2", "b\r\nc", "2"]])
        #expect(kb.collection("t")?.field("value")?.type == .number())
    }

    @Test func emptyFieldsAreNull() throws {
        let kb = try load("id,topic,value,date\nx1,,,\nx2,b,2,2024-06\n").get()
        #expect(rows(kb, "t where topic is null select id") == [["x1"]])
        #expect(rows(kb, "t where value is null select id") == [["x1"]])
        #expect(rows(kb, "t where date is null select id") == [["x1"]])
        #expect(kb.collection("t")?.field("date")?.type == .date)
    }

    @Test func lastLineWithoutNewline() throws {
        let kb = try load("id,value\nx1,1\nx2,2").get()
        #expect(rows(kb, "t select id, value") == [["x1", "1"], ["x2", "2"]])
        let quoted = try load("id,text\nx1,\"last, quoted\"", name: "q.csv").get()
        #expect(rows(quoted, "q select text") == [["last, quoted"]])
    }

    @Test func blankLinesAndByteOrderMark() throws {
        let kb = try load("\u{FEFF}id,value\n\nx1,1\n\nx2,2\n\n").get()
        #expect(rows(kb, "t select id, value") == [["x1", "1"], ["x2", "2"]])
    }

    @Test func badNumberIsAnErrorWithFileAndLine() {
        let dir = temporaryDirectory()
        writeFile(dir + "/rows.csv", "id,value\nx1,1\nx2,\"2\"\nx3,two\nx4,4\n")
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"id": "string", "value": "number"}, "file": "rows.csv"}}}"#)
        do {
            _ = try KnowledgeBase(contentsOfFile: dir + "/kb.json")
            Issue.record("loaded a CSV with a bad number")
        } catch {
            #expect(error.problems.first?.path == "rows.csv:4: value")
            #expect(error.problems.first?.kind == .typeMismatch)
            // The offending text is quoted back: the what of where-and-what.
            #expect(error.problems.first?.message == "expected a number, found \"two\"")
        }
    }

    @Test func lineNumbersCountLineBreaksInsideQuotes() {
        let dir = temporaryDirectory()
        writeFile(dir + "/rows.csv", "id,note,value\nx1,\"two\nlines\",1\nx2,ok,oops\n")
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"id": "string", "note": "string", "value": "number"}, "file": "rows.csv"}}}"#)
        do {
            _ = try KnowledgeBase(contentsOfFile: dir + "/kb.json")
            Issue.record("loaded a CSV with a bad number")
        } catch {
            #expect(error.problems.first?.path == "rows.csv:4: value")
        }
    }

    @Test func aNumberPastDoublesRangeIsText() throws {
        // 1e400 once made the column a number, and the same file was then refused for it.
        let kb = try load("n\n1e400\n2\n").get()
        #expect(kb.collection("t")?.field("n")?.type == .string)
        #expect(rows(kb, "t select n") == [["1e400"], ["2"]])
    }

    @Test func aValuePastTheInferenceSampleRetypesTheColumn() throws {
        // Types come from the first 10,000 rows; a later "n/a" among numbers makes kbq read
        // the file again and type the column from every row (text), rather than refuse it.
        var text = "id,value,when\n"
        for i in 1...10_050 { text += "x\(i),\(i == 10_020 ? "n/a" : String(i)),2024-06\n" }
        let kb = try load(text).get()
        #expect(kb.collection("t")?.field("value")?.type == .string)
        #expect(kb.collection("t")?.field("when")?.type == .date)  // the other columns keep theirs
        #expect(rows(kb, #"t where id = "x10020" select value"#) == [["n/a"]])
        #expect(rows(kb, "t aggregate count() as n") == [["10,050"]])
    }

    @Test func wrongFieldCountAndUnterminatedQuote() {
        switch load("id,value\nx1,1,extra\n") {
        case .success: Issue.record("loaded a row with too many fields")
        case .failure(let error):
            #expect(error.problems.first?.kind == .fieldCount)
            // The sample was the whole file and the problem is not a type: no note on types.
            #expect(error.problems.count == 1)
        }
        switch load("id,text\nx1,\"never closed\n", name: "u.csv") {
        case .success: Issue.record("loaded an unterminated quote")
        case .failure(let error): #expect(error.problems.first?.kind == .syntax)
        }
    }

    /// Enough rows to cross several 1 MiB chunks and to pass the point where columns are
    /// sized for the file and near-unique text stops being indexed.
    @Test func largeFileAcrossChunks() throws {
        var text = "id,topic,value,text\n"
        let n = 60_000
        for i in 0..<n {
            let topic = "topic-\(i % 7)"
            // Every 1000th text repeats an earlier one; a few are quoted with a comma.
            let body = i % 1000 == 999 ? "Report 0 padded to make the line a little longer, as real text is" :
                "Report \(i) padded to make the line a little longer, as real text is"
            text += "e\(i),\(topic),\(i % 100),\"\(body)\"\n"
        }
        let kb = try load(text).get()
        let t = try #require(kb.collection("t"))
        #expect(t.count == n)
        #expect(t.key == "id")
        guard case .string(_, let pool) = t.columns[t.fields.count - 1] else { Issue.record("text is not a string column"); return }
        #expect(!pool.isDistinct, "near-unique text is stored without an index")
        // Equal texts with different ids still compare equal, in every way they can be met.
        let repeated = "Report 0 padded to make the line a little longer, as real text is"
        #expect(query("t where text = \"\(repeated)\" aggregate count() as n", kb: kb).rows == [[.number(Double(n / 1000 + 1))]])
        #expect(query("t where text != \"\(repeated)\" aggregate count() as n", kb: kb).rows == [[.number(Double(n - n / 1000 - 1))]])
        #expect(query("t where text in [\"\(repeated)\", \"nothing\"] aggregate count() as n", kb: kb).rows == [[.number(Double(n / 1000 + 1))]])
        let grouped = query("t group by text aggregate count() as n sort by n desc limit 1", kb: kb)
        #expect(grouped.rows == [[.string(repeated), .number(Double(n / 1000 + 1))]])
        #expect(query("t where text contains \"REPORT 59998 padded\" select id", kb: kb).rows == [[.string("e59998")]])
        // The key column is still looked up, and the low-cardinality column still groups by id.
        #expect(t.row(forKey: "e43210") == 43210)
        #expect(query("t group by topic aggregate count() as n", kb: kb).rows.count == 7)
        let expected = (0..<n).filter { $0 % 7 == 3 && $0 % 100 == 3 }.count
        let both = query("t where topic = \"topic-3\" and value = 3 aggregate count() as n", kb: kb)
        #expect(both.rows == [[.number(Double(expected))]])
    }
}
