extension Checker {
    /// `describe NAME`: the entity is looked up when the query runs (the lookup reads
    /// rows); checking only needs the collection.
    mutating func checkDescribe(_ name: String, _ range: SourceRange) throws(Failed) -> CheckedSource {
        guard kb.collection("entities") != nil else {
            throw error(.invalidClause, "describe needs an 'entities' collection, and this KB has none", at: range)
        }
        return CheckedSource(kind: .describe(name), output: referrerListShape(describing: true), range: range)
    }

    mutating func checkSearch(_ text: String, _ range: SourceRange) throws(Failed) -> CheckedSource {
        guard let s = kb.collection("sentences"), s.field("text") != nil else {
            throw error(.invalidClause, "search looks through a 'sentences' collection with a 'text' field, and this KB has none", at: range)
        }
        // Some word or phrase to look for: more than spaces and quote marks.
        guard foldingQuoteMarks(text).contains(where: { $0 != "\"" && !$0.isWhitespace }) else {
            throw error(.invalidLiteral, "search needs some text to look for", at: range)
        }
        var cols = [ResultColumn(name: "sentence", type: .ref("sentences"))]
        if s.field("paragraph") != nil { cols.append(ResultColumn(name: "paragraph", type: .number())) }
        cols.append(ResultColumn(name: "text", type: .string))
        return CheckedSource(kind: .search(text), output: RowShape(columns: cols, origin: s.name), range: range)
    }

    mutating func checkConflicts(_ range: SourceRange) throws(Failed) -> CheckedSource {
        let candidates = kb.collections.filter { c in
            c.measure != nil && c.field("source").map { if case .ref = $0.type { return true }; return $0.type == .string } == true
        }
        guard !candidates.isEmpty else {
            throw error(.invalidClause, "conflicts needs a collection with a measure and a 'source' field, and this KB has none", at: range)
        }
        let cols = [ResultColumn(name: "topic", type: .string), ResultColumn(name: "unit", type: .string),
                    ResultColumn(name: "source", type: .string), ResultColumn(name: "value", type: .number(qualified: true)),
                    ResultColumn(name: "hedge", type: .hedge), ResultColumn(name: "sentence", type: kb.collection("sentences") != nil ? .ref("sentences") : .null),
                    ResultColumn(name: "spread", type: .number()), ResultColumn(name: "relative_spread", type: .percent)]
        return CheckedSource(kind: .conflicts(candidates.map(\.name)), output: RowShape(columns: cols, measure: "value"), range: range)
    }
}
