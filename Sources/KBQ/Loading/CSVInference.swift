/// Loads a bare CSV file as a one-collection KB, inferring each column's type from the
/// first rows: number, date, bool, hedge (a column named `hedge` whose words are all on the
/// standard scale) or string. A numeric `value` column with a `qualifier` column beside it
/// becomes an interval quantity.
enum CSVInference {
    static let sampleRows = 10_000

    /// What each column's values could all be. Nothing is kept but these flags, so a survey
    /// costs no memory beside the column data.
    struct Candidates {
        var seen = false, number = true, date = true, bool = true, hedge = true
    }

    /// Reads the header and what the first `limit` rows (all, when nil) say of each column;
    /// and whether those were all the rows.
    static func survey(_ path: String, limit: Int?) throws(KBLoadError) -> (header: [String], columns: [Candidates], whole: Bool) {
        var reader = CSVReader(input: try FileInput(path: path), name: path)
        var rec: [(Int, Int)] = []
        guard try reader.record(&rec) else {
            throw KBLoadError(file: path, problems: [KBProblem(.missing, path: "\(path):1", message: "empty CSV file: expected a header row")])
        }
        var header = rec.map { reader.text($0) }
        if let f = header.first, f.hasPrefix("\u{FEFF}") { header[0] = String(f.dropFirst()) }
        var columns = [Candidates](repeating: Candidates(), count: header.count)
        var hedgeWords: [String: Bool] = [:]
        var rows = 0
        while rows < limit ?? .max, try reader.record(&rec) {
            rows += 1
            for (i, f) in rec.enumerated() where i < columns.count && f.1 > 0 {
                var c = columns[i]
                c.seen = true
                // A number past Double's range (1e400) is text: the reader refuses it as a number.
                if c.number { c.number = reader.withField(f) { parseDouble($0)?.isFinite } ?? false }
                if c.date { c.date = reader.withField(f) { PartialDate.parse(utf8: $0) } != nil }
                if c.bool || (c.hedge && header[i] == "hedge") {
                    let v = reader.text(f)
                    if c.bool { c.bool = v == "true" || v == "false" }
                    if c.hedge && header[i] == "hedge" {
                        if let known = hedgeWords[v] { c.hedge = known } else {
                            let known = HedgeScale.standard.rank(of: v) != nil
                            if hedgeWords.count < 64 { hedgeWords[v] = known }
                            c.hedge = known
                        }
                    }
                }
                columns[i] = c
            }
        }
        var whole = true
        if let limit, rows == limit { whole = !(try reader.record(&rec)) }
        return (header, columns, whole)
    }

    static func load(path: String) throws(KBLoadError) -> KnowledgeBase {
        let name = BareData.collectionName(fromFile: path)
        let first = try survey(path, limit: sampleRows)
        do {
            return try load(path: path, name: name, header: first.header, columns: first.columns)
        } catch {
            // A row past the sample broke a type the sample gave ("n/a" among numbers): the
            // file can be read again, so its types are inferred from every row instead of
            // the data being refused. Only data that surprises pays for the second survey.
            guard !first.whole, error.problems.contains(where: { $0.message.hasPrefix("expected a") }) else { throw error }
            let all = try survey(path, limit: nil)
            return try load(path: path, name: name, header: all.header, columns: all.columns)
        }
    }

    /// The KB of the CSV at `path`, its columns typed as `columns` say.
    static func load(path: String, name: String, header: [String], columns: [Candidates]) throws(KBLoadError) -> KnowledgeBase {
        var problems = ProblemList()
        var seen = Set<String>()
        for (i, h) in header.enumerated() {
            if !KBLoader.isIdentifier(h) { problems.add(.invalidName, "\(path):1", "column \(i + 1) '\(excerpt(h))' is not an identifier (letters, digits, _)") }
            if !seen.insert(h).inserted { problems.add(.duplicateName, "\(path):1", "column '\(excerpt(h))' appears twice") }
        }
        if !problems.isEmpty { throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted) }
        var fields: [Field] = []
        let hasQualifier = header.contains("qualifier")
        for (i, h) in header.enumerated() {
            let c = columns[i]
            var type: FieldType = .string
            if c.seen {
                if c.number { type = .number() }
                else if c.date { type = .date }
                else if c.bool { type = .bool }
                else if h == "hedge", c.hedge { type = .hedge }
            }
            fields.append(BareData.field(h, type, hasQualifier: hasQualifier))
        }
        let key = fields.first(where: { $0.name == "id" && $0.type == .string })?.name
        var reader = CSVReader(input: try FileInput(path: path), name: path)
        var builders = fields.map { ColumnBuilder(field: $0, hedges: .standard, capacity: 0) }
        // Text columns other than the key are never looked up by value: when their strings
        // prove nearly all different, they are stored without a hash index.
        for i in builders.indices where fields[i].type == .string && fields[i].name != key { builders[i].mayDropIndex = true }
        try reader.read(fields: fields, into: &builders, problems: &problems)
        if !problems.isEmpty { throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted) }
        return try BareData.finish(file: path, name: name, collections: [(name, fields, builders)])
    }
}
