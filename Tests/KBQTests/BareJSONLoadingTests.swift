import Testing
@testable import KBQ

// Bare JSON data given to --kb (KnowledgeBase(contentsOfFile:)): rows exported by another
// tool, without the "kbq": 1 header or declared fields, in its three shapes; types inferred
// as for a bare CSV; every refusal with its JSON path.

private func load(_ text: String, file: String) -> Result<KnowledgeBase, KBLoadError> {
    let path = temporaryDirectory(file) + "/" + file
    writeFile(path, text)
    do throws(KBLoadError) {
        return .success(try KnowledgeBase(contentsOfFile: path))
    } catch {
        return .failure(error)
    }
}

private func cells(_ kb: KnowledgeBase, _ text: String) -> [[String]] {
    query(text, kb: kb).rows.map { $0.map(\.plainText) }
}

private func types(_ kb: KnowledgeBase, _ collection: String) -> [String] {
    kb.collection(collection)?.fields.map { "\($0.name): \($0.type)" } ?? []
}

@Suite struct BareJSONLoadingTests {
    @Test func anArrayOfRowsIsOneCollectionWithInferredTypes() throws {
        let kb = try load("""
            [{"id": "a", "value": 16500, "qualifier": "over", "when": "2024-06", "hedge": "stated", "tags": ["x", "y"], "ok": true, "note": "n"},
             {"id": "b", "value": "", "qualifier": null, "when": null, "hedge": "", "tags": [], "ok": false},
             {"id": "c", "value": 13000, "when": "2024-06-19", "hedge": "likely", "note": 7}]
            """, file: "shipments.json").get()
        #expect(kb.collections.map(\.name) == ["shipments"])
        #expect(types(kb, "shipments") == ["id: string", "value: quantity", "qualifier: string", "when: date", "hedge: hedge",
                                           "tags: list<string>", "ok: bool", "note: string"])
        let c = try #require(kb.collection("shipments"))
        #expect(c.key == "id" && c.measure == "value")
        // "" where a number or hedge goes, and a missing field, are null; 7 among text is "7".
        #expect(cells(kb, "shipments select id, value, when, hedge, tags, ok, note") == [
            ["a", "over 16500", "2024-06", "stated", "x; y", "true", "n"],
            ["b", "", "", "", "", "false", ""],
            ["c", "13000", "2024-06-19", "likely", "", "", "7"],
        ])
        #expect(cells(kb, "shipments where hedge >= likely and value > 10000 select id") == [["a"], ["c"]])
    }

    @Test func collectionsOfRowsAreSeveralCollections() throws {
        // The shape ../shared/bench/gen.py writes, one row per line inside the arrays.
        let kb = try load("""
            {"collections": {"estimates": [
            {"id": "e1", "topic": "containers", "source": "us", "value": 16500},
            {"id": "e2", "topic": "containers", "source": "sk", "value": 13000}
            ], "sources": [{"id": "us", "name": "U.S. intelligence"}, {"id": "sk", "name": "South Korean intelligence"}]}}
            """, file: "kb.json").get()
        #expect(kb.collections.map(\.name) == ["estimates", "sources"])
        #expect(cells(kb, #"estimates where topic = "containers" compare source"#).map { $0[0] } == ["us", "sk"])
        #expect(query(#"estimates where topic = "containers" compare source"#, kb: kb).summaries.first?["spread"] == .number(3_500))
        #expect(cells(kb, "sources sort by name select name") == [["South Korean intelligence"], ["U.S. intelligence"]])
    }

    @Test func ndjsonGivenToKBIsOneCollectionStreamed() throws {
        let kb = try load("""
            {"id": "a", "value": 1, "date": "2024-01-02"}

            {"id": "b", "value": 2.5}\r
            {"value": null, "id": "c", "date": ""}
            """, file: "rows-2024.ndjson").get()
        #expect(kb.collections.map(\.name) == ["rows_2024"])
        #expect(types(kb, "rows_2024") == ["id: string", "value: number", "date: date"])
        #expect(cells(kb, "rows_2024 select id, value, date") == [["a", "1", "2024-01-02"], ["b", "2.5", ""], ["c", "", ""]])
    }

    @Test func repeatedIdsAreNoKey() throws {
        let kb = try load(#"[{"id": "a", "n": 1}, {"id": "a", "n": 2}]"#, file: "dupes.json").get()
        #expect(kb.collection("dupes")?.key == nil)
        #expect(cells(kb, "dupes aggregate count() as n") == [["2"]])
    }

    @Test func whatBareDataCannotTypeIsRefusedWithItsPath() {
        let nested = load(#"[{"id": "a", "where": {"lat": 1}}, {"id": "b", "tags": [1, "x"]}, 5]"#, file: "odd.json")
        guard case .failure(let e) = nested else { Issue.record("loaded"); return }
        let paths = e.problems.map(\.path)
        #expect(paths.contains("$[0].where") && paths.contains("$[1].tags") && paths.contains("$[2]"), "\(e.problems)")
        #expect(e.problems.filter { $0.kind == .cannotInfer }.map(\.path) == ["$[0].where", "$[1].tags"], "\(e.problems)")
        #expect(e.problems.first { $0.path == "$[2]" }?.kind == .typeMismatch)
        let badName = load(#"{"collections": {"my rows": [{"first name": "x"}]}}"#, file: "names.json")
        guard case .failure(let n) = badName else { Issue.record("loaded"); return }
        // The bad name's path is the first row that holds it, where it can be found.
        #expect(Set(n.problems.map(\.path)) == ["$.collections.my rows", "$.collections.my rows[0].first name"], "\(n.problems)")
        #expect(n.problems.allSatisfy { $0.kind == .invalidName })
    }

    @Test func notBareDataStillNeedsItsHeader() {
        // Declared fields without "kbq": 1 is a KB file missing its version, not bare data.
        let r = load(#"{"collections": {"t": {"fields": {"id": "string"}, "rows": []}}}"#, file: "headerless.json")
        guard case .failure(let e) = r else { Issue.record("loaded"); return }
        #expect(e.problems.first.map { [$0.kind] } == [.missing] && e.problems.first?.path == "$")
        // A broken row is reported with its path, line and column.
        let broken = load("[{\"id\": \"a\"},\n {\"id\": }]", file: "broken.json")
        guard case .failure(let b) = broken else { Issue.record("loaded"); return }
        #expect(b.problems.map(\.path) == ["$[1]"])
        #expect(b.problems.first?.message == "not valid JSON at line 2, column 9: unexpected character '}'", "\(b.problems)")
    }

    @Test func fieldsAndKindsFirstMetPastTheFirstRowsAreTypedFromEveryRow() throws {
        // Types come from the first 10,000 rows; a field or a kind of value first met after
        // them used to refuse the file. JSON arrays and NDJSON are typed again from all rows.
        let rows = (0..<10_000).map { #"{"id": "r\#($0)", "v": \#($0)}"# }
        for (name, last) in [("late", #"{"id": "late", "v": 1, "extra": "x"}"#), ("kind", #"{"id": "late", "v": "text"}"#)] {
            let array = try load("[" + (rows + [last]).joined(separator: ",\n") + "]", file: "\(name).json").get()
            let lines = try load((rows + [last]).joined(separator: "\n") + "\n", file: "\(name).ndjson").get()
            for kb in [array, lines] {
                #expect(kb.collection(name)?.count == 10_001)
                #expect(cells(kb, "\(name) where id = \"late\" select \(name == "late" ? "extra" : "v")") == [[name == "late" ? "x" : "text"]])
            }
        }
        // A value that no type holds is still refused, at its row, wherever it is.
        let nested = load("[" + (rows + [#"{"id": "o", "v": {"a": 1}}"#]).joined(separator: ",") + "]", file: "nested.json")
        guard case .failure(let e) = nested else { Issue.record("loaded"); return }
        #expect(e.problems.map(\.path) == ["$[10000].v"], "\(e.problems)")
    }

    @Test func aByteOrderMarkAtTheStartIsSkipped() throws {
        let bom = "\u{FEFF}"
        #expect(try cells(load(bom + #"[{"a": 1}]"#, file: "bom.json").get(), "bom select a") == [["1"]])
        #expect(try cells(load(bom + "{\"a\": 1}\n{\"a\": 2}\n", file: "bom.ndjson").get(), "bom select a") == [["1"], ["2"]])
        let kb = try load(bom + #"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "rows": [{"a": 3}]}}}"#, file: "kb.json").get()
        #expect(cells(kb, "t select a") == [["3"]])
        // Columns are counted as an editor shows them, without the mark.
        guard case .failure(let e) = load(bom + "[{\"a\": }]", file: "bad.json") else { Issue.record("loaded"); return }
        #expect(e.problems.first?.message == "not valid JSON at line 1, column 8: unexpected character '}'", "\(e.problems)")
    }

    @Test func aFieldGivenTwiceInARowIsRefusedNotHalfKept() {
        // JSON readers differ on which of two values they keep; kbq kept the first unsaid.
        guard case .failure(let a) = load(#"[{"a": 1}, {"a": 1, "a": 2}]"#, file: "twice.json") else { Issue.record("loaded"); return }
        #expect(a.problems.map(\.path) == ["$[1].a"] && a.problems.first?.kind == .duplicateName, "\(a.problems)")
        guard case .failure(let n) = load("{\"a\": 1}\n{\"a\": 1, \"a\": 2}\n", file: "twice.ndjson") else { Issue.record("loaded"); return }
        #expect(n.problems.map(\.path).first?.hasSuffix("twice.ndjson:2.a") == true, "\(n.problems)")
        #expect(n.problems.first?.kind == .duplicateName)
    }

    @Test func rowsWithNoFieldsAreRefusedNotCountedAsNone() {
        // [{}, {}] loaded as a collection of 0 rows and no fields, which no query could see.
        for (text, file, path) in [("[]", "none.json", "$"), ("[{}, {}]", "empty.json", "$"), (#"{"collections": {"t": [], "u": [{"a": 1}]}}"#, "c.json", "$.collections.t")] {
            guard case .failure(let e) = load(text, file: file) else { Issue.record("loaded \(text)"); continue }
            #expect(e.problems.map(\.path) == [path], "\(e.problems)")
            #expect(e.problems.first?.kind == .cannotInfer)
        }
        guard case .failure(let n) = load("\n\n", file: "blank.ndjson") else { Issue.record("loaded"); return }
        #expect(n.problems.first?.kind == .cannotInfer)
    }
}
