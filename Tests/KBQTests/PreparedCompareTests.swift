import Testing
@testable import KBQ

/// A prepared `compare` keeps what each stored row shows that depends on the row alone (its
/// sentence list, its inference and the note saying why) from one run to the next. A run
/// with another parameter reads other rows and must show those rows' own sentences, columns
/// and notes: each run is compared whole, rendered, with a fresh session's answer to the
/// same query.
@Suite struct PreparedCompareTests {
    /// Estimates on several topics; rows infer their source (the compared field: the note
    /// names the source), their value, both, a field compare does not show, or nothing;
    /// some sources give several rows of a topic, so a group gathers several rows' notes.
    static let provenanceKB: KnowledgeBase = {
        let sources = ["a", "b", "c"].map { #"{"id": "\#($0)", "name": "Agency \#($0.uppercased())"}"# }
        let sentences = (0..<24).map { #"{"id": "s\#($0)", "text": "Sentence \#($0)."}"# }
        let inferred = [#"["source"]"#, "[]", #"["value"]"#, #"["source", "value"]"#, #"["topic"]"#, "[]"]
        var rows: [String] = []
        for i in 0..<24 {
            let topic = ["ships", "shells", "troops", "none"][i % 4]
            let infers = inferred[i % inferred.count]
            let reason = infers == "[]" ? "null" : #""reason \#(i)""#
            let basis = infers == "[]" ? "[]" : #"["s\#(i)"]"#
            rows.append(#"{"id": "e\#(i)", "topic": "\#(topic)", "value": \#(100 + i * 7), "unit": "\#(i % 5 == 0 ? "tons" : "units")", "source": "\#(["a", "b", "c"][i % 3])", "sentence": "s\#(i)", "inferred": \#(infers), "reason": \#(reason), "basis": \#(basis)}"#)
        }
        let json = #"""
        {"kbq": 1, "name": "provenance", "collections": {
          "sentences": {"key": "id", "fields": {"id": "string", "text": "string"}, "rows": [\#(sentences.joined(separator: ","))]},
          "sources": {"key": "id", "fields": {"id": "string", "name": "string"}, "rows": [\#(sources.joined(separator: ","))]},
          "estimates": {"key": "id", "measure": "value",
            "fields": {"id": "string", "topic": "string", "value": "number", "unit": "string", "source": {"ref": "sources"},
                       "sentence": {"ref": "sentences"}, "inferred": {"list": "string"}, "reason": "string", "basis": {"list": "string"}},
            "rows": [\#(rows.joined(separator: ","))]}
        }}
        """#
        switch loadKB(json) {
        case .success(let kb): return kb
        case .failure(let e): Issue.record("the test KB did not load: \(e)"); return .article
        }
    }()

    /// The prepared query's answers, run after run, against a fresh session's for the same
    /// parameter: the table with its notes and summaries, and the JSON with every field.
    func expectSameAsFreshRuns(_ text: String, kb: KnowledgeBase, values: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let prepared = try PreparedQuery(text, kb: kb)
        var notesSeen = 0
        for v in values {
            let params: [String: Value] = ["t": .string(v)]
            let again = try prepared.run(parameters: params)
            let fresh = query(text, kb: kb, parameters: params, sourceLocation: sourceLocation)
            #expect(again.notes == fresh.notes, "$t = \(v)", sourceLocation: sourceLocation)
            #expect(again.rendered(as: .table, width: 100) == fresh.rendered(as: .table, width: 100), "$t = \(v)", sourceLocation: sourceLocation)
            #expect(again.rendered(as: .json, width: 100) == fresh.rendered(as: .json, width: 100), "$t = \(v)", sourceLocation: sourceLocation)
            notesSeen += fresh.notes.filter { $0.hasPrefix("inferred:") }.count
        }
        // The KB's rows do infer: the comparison is between notes, not between empty lists.
        if kb === Self.provenanceKB { #expect(notesSeen > 0, sourceLocation: sourceLocation) }
    }

    @Test func theTestKBInfers() throws {
        let r = query("estimates where topic = \"ships\" compare source", kb: Self.provenanceKB)
        // e0 and e12 (Agency A) infer their source, the compared field: the note names it.
        #expect(r.notes.contains { $0.hasPrefix("inferred: the source of e0 (Agency A) — reason 0") }, "\(r.notes)")
        #expect(r.notes.contains { $0.hasPrefix("inferred: the source of e12 (Agency A) — reason 12") }, "\(r.notes)")
        // e8 infers its value; e4 and e16 only their topic, which compare does not show.
        #expect(r.notes.contains { $0.hasPrefix("inferred: the value of e8 — reason 8") }, "\(r.notes)")
        #expect(!r.notes.contains { $0.contains("e4 ") || $0.contains("e16") }, "\(r.notes)")
        let inferred = try #require(r.columns.firstIndex { $0.name == "inferred" })
        let a = try #require(r.rows.first { $0[0].text == "Agency A" && $0[3].text == "units" })
        #expect(a[1] == .number(1) && a[inferred] == .list([.string("source")]))
        let b = try #require(r.rows.first { $0[0].text == "Agency B" && $0[3].text == "units" })
        #expect(b[1] == .number(2) && b[inferred] == .list([]))
        // On troops, each of Agency A's and Agency C's groups gathers two inferring rows' notes.
        let troops = query("estimates where topic = \"troops\" compare source", kb: Self.provenanceKB)
        #expect(troops.notes.filter { $0.hasPrefix("inferred:") }.count == 4, "\(troops.notes)")
    }

    @Test func provenanceKBRepeatedWithOtherParameters() throws {
        // Each topic, then again in another order, with a topic that has no rows between.
        let topics = ["ships", "shells", "ships", "troops", "nothing", "none", "shells", "troops", "ships"]
        try expectSameAsFreshRuns("estimates where topic = $t compare source", kb: Self.provenanceKB, values: topics)
        // A condition that reads a different set of rows of the same groups.
        try expectSameAsFreshRuns("estimates where topic != $t compare source", kb: Self.provenanceKB, values: topics)
    }

    @Test func articleKBRepeatedWithOtherParameters() throws {
        let topics = Set(texts(query("estimates select topic"), "topic")).sorted()
        #expect(topics.contains("containers"))
        try expectSameAsFreshRuns("estimates where topic = $t compare source", kb: .article, values: topics + topics.reversed() + ["containers"])
    }

    /// Rows past the first 4,096 are not kept between runs: a group with rows on both sides
    /// of that line answers as a fresh run does.
    @Test func rowsPastTheKeptOnesAnswerTheSame() throws {
        var rows: [String] = []
        for i in 0..<4_110 {
            let infers = i % 2 == 0 ? #"["source"]"# : "[]"
            let reason = i % 2 == 0 ? #""reason \#(i)""# : "null"
            rows.append(#"{"id": "e\#(i)", "topic": "t\#(i / 6)", "value": \#(i % 50), "source": "\#(i % 3 == 0 ? "a" : "b")", "sentence": "s\#(i % 2)", "inferred": \#(infers), "reason": \#(reason), "basis": []}"#)
        }
        let json = #"""
        {"kbq": 1, "collections": {
          "sentences": {"key": "id", "fields": {"id": "string", "text": "string"}, "rows": [{"id": "s0", "text": "One."}, {"id": "s1", "text": "Two."}]},
          "sources": {"key": "id", "fields": {"id": "string", "name": "string"}, "rows": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]},
          "estimates": {"key": "id", "measure": "value",
            "fields": {"id": "string", "topic": "string", "value": "number", "source": {"ref": "sources"},
                       "sentence": {"ref": "sentences"}, "inferred": {"list": "string"}, "reason": "string", "basis": {"list": "string"}},
            "rows": [\#(rows.joined(separator: ","))]}
        }}
        """#
        guard case .success(let kb) = loadKB(json) else { Issue.record("the test KB did not load"); return }
        // t682 holds rows 4092-4097, across the line; t0 and t684 lie on either side of it.
        try expectSameAsFreshRuns("estimates where topic = $t compare source", kb: kb, values: ["t682", "t0", "t684", "t682", "t683"])
        let across = query("estimates where topic = \"t682\" compare source", kb: kb)
        #expect(across.notes.filter { $0.hasPrefix("inferred:") }.count == 3)
    }
}
