import KBQ

/// What a tool call answers: JSON for the model, and whether it is an error (a tool error in
/// MCP's sense: the model reads it and may try again, the session goes on).
struct Answer {
    var json: JSON
    var isError: Bool
}

/// Runs kbq text for an agent and writes the answer: every result's rows with each row's
/// citation (the article sentence it rests on, with its text, the source the article gives
/// and the hedge it uses), the notes and figures kbq adds, and every problem as a positioned
/// message with its suggestion.
struct Answerer: Sendable {
    let kb: KnowledgeBase
    let limits: Limits
    /// The most rows of one result written into an answer (a model reads every one).
    let defaultRows: Int
    let maxRows: Int

    /// Runs `text` (one or more statements) with `parameters` bound to `$name`s.
    func run(_ text: String, parameters: [String: KBQ.Value] = [:], rows requested: Int? = nil, name: String = "query") -> Answer {
        let shown = min(max(requested ?? defaultRows, 0), maxRows)
        let source = SourceText(text, name: name)
        var session = Session(kb: kb)
        var results: [JSON] = []
        var warnings: [JSON] = []
        let problems = session.run(source, parameters: parameters, limits: limits) { outcome in
            switch outcome {
            case .result(let table): results.append(answer(table, shown: shown))
            case .bound(let name, let rows):
                results.append(.object([("bound", .string(name)), ("rows", .int(rows))]))
            case .warning(let d):
                // A literal that matches nothing, and the like: said beside the rows, so that an
                // empty answer is read as "asked wrongly", not "the article does not say".
                warnings.append(problem(d, in: source))
            }
        }
        let warned: [(String, JSON)] = warnings.isEmpty ? [] : [("warnings", .array(warnings))]
        if !problems.isEmpty {
            return Answer(json: .object([("error", .string(problems.map { source.render($0) }.joined(separator: "\n"))),
                                         ("problems", .array(problems.map { problem($0, in: source) }))] + warned),
                          isError: true)
        }
        return Answer(json: .object([("results", .array(results))] + warned), isError: false)
    }

    /// One result: columns, rows (each an object in column order with its citation), what was
    /// left out, and kbq's notes and figures.
    func answer(_ table: ResultTable, shown: Int) -> JSON {
        let citer = Citer(kb: kb, table: table)
        var rows: [JSON] = []
        // Cell by cell: a long result kept by column is not made whole to show its first rows.
        for i in 0..<min(shown, table.rowCount) {
            var fields: [(String, JSON)] = table.columns.indices.map { (table.columns[$0].name, JSON(table.value(row: i, column: $0))) }
            if let citation = citer.citation(row: i) {
                let key = table.columnIndex("citation") == nil ? "citation" : "citation_"
                fields.append((key, citation))
            }
            rows.append(.object(fields))
        }
        var out: [(String, JSON)] = []
        if let title = table.title { out.append(("title", .string(title))) }
        out.append(("columns", .array(table.columns.map { .object([("name", .string($0.name)), ("type", .string($0.type.description))]) })))
        out.append(("rows", .array(rows)))
        out.append(("row_count", .int(table.rowCount)))
        if table.rowCount > shown {
            out.append(("truncated", .string("showing \(shown) of \(table.rowCount) rows: add 'limit N' or a narrower 'where', or ask for more with \"rows\"")))
        }
        if table.rowCount == 0 {
            // An empty answer is an answer: the KB has no such rows. Said in words so that a
            // model does not fill the gap itself.
            out.append(("empty", .string("no rows: the knowledge base has nothing that matches, so the article does not say this as asked")))
        }
        if !table.notes.isEmpty { out.append(("notes", .strings(table.notes))) }
        if !table.summaries.isEmpty {
            out.append(("summaries", .array(table.summaries.map { s in
                var pairs: [(String, JSON)] = []
                if let t = s.title { pairs.append(("title", .string(t))) }
                pairs.append(("figures", .object(s.items.map { ($0.label, JSON($0.value)) })))
                if let v = s.verdict { pairs.append(("verdict", .string(v))) }
                return .object(pairs)
            })))
        }
        return .object(out)
    }

    /// A problem as a model can act on it: where (line and column, from 1), what, the
    /// suggested fix, and the message as kbq prints it, caret and all.
    func problem(_ d: Diagnostic, in source: SourceText) -> JSON {
        var pairs: [(String, JSON)] = [("kind", .string(d.kind.rawValue)), ("message", .string(d.message))]
        if let p = d.problem { pairs.append(("problem", .string(p.rawValue))) }
        if let r = d.range {
            let (line, column) = source.lineColumn(of: r.start)
            pairs.append(("line", .int(line)))
            pairs.append(("column", .int(column)))
        }
        if let s = d.suggestion { pairs.append(("suggestion", .string(s))) }
        if !d.notes.isEmpty { pairs.append(("notes", .strings(d.notes))) }
        pairs.append(("rendered", .string(source.render(d))))
        return .object(pairs)
    }
}

/// Finds what each row of a result rests on.
///
/// A row that is still a stored row (through `where`, `sort`, `select` …) is cited from that
/// row: its `sentence`, `source` and `hedge`, and whether an inference of the KB's stands
/// in it. A row made anew (`compare`, `describe`, a group) is cited from its own `sentence`
/// column, when it has one.
struct Citer {
    let kb: KnowledgeBase
    let table: ResultTable
    let origin: KBCollection?
    let sentences: KBCollection?

    init(kb: KnowledgeBase, table: ResultTable) {
        self.kb = kb
        self.table = table
        self.origin = table.originCollection.flatMap(kb.collection)
        self.sentences = kb.collection("sentences")
    }

    /// The provenance fields a row of the KB may carry beside `sentence`, `source` and
    /// `hedge` (docs/KB-FORMAT.md): shown with the citation when present.
    static let provenanceFields = ["inferred", "reason", "basis", "reported"]

    /// A sentence as a citation gives it: its id and its text.
    func sentence(_ s: RowRef) -> JSON {
        var pairs: [(String, JSON)] = [("id", .string(s.key))]
        if let sentences, s.collection == sentences.name, let text = sentences.value(row: s.row, field: "text", in: kb), !text.isNull {
            pairs.append(("text", JSON(text)))
        }
        return .object(pairs)
    }

    func citation(row i: Int) -> JSON? {
        var pairs: [(String, JSON)] = []
        let stored: (KBCollection, Int)? = origin.flatMap { c in table.originRow(i).map { (c, $0) } }
        func field(_ name: String) -> KBQ.Value? {
            if let (c, r) = stored, let v = c.value(row: r, field: name, in: kb) { return v }
            if let k = table.columnIndex(name) { return table.value(row: i, column: k) }
            return nil
        }
        if let (c, r) = stored {
            pairs.append(("collection", .string(c.name)))
            if let key = c.key, let id = c.value(row: r, field: key, in: kb), !id.isNull { pairs.append(("id", JSON(id))) }
        }
        var cited: [JSON] = []
        switch field("sentence") {
        case .ref(let s)?: cited = [sentence(s)]
        case .list(let items)?:
            for case .ref(let s) in items { cited.append(sentence(s)) }
        default: break
        }
        if !cited.isEmpty { pairs.append(("sentences", .array(cited))) }
        for name in ["source", "hedge"] + Citer.provenanceFields {
            if let v = field(name), !v.isNull { pairs.append((name, JSON(v))) }
        }
        return pairs.isEmpty ? nil : .object(pairs)
    }
}
