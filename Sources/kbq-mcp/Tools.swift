import KBQ
import MCP

/// The tools an agent calls, each described for a model: what it answers, the language in
/// brief, and examples it can copy.
enum ToolCatalog {
    static let language = """
        kbq in brief: a query starts from a collection and applies clauses left to right: \
        where CONDITION, select FIELDS, sort by FIELD [desc], limit N, group by FIELD aggregate count(), \
        compare FIELD (values side by side with spread and a conflict verdict), cite (adds each row's sentence). \
        Strings in double quotes; hedges are ordered (confirmed > stated > reportedly > by some estimates > likely > claimed > unknown), \
        so `where hedge >= stated` keeps firm statements; quantities are intervals ("over 16,500"); dates may be partial (2024-06). \
        Follow a reference with a dot: source.name. Call the schema tool first to see the collections and fields.
        """

    static let all: [Tool] = [
        Tool(name: "query",
             description: """
                Runs a kbq query over the knowledge base of sourced claims and returns its rows as JSON. \
                Every row carries a citation: the article sentence it rests on (id and text), the source the article \
                attributes it to, and the hedge word the article uses. An empty result means the knowledge base does not \
                say it: report that, do not guess. A query with a mistake returns an error with the line, column and a \
                suggested fix: correct the query and call again.
                \(language)
                Examples: estimates where topic = "containers" compare source | claims where hedge >= stated select source.name, text | \
                events where date >= 2024-06 sort by date | estimates group by topic aggregate count(), max(value)
                """,
             inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "query": .object(["type": "string", "description": "kbq text: one query, or several statements (let NAME = …) of which each result is returned"]),
                    "params": .object(["type": "object", "description": "values for $name parameters in the query, e.g. {\"t\": \"containers\"} for `where topic = $t`",
                                       "additionalProperties": true]),
                    "rows": .object(["type": "integer", "minimum": 0, "maximum": .int(Server.maxRows),
                                     "description": "the most rows of each result to return (default \(Server.defaultRows))"]),
                ]),
                "required": ["query"],
                "additionalProperties": false,
             ]),
             annotations: .init(title: "Query the knowledge base", readOnlyHint: true, openWorldHint: false)),
        Tool(name: "describe",
             description: """
                Everything the knowledge base holds about one entity (a country, person, organisation, place, treaty …), found by \
                name or alias (Pyongyang, DPRK, Seoul, Zelensky): its rows, the rows that name it as actor, subject, source or target, \
                each with its sentence, source and hedge.
                """,
             inputSchema: .object([
                "type": "object",
                "properties": .object(["name": .object(["type": "string", "description": "an entity's name or alias"])]),
                "required": ["name"],
                "additionalProperties": false,
             ]),
             annotations: .init(title: "Describe an entity", readOnlyHint: true, openWorldHint: false)),
        Tool(name: "search",
             description: "The article's sentences that contain the text (any case), with each match marked «like this». Use it to find what the article says in its own words.",
             inputSchema: .object([
                "type": "object",
                "properties": .object(["text": .object(["type": "string", "description": "words or a phrase to find"])]),
                "required": ["text"],
                "additionalProperties": false,
             ]),
             annotations: .init(title: "Search the article", readOnlyHint: true, openWorldHint: false)),
        Tool(name: "conflicts",
             description: "Every topic on which sources give values that cannot all be right, largest spread first, each value with its source, hedge and sentence.",
             inputSchema: .object(["type": "object", "properties": .object([:]), "additionalProperties": false]),
             annotations: .init(title: "Where sources disagree", readOnlyHint: true, openWorldHint: false)),
        Tool(name: "schema",
             description: "The knowledge base's collections with their fields and types, row counts, keys and measures, the hedge scale from strongest to weakest, and the values of topic and unit fields. Call it before writing queries.",
             inputSchema: .object(["type": "object", "properties": .object([:]), "additionalProperties": false]),
             annotations: .init(title: "Collections, fields, hedges", readOnlyHint: true, openWorldHint: false)),
        Tool(name: "explain",
             description: "Checks a kbq query without running it and returns its plan (the steps and the output columns), or the positioned errors with suggestions. Use it to check a query before running it.",
             inputSchema: .object([
                "type": "object",
                "properties": .object(["query": .object(["type": "string", "description": "kbq text to check"])]),
                "required": ["query"],
                "additionalProperties": false,
             ]),
             annotations: .init(title: "Check a query", readOnlyHint: true, openWorldHint: false)),
    ]
}

/// A JSON value from a tool's arguments as a kbq value for a `$name` parameter: strings stay
/// strings (a run reads them as dates or hedges where the query needs one), lists become lists.
/// Objects and other shapes have no kbq value.
func kbqValue(_ v: MCP.Value) -> KBQ.Value? {
    switch v {
    case .null: return .null
    case .bool(let b): return .bool(b)
    case .int(let n): return .number(Double(n))
    case .double(let d): return .number(d)
    case .string(let s): return .string(s)
    case .array(let items):
        var out: [KBQ.Value] = []
        for item in items {
            guard let x = kbqValue(item) else { return nil }
            out.append(x)
        }
        return .list(out)
    default: return nil
    }
}
