import Foundation
import KBQ
import MCP

// kbq-mcp (`kbq mcp`): a Model Context Protocol server over stdio. An AI agent asks the
// knowledge base questions through its tools and gets rows with citations, never an answer
// the KB does not hold. Queries come from a model, so they run under `Limits.untrusted` and
// can read no file: the query language has no way to, and the KB is loaded once, here.

let usage = """
    usage: kbq mcp [--kb FILE] [--rows N]

    A Model Context Protocol server on standard input and output (docs/AGENTS.md).
      --kb FILE   the knowledge base to answer from (default: the built-in article KB)
      --rows N    the most rows of a result an answer lists (default \(Server.defaultRows), at most \(Server.maxRows))

    """

extension Server {
    static let defaultRows = 50
    static let maxRows = 1000
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("kbq mcp: " + message + "\n").utf8))
    exit(2)
}

var kbPath: String?
var rows = Server.defaultRows
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "-h", "--help":
        FileHandle.standardOutput.write(Data(usage.utf8))
        exit(0)
    case "--version":
        FileHandle.standardOutput.write(Data("kbq-mcp \(kbqVersion)\n".utf8))
        exit(0)
    case "--kb":
        guard !args.isEmpty else { fail("--kb needs a file") }
        if kbPath != nil { fail("--kb given twice: kbq mcp answers from one knowledge base") }
        kbPath = args.removeFirst()
    case "--rows":
        guard let v = args.first, let n = Int(v), n >= 0, n <= Server.maxRows else {
            fail("--rows needs a number from 0 to \(Server.maxRows)")
        }
        rows = n
        args.removeFirst()
    default:
        fail("unknown argument '\(sanitizeForTerminal(a))'\n" + usage)
    }
}

let kb: KnowledgeBase
if let kbPath {
    do { kb = try KnowledgeBase(contentsOfFile: kbPath) } catch { fail(String(describing: error)) }
} else {
    kb = .article
}

/// Grammar/REFERENCE.md: beside the program (an installation copies it there), else in the
/// source tree this program was built from.
func findReference() -> String? {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for candidate in [exe.appendingPathComponent("REFERENCE.md"), source.appendingPathComponent("Grammar/REFERENCE.md")] {
        if FileManager.default.isReadableFile(atPath: candidate.path) { return candidate.path }
    }
    return nil
}

let answerer = Answerer(kb: kb, limits: .untrusted, defaultRows: rows, maxRows: Server.maxRows)
let library = Library(kb: kb, referencePath: findReference())

let server = Server(
    name: "kbq", version: kbqVersion, title: "kbq: sourced claims, cited",
    instructions: """
        kbq answers questions about a knowledge base of sourced claims (by default, an analysis article on North Korea's \
        military support to Russia). Every row it returns carries the sentence it rests on, the source the article gives \
        and the hedge word it uses. Cite sentence ids in answers; when a tool returns no rows, the article does not say it. \
        Start with the schema tool, then query; on an error, fix the query from the line, column and suggestion given.
        """,
    capabilities: .init(prompts: .init(listChanged: false), resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))

/// A tool's answer as MCP carries it: the JSON as text for the model, and as structured
/// content for programs.
func result(_ a: Answer) -> CallTool.Result {
    let text = a.json.text
    let structured = try? JSONDecoder().decode(MCP.Value.self, from: Data(text.utf8))
    return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: structured, isError: a.isError)
}

func toolError(_ message: String) -> CallTool.Result {
    result(Answer(json: .object([("error", .string(message))]), isError: true))
}

await server.withMethodHandler(ListTools.self) { _ in .init(tools: ToolCatalog.all) }
await server.withMethodHandler(CallTool.self) { params in
    let arguments = params.arguments ?? [:]
    func text(_ name: String) -> String? { arguments[name]?.stringValue }
    switch params.name {
    case "query":
        guard let query = text("query") else { return toolError("query needs \"query\": the kbq text to run") }
        var parameters: [String: KBQ.Value] = [:]
        if let given = arguments["params"] {
            guard case .object(let object) = given else { return toolError("\"params\" must be an object of $name values, e.g. {\"t\": \"containers\"}") }
            for (name, v) in object {
                guard let value = kbqValue(v) else { return toolError("parameter \(name) must be a string, number, bool, null or a list of them") }
                parameters[name.hasPrefix("$") ? String(name.dropFirst()) : name] = value
            }
        }
        var requested: Int?
        if let r = arguments["rows"] {
            guard let n = r.intValue ?? r.doubleValue.flatMap({ $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) : nil }), n >= 0 else {
                return toolError("\"rows\" must be a whole number from 0 to \(Server.maxRows)")
            }
            requested = n
        }
        return result(answerer.run(query, parameters: parameters, rows: requested))
    case "describe":
        guard let name = text("name") else { return toolError("describe needs \"name\": an entity's name or alias") }
        return result(answerer.run("describe " + name.kbqLiteral, name: "describe"))
    case "search":
        guard let words = text("text") else { return toolError("search needs \"text\": the words to find") }
        return result(answerer.run("search " + words.kbqLiteral, name: "search"))
    case "conflicts":
        return result(answerer.run("conflicts", name: "conflicts"))
    case "schema":
        return result(Answer(json: library.schema(), isError: false))
    case "explain":
        guard let query = text("query") else { return toolError("explain needs \"query\": the kbq text to check") }
        return result(answerer.run("explain " + query, name: "explain"))
    default:
        return toolError("unknown tool '\(params.name)': the tools are " + ToolCatalog.all.map(\.name).joined(separator: ", "))
    }
}
await server.withMethodHandler(ListResources.self) { _ in .init(resources: library.resources, nextCursor: nil) }
await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: library.templates, nextCursor: nil) }
await server.withMethodHandler(ReadResource.self) { params in .init(contents: [try library.read(params.uri)]) }
await server.withMethodHandler(ListPrompts.self) { _ in .init(prompts: Library.prompts, nextCursor: nil) }
await server.withMethodHandler(GetPrompt.self) { params in try library.prompt(params.name, params.arguments ?? [:]) }

do {
    try await server.start(transport: StdioTransport())
} catch {
    fail("could not start: \(error)")
}
await server.waitUntilCompleted()
