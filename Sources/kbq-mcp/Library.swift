import Foundation
import KBQ
import MCP

/// What an agent can read besides calling tools: the article by sentence, the language's
/// reference, the KB's schema; and the prompts that start the two questions kbq answers best.
struct Library: Sendable {
    let kb: KnowledgeBase
    /// Where Grammar/REFERENCE.md is: beside the installed program, or in the source tree it
    /// was built from.
    let referencePath: String?

    static let articleURI = "kbq://article"
    static let referenceURI = "kbq://reference"
    static let schemaURI = "kbq://schema"
    static let sentencePrefix = "kbq://sentences/"

    var sentences: KBCollection? { kb.collection("sentences") }

    // MARK: resources

    var resources: [Resource] {
        var out: [Resource] = []
        if let s = sentences {
            out.append(Resource(name: "article", uri: Library.articleURI, title: kb.title ?? kb.name,
                                description: "The article's full text, one paragraph a line, each sentence prefixed with its id [p4.3]", mimeType: "text/plain"))
            for r in 0..<s.count {
                guard let id = sentenceID(r) else { continue }
                out.append(Resource(name: id, uri: Library.sentencePrefix + id, description: preview(r), mimeType: "text/plain"))
            }
        }
        if referencePath != nil {
            out.append(Resource(name: "reference", uri: Library.referenceURI, title: "kbq language reference",
                                description: "Every clause, operator and function of kbq, each with an example (Grammar/REFERENCE.md)", mimeType: "text/markdown"))
        }
        out.append(Resource(name: "schema", uri: Library.schemaURI, title: "Knowledge base schema",
                            description: "Collections, fields and types, keys, measures, the hedge scale", mimeType: "application/json"))
        return out
    }

    var templates: [Resource.Template] {
        guard sentences != nil else { return [] }
        return [Resource.Template(uriTemplate: Library.sentencePrefix + "{id}", name: "sentence",
                                  description: "One sentence of the article by id (p4.3: paragraph 4, sentence 3)", mimeType: "text/plain")]
    }

