import KBQ
import KBQShell

/// An error answered to a request, with its JSON-RPC code.
struct ResponseError: Error {
    let code: Int
    let message: String

    static func invalidParams(_ m: String) -> ResponseError { ResponseError(code: -32602, message: m) }
}

/// `kbq lsp`: a Language Server Protocol server over standard input and output.
///
/// One request at a time, answered in order, each from the library's public API: the
/// engine's diagnostics (with the did-you-mean as a quick fix), its completion, the parser's
/// tree and tokens for hover, definitions, references, symbols and semantic tokens, and the
/// formatter. Any input an editor may send — malformed JSON-RPC, unknown methods, positions
/// past the end, huge documents — gets an error answer or is ignored; the loop goes on.
final class LanguageServer {
    let transport: MessageTransport
    var defaultKB: KnowledgeBase
    /// `--kb FILE` given on the command line: a workspace setting does not override it.
    let kbFromCommandLine: Bool
    let cache = KBCache()
    var documents: [String: DocumentAnalysis] = [:]
    var workspaceRoot: String?
    var initialized = false
    var shutdownRequested = false

    /// The most documents kept open at once.
    static let maxDocuments = 1000

    static let tokenTypes = ["keyword", "class", "variable", "property", "function", "string", "number",
                             "operator", "comment", "parameter", "enumMember", "macro"]

    init(transport: MessageTransport, kb: KnowledgeBase, kbFromCommandLine: Bool) {
        self.transport = transport
        self.defaultKB = kb
        self.kbFromCommandLine = kbFromCommandLine
    }

    /// Serves until `exit` or the end of the input; returns the process's exit status.
    func run() -> ExitStatus {
        while true {
            switch transport.receive() {
            case .end:
                return shutdownRequested ? .ok : .queryError
            case .malformed(let why):
                respond(id: .null, error: ResponseError(code: -32700, message: why))
            case .body(let body):
                if let status = handle(body) { return status }
            }
        }
    }

    /// Handles one message; returns an exit status when the message was `exit`.
    func handle(_ body: [UInt8]) -> ExitStatus? {
        let message: JSON
        do {
            message = try JSONParser.parse(body)
        } catch {
            respond(id: .null, error: ResponseError(code: -32700, message: "parse error at byte \(error.offset): \(error.message)"))
            return nil
        }
        guard message.isObject, let method = message["method"]?.string else {
            // A response from the client (we send no requests), or not a message at all.
            if message.isObject, message["id"] != nil, message["result"] != nil || message["error"] != nil { return nil }
            respond(id: message["id"] ?? .null, error: ResponseError(code: -32600, message: "not a JSON-RPC request or notification"))
            return nil
        }
        let id = message["id"]
        if let id {
            switch id {
            case .number, .string: break
            default:
                respond(id: .null, error: ResponseError(code: -32600, message: "a request id must be a number or a string"))
                return nil
            }
        }
        let params = message["params"] ?? .null
        if method == "exit" { return shutdownRequested ? .ok : .queryError }
        guard let id else {
            notification(method, params)
            return nil
        }
        if !initialized && method != "initialize" {
            respond(id: id, error: ResponseError(code: -32002, message: "the server is not initialized"))
            return nil
        }
        do throws(ResponseError) {
            respond(id: id, result: try request(method, params))
        } catch {
            respond(id: id, error: error)
        }
        return nil
    }

    func respond(id: JSON, result: JSON) {
        transport.send(JSON.make([("jsonrpc", .string("2.0")), ("id", id), ("result", result)]).text)
    }

    func respond(id: JSON, error: ResponseError) {
        let e = JSON.make([("code", .number(Double(error.code))), ("message", .string(error.message))])
        transport.send(JSON.make([("jsonrpc", .string("2.0")), ("id", id), ("error", e)]).text)
    }

