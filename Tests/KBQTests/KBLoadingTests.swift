import Testing
@testable import KBQ
#if canImport(Glibc)
import Glibc
#endif

/// A good small KB, and each kind of bad one: refused whole, every problem with its path.
@Suite struct KBLoadingTests {
    static let good = """
    {"kbq": 1, "name": "mini", "collections": {
      "sources": {"key": "id", "fields": {"id": "string", "name": "string"},
                  "rows": [{"id": "a", "name": "Agency A"}, {"id": "b", "name": "Agency B"}]},
      "estimates": {"key": "id", "measure": "value",
        "fields": {"id": "string", "topic": "string", "value": {"type": "number", "qualifier": "qualifier"},
                   "qualifier": "string", "source": {"ref": "sources"}, "hedge": "hedge", "date": "date", "tags": {"list": "string"}},
        "rows": [
          {"id": "e1", "topic": "tanks", "value": 100, "qualifier": "over", "source": "a", "hedge": "stated", "date": "2024-06", "tags": ["x"]},
          {"id": "e2", "topic": "tanks", "value": 40, "qualifier": null, "source": "b", "hedge": "claimed", "date": "2024", "tags": []}
        ]}
    }}
    """

    @Test func goodKBLoadsAndAnswers() throws {
        let kb = try loadKB(Self.good).get()
        #expect(kb.collections.map(\.name) == ["sources", "estimates"])
        let r = query("estimates compare source", kb: kb)
        #expect(texts(r, "source") == ["Agency A", "Agency B"])
        #expect(r.summaries.first?["spread"] == .number(60))
    }

    func problems(_ json: String) -> [KBProblem] {
        switch loadKB(json) {
        case .success: Issue.record("the KB loaded but should have been refused"); return []
        case .failure(let e): return e.problems
        }
    }

    func replacing(_ a: String, _ b: String) -> String { Self.good.replacingOccurrences(a, b) }

    @Test func notJSON() {
        let p = problems("{\"kbq\": 1, \"collections\": {")
        #expect(p.count == 1)
        #expect(p[0].path == "$" && p[0].kind == .syntax)
    }

