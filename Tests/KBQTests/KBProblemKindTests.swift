import Foundation
import Testing
@testable import KBQ

/// Every ``KBProblem/Kind`` is what some real bad KB produces: a table of inputs, each with
/// the kind it must be refused with, and a check that the table covers the whole enum, so
/// no kind is dead and none is produced under another name.
@Suite struct KBProblemKindTests {
    /// A KB document with one collection `t` of the given fields and rows.
    static func kb(_ fields: String, _ rows: String, key: String? = nil, extra: String = "") -> String {
        #"{"kbq": 1, "collections": {\#(extra)"t": {\#(key.map { "\"key\": \"\($0)\", " } ?? "")"fields": {\#(fields)}, "rows": [\#(rows)]}}}"#
    }

    /// A bad input: JSON bytes handed over, or files written to a folder and the first loaded.
    enum Input {
        case json(String)
        case bytes([UInt8])
        case files([(name: String, bytes: [UInt8])])
        case path(String)
    }

    static let refs = #""s": {"key": "id", "fields": {"id": "string"}, "rows": [{"id": "a"}]}, "#

    static let cases: [(KBProblem.Kind, Input)] = [
        (.cannotRead, .path("/nonexistent/kb.json")),
        (.fileOutsideFolder, .json(#"{"kbq": 1, "collections": {"t": {"fields": {"a": "string"}, "file": "rows.csv"}}}"#)),
        (.limitExceeded, .json(#"{"kbq": 1, "collections": {"t": {"fields": {"a": "string"}, "rows": [{"a": "#
                               + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}]}}}")),
        (.encoding, .bytes(Array(kb(#""a": "string""#, #"{"a": ""#).utf8) + [0xE2, 0x28, 0xA1] + Array(#""}]}}}"#.utf8))),
        (.syntax, .json(#"{"kbq": 1, "collections": {"#)),
        (.unsupportedVersion, .json(#"{"kbq": 2, "collections": {}}"#)),
        // The start of a compiled file's header, and nothing after it.
        (.damaged, .files([("cut.kbqdb", CompiledFormat.magic + [1, 0, 0])])),
        (.missing, .json(kb(#""a": "string", "b": "string""#, #"{"a": "x"}"#))),
        (.unknownMember, .json(#"{"kbq": 1, "colections": {}, "collections": {}}"#)),
        (.unknownField, .json(kb(#""a": "string""#, #"{"a": "x", "b": "y"}"#))),
        (.unknownCollection, .json(kb(#""a": {"ref": "nowhere"}"#, #"{"a": "x"}"#))),
        (.unknownType, .json(kb(#""a": "strng""#, #"{"a": "x"}"#))),
        (.unknownHedge, .json(kb(#""h": "hedge""#, #"{"h": "rumoured"}"#))),
        (.unknownQualifier, .json(kb(#""v": {"type": "number", "qualifier": "q"}, "q": "string""#, #"{"v": 1, "q": "ovr"}"#))),
        (.invalidName, .json(kb(#""first name": "string""#, #"{"first name": "x"}"#))),
        (.duplicateName, .json(kb(#""a": "string", "a": "number""#, #"{"a": "x"}"#))),
        (.duplicateKey, .json(kb(#""id": "string""#, #"{"id": "x"}, {"id": "x"}"#, key: "id"))),
        (.invalidSchema, .json(#"{"kbq": 1, "collections": {"t": {"measure": "a", "fields": {"a": "string"}, "rows": []}}}"#)),
        (.typeMismatch, .json(kb(#""v": "number""#, #"{"v": "forty"}"#))),
        (.invalidDate, .json(kb(#""d": "date""#, #"{"d": "2024-13"}"#))),
        (.invalidInterval, .json(kb(#""v": {"type": "number", "qualifier": "q"}, "q": "string""#, #"{"v": 1, "q": "between"}"#))),
        (.danglingReference, .json(kb(#""a": {"ref": "s"}"#, #"{"a": "b"}"#, extra: refs))),
        (.invalidProvenance, .json(kb(#""a": "string", "inferred": {"list": "string"}, "reason": "string", "basis": {"list": "string"}"#,
                                      #"{"a": "x", "inferred": [], "reason": "a guess", "basis": []}"#))),
        (.fieldCount, .files([("rows.csv", Array("a,b\n1,2,3\n".utf8))])),
        (.cannotInfer, .files([("rows.json", Array("[{}, {}]".utf8))])),
    ]

    static func problems(_ input: Input, folder: String) -> [KBProblem] {
        do throws(KBLoadError) {
            switch input {
            case .json(let text): _ = try KnowledgeBase(json: Array(text.utf8), name: "bad.kb.json")
            case .bytes(let bytes): _ = try KnowledgeBase(json: bytes, name: "bad.kb.json")
            case .path(let path): _ = try KnowledgeBase(contentsOfFile: path)
            case .files(let files):
                for f in files { #expect(FileManager.default.createFile(atPath: folder + "/" + f.name, contents: Data(f.bytes))) }
                _ = try KnowledgeBase(contentsOfFile: folder + "/" + (files.first?.name ?? ""))
            }
            return []
        } catch {
            return error.problems
        }
    }

    @Test(arguments: cases.indices)
    func eachKindComesFromARealInput(_ i: Int) {
        let (kind, input) = Self.cases[i]
        let problems = Self.problems(input, folder: temporaryDirectory("kinds\(i)"))
        #expect(!problems.isEmpty, "\(kind): the input loaded")
        // The input is bad in one way only: every problem it gives is of that kind.
        #expect(problems.map(\.kind).allSatisfy { $0 == kind }, "\(kind): \(problems)")
    }

    @Test func theTableCoversEveryKind() {
        let covered = Self.cases.map(\.0)
        #expect(Set(covered) == Set(KBProblem.Kind.allCases), "no input for: \(Set(KBProblem.Kind.allCases).subtracting(covered).map(\.rawValue).sorted())")
        #expect(covered.count == Set(covered).count, "a kind is listed twice")
    }

    /// The kind reaches hosts: on the diagnostics, in their Codable form, and as a stable raw value.
    @Test func theKindReachesTheDiagnosticAndItsJSON() throws {
        guard case .failure(let error) = loadKB(Self.kb(#""a": {"ref": "s"}"#, #"{"a": "b"}"#, extra: Self.refs)) else {
            Issue.record("loaded"); return
        }
        let d = try #require(error.diagnostics.first)
        #expect(d.kind == .invalidKB && d.problem == .danglingReference)
        let json = String(decoding: try JSONEncoder().encode(d), as: UTF8.self)
        #expect(json.contains(#""problem":"dangling-reference""#), "\(json)")
        #expect(try JSONDecoder().decode(Diagnostic.self, from: Data(json.utf8)) == d)
        // A query's diagnostic has no KB problem, and its JSON says none.
        let q = try #require(diagnostic("estimates where topc = 1"))
        #expect(q.problem == nil)
        #expect(!String(decoding: try JSONEncoder().encode(q), as: UTF8.self).contains("problem"))
    }

    /// docs/KB-FORMAT.md lists every kind by its raw value, and lists no other.
    @Test func theDocumentationListsEveryKind() throws {
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/KB-FORMAT.md", encoding: .utf8)
        let errors = try #require(doc.range(of: "## Errors")).upperBound
        let listed = Set(doc[errors...].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 3)..<end])
        })
        #expect(listed == Set(KBProblem.Kind.allCases.map(\.rawValue)))
    }
}
