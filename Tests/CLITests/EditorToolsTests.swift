import Foundation
import Testing

// `kbq fmt` and `kbq lsp` through the real binary and pipes. The language server's
// end-to-end test with a real LSP client is Tests/Editors/test_lsp.py (pytest-lsp); here the
// protocol layer gets what no well-behaved client sends.

/// Frames `json` as a Language Server Protocol message.
private func message(_ json: String, extraHeader: Bool = false) -> String {
    "Content-Length: \(json.utf8.count)\r\n" + (extraHeader ? "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" : "") + "\r\n" + json
}

/// The JSON bodies of the messages in a server's output, in order.
private func bodies(_ output: String) -> [[String: Any]] {
    var out: [[String: Any]] = []
    var rest = Substring(output)
    while let header = rest.range(of: "\r\n\r\n") {
        let lengthLine = rest[..<header.lowerBound].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        guard let n = lengthLine.flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }) else { break }
        let bodyStart = header.upperBound
        let bytes = Array(rest[bodyStart...].utf8.prefix(n))
        if let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] { out.append(obj) }
        rest = Substring(String(decoding: rest[bodyStart...].utf8.dropFirst(n), as: UTF8.self))
    }
    return out
}

@Suite("kbq fmt") struct FormatCommandTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func theExamplesAreFormatted() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Examples").path)
            .filter { $0.hasSuffix(".kbq") }.sorted().map { "Examples/" + $0 }
        let r = kbq(["fmt", "--check"] + examples, scratch: scratch, directory: packageRoot.path)
        #expect(r.status == 0, "\(r.output)\(r.error)")
        #expect(r.output.isEmpty)
    }

    @Test func standardInputToStandardOutput() {
        let r = kbq(["fmt"], input: "estimates   where topic==\"containers\" |compare source", scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output == "estimates where topic = \"containers\" compare source\n")
    }

    @Test func checkNamesTheFileAndRewritingFixesIt() throws {
        let path = try scratch.write("a.kbq", "claims  limit 2 # two\n")
        let check = kbq(["fmt", "--check", path], scratch: scratch)
        #expect(check.status == 1)
        #expect(check.output == "\(path): not formatted\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "claims  limit 2 # two\n", "--check writes nothing")
        let fix = kbq(["fmt", path], scratch: scratch)
        #expect(fix.status == 0, "\(fix.error)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "claims limit 2  # two\n")
        #expect(kbq(["fmt", "--check", path], scratch: scratch).status == 0)
    }

    @Test func aScriptThatDoesNotParseIsLeftAloneWithItsError() throws {
        let text = "estimates limit 1\nclaims where\n"
        let path = try scratch.write("bad.kbq", text)
        let r = kbq(["fmt", path], scratch: scratch)
        #expect(r.status == 1)
        #expect(r.error.contains("\(path):2:"), "\(r.error)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    @Test func usageAndUnreadableFilesAreStatusTwo() {
        #expect(kbq(["fmt", "--nope"], scratch: scratch).status == 2)
        #expect(kbq(["fmt", "--width", "3"], scratch: scratch).status == 2)
        let r = kbq(["fmt", scratch.file("missing.kbq")], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("cannot read"))
    }
}

