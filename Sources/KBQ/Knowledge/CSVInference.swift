/// Loads a bare CSV file as a one-collection KB, inferring each column's type from the
/// first rows: number, date, bool, hedge (a column named `hedge` whose words are all on the
/// standard scale) or string. A numeric `value` column with a `qualifier` column beside it
/// becomes an interval quantity.
enum CSVInference {
    static let sampleRows = 10_000

    static func load(path: String) throws(KBLoadError) -> KnowledgeBase {
        let stem = String((path.split(separator: "/").last ?? Substring(path)).split(separator: ".").first ?? "data")
        var name = String(stem.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        if name.first?.isNumber ?? true { name = "t_" + name }
        // First pass over a sample: infer types.
        var header: [String] = []
        var samples: [[String]] = []
        do {
            var reader = CSVReader(input: try FileInput(path: path), name: path)
            var rec: [(Int, Int)] = []
            guard try reader.record(&rec) else {
                throw KBLoadError(file: path, problems: [KBProblem(path: "\(path):1", message: "empty CSV file: expected a header row")])
            }
            header = rec.map { reader.text($0) }
            if let f = header.first, f.hasPrefix("\u{FEFF}") { header[0] = String(f.dropFirst()) }
            while samples.count < sampleRows, try reader.record(&rec) {
                samples.append(rec.map { reader.text($0) })
            }
        }
        var problems = ProblemList()
        var seen = Set<String>()
        for (i, h) in header.enumerated() {
            if !KBLoader.isIdentifier(h) { problems.add("\(path):1", "column \(i + 1) '\(h)' is not an identifier (letters, digits, _)") }
            if !seen.insert(h).inserted { problems.add("\(path):1", "column '\(h)' appears twice") }
        }
        if !problems.isEmpty { throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted) }
        var fields: [Field] = []
        let hasQualifier = header.contains("qualifier")
        for (i, h) in header.enumerated() {
            let values = samples.compactMap { i < $0.count && !$0[i].isEmpty ? $0[i] : nil }
            var type: FieldType = .string
            if !values.isEmpty {
                if values.allSatisfy({ v in var v = v; return v.withUTF8 { parseDouble($0) } != nil }) { type = .number() }
                else if values.allSatisfy({ PartialDate.parse($0) != nil }) { type = .date }
                else if values.allSatisfy({ $0 == "true" || $0 == "false" }) { type = .bool }
                else if h == "hedge", values.allSatisfy({ HedgeScale.standard.rank(of: $0) != nil }) { type = .hedge }
            }
            if h == "value", type == .number(), hasQualifier {
                fields.append(Field(name: h, type: .number(qualified: true), qualifierField: "qualifier", upperField: nil))
            } else {
                fields.append(Field(name: h, type: type, qualifierField: nil, upperField: nil))
            }
        }
        var reader = CSVReader(input: try FileInput(path: path), name: path)
        var builders = fields.map { ColumnBuilder(field: $0, hedges: .standard, capacity: 0) }
        try reader.read(fields: fields, into: &builders, problems: &problems)
        if !problems.isEmpty {
            problems.add(path, "column types were inferred from the first \(sampleRows) rows; declare them in a KB file to load this data")
            throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted)
        }
        var loader = KBLoader(file: path, baseDirectory: nil)
        let measure = fields.first(where: { $0.name == "value" && $0.type.isNumeric })?.name ?? fields.first(where: { $0.type.isNumeric })?.name
        let key = fields.first(where: { $0.name == "id" && $0.type == .string })?.name
        let spec = KBLoader.Spec(name: name, fields: fields, key: key, measure: measure, path: "$.collections.\(name)")
        do {
            return try loader.finish(name: name, title: path, hedges: .standard, built: [(spec, builders)])
        } catch {
            // An `id` column with repeats is simply not a key.
            var plain = KBLoader(file: path, baseDirectory: nil)
            let noKey = KBLoader.Spec(name: name, fields: fields, key: nil, measure: measure, path: spec.path)
            return try plain.finish(name: name, title: path, hedges: .standard, built: [(noKey, builders)])
        }
    }
}
