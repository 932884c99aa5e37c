import Testing
@testable import KBQ

/// The provenance fields of docs/KB-FORMAT.md ("Stated or inferred"): a user's KB carries
/// them, queries read them, and loading refuses each kind of mistake with its JSON path.
@Suite struct ProvenanceLoadingTests {
    /// A small KB whose one estimate infers its source from two sentences.
    static func kb(inferred: String = #"["source"]"#, reason: String = #""p2 gives the figure; p1 names who""#,
                   basis: String = #"["s1", "s2"]"#, fields: String = #""inferred": {"list": "string"}, "reason": "string", "basis": {"list": "string"}"#) -> String {
        """
        {"kbq": 1, "collections": {
          "sentences": {"key": "id", "fields": {"id": "string", "text": "string"},
            "rows": [{"id": "s1", "text": "Agency A counts."}, {"id": "s2", "text": "Some say 40."}]},
          "sources": {"key": "id", "fields": {"id": "string", "name": "string"}, "rows": [{"id": "a", "name": "Agency A"}]},
          "estimates": {"key": "id", "measure": "value",
            "fields": {"id": "string", "value": "number", "source": {"ref": "sources"}, "sentence": {"ref": "sentences"}, \(fields)},
            "rows": [{"id": "e1", "value": 40, "source": "a", "sentence": "s2", "inferred": \(inferred), "reason": \(reason), "basis": \(basis)},
                     {"id": "e2", "value": 50, "source": "a", "sentence": "s1", "inferred": [], "reason": null, "basis": []}]}
        }}
        """
    }

    func problems(_ json: String) -> [KBProblem] {
        switch loadKB(json) {
        case .success: Issue.record("loaded a KB that should be refused"); return []
        case .failure(let e): return e.problems
        }
    }

    @Test func aUserKBCarriesItAndQueriesReadIt() throws {
        let kb = try loadKB(Self.kb()).get()
        let r = query(#"estimates where inferred contains "source" select id, reason, basis"#, kb: kb)
        #expect(r.rows.map { $0.map(\.text) } == [["e1", "p2 gives the figure; p1 names who", "s1, s2"]])
        #expect(texts(query("estimates where inferred = [] select id", kb: kb), "id") == ["e2"])
        let compared = query("estimates compare source", kb: kb)
        #expect(texts(compared, "inferred") == ["source"])
        #expect(compared.notes.contains { $0.hasPrefix("inferred: the source of e1 (Agency A)") })
        let cited = query("estimates cite", kb: kb)
        #expect(cited.notes == ["inferred: e1: source — p2 gives the figure; p1 names who (rests on s1, s2)"])
        #expect(query("estimates compare source", kb: kb).rendered(as: .json, width: 80).contains(#""inferred": ["source"]"#))
    }

    @Test func anInferredNameMustBeAField() {
        let p = problems(Self.kb(inferred: #"["sourse"]"#))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[0].inferred[0]"])
        #expect(p.first?.kind == .unknownField)
        #expect(p.first?.message.hasSuffix("did you mean 'source'?") == true)
        #expect(problems(Self.kb(inferred: #"["source", "source"]"#)).map(\.kind) == [.duplicateName])
        #expect(problems(Self.kb(inferred: #"["reason"]"#)).map(\.path) == ["$.collections.estimates.rows[0].inferred[0]"])
    }

    @Test func anInferenceSaysWhy() {
        let p = problems(Self.kb(reason: "null"))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[0].reason"])
        #expect(p.map(\.kind) == [.invalidProvenance])
        #expect(problems(Self.kb(reason: #""  ""#)).map(\.path) == ["$.collections.estimates.rows[0].reason"])
    }

    @Test func nothingInferredHasNoReasonOrBasis() {
        let p = problems(Self.kb(inferred: "[]"))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[0].reason", "$.collections.estimates.rows[0].basis"])
        #expect(p.map(\.kind) == [.invalidProvenance, .invalidProvenance])
    }

    @Test func theBasisIsSentencesThatExist() {
        let p = problems(Self.kb(basis: #"["s1", "s9"]"#))
        #expect(p.map(\.path) == ["$.collections.estimates.rows[0].basis[1]"])
        #expect(p.map(\.kind) == [.danglingReference])
        // Knowledge from outside the text rests on no sentence.
        #expect((try? loadKB(Self.kb(basis: "[]")).get()) != nil)
    }

    @Test func theThreeAreDeclaredTogetherWithTheirTypes() {
        let missing = problems(Self.kb(fields: #""inferred": {"list": "string"}, "reason": "string""#).replacingFirst(#", "basis": ["s1", "s2"]"#, with: "").replacingFirst(#", "basis": []"#, with: ""))
        #expect(missing.map(\.path) == ["$.collections.estimates.fields"])
        #expect(missing.map(\.kind) == [.missing])
        let typed = problems(Self.kb(fields: #""inferred": "string", "reason": "string", "basis": {"list": "string"}"#).replacingFirst(#""inferred": ["source"]"#, with: #""inferred": "source""#).replacingFirst(#""inferred": []"#, with: #""inferred": null"#))
        #expect(typed.map(\.path) == ["$.collections.estimates.fields.inferred"])
        #expect(typed.map(\.kind) == [.invalidSchema])
    }
}