@Suite("kbq lsp protocol") struct LanguageServerProtocolTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func malformedMessagesGetErrorsAndTheServerGoesOn() throws {
        let uri = "file:///tmp/x.kbq"
        var input = ""
        input += message(#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#)  // before initialize
        input += message(#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"capabilities":{}}}"#, extraHeader: true)
        input += message("{not json")
        input += "X-Nonsense: 1\r\n\r\n"  // a header block without a length
        input += message(#"[1, 2, 3]"#)
        input += message(#"{"jsonrpc":"2.0","id":3,"method":"no/such/method"}"#)
        input += message(#"{"jsonrpc":"2.0","id":{"a":1},"method":"shutdown"}"#)
        input += message(#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"\#(uri)","version":1,"text":"estimates where topc = 1\n"}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":4,"method":"textDocument/hover","params":{"textDocument":{"uri":"\#(uri)"},"position":{"line":99999,"character":99999}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":5,"method":"textDocument/completion","params":{"textDocument":{"uri":"\#(uri)"},"position":{"line":-1,"character":0}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":6,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///not/open"},"position":{"line":0,"character":0}}}"#)
        // A document over the engine's 1 MiB of query text: one diagnostic says so.
        let huge = String(repeating: "estimates limit 1\\n", count: 70_000)
        input += message(#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///tmp/huge.kbq","version":1,"text":"\#(huge)"}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":8,"method":"textDocument/completion","params":{"textDocument":{"uri":"file:///tmp/huge.kbq"},"position":{"line":69999,"character":10}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":7,"method":"shutdown"}"#)
        input += message(#"{"jsonrpc":"2.0","method":"exit"}"#)
        let r = kbq(["lsp"], input: input, scratch: scratch, timeout: 30)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.error)")
        let replies = bodies(r.output)
        func reply(_ id: Int) -> [String: Any]? { replies.first { ($0["id"] as? Int) == id } }
        func code(_ m: [String: Any]?) -> Int? { (m?["error"] as? [String: Any])?["code"] as? Int }
        #expect(code(reply(1)) == -32002)
        #expect(reply(2)?["result"] != nil)
        let nullIDErrors = replies.filter { $0["id"] is NSNull }.compactMap(code)
        #expect(nullIDErrors.filter { $0 == -32700 }.count == 2, "bad JSON and no length: \(nullIDErrors)")
        #expect(nullIDErrors.contains(-32600), "an array is no request")
        #expect(code(reply(3)) == -32601)
        #expect(reply(4)?["result"] is NSNull, "a position past the end is clamped: nothing there")
        #expect(code(reply(5)) == -32602)
        #expect(code(reply(6)) == -32602)
        #expect(reply(7)?["result"] is NSNull)
        let diagnostics = replies.first { ($0["method"] as? String) == "textDocument/publishDiagnostics" }
        let items = (diagnostics?["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]]
        #expect(items?.first?["code"] as? String == "unknown-field")
        let hugeDiagnostics = replies.last { ($0["method"] as? String) == "textDocument/publishDiagnostics" }
        let hugeItems = (hugeDiagnostics?["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]]
        #expect(hugeItems?.first?["code"] as? String == "limit-exceeded")
        #expect(reply(8)?["result"] != nil)
    }

    @Test func aLargeDocumentIsAnsweredInBoundedTime() throws {
        // 5,000 `let`s, each used with a hedge word, and 40 `.load` lines of a small KB:
        // semantic tokens, completion and hover read them without work that grows with the
        // square of the document.
        let kbPath = try scratch.write("small.kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"id": "string"}, "rows": [{"id": "a"}]}}}"#)
        var text = ""
        for i in 0..<5_000 { text += "let a\(i) = estimates where hedge >= stated\na\(i) where hedge >= likely\n" }
        for _ in 0..<40 { text += ".load \(kbPath)\nt where id = \"a\"\n" }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        let uri = "file:///tmp/large.kbq"
        var input = message(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#)
        input += message(#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"\#(uri)","version":1,"text":"\#(escaped)"}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":2,"method":"textDocument/semanticTokens/full","params":{"textDocument":{"uri":"\#(uri)"}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":3,"method":"textDocument/completion","params":{"textDocument":{"uri":"\#(uri)"},"position":{"line":9999,"character":15}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":4,"method":"textDocument/hover","params":{"textDocument":{"uri":"\#(uri)"},"position":{"line":9999,"character":1}}}"#)
        input += message(#"{"jsonrpc":"2.0","id":5,"method":"shutdown"}"#) + message(#"{"jsonrpc":"2.0","method":"exit"}"#)
        let started = Date()
        let r = kbq(["lsp"], input: input, scratch: scratch, timeout: 60)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.error)")
        let replies = bodies(r.output)
        for id in 2...5 { #expect(replies.contains { ($0["id"] as? Int) == id && $0["result"] != nil }, "no answer to \(id)") }
        let published = replies.first { ($0["method"] as? String) == "textDocument/publishDiagnostics" }
        let items = (published?["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]] ?? []
        #expect(items.contains { ($0["code"] as? String) == "limit-exceeded" }, "the .load lines past the bound are noted")
        #expect(!items.contains { ($0["severity"] as? Int) == 1 }, "\(items.prefix(3))")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func unknownArgumentsAreUsageErrors() {
        let r = kbq(["lsp", "--frobnicate"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("usage: kbq lsp"))
        #expect(kbq(["lsp", "--kb", scratch.file("missing.json")], scratch: scratch).status == 2)
    }
}