    func read(_ uri: String) throws -> Resource.Content {
        switch uri {
        case Library.articleURI:
            guard let text = articleText() else { break }
            return .text(text, uri: uri, mimeType: "text/plain")
        case Library.referenceURI:
            guard let path = referencePath, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw MCPError.invalidParams("the language reference (Grammar/REFERENCE.md) is not installed beside kbq-mcp")
            }
            return .text(text, uri: uri, mimeType: "text/markdown")
        case Library.schemaURI:
            return .text(schema().text, uri: uri, mimeType: "application/json")
        default:
            if uri.hasPrefix(Library.sentencePrefix), let s = sentences {
                let id = String(uri.dropFirst(Library.sentencePrefix.count))
                if let r = (0..<s.count).first(where: { sentenceID($0) == id }),
                   case .string(let text)? = s.value(row: r, field: "text", in: kb) {
                    return .text(text, uri: uri, mimeType: "text/plain")
                }
                throw MCPError.invalidParams("no sentence '\(id)': ids are written p4.3 (paragraph 4, sentence 3); list the resources to see them")
            }
        }
        throw MCPError.invalidParams("unknown resource '\(uri)'")
    }

    func sentenceID(_ row: Int) -> String? {
        guard let s = sentences, let key = s.key, case .string(let id)? = s.value(row: row, field: key, in: kb) else { return nil }
        return id
    }

    func preview(_ row: Int) -> String? {
        guard case .string(let text)? = sentences?.value(row: row, field: "text", in: kb) else { return nil }
        return text.count <= 80 ? text : String(text.prefix(77)) + "…"
    }

    /// The article as paragraphs of sentences, each marked with its id so that what an agent
    /// quotes can be cited.
    func articleText() -> String? {
        guard let s = sentences else { return nil }
        var paragraphs: [(Double, [String])] = []
        for r in 0..<s.count {
            guard let id = sentenceID(r), case .string(let text)? = s.value(row: r, field: "text", in: kb) else { continue }
            let p = s.value(row: r, field: "paragraph", in: kb)?.number ?? 0
            if let last = paragraphs.last, last.0 == p {
                paragraphs[paragraphs.count - 1].1.append("[\(id)] \(text)")
            } else {
                paragraphs.append((p, ["[\(id)] \(text)"]))
            }
        }
        var out = kb.title.map { $0 + "\n\n" } ?? ""
        out += paragraphs.map { $0.1.joined(separator: " ") }.joined(separator: "\n\n")
        return out + "\n"
    }

    /// Collections, fields and types; the hedge scale, strongest first; the values of the
    /// fields questions are usually asked by.
    func schema() -> JSON {
        let collections: [JSON] = kb.collections.map { c in
            var pairs: [(String, JSON)] = [("name", .string(c.name)), ("rows", .int(c.count))]
            if let k = c.key { pairs.append(("key", .string(k))) }
            if let m = c.measure { pairs.append(("measure", .string(m))) }
            pairs.append(("fields", .object(c.fields.map { ($0.name, .string($0.type.description)) })))
            // The values questions are usually asked by, so that `where topic = "…"` is
            // written with a value that exists.
            let values: [(String, JSON)] = ["topic", "unit", "kind", "relation"].compactMap { name in
                guard c.field(name)?.type == .string else { return nil }
                let v = c.distinctStrings(of: name, limit: 200)
                return v.isEmpty ? nil : (name, .strings(v))
            }
            if !values.isEmpty { pairs.append(("values", .object(values))) }
            return .object(pairs)
        }
        var pairs: [(String, JSON)] = [("kb", .string(kb.name))]
        if let t = kb.title { pairs.append(("title", .string(t))) }
        pairs.append(("collections", .array(collections)))
        pairs.append(("hedges", .object([("strongest_first", .strings(kb.hedges.words)),
                                         ("note", .string("compare with < > = >= <=: hedge >= stated keeps firm statements"))])))
        return .object(pairs)
    }

    // MARK: prompts

    static let prompts: [Prompt] = [
        Prompt(name: "compare-sources", title: "Compare what sources say about a topic",
               description: "Sets out every source's figure and statement on a topic side by side, with where they disagree, each cited to its sentence.",
               arguments: [.init(name: "topic", description: "a topic, e.g. containers, artillery shells, troops", required: true)]),
        Prompt(name: "not-said", title: "What the article does not say about a subject",
               description: "Finds what the article states about a subject and, as important, what it leaves unknown or unattributed, without filling gaps.",
               arguments: [.init(name: "subject", description: "an entity, topic or question, e.g. North Korea's troop numbers", required: true)]),
    ]

    func prompt(_ name: String, _ arguments: [String: String]) throws -> GetPrompt.Result {
        switch name {
        case "compare-sources":
            guard let topic = arguments["topic"], !topic.isEmpty else { throw MCPError.invalidParams("compare-sources needs a topic") }
            let literal = topic.kbqLiteral
            return GetPrompt.Result(description: "Compare what sources say about \(topic)", messages: [.user(.text(text: """
                Using the kbq tools, compare what the sources in the knowledge base say about \(topic).
                1. Call `query` with `estimates where topic = \(literal) compare source` for the figures side by side, their spread and whether they can both be right.
                2. Call `query` with `claims where topic = \(literal) or text contains \(literal) select source.name, hedge, text` for the qualitative statements.
                3. If a query warns that no rows have that topic, call `schema` for the topics there are, or `search` with the word.
                Answer with each source's position, its hedge word (how sure the article says it is) and the sentence id it rests on. \
                Say where sources disagree and by how much. Mark anything the knowledge base records as inferred. \
                If the tools return no rows, say the article does not give it; do not supply figures from elsewhere.
                """))])
        case "not-said":
            guard let subject = arguments["subject"], !subject.isEmpty else { throw MCPError.invalidParams("not-said needs a subject") }
            let literal = subject.kbqLiteral
            return GetPrompt.Result(description: "What the article does not say about \(subject)", messages: [.user(.text(text: """
                Using the kbq tools, find what the article does NOT say about \(subject).
                1. Call `describe` with \(literal) (if it names an entity) and `search` with the key words, to see everything the article does say.
                2. Call `query` with `estimates where hedge = unknown or value is null` and `claims where hedge <= claimed` for what the article leaves unknown or only reports as claimed.
                List what is stated (with sentence ids and hedges), then what is left unknown, unattributed or only claimed, \
                and the natural questions about \(subject) that the article does not answer at all. Never fill a gap with outside knowledge.
                """))])
        default:
            throw MCPError.invalidParams("unknown prompt '\(name)': the prompts are compare-sources and not-said")
        }
    }
}
