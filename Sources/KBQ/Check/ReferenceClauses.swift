/// `follow` and `referrers`: a query goes along references, forwards (to the row a
/// reference points at) or backwards (to the rows that point at these), in one statement.
extension Checker {
    /// The fields of stored collections that hold references to rows of `target`, in the
    /// KB's order; only those of `collection` when one is named.
    func links(to target: String, in collection: KBCollection? = nil) -> [ReferenceLink] {
        (collection.map { [$0] } ?? kb.collections).flatMap { c in
            c.fields.enumerated().compactMap { i, f -> ReferenceLink? in
                guard case .ref(let t) = f.type, t == target else { return nil }
                return ReferenceLink(collection: c.name, index: i, field: f.name)
            }
        }
    }

    /// The rows of a stored collection, as the clause that ends on them gives them.
    func storedShape(_ c: KBCollection) -> RowShape {
        RowShape(columns: c.fields.map { ResultColumn(name: $0.name, type: $0.type) }, stored: c.name, origin: c.name, measure: c.measure)
    }

    /// The reference fields of the rows in scope, for a note.
    func referenceNote(_ scope: RowShape) -> String {
        let refs = scope.columns.filter { if case .ref = $0.type { return true }; return false }
        return refs.isEmpty ? "no reference is in scope" : "references here: " + refs.map { "\($0.name) (to \($0.type.referenceTarget ?? "?"))" }.joined(separator: ", ")
    }

    mutating func checkFollow(_ e: Expr, _ scope: RowShape) throws(Failed) -> (CheckedClause.Kind, RowShape) {
        let ref = try check(e, scope)
        guard let target = ref.type.referenceTarget, let c = kb.collection(target) else {
            throw error(.typeMismatch, "follow goes to the row a reference points at, and \(render(e)) is \(describeType(ref.type))", at: e.range,
                        notes: [referenceNote(scope)])
        }
        return (.follow(ref, collection: c.name), storedShape(c))
    }

    /// `referrers [COLLECTION[.FIELD]]`: the rows in scope must still be rows of one
    /// collection (what refers to a computed row is not defined).
    mutating func checkReferrers(_ collection: Name?, _ field: Name?, _ scope: RowShape, range: SourceRange) throws(Failed) -> (CheckedClause.Kind, RowShape) {
        guard let origin = scope.origin, let target = kb.collection(origin) else {
            throw error(.invalidClause, "referrers needs rows of one collection, and these rows are computed", at: range,
                        notes: ["put referrers before group by, aggregate or compare, or start from a collection: entities where name = \"Article 4\" referrers"])
        }
        guard let collection else {
            let all = links(to: target.name)
            guard !all.isEmpty else {
                throw error(.invalidClause, "no collection of this KB refers to rows of \(target.name)", at: range)
            }
            return (.referrers(target: target.name, links: all, listed: true), referrerListShape())
        }
        guard let c = kb.collection(collection.text) else {
            let referring = Set(links(to: target.name).map(\.collection))
            throw error(.unknownCollection, "unknown collection '\(collection.text)'", at: collection.range,
                        suggestion: suggest(collection.text, from: kb.collections.map(\.name)),
                        notes: [referring.isEmpty ? "no collection refers to \(target.name)"
                                : "collections that refer to \(target.name): " + kb.collections.map(\.name).filter(referring.contains).joined(separator: ", ")])
        }
        let all = links(to: target.name, in: c)
        let described = all.map(\.field).joined(separator: ", ")
        guard let field else {
            guard !all.isEmpty else {
                throw error(.invalidClause, "no field of \(c.name) refers to \(target.name)", at: collection.range,
                            notes: ["fields of \(c.name): " + c.fields.map(\.name).joined(separator: ", ")])
            }
            return (.referrers(target: target.name, links: all, listed: false), storedShape(c))
        }
        guard let link = all.first(where: { $0.field == field.text }) else {
            let exists = c.field(field.text) != nil
            throw error(exists ? .typeMismatch : .unknownField,
                        exists ? "\(c.name).\(field.text) does not refer to \(target.name), the rows here"
                               : "unknown field '\(field.text)' in \(c.name)", at: field.range,
                        suggestion: all.isEmpty ? nil : suggest(field.text, from: all.map(\.field)),
                        notes: [all.isEmpty ? "no field of \(c.name) refers to \(target.name)" : "fields of \(c.name) that refer to \(target.name): " + described])
        }
        return (.referrers(target: target.name, links: [link], listed: false), storedShape(c))
    }

    /// The columns `referrers` (alone) and `describe` list: which row refers, to which row
    /// in scope (`refers_to`; describe has one), how, and its provenance.
    func referrerListShape(describing: Bool = false) -> RowShape {
        let sentenceType: FieldType = kb.collection("sentences") != nil ? .ref("sentences") : .null
        var cols = [ResultColumn(name: "collection", type: .string), ResultColumn(name: "id", type: .string)]
        if !describing { cols.append(ResultColumn(name: "refers_to", type: .string)) }
        cols += [ResultColumn(name: "role", type: .string), ResultColumn(name: "what", type: .string),
                 ResultColumn(name: "source", type: .string), ResultColumn(name: "hedge", type: .hedge),
                 ResultColumn(name: "sentence", type: sentenceType), ResultColumn(name: "inferred", type: .list(.string))]
        return RowShape(columns: cols)
    }
}

extension FieldType {
    /// The collection a reference points into.
    var referenceTarget: String? {
        if case .ref(let c) = self { return c }
        return nil
    }
}
