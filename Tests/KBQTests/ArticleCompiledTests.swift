import Foundation
import Testing
@testable import KBQ

/// The article KB starts from the compiled KB file in kbq's binary (Article/ArticleKB.swift,
/// CArticleKB): those bytes must be exactly what `kbq build` writes from the JSON compiled in
/// beside them, and answer every question as the KB decoded from that JSON does.
@Suite struct ArticleCompiledTests {
    /// The article KB decoded from its JSON, as `kbq build --kb article.kb.json` loads it.
    static let fromJSON: KnowledgeBase? = try? KnowledgeBase(json: articleKBJSON.utf8, name: "article")

    /// Bytes of a file.
    static func contents(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func theEmbeddedBytesAreWhatKbqBuildWritesFromTheJSON() throws {
        let kb = try #require(Self.fromJSON)
        let path = temporaryDirectory() + "/article.kbqdb"
        try kb.writeCompiled(to: path)
        let built = try Self.contents(path)
        let embedded = Array(ArticleKB.compiled)
        let firstDifference = zip(built.indices, zip(built, embedded)).first { $0.1.0 != $0.1.1 }?.0 ?? min(built.count, embedded.count)
        #expect(embedded == built, """
            the compiled article KB in the binary (Sources/CArticleKB/article_kb.c, \(embedded.count) bytes) is not what \
            kbq build writes from article.kb.json (\(built.count) bytes; first difference at byte \(firstDifference)): run make embed
            """)
        // Sections are read in place, so the bytes start where a mapping would: on a boundary.
        #expect(ArticleKB.compiled.baseAddress.map { Int(bitPattern: $0) % 64 } == 0)
        // Every section's checksum, which start-up does not compute, holds.
        let copy = temporaryDirectory() + "/embedded.kbqdb"
        try Data(embedded).write(to: URL(fileURLWithPath: copy))
        try KnowledgeBase.verifyCompiledFile(copy)
    }

    @Test func theArticleKBIsOpenedFromTheEmbeddedBytes() throws {
        let kb = KnowledgeBase.article
        // A KB opened from compiled bytes keeps one damage log, named as they are; the KB
        // decoded from the JSON (the fallback) keeps none.
        #expect(kb.damage.map(\.file) == [ArticleKB.name], "the article KB was not opened from its compiled bytes")
        let json = try #require(Self.fromJSON)
        expectSame(kb, json)
        // Everything read so far was whole.
        #expect(kb.damage.first?.recorded.isEmpty == true)
        // `kbq build` with no --kb writes the article KB as it was opened: the same bytes again.
        let path = temporaryDirectory() + "/again.kbqdb"
        try kb.writeCompiled(to: path)
        #expect(try Self.contents(path) == Array(ArticleKB.compiled))
    }

    /// Every example script answers from the embedded KB as from the JSON: results, notes
    /// and errors (the examples' recorded output is checked by DocumentationTests).
    @Test(arguments: ExampleScript.all())
    func anExampleAnswersAsFromTheJSON(_ example: ExampleScript) throws {
        let json = try #require(Self.fromJSON)
        let text = try String(contentsOf: example.script, encoding: .utf8)
        let name = "Examples/\(example.name).kbq"
        let compiled = runScript(text, name: name, kb: .article)
        let decoded = runScript(text, name: name, kb: json)
        #expect(!(compiled.out.isEmpty && compiled.err.isEmpty))
        if let diff = firstDifference(expected: decoded.out, actual: compiled.out) {
            Issue.record("\(name):\(diff.line): the embedded KB answers otherwise than the JSON:\n\(diff.lines)")
        }
        #expect(compiled.err == decoded.err)
    }

    /// The README's and the grammar reference's examples too, in every output format they use.
    @Test(arguments: ["Grammar/REFERENCE.md", "README.md"])
    func aDocumentedExampleAnswersAsFromTheJSON(_ path: String) throws {
        let json = try #require(Self.fromJSON)
        let doc = MarkdownDocument(try #require(repositoryFile(path)))
        #expect(!doc.examples.isEmpty)
        for block in doc.examples {
            let compiled = runScript(block.query, name: "example.kbq", format: block.format, kb: .article)
            let decoded = runScript(block.query, name: "example.kbq", format: block.format, kb: json)
            #expect(compiled.out == decoded.out && compiled.err == decoded.err, "\(path):\(block.line)")
        }
    }

    /// Compiled bytes that do not open (only a build mistake can make them so) leave kbq with
    /// the KB decoded from the JSON: never a crash, never a half-opened KB.
    @Test func bytesThatDoNotOpenFallBackToTheJSON() throws {
        let json = try #require(Self.fromJSON)
        let good = Array(ArticleKB.compiled)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: good.count + 8, alignment: 64)
        defer { buffer.deallocate() }
        func opened(_ bytes: [UInt8], at offset: Int = 0) -> KnowledgeBase {
            let place = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + bytes.count)])
            bytes.withUnsafeBytes { place.copyMemory(from: $0) }
            return ArticleKB.open(UnsafeRawBufferPointer(place))
        }
        // As written, they open in place.
        #expect(opened(good).damage.map(\.file) == [ArticleKB.name])
        var notAFile = good
        notAFile[0] ^= 0xFF
        var otherVersion = good
        otherVersion[8] &+= 1
        var schemaCut = good
        schemaCut[40] &+= 1
        for (what, bytes, offset) in [("another magic", notAFile, 0), ("another version", otherVersion, 0),
                                      ("a schema length past the end", schemaCut, 0), ("off an 8-byte boundary", good, 1),
                                      ("cut short", Array(good.prefix(good.count / 2)), 0), ("empty", [], 0)] {
            let kb = opened(bytes, at: offset)
            #expect(kb.damage.isEmpty, "\(what): opened from the bytes")
            #expect(kb.name == "article" && kb.collections.map(\.name) == json.collections.map(\.name), "\(what)")
        }
    }

    /// A column damaged in the bytes (again only a build mistake) fails the statement that reads
    /// it with an error naming the built-in KB, and the other collections answer. So does a
    /// collection whose record in the schema does not read back: the bytes open from their
    /// table of contents, and the record is read only when a query reaches it.
    @Test(arguments: ["a column", "a record"])
    func aDamagedEmbeddedPartFailsTheStatementThatReachesIt(_ part: String) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ArticleKB.compiled.count, alignment: 64)
        defer { buffer.deallocate() }
        buffer.copyMemory(from: ArticleKB.compiled)
        let contents = try CompiledFile.contents(of: MappedFile(permanent: UnsafeRawBufferPointer(buffer)), path: ArticleKB.name,
                                                 verifyingChecksums: true)
        let estimates = try #require(contents.names.firstIndex(of: "estimates"))
        let expected: String
        if part == "a column" {
            let record = try contents.collection(estimates)
            let source = try #require(record.fields.firstIndex { $0.name == "source" })
            guard case .ref(let section) = record.columns[source] else { Issue.record("estimates.source is no reference"); return }
            // The first row's source: a reference far past the sources' rows.
            buffer[section.offset + 2] = 0x7F
            expected = "the built-in article KB is damaged: estimates.source (bytes \(section.offset)..<\(section.offset + section.length))"
        } else {
            // A byte no number of the schema has: the record's first value does not read back.
            buffer[contents.schema.lowerBound + contents.starts[estimates]] = 0x80
            expected = "the built-in article KB is damaged: schema (bytes \(contents.schema.lowerBound)..<\(contents.schema.upperBound)) at byte"
        }
        let kb = ArticleKB.open(UnsafeRawBufferPointer(buffer))
        #expect(kb.damage.map(\.file) == [ArticleKB.name], "the bytes did not open")
        #expect(diagnostics("sources limit 1", kb: kb).isEmpty)
        // (A collection whose record is damaged has no fields: the checker says so too.)
        let d = diagnostics("estimates where source.name = \"x\"", kb: kb)
        let damage = d.first { $0.kind == .invalidKB }
        #expect(damage?.message.hasPrefix(expected) == true, "\(d.map(\.message))")
    }

    /// A KB with every kind of column, qualifier, reference, list and hedge alias comes back
    /// from a compiled file as it went in: what the article KB relies on, on a KB small enough
    /// to read.
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
        let path = temporaryDirectory() + "/mix.kbqdb"
        try kb.writeCompiled(to: path)
        expectSame(try KnowledgeBase(contentsOfCompiledFile: path), kb)
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
            // Lookups answer alike (a compiled file keeps each pool's index as it was).
            if let k = x.key, case .string(_, let pool)? = x.fieldIndex[k].map({ x.columns[$0] }) {
                for id in 0..<pool.count {
                    let key = pool[UInt32(id)]
                    #expect(x.row(forKey: key) == y.row(forKey: key), "\(x.name) key \(key)", sourceLocation: sourceLocation)
                }
            }
        }
    }
}
