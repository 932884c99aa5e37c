/// kbq scripts as SQL, for a KB pushed into a database (`kbq push`): each statement is
/// checked against the KB's schema, exactly as on the file, then translated to one SQL
/// statement whose rows come back as a ``ResultTable`` that renders as the file's would.
///
/// The session runs nothing itself: the host sends ``SQLStatement/sql`` with
/// ``SQLStatement/arguments(_:)`` as bind parameters to its database, and hands the rows
/// (as text cells, NULL as nil) to ``SQLStatement/result(_:)``. `let` statements run no SQL:
/// the name stands for its query, which later statements read as a subquery.
///
///     var session = try SQLSession(schema: kb, dialect: .postgres)
///     let (statements, problems) = session.compile(SourceText("estimates where value > $v"))
///     for s in statements where s.kind == .query {
///         let rows = try myDatabase.query(s.sql, s.arguments(["v": .number(1e4)]))
///         print(try s.result(rows).rendered(as: .table))
///     }
public struct SQLSession: Sendable {
    /// The KB whose schema queries are checked against (its rows are not needed).
    public let schema: KnowledgeBase
    /// The dialect statements are written in.
    public let dialect: SQLDialect
    private let layout: SQLLayout
    private var frames: [String: SQLTranslator.Frame] = [:]
    private var shapes: [String: RowShape] = [:]

    /// Starts a session over the tables ``SQLLayout`` makes of `kb` (for `--sql`: the SQL a
    /// query would run on `kb` pushed).
    public init(schema kb: KnowledgeBase, dialect: SQLDialect = .postgres) throws(SQLError) {
        self.schema = kb
        self.dialect = dialect
        self.layout = try SQLLayout(kb)
    }

    /// Starts a session over a pushed KB, from its metadata table's rows (key → value, as
    /// ``SQLLayout/metadata`` wrote them): the KB's schema is loaded from them, no row is read.
    public init(metadata: [String: String], dialect: SQLDialect = .postgres) throws(SQLError) {
        guard metadata["version"] == String(SQLLayout.version), let document = metadata["schema"] else {
            throw SQLError("the database's KB was pushed by another kbq (layout \(metadata["version"] ?? "unknown"), this kbq reads \(SQLLayout.version)): push it again")
        }
        let kb: KnowledgeBase
        do { kb = try KnowledgeBase(json: Array(document.utf8), name: metadata["name"] ?? "kb") } catch {
            throw SQLError("the database's KB schema does not load: \(error)")
        }
        self.schema = kb
        self.dialect = dialect
        let percent = Set((metadata["percent"] ?? "").split(separator: "\n").map(String.init))
        self.layout = try SQLLayout(kb, percentCollections: percent)
    }

    /// Checks `source` and translates every statement. A script with any error translates
    /// none (the diagnostics say what and where), as the file's runner runs none; warnings
    /// come back beside the statements.
    public mutating func compile(_ source: SourceText) -> (statements: [SQLStatement], diagnostics: [Diagnostic]) {
        let script = check(source: source.text, kb: schema, lets: shapes)
        // Warnings (a literal that matches nothing) are shown and the script still runs.
        let warnings = script.warnings
        if script.hasErrors { return ([], (script.diagnostics + warnings).sorted { ($0.range?.start ?? 0) < ($1.range?.start ?? 0) }) }
        var out: [SQLStatement] = []
        var frames = self.frames, shapes = self.shapes
        var types: [String: FieldType] = [:]
        for p in script.parameters { if let t = p.type { types[p.name] = t } }
        for st in script.statements {
            var t = SQLTranslator(layout: layout, parameterTypes: types)
            do throws(Diagnostic) {
                switch st.kind {
                case .query(let q):
                    let f = try t.frame(q, lets: frames)
                    out.append(SQLStatement(kind: .query, select: t.finished(f), columns: f, output: q.output, translator: t,
                                            dialect: dialect, range: st.range, warnings: warnings))
                case .let(let name, let q):
                    frames[name] = try t.frame(q, lets: frames)
                    shapes[name] = q.output
                    out.append(SQLStatement(kind: .bind(name), select: nil, columns: nil, output: q.output, translator: t,
                                            dialect: dialect, range: st.range, warnings: []))
                case .explain(let q):
                    throw Diagnostic(.unsupportedOnEngine, "explain does not run in SQL yet", at: q.range,
                                     notes: ["kbq --sql -e QUERY prints the SQL a query runs"])
                }
            } catch {
                return ([], warnings + [error])
            }
        }
        self.frames = frames
        self.shapes = shapes
        return (out, warnings)
    }
}

