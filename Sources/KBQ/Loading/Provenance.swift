/// Provenance (docs/KB-FORMAT.md, "Stated or inferred"): a collection may say, row by row,
/// which of its fields the source text does not state but the KB infers, why, and from which
/// sentences. The three fields are ordinary fields (queried, selected and shown like any
/// other); what makes them provenance is checked here, with the JSON path of each problem:
/// the fields named exist, an inference has a reason, the sentences it rests on exist.
extension KBLoader {
    /// The provenance fields and their types, in the order a collection declares them.
    static let provenanceFields: [(name: String, type: FieldType)] = [("inferred", .list(.string)), ("reason", .string), ("basis", .list(.string))]

    mutating func checkProvenance(_ built: [(Spec, [ColumnBuilder])], keys: [String: (ids: StringIDs, pool: StringPool)]) {
        for (spec, builders) in built {
            let at = KBLoader.provenanceFields.map { p in spec.fields.firstIndex { $0.name == p.name } }
            guard at.contains(where: { $0 != nil }) else { continue }
            var declared = true
            for (p, i) in zip(KBLoader.provenanceFields, at) {
                guard let i else {
                    problems.add(.missing, "\(spec.path).fields", "'\(p.name)' is missing: a collection with provenance declares inferred, reason and basis together")
                    declared = false
                    continue
                }
                if spec.fields[i].type != p.type {
                    problems.add(.invalidSchema, "\(spec.path).fields.\(p.name)", "the provenance field '\(p.name)' must be \(p.name == "reason" ? "\"string\"" : "{\"list\": \"string\"}")")
                    declared = false
                }
            }
            guard declared, let fi = at[0], let ri = at[1], let bi = at[2],
                  case .list(let inferred) = builders[fi].storage, case .string(let reasonIDs, let reasonPool) = builders[ri].storage,
                  case .list(let basis) = builders[bi].storage else { continue }
            // The sentences an inference rests on are rows of what the collection's own
            // `sentence` field refers to, else of `sentences`.
            var target = "sentences"
            if let s = spec.fields.first(where: { $0.name == "sentence" }), case .ref(let t) = s.type { target = t }
            let sentences = keys[target]
            let names = Set(spec.fields.map(\.name)).subtracting(KBLoader.provenanceFields.map(\.name))
            for r in 0..<min(inferred.count, reasonIDs.count, basis.count) {
                let fields = inferred[r] ?? []
                var seen = Set<String>()
                for (k, v) in fields.enumerated() {
                    guard case .string(let name) = v else { continue }
                    let path = "\(spec.path).rows[\(r)].inferred[\(k)]"
                    if !names.contains(name) {
                        problems.add(.unknownField, path, "'\(name)' is not a field of '\(spec.name)'" + (suggest(name, from: names).map { "; did you mean '\($0)'?" } ?? ""))
                    } else if !seen.insert(name).inserted {
                        problems.add(.duplicateName, path, "'\(name)' is listed twice")
                    }
                }
                let reasonID = reasonIDs[r]
                let reason = reasonID == StringPool.null ? "" : reasonPool[reasonID]
                let rests = basis[r] ?? []
                if fields.isEmpty {
                    if reasonID != StringPool.null { problems.add(.invalidProvenance, KBLoader.rowPath(spec, r, "reason"), "a reason, but no field is inferred: name the fields in 'inferred'") }
                    if !rests.isEmpty { problems.add(.invalidProvenance, KBLoader.rowPath(spec, r, "basis"), "sentences an inference rests on, but no field is inferred") }
                } else if reason.trimmingSpaces.isEmpty {
                    problems.add(.invalidProvenance, KBLoader.rowPath(spec, r, "reason"), "\(fields.map(\.text).joined(separator: ", ")) \(fields.count == 1 ? "is" : "are") inferred: say why in 'reason'")
                }
                for (k, v) in rests.enumerated() {
                    guard case .string(let s) = v else { continue }
                    let path = "\(spec.path).rows[\(r)].basis[\(k)]"
                    guard let sentences else {
                        problems.add(.unknownCollection, path, "no collection '\(target)' with a key for '\(s)' to name")
                        continue
                    }
                    if sentences.pool.lookup(s) == nil {
                        problems.add(.danglingReference, path, "no row of '\(target)' has key '\(s)'")
                    }
                }
            }
        }
    }
}