    @Test func unknownType() {
        let p = problems(replacing(#""name": "string"}"#, #""name": "strng"}"#))
        #expect(p.map(\.path) == ["$.collections.sources.fields.name"])
        #expect(p[0].kind == .unknownType)
        // The suggestion is the behaviour under test here, so the wording is asserted.
        #expect(p[0].message.contains("did you mean 'string'"))
    }

    @Test func rowMissingADeclaredField() {
        let p = problems(replacing(#"{"id": "b", "name": "Agency B"}"#, #"{"id": "b"}"#))
        #expect(p.map(\.path) == ["$.collections.sources.rows[1]"])
        #expect(p[0].kind == .missing)
    }

    @Test func unknownFieldInARow() {
        let p = problems(replacing(#"{"id": "b", "name": "Agency B"}"#, #"{"id": "b", "name": "Agency B", "nmae": 1}"#))
        #expect(p.map(\.path) == ["$.collections.sources.rows[1].nmae"])
        #expect(p.map(\.kind) == [.unknownField])
    }

    @Test func wrongType() {
        let p = problems(replacing(#""value": 40"#, #""value": "forty""#))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[1].value"])
        #expect(p[0].kind == .typeMismatch)
        // The message names both types, the what of where-and-what.
        #expect(p[0].message == "expected number, found string \"forty\"")
    }

    @Test func danglingReference() {
        let p = problems(replacing(#""source": "b""#, #""source": "c""#))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[1].source"])
        #expect(p[0].kind == .danglingReference)
    }

    @Test func duplicateKey() {
        let p = problems(replacing(#""id": "e2""#, #""id": "e1""#))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[1].id"])
        #expect(p[0].kind == .duplicateKey)
    }

    @Test func unknownCollectionInAReference() {
        let p = problems(replacing(#"{"ref": "sources"}"#, #"{"ref": "sorces"}"#))
        #expect(p.contains { $0.path == "$.collections.estimates.fields.source" && $0.kind == .unknownCollection && $0.message.contains("did you mean 'sources'") })
    }

    @Test func badDateHedgeAndQualifier() {
        var json = replacing(#""date": "2024-06""#, #""date": "2024-13""#)
        json = json.replacingOccurrences(#""hedge": "claimed""#, #""hedge": "rumoured""#)
        json = json.replacingOccurrences(#""qualifier": "over""#, #""qualifier": "ovr""#)
        let p = problems(json)
        #expect(p.map(\.path).sorted() == ["$.collections.estimates.rows[0].date", "$.collections.estimates.rows[0].qualifier", "$.collections.estimates.rows[1].hedge"])
        #expect(Set(p.map(\.kind)) == [.invalidDate, .unknownHedge, .unknownQualifier])
    }

    /// A "between" with no upper bound, or one below the value, once loaded as an exact number.
    @Test func betweenNeedsItsUpperBound() {
        let withUpper = replacing(#"{"type": "number", "qualifier": "qualifier"}"#, #"{"type": "number", "qualifier": "qualifier", "upper": "high"}"#)
            .replacingOccurrences(#""qualifier": "string","#, #""qualifier": "string", "high": "number","#)
            .replacingOccurrences(#""qualifier": "over","#, #""qualifier": "between", "high": 50,"#)
            .replacingOccurrences(#""qualifier": null,"#, #""qualifier": "between", "high": null,"#)
        let p = problems(withUpper)
        #expect(p.map(\.path) == ["$.collections.estimates.rows[0].high", "$.collections.estimates.rows[1].high"])
        #expect(p.map(\.kind) == [.invalidInterval, .invalidInterval])
        #expect(p.first?.message == "the upper bound 50 is below the value 100 of 'value'")
        let noUpper = problems(replacing(#""qualifier": "over""#, #""qualifier": "between""#))
        #expect(noUpper.map(\.path) == ["$.collections.estimates.rows[0].qualifier"])
        #expect(noUpper.map(\.kind) == [.invalidInterval])
        // A good between still loads.
        let good = withUpper.replacingOccurrences(#""high": 50"#, #""high": 150"#).replacingOccurrences(#""qualifier": "between", "high": null"#, #""qualifier": null, "high": null"#)
        if case .success(let kb) = loadKB(good) {
            #expect(texts(query("estimates select value", kb: kb), "value") == ["between 100 and 150", "40"])
        } else { Issue.record("a good between was refused") }
    }

    /// Every problem is listed, not only the first.
    @Test func everyProblemIsListed() {
        var json = replacing(#""source": "b""#, #""source": "zz""#)
        json = json.replacingOccurrences(#""value": 40"#, #""value": true"#)
        json = json.replacingOccurrences(#""name": "Agency A"}"#, #""name": 5}"#)
        #expect(problems(json).map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.danglingReference, .typeMismatch, .typeMismatch])
    }

    @Test func missingVersionAndCollections() {
        let p = problems(#"{"name": "x"}"#)
        #expect(p.contains { $0.path == "$" && $0.kind == .missing })
        #expect(p.contains { $0.path == "$.collections" && $0.kind == .missing })
    }

    @Test func nestingTooDeep() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let p = problems(deep)
        #expect(p.first?.kind == .limitExceeded)
    }

    @Test func kbsOwnHedgeScale() throws {
        let json = replacing(#""name": "mini","#, #""name": "mini", "hedges": ["certain", {"word": "probable", "aliases": ["probably"]}, "doubtful"],"#)
            .replacingOccurrences(#""hedge": "stated""#, #""hedge": "certain""#)
            .replacingOccurrences(#""hedge": "claimed""#, #""hedge": "probably""#)
        let kb = try loadKB(json).get()
        #expect(texts(query("estimates where hedge >= probable select id", kb: kb), "id") == ["e1", "e2"])
        #expect(texts(query("estimates where hedge > probable select id", kb: kb), "id") == ["e1"])
        #expect(diagnostic("estimates where hedge >= stated", kb: kb)?.kind == .unknownHedge)
    }

    @Test func fileThatDoesNotExist() {
        do throws(KBLoadError) {
            _ = try KnowledgeBase(contentsOfFile: "/nonexistent/kb.json")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.problems.first?.kind == .cannotRead)
        }
    }

    @Test func bareCSVWithInferredTypes() throws {
        let dir = temporaryDirectory()
        let path = dir + "/shipments.csv"
        writeFile(path, "id,topic,value,qualifier,date,hedge,text\r\ne1,tanks,100,over,2024-06-01,reportedly,\"a, quoted\"\"text\"\"\"\r\ne2,tanks,40,,2024-07-02,,plain\r\n")
        let kb = try KnowledgeBase(contentsOfFile: path)
        let c = try #require(kb.collection("shipments"))
        #expect(c.fields.map(\.type.description) == ["string", "string", "quantity", "string", "date", "hedge", "string"])
        let r = query("shipments where value > 50 select id, value, text", kb: kb)
        #expect(texts(r, "value") == ["over 100"])
        #expect(texts(r, "text") == ["a, quoted\"text\""])
        #expect(query("shipments where hedge is null select id", kb: kb).rows.count == 1)
    }

    @Test func kbWithRowsInACSVFile() throws {
        let dir = temporaryDirectory()
        writeFile(dir + "/rows.csv", "id,topic,value\nx1,a,1\nx2,b,2\n")
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"key": "id", "measure": "value", "fields": {"id": "string", "topic": "string", "value": "number"}, "file": "rows.csv"}}}"#)
        let kb = try KnowledgeBase(contentsOfFile: dir + "/kb.json")
        #expect(kb.collection("t")?.count == 2)
        writeFile(dir + "/bad.csv", "id,topic,value\nx1,a,1\nx2,b,two\n")
        writeFile(dir + "/kb2.json", #"{"kbq": 1, "collections": {"t": {"fields": {"id": "string", "topic": "string", "value": "number"}, "file": "bad.csv"}}}"#)
        do throws(KBLoadError) {
            _ = try KnowledgeBase(contentsOfFile: dir + "/kb2.json")
            Issue.record("loaded a bad CSV")
        } catch {
            #expect(error.problems.first?.path == "bad.csv:3: value")
            #expect(error.problems.first?.kind == .typeMismatch)
        }
    }
}