/// One statement of a script, as SQL.
public struct SQLStatement: Sendable {
    /// What the statement does.
    public enum Kind: Sendable, Equatable {
        /// A query whose rows are shown: run ``sql``.
        case query
        /// `let NAME = …`: nothing to run; later statements read the query.
        case bind(String)
    }
    /// What the statement does.
    public let kind: Kind
    /// The SQL text (empty for a `let`).
    public let sql: String
    /// Where the statement is in the script.
    public let range: SourceRange
    /// The kbq parameters (`$name`) the SQL reads, by name.
    public let parameterNames: [String]
    private let uses: [SQLParameterUse]
    private let outputs: [SQLOutputColumn]
    private let hedges: HedgeScale
    /// The warnings about this statement: an empty result says why, as on the file.
    private let warnings: [Diagnostic]

    init(kind: Kind, select: RelationalSelect?, columns: SQLTranslator.Frame?, output: RowShape, translator: SQLTranslator,
         dialect: SQLDialect, range: SourceRange, warnings: [Diagnostic]) {
        self.kind = kind
        self.warnings = warnings.filter { w in w.range.map { $0.start >= range.start && $0.end <= range.end } ?? false }
        let generator = SQLGenerator(dialect: dialect)
        self.sql = select.map { generator.select($0) } ?? ""
        self.range = range
        self.uses = generator.parameters
        self.parameterNames = Array(Set(generator.parameters.map(\.name))).sorted()
        self.hedges = translator.kb.hedges
        if let columns {
            outputs = zip(output.columns, columns.columns).map { SQLOutputColumn(column: $0, shape: $1.shape) }
        } else {
            outputs = []
        }
    }

    /// The bind parameters, in the order the SQL numbers them, as text (NULL as nil), from
    /// the kbq parameters' values. A missing or unfitting value is a diagnostic, as on the file.
    public func arguments(_ values: [String: Value]) throws(Diagnostic) -> [String?] {
        var out: [String?] = []
        for use in uses {
            guard let v = values[use.name] else {
                throw Diagnostic(.unboundParameter, "no value given for parameter $\(use.name)", at: range,
                                 notes: ["bind it with --param \(use.name)=VALUE, or in the API's parameters"])
            }
            if v.isNull { out.append(nil); continue }
            func bad(_ needs: String) -> Diagnostic {
                Diagnostic(.unboundParameter, "parameter $\(use.name) needs \(needs) here, but was given \(sanitizeForTerminal(v.text))", at: range)
            }
            switch use.part {
            case .value:
                switch v {
                case .number(let d), .percent(let d): out.append(shortestDescription(d))
                case .quantity(let q): out.append(shortestDescription(q.value))
                case .bool(let b): out.append(b ? "true" : "false")
                case .ref(let r): out.append(r.key)
                default: out.append(v.text)
                }
            case .rowCount:
                guard let d = v.number, d >= 0, d == d.rounded(), d < 1e15 else { throw bad("a whole number of rows") }
                out.append(String(Int(d)))
            case .rank:
                let rank: Int?
                switch v {
                case .hedge(let r, _): rank = r
                case .string(let w): rank = hedges.rank(of: w)
                default: rank = nil
                }
                guard let rank else { throw bad("a hedge word (" + hedges.words.joined(separator: ", ") + ")") }
                out.append(String(rank))
            case .dayLow, .dayHigh, .dateShape, .dateAnchor:
                let date: PartialDate?
                switch v {
                case .date(let d): date = d
                case .string(let s): date = PartialDate.parse(s)
                case .number(let y) where y == y.rounded() && y >= 1 && y <= 9999: date = PartialDate(year: Int(y))
                default: date = nil
                }
                guard let d = date else { throw bad("a date (2024, 2024-06 or 2024-06-19)") }
                switch use.part {
                case .dayLow: out.append(String(d.lo))
                case .dayHigh: out.append(String(d.hi))
                case .dateShape: out.append(String(d.shape))
                default: out.append(String(d.anchor))
                }
            }
        }
        return out
    }

    /// The rows the database gave for ``sql`` (text cells in the order of its columns, NULL
    /// as nil) as the result the query gives on the file.
    public func result(_ rows: [[String?]]) throws(SQLError) -> ResultTable {
        let width = outputs.reduce(0) { $0 + $1.shape.width }
        var values: [[Value]] = []
        values.reserveCapacity(rows.count)
        for row in rows {
            guard row.count == width else { throw SQLError("the database gave \(row.count) columns where kbq asked for \(width)") }
            var out: [Value] = []
            out.reserveCapacity(outputs.count)
            var at = 0
            for o in outputs {
                out.append(try o.decode(row[at..<(at + o.shape.width)], hedges: hedges))
                at += o.shape.width
            }
            values.append(out)
        }
        var table = ResultTable(columns: outputs.map(\.column), rows: values)
        if values.isEmpty { table.notes += warnings.map { "empty because " + $0.message } }
        return table
    }
}
