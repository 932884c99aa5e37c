import Synchronization
import Testing
@testable import KBQ

/// The article KB starts from a compiled-in snapshot (Snapshot/KBSnapshot.swift); it must
/// hold exactly what decoding the compiled-in JSON gives.
@Suite struct ArticleSnapshotTests {
    @Test func snapshotMatchesTheJSON() throws {
        let fromSnapshot = try #require(KnowledgeBase.articleFromSnapshot(),
                                        "the article snapshot is missing or stale: run scripts/embed-article-kb.sh")
        let fromJSON = try KnowledgeBase(json: articleKBJSON.utf8, name: "article")
        expectSame(fromSnapshot, fromJSON)
        // Start-up trusts the hash written beside the snapshot: it must be the JSON's.
        var json = articleKBJSON
        #expect(json.withUTF8 { KBSnapshot.hash($0) } == articleKBJSONHash,
                "the article snapshot was made from other JSON: run make embed")
    }

    @Test func everyKindOfColumnRoundTrips() throws {
        let json = #"""
        {"kbq": 1, "name": "mix", "title": "All kinds", "hedges": ["sure", {"word": "maybe", "aliases": ["perhaps"]}],
         "collections": {
          "people": {"key": "id", "fields": {"id": "string", "name": "string"},
                     "rows": [{"id": "p1", "name": "Ana"}, {"id": "p2", "name": "Bo"}]},
          "facts": {"key": "id", "measure": "value",
                    "fields": {"id": "string", "who": {"ref": "people"}, "value": {"type": "number", "qualifier": "q", "upper": "hi"},
                               "hi": "number", "q": "string", "share": "percent", "when": "date", "ok": "bool",
                               "hedge": "hedge", "tags": {"list": "string"}, "any": "list"},
                    "rows": [
                      {"id": "f1", "who": "p1", "value": 3, "hi": null, "q": "over", "share": 76.6, "when": "2024-06",
                       "ok": true, "hedge": "perhaps", "tags": ["a", "b"], "any": [1, "x", true, null]},
                      {"id": "f2", "who": null, "value": 10, "hi": 20, "q": "between", "share": null,
                       "when": {"from": "2022", "to": "2024-02"}, "ok": null, "hedge": null, "tags": null, "any": []},
                      {"id": "f3", "who": "p2", "value": null, "hi": null, "q": null, "share": 1.5,
                       "when": {"after": "2024-10-13", "by": "days"}, "ok": false, "hedge": "sure", "tags": [], "any": null}
                    ]}
         }}
        """#
        let kb = try KnowledgeBase(json: json.utf8, name: "mix")
        let bytes = KBSnapshot.encode(kb, sourceHash: 42)
        let back = try #require(bytes.withUnsafeBytes { KBSnapshot.decode($0, sourceHash: 42) })
        expectSame(back, kb)
        // A snapshot made from other JSON, or cut short, or damaged, is refused.
        #expect(bytes.withUnsafeBytes { KBSnapshot.decode($0, sourceHash: 43) } == nil)
        #expect(Array(bytes.dropLast()).withUnsafeBytes { KBSnapshot.decode($0, sourceHash: 42) } == nil)
        var damaged = bytes
        damaged[damaged.count / 2] ^= 0xFF
        _ = damaged.withUnsafeBytes { KBSnapshot.decode($0, sourceHash: 42) }  // refused or read: never a crash
    }

    @Test func collectionsAreDecodedWhenFirstAskedFor() throws {
        let json = #"""
        {"kbq": 1, "name": "two", "hedges": ["sure", "maybe"],
         "collections": {
          "people": {"key": "id", "fields": {"id": "string", "name": "string"},
                     "rows": [{"id": "p1", "name": "Ana"}, {"id": "p2", "name": "Bo"}]},
          "facts": {"key": "id", "fields": {"id": "string", "who": {"ref": "people"}, "hedge": "hedge"},
                    "rows": [{"id": "f1", "who": "p2", "hedge": "maybe"}, {"id": "f2", "who": null, "hedge": null}]}
         }}
        """#
        let kb = try KnowledgeBase(json: json.utf8, name: "two")
        let bytes = KBSnapshot.encode(kb, sourceHash: 7)
        let lazy = try #require(KBSnapshot.decodeLazily(SnapshotBytes(copying: bytes), sourceHash: 7) { _ in nil })
        expectSame(lazy, kb)
        #expect(KBSnapshot.decodeLazily(SnapshotBytes(copying: bytes), sourceHash: 8) { _ in nil } == nil)

        // A collection whose bytes do not read back comes from the fallback (for the article
        // KB: its JSON), and the others from the snapshot.
        let header = try #require(bytes.withUnsafeBytes { KBSnapshot.header($0, sourceHash: 7) })
        let facts = try #require(header.names.firstIndex(of: "facts"))
        var damaged = bytes
        damaged[header.starts[facts]] = 0xFF
        let asked = Mutex<[String]>([])
        let patched = try #require(KBSnapshot.decodeLazily(SnapshotBytes(copying: damaged), sourceHash: 7) { name in
            asked.withLock { $0.append(name) }
            return kb.collection(name)
        })
        expectSame(patched, kb)
        #expect(asked.withLock { $0 } == ["facts"])
        // With no fallback either, the collection is there and empty: never a crash.
        let empty = try #require(KBSnapshot.decodeLazily(SnapshotBytes(copying: damaged), sourceHash: 7) { _ in nil })
        #expect(empty.collection("facts")?.count == 0)
        #expect(empty.collection("people")?.count == 2)

        // So is a column: from the fallback, else all null, the other columns read as written.
        let layout = try #require(bytes.withUnsafeBytes { KBSnapshot.layout(facts, in: $0, header: header) })
        let who = try #require(layout.fields.firstIndex { $0.name == "who" })
        var badColumn = bytes
        badColumn[layout.starts[who]] = 0xFF
        let patchedColumn = try #require(KBSnapshot.decodeLazily(SnapshotBytes(copying: badColumn), sourceHash: 7) { kb.collection($0) })
        expectSame(patchedColumn, kb)
        let nulls = try #require(KBSnapshot.decodeLazily(SnapshotBytes(copying: badColumn), sourceHash: 7) { _ in nil })
        let factsRead = try #require(nulls.collection("facts"))
        #expect(factsRead.value(row: 0, field: "who", in: nulls) == .null)
        #expect(factsRead.value(row: 0, field: "id", in: nulls) == .string("f1"))
        #expect(factsRead.value(row: 0, field: "hedge", in: nulls) == kb.collection("facts")?.value(row: 0, field: "hedge", in: kb))
    }

    @Test func literalHoldsTheSnapshotBytes() {
        var text = "plain, \"quoted\", back\\slash, tab\tnew\nline\r, nul \u{0}, del \u{7F}, Korea’s “treaty” — 北朝鮮 "
        text += String(repeating: "long line of text ", count: 20)
        let bytes = Array(text.utf8)
        // What the compiler makes of the literal: escapes undone, escaped line breaks dropped.
        var compiled = ""
        var it = KBSnapshot.literal(bytes).unicodeScalars.makeIterator()
        while let c = it.next() {
            guard c == "\\" else { compiled.unicodeScalars.append(c); continue }
            switch it.next() {
            case "\\"?: compiled += "\\"
            case "\""?: compiled += "\""
            case "\n"?: break
            case "u"?:
                _ = it.next()  // {
                var hex = ""
                while let h = it.next(), h != "}" { hex.unicodeScalars.append(h) }
                compiled.unicodeScalars.append(UnicodeScalar(UInt32(hex, radix: 16) ?? 0) ?? " ")
            default: Issue.record("unexpected escape")
            }
        }
        #expect(Array(compiled.utf8) == bytes)
        #expect(!KBSnapshot.literal(bytes).contains("\n\n"))
    }

    func expectSame(_ a: KnowledgeBase, _ b: KnowledgeBase, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.name == b.name, sourceLocation: sourceLocation)
        #expect(a.title == b.title, sourceLocation: sourceLocation)
        #expect(a.hedges == b.hedges, sourceLocation: sourceLocation)
        #expect(a.collections.map(\.name) == b.collections.map(\.name), sourceLocation: sourceLocation)
        for (x, y) in zip(a.collections, b.collections) {
            #expect(x.fields == y.fields, "\(x.name)", sourceLocation: sourceLocation)
            #expect(x.count == y.count && x.key == y.key && x.measure == y.measure, "\(x.name)", sourceLocation: sourceLocation)
            for r in 0..<min(x.count, y.count) {
                for f in x.fields {
                    #expect(x.value(row: r, field: f.name, in: a) == y.value(row: r, field: f.name, in: b),
                            "\(x.name)[\(r)].\(f.name)", sourceLocation: sourceLocation)
                }
            }
            // Lookups answer alike (the snapshot keeps each pool's index as it was).
            if let k = x.key, case .string(_, let pool)? = x.fieldIndex[k].map({ x.columns[$0] }) {
                for id in 0..<pool.count {
                    let key = pool[UInt32(id)]
                    #expect(x.row(forKey: key) == y.row(forKey: key), "\(x.name) key \(key)", sourceLocation: sourceLocation)
                }
            }
        }
    }
}
