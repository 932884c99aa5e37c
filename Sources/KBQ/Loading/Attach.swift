/// Several KBs at once: a user's collections beside the article's (`--kb` repeated,
/// `.attach FILE [as NAME]`). References stay inside the KB they were written in, so the
/// collections of each side keep their meaning; names that would clash are refused, never
/// silently shadowed.

/// Why a KB cannot be attached beside another.
public struct AttachError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in one sentence.
    public let message: String
    /// What to do about it.
    public let notes: [String]
    /// Makes the error.
    public init(message: String, notes: [String]) {
        self.message = message
        self.notes = notes
    }
    /// The message and notes, one line each.
    public var description: String { ([message] + notes.map { "note: " + $0 }).joined(separator: "\n") }
}

extension KnowledgeBase {
    /// This KB with `other`'s collections after its own. With `name`, a lone collection of
    /// `other` is called `name`, and several are called `name_COLLECTION` (references
    /// between them follow the new names). A collection name already taken, a name that is
    /// no identifier, or a hedge scale that differs from this KB's is refused.
    public func attaching(_ other: KnowledgeBase, as name: String? = nil) throws(AttachError) -> KnowledgeBase {
        if let name, !KnowledgeBase.isIdentifier(name) {
            throw AttachError(message: "'\(name)' cannot name collections: use letters, digits and _, starting with a letter",
                              notes: [])
        }
        guard other.hedges.words == hedges.words else {
            throw AttachError(message: "\(other.name) uses other hedge words than \(self.name), so hedges could not be compared",
                              notes: ["\(self.name): " + hedges.words.joined(separator: " > "), "\(other.name): " + other.hedges.words.joined(separator: " > ")])
        }
        var renamed: [String: String] = [:]
        for c in other.collections {
            renamed[c.name] = name.map { other.collections.count == 1 ? $0 : $0 + "_" + c.name } ?? c.name
        }
        for c in other.collections {
            guard let new = renamed[c.name], collection(new) != nil else { continue }
            throw AttachError(message: "\(self.name) already has a collection called '\(new)'",
                              notes: ["attach it under another name: .attach FILE as NAME"])
        }
        let moved = other.collections.map { c in c.renamed(renamed) }
        return KnowledgeBase(name: self.name + "+" + (name ?? other.name), title: title, collections: collections + moved, hedges: hedges,
                             damage: damage + other.damage)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f.properties.isAlphabetic && f.isASCII || f == "_" else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}

extension KBCollection {
    /// The collection under its name in `names`, its references pointing at the new names.
    func renamed(_ names: [String: String]) -> KBCollection {
        let fields = self.fields.map { f -> Field in
            func retarget(_ t: FieldType) -> FieldType {
                switch t {
                case .ref(let c): return .ref(names[c] ?? c)
                case .list(let e?): return .list(retarget(e))
                default: return t
                }
            }
            return Field(name: f.name, type: retarget(f.type), qualifierField: f.qualifierField, upperField: f.upperField)
        }
        if fields == self.fields && names[name] == name { return self }
        return KBCollection(name: names[name] ?? name, fields: fields, columns: columns, count: count, key: key, measure: measure, hedges: hedges,
                            indexes: indexes)
    }
}
