/// What loading bare data shares, whether it comes as CSV (``CSVInference``) or as JSON
/// (``JSONInference``): the collection's name, the interval a `value` beside a `qualifier`
/// makes, and the key and measure the KB is built with.
enum BareData {
    /// A collection name from a file's name: its stem, with other characters as `_`.
    static func collectionName(fromFile path: String) -> String {
        let stem = String((path.split(separator: "/").last ?? Substring(path)).split(separator: ".").first ?? "data")
        var name = String(stem.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        if name.first?.isNumber ?? true { name = "t_" + name }
        return name
    }

    /// The field `name` of the inferred `type`: a numeric `value` beside a `qualifier` field
    /// is an interval quantity.
    static func field(_ name: String, _ type: FieldType, hasQualifier: Bool) -> Field {
        if name == "value", type == .number(), hasQualifier {
            return Field(name: name, type: .number(qualified: true), qualifierField: "qualifier", upperField: nil)
        }
        return Field(name: name, type: type, qualifierField: nil, upperField: nil)
    }

    /// Builds the KB from typed, filled builders: `id` is the key unless two rows share one;
    /// the measure is `value`, else the first numeric field.
    static func finish(file: String, name: String, collections: [(name: String, fields: [Field], builders: [ColumnBuilder])]) throws(KBLoadError) -> KnowledgeBase {
        func specs(keyed: Bool) -> [(KBLoader.Spec, [ColumnBuilder])] {
            collections.map { c in
                let key = keyed ? c.fields.first(where: { $0.name == "id" && $0.type == .string })?.name : nil
                let measure = c.fields.first(where: { $0.name == "value" && $0.type.isNumeric })?.name ?? c.fields.first(where: { $0.type.isNumeric })?.name
                return (KBLoader.Spec(name: c.name, fields: c.fields, key: key, measure: measure, path: "$.collections.\(c.name)"), c.builders)
            }
        }
        var loader = KBLoader(file: file, baseDirectory: nil)
        do {
            return try loader.finish(name: name, title: file, hedges: .standard, built: specs(keyed: true))
        } catch {
            // An `id` field with repeats is simply not a key.
            var plain = KBLoader(file: file, baseDirectory: nil)
            return try plain.finish(name: name, title: file, hedges: .standard, built: specs(keyed: false))
        }
    }
}
