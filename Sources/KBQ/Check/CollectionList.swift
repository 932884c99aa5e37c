extension Checker {
    /// `claims, estimates, events`: collections read one after another. The rows have a
    /// `collection` column, then every field all of them have with the same type, in the
    /// first one's order; a name that is no collection, or collections that share no field,
    /// are errors.
    mutating func checkUnion(_ names: [Name]) throws(Failed) -> CheckedSource {
        var collections: [KBCollection] = []
        for n in names {
            guard let c = kb.collection(n.text) else {
                throw error(.unknownCollection, "unknown collection '\(n.text)'", at: n.range,
                            suggestion: suggest(n.text, from: kb.collections.map(\.name)),
                            notes: ["a list of collections reads stored collections only (not let names): " + kb.collections.map(\.name).joined(separator: ", ")])
            }
            if collections.contains(where: { $0 === c }) {
                throw error(.invalidClause, "'\(n.text)' is listed twice", at: n.range)
            }
            collections.append(c)
        }
        let range = names[0].range.union(names[names.count - 1].range)
        let shared = collections[0].fields.filter { f in collections.allSatisfy { $0.field(f.name)?.type == f.type } }
        guard !shared.isEmpty else {
            throw error(.invalidClause, "\(names.map(\.text).joined(separator: ", ")) share no field of one type", at: range,
                        notes: collections.map { "\($0.name): " + $0.fields.map(\.name).joined(separator: ", ") })
        }
        let cols = [ResultColumn(name: "collection", type: .string)] + shared.filter { $0.name != "collection" }.map { ResultColumn(name: $0.name, type: $0.type) }
        return CheckedSource(kind: .union(collections.map(\.name)), output: RowShape(columns: cols), range: range)
    }
}
