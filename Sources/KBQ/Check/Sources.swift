extension Planner {
    typealias SourcePlan = (Scope, String, String, @Sendable (Env) throws(Diagnostic) -> Rows)

    /// Finds an entity by name, alias or id, case-insensitively.
    func findEntity(_ name: String) -> (KBCollection, Int)? {
        guard let e = kb.collection("entities") else { return nil }
        // "Russia's Kursk Oblast" finds the alias the article writes "Russia’s Kursk Oblast".
        func folded(_ s: String) -> String { foldingQuoteMarks(s).lowercased() }
        let want = folded(name).trimmingSpaces
        for r in 0..<e.count {
            for f in ["id", "name"] {
                if let v = e.value(row: r, field: f, in: kb), folded(v.text) == want { return (e, r) }
            }
            if case .list(let aliases)? = e.value(row: r, field: "aliases", in: kb),
               aliases.contains(where: { folded($0.text) == want }) { return (e, r) }
        }
        return nil
    }

    func entityNames() -> [String] {
        guard let e = kb.collection("entities") else { return [] }
        var out: [String] = []
        for r in 0..<e.count {
            if let v = e.value(row: r, field: "name", in: kb) { out.append(v.text) }
            if case .list(let aliases)? = e.value(row: r, field: "aliases", in: kb) { out += aliases.map(\.text) }
        }
        return out
    }

    mutating func planDescribe(_ name: String, _ range: SourceRange) throws(Failed) -> SourcePlan {
        guard kb.collection("entities") != nil else {
            throw error(.invalidClause, "describe needs an 'entities' collection, and this KB has none", at: range)
        }
        guard let (entities, row) = findEntity(name) else {
            throw error(.unknownEntity, "no entity is called '\(name)'", at: range, suggestion: suggest(name, from: entityNames()),
                        notes: ["describe looks up entity names and aliases; search \"\(name)\" looks through the sentences"])
        }
        let sentenceType: FieldType = kb.collection("sentences") != nil ? .ref("sentences") : .null
        let cols = [ResultColumn(name: "collection", type: .string), ResultColumn(name: "id", type: .string),
                    ResultColumn(name: "role", type: .string), ResultColumn(name: "what", type: .string),
                    ResultColumn(name: "source", type: .string), ResultColumn(name: "hedge", type: .hedge),
                    ResultColumn(name: "sentence", type: sentenceType)]
        let kb = self.kb
        let scope = Scope(columns: cols, stored: nil, origin: nil, measure: nil)
        return (scope, "describe", "everything that refers to \(entities.rowRef(row, kb: kb).display)", { env throws(Diagnostic) in
            try describeEntity(entities, row, columns: cols, env)
        })
    }

    mutating func planSearch(_ text: String, _ range: SourceRange) throws(Failed) -> SourcePlan {
        guard let s = kb.collection("sentences"), s.field("text") != nil else {
            throw error(.invalidClause, "search looks through a 'sentences' collection with a 'text' field, and this KB has none", at: range)
        }
        let terms = SearchTerms(text)
        guard !terms.terms.isEmpty else {
            throw error(.invalidLiteral, "search needs some text to look for", at: range)
        }
        var cols = [ResultColumn(name: "sentence", type: .ref("sentences"))]
        if s.field("paragraph") != nil { cols.append(ResultColumn(name: "paragraph", type: .number())) }
        cols.append(ResultColumn(name: "text", type: .string))
        let scope = Scope(columns: cols, stored: nil, origin: s, measure: nil)
        let columns = cols
        return (scope, "search", "sentences containing " + terms.described + " (any case, anywhere)", { env throws(Diagnostic) in
            try searchSentences(s, terms, columns: columns, env)
        })
    }

    mutating func planConflicts(_ range: SourceRange) throws(Failed) -> SourcePlan {
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
        let scope = Scope(columns: cols, stored: nil, origin: nil, measure: "value")
        return (scope, "conflicts", "topics in " + candidates.map(\.name).joined(separator: ", ") + " on which sources give values that cannot all be right", { env throws(Diagnostic) in
            try findConflicts(candidates, columns: cols, env)
        })
    }
}
