// A statement SQL does not express whole (compare's statistics and chart, cite, timeline,
// describe, search, conflicts, a union of collections, explain) runs in two parts: the
// database picks the rows (each collection the statement reads, the statement's own
// collection filtered by its leading `where` clauses), and kbq's own engine finishes the
// statement over them, so that its output is the file's exactly (verdicts, notes, charts).
//
// This file reaches up to the prepared query (PreparedQuery.swift): finishing is the one place
// the SQL backend runs kbq's evaluator, over a KB it rebuilds from the rows read.

extension SQLStatement {
    /// Whether kbq finishes the statement over rows read by ``fetches``.
    public var isFinishedInKBQ: Bool { finishing != nil }

    /// The statement's result, run by kbq's engine over the rows ``fetches`` read (their
    /// results, in the same order). Refused, naming the statement's construct and the engine,
    /// when a collection gave more rows than the session's ``SQLSession/finishingRowLimit``.
    public func finish(_ fetched: [ResultTable], parameters: [String: Value] = [:],
                       limits: Limits = .none, cancel: CancellationToken? = nil) throws(Diagnostic) -> ResultTable {
        guard let f = finishing, fetched.count == fetches.count else {
            throw Diagnostic(.unsupportedOnEngine, "the statement was not given the rows it reads", at: range)
        }
        var rows: [String: [[Value]]] = [:]
        for (table, fetch) in zip(fetched, fetches) {
            guard let name = fetch.collection else { continue }
            if table.rows.count > f.rowLimit {
                throw Diagnostic(.unsupportedOnEngine, "\(f.construct) does not run in \(f.engine)'s SQL, and kbq finishes it over at most \(f.rowLimit) rows of a collection; '\(name)' gives more",
                                 at: range, notes: ["narrow it with 'where' first, so that the database picks fewer rows"])
            }
            rows[name] = table.rows
        }
        let document = f.layout.document { c in rows[c.name] ?? [] }
        var kb: KnowledgeBase
        do { kb = try KnowledgeBase(json: Array(document.utf8), name: f.layout.kb.name) } catch {
            throw Diagnostic(.unsupportedOnEngine, "the rows the database gave do not make a KB: \(error)", at: range)
        }
        // The statement is checked again over these rows: a collection read only in part must
        // still be checked as the whole (its row count and dictionaries), or a literal its
        // filter left out would be warned about as matching nothing.
        if let name = f.filtered, let whole = f.layout.kb.collection(name) {
            var dictionaries: [Int: StringPool] = [:]
            for i in whole.fields.indices { if let d = f.layout.kb.dictionary(of: whole, field: i) { dictionaries[i] = d } }
            kb = kb.with(rowsElsewhere: [name: RowsElsewhere(count: f.layout.kb.rowCount(of: whole), dictionaries: dictionaries)])
        }
        // The statement stands last, after the lets it reads: its ranges map back by one shift.
        let prefix = f.lets.map { $0 + "\n" }.joined()
        let shift = range.start - prefix.utf8.count
        func placed(_ d: Diagnostic) -> Diagnostic {
            var d = d
            if let r = d.range, r.start >= prefix.utf8.count { d.range = SourceRange(r.start + shift, r.end + shift) } else { d.range = range }
            return d
        }
        do {
            let query = try PreparedQuery(prefix + f.statement, kb: kb, name: f.sourceName, limits: limits, cancel: cancel)
            return try query.run(parameters: parameters, limits: limits, cancel: cancel)
        } catch {
            throw placed(error.items.first ?? Diagnostic(.unsupportedOnEngine, "the statement did not run", at: range))
        }
    }
}