    func notify(_ method: String, _ params: JSON) {
        transport.send(JSON.make([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)]).text)
    }

    // MARK: - Requests

    func request(_ method: String, _ params: JSON) throws(ResponseError) -> JSON {
        switch method {
        case "initialize": return initialize(params)
        case "shutdown":
            shutdownRequested = true
            return .null
        case "textDocument/completion": return try completion(params)
        case "textDocument/hover": return try hover(params)
        case "textDocument/definition": return try definition(params)
        case "textDocument/references": return try references(params)
        case "textDocument/documentSymbol": return try symbols(params)
        case "textDocument/formatting": return try formatting(params, range: false)
        case "textDocument/rangeFormatting": return try formatting(params, range: true)
        case "textDocument/codeAction": return try codeActions(params)
        case "textDocument/semanticTokens/full": return try semanticTokens(params)
        default:
            throw ResponseError(code: -32601, message: "method '\(method.prefix(200))' is not supported")
        }
    }

    func initialize(_ params: JSON) -> JSON {
        initialized = true
        if let root = params["rootUri"]?.string { workspaceRoot = DocumentAnalysis.path(ofURI: root) }
        if let root = workspaceRoot ?? params["rootPath"]?.string { workspaceRoot = root }
        if let path = params["initializationOptions"]?["kb"]?.string { useKB(path) }
        let legend = JSON.make([("tokenTypes", .array(LanguageServer.tokenTypes.map { .string($0) })),
                                ("tokenModifiers", .array([.string("declaration")]))])
        let capabilities = JSON.make([
            ("positionEncoding", .string("utf-16")),
            ("textDocumentSync", .make([("openClose", .bool(true)), ("change", .number(1)), ("save", .bool(true))])),
            ("completionProvider", .make([("triggerCharacters", .array([".", "\"", "'"].map { .string($0) }))])),
            ("hoverProvider", .bool(true)),
            ("definitionProvider", .bool(true)),
            ("referencesProvider", .bool(true)),
            ("documentSymbolProvider", .bool(true)),
            ("documentFormattingProvider", .bool(true)),
            ("documentRangeFormattingProvider", .bool(true)),
            ("codeActionProvider", .make([("codeActionKinds", .array([.string("quickfix")]))])),
            ("semanticTokensProvider", .make([("legend", legend), ("full", .bool(true))])),
        ])
        return .make([("capabilities", capabilities),
                      ("serverInfo", .make([("name", .string("kbq")), ("version", .string(kbqVersion))]))])
    }

    /// Uses the KB in `path` for documents (a workspace setting); the command line's wins.
    func useKB(_ path: String) {
        guard !kbFromCommandLine, !path.isEmpty else { return }
        switch cache.kb(at: path) {
        case .loaded(let kb): defaultKB = kb
        case .failed(let message, _):
            notify("window/showMessage", .make([("type", .number(1)), ("message", .string("kbq: \(message); using the article KB"))]))
        }
    }

    // MARK: - Notifications

    func notification(_ method: String, _ params: JSON) {
        switch method {
        case "initialized": break
        case "textDocument/didOpen":
            guard let doc = params["textDocument"], let uri = doc["uri"]?.string, let text = doc["text"]?.string else { return }
            open(uri: uri, version: doc["version"]?.int ?? 0, text: text)
        case "textDocument/didChange":
            guard let uri = params["textDocument"]?["uri"]?.string, let changes = params["contentChanges"]?.array,
                  let text = changes.last?["text"]?.string else { return }
            open(uri: uri, version: params["textDocument"]?["version"]?.int ?? 0, text: text)
        case "textDocument/didSave":
            // A KB file the document loads may have changed: check it again.
            guard let uri = params["textDocument"]?["uri"]?.string, let doc = documents[uri] else { return }
            open(uri: uri, version: doc.version, text: doc.text)
        case "textDocument/didClose":
            guard let uri = params["textDocument"]?["uri"]?.string else { return }
            documents[uri] = nil
            notify("textDocument/publishDiagnostics", .make([("uri", .string(uri)), ("diagnostics", .array([]))]))
        case "workspace/didChangeConfiguration":
            if let path = params["settings"]?["kbq"]?["kb"]?.string {
                useKB(path)
                for (uri, doc) in documents { open(uri: uri, version: doc.version, text: doc.text) }
            }
        default:
            break  // `$/cancelRequest`, `$/setTrace` and the rest need no answer
        }
    }

    func open(uri: String, version: Int, text: String) {
        if documents[uri] == nil, documents.count >= LanguageServer.maxDocuments { documents.removeAll() }
        let doc = DocumentAnalysis(uri: uri, version: version, text: text, defaultKB: defaultKB, cache: cache, workspaceRoot: workspaceRoot)
        documents[uri] = doc
        publishDiagnostics(doc)
    }

    func publishDiagnostics(_ doc: DocumentAnalysis) {
        let items: [JSON] = doc.problems.map { p in
            let d = p.diagnostic
            var message = d.message
            for n in d.notes { message += "\n" + n }
            if let s = d.suggestion { message += "\ndid you mean '\(s)'?" }
            return .make([
                ("range", doc.index.json(d.range ?? SourceRange(0, 0))),
                ("severity", .number(Double(p.severity))),
                ("code", .string(d.kind.rawValue)),
                ("source", .string("kbq")),
                ("message", .string(message)),
                // The KB problem's kind, for a client that acts on it (docs/KB-FORMAT.md lists them).
                ("data", d.suggestion == nil && d.problem == nil ? nil
                    : .make([("suggestion", d.suggestion.map { .string($0) }), ("problem", d.problem.map { .string($0.rawValue) })])),
            ])
        }
        notify("textDocument/publishDiagnostics", .make([("uri", .string(doc.uri)), ("version", .number(Double(doc.version))),
                                                         ("diagnostics", .array(items))]))
    }

    // MARK: - Helpers for requests

    func document(_ params: JSON) throws(ResponseError) -> DocumentAnalysis {
        guard let uri = params["textDocument"]?["uri"]?.string else { throw .invalidParams("textDocument.uri is missing") }
        guard let doc = documents[uri] else { throw .invalidParams("the document \(uri.prefix(200)) is not open") }
        return doc
    }

    func offset(_ doc: DocumentAnalysis, _ position: JSON?) throws(ResponseError) -> Int {
        guard let p = position, let line = p["line"]?.int, let character = p["character"]?.int else {
            throw .invalidParams("a position needs a line and a character")
        }
        guard line >= 0, character >= 0 else { throw .invalidParams("a position cannot be negative") }
        return doc.index.offset(line: line, character: character)
    }
}
