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
    /// Each `let` as kbq finishes a statement that reads it: its text, with the `let`s it
    /// reads before it, and the collections they read (nil: every collection).
    private var letScripts: [String: (texts: [String], collections: Set<String>?)] = [:]
    /// The most rows kbq reads from the database to finish one statement that SQL does not
    /// express whole (`compare`, `cite`, `describe` …): a bound on the memory and time it
    /// takes, past which the statement is refused, naming what and where.
    public var finishingRowLimit = 1_000_000

    /// The `let` names compiled so far, with the shape of their rows: what checking, and a
    /// shell's completion, know of them.
    public var letShapes: [String: RowShape] { shapes }

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
        let elsewhere = try SQLLayout.rowsElsewhere(metadata["rows"] ?? "{}", of: kb)
        self.schema = kb.with(rowsElsewhere: elsewhere)
        self.dialect = dialect
        let percent = Set((metadata["percent"] ?? "").split(separator: "\n").map(String.init))
        self.layout = try SQLLayout(self.schema, percentCollections: percent)
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
        var frames = self.frames, shapes = self.shapes, letScripts = self.letScripts
        var types: [String: FieldType] = [:]
        for p in script.parameters { if let t = p.type { types[p.name] = t } }
        let bytes = Array(source.text.utf8)
        // A statement's text runs to where the next begins: the range of `search "x"` ends
        // before its string.
        let starts = script.statements.map(\.range.start) + [bytes.count]
        func text(_ i: Int) -> String {
            let start = min(starts[i], bytes.count)
            return String(decoding: bytes[start..<max(start, min(starts[i + 1], bytes.count))], as: UTF8.self)
        }
        for (i, st) in script.statements.enumerated() {
            var t = SQLTranslator(layout: layout, parameterTypes: types)
            do throws(Diagnostic) {
                switch st.kind {
                case .query(let q):
                    do {
                        let f = try t.frame(q, lets: frames)
                        out.append(SQLStatement(kind: .query, select: t.finished(f), columns: f, output: q.output, translator: t,
                                                dialect: dialect, range: st.range, warnings: warnings))
                    } catch where error.kind == .unsupportedOnEngine {
                        out.append(try finishedInKBQ(st, text(i), why: error, lets: letScripts, warnings: warnings, source: source))
                    }
                case .let(let name, let q):
                    // A let SQL does not express is read by kbq, as the statements that use it are.
                    if let f = try? t.frame(q, lets: frames) { frames[name] = f } else { frames[name] = nil }
                    shapes[name] = q.output
                    let (texts, collections) = SQLSession.reads(q, lets: letScripts, kb: schema)
                    letScripts[name] = (texts + [text(i)], collections)
                    out.append(SQLStatement(kind: .bind(name), select: nil, columns: nil, output: q.output, translator: t,
                                            dialect: dialect, range: st.range, warnings: []))
                case .explain:
                    // explain shows the plan kbq runs in memory, here over the rows it reads.
                    let why = Diagnostic(.unsupportedOnEngine, "explain", at: st.range)
                    out.append(try finishedInKBQ(st, text(i), why: why, lets: letScripts, warnings: warnings, source: source))
                }
            } catch {
                return ([], warnings + [error])
            }
        }
        self.frames = frames
        self.shapes = shapes
        self.letScripts = letScripts
        return (out, warnings)
    }

    /// The `let` texts a query needs run before it, and the collections it and they read
    /// (nil: every collection, as `describe`, `search` and `conflicts` do, and `cite`, `follow`
    /// and `referrers`, which read the rows a row refers to or is referred to by).
    static func reads(_ q: CheckedQuery, lets: [String: (texts: [String], collections: Set<String>?)],
                      kb: KnowledgeBase) -> (texts: [String], collections: Set<String>?) {
        var texts: [String] = []
        var collections: Set<String>? = []
        func add(_ name: String) {
            if let l = lets[name] {
                for t in l.texts where !texts.contains(t) { texts.append(t) }
                if let c = l.collections { collections?.formUnion(c) } else { collections = nil }
            } else {
                collections?.insert(name)
            }
        }
        switch q.source.kind {
        case .collection(let name), .letName(let name): add(name)
        case .union(let names): names.forEach(add)
        case .describe, .search, .conflicts: collections = nil
        }
        // cite reads sentences and documents, referrers the collections that point back.
        if q.clauses.contains(where: {
            switch $0.kind { case .cite, .follow, .referrers: return true; default: return false }
        }) { collections = nil }
        return (texts, collections)
    }

    /// A statement SQL does not express whole, finished by kbq's own engine over the rows it
    /// reads from the database: every collection the statement reads (and those they refer
    /// to), in KB order; the statement's collection filtered there by its leading `where`
    /// clauses when nothing else reads it.
    private func finishedInKBQ(_ st: CheckedStatement, _ text: String, why: Diagnostic,
                               lets: [String: (texts: [String], collections: Set<String>?)],
                               warnings: [Diagnostic], source: SourceText) throws(Diagnostic) -> SQLStatement {
        let q = st.query
        let (texts, reads) = SQLSession.reads(q, lets: lets, kb: schema)
        // The collections read, with those they refer to and the sentences provenance rests on.
        var needed = reads ?? Set(schema.collections.map(\.name))
        var pending = Array(needed)
        while let name = pending.popLast() {
            guard let c = schema.collection(name) else { continue }
            var targets = c.fields.compactMap { f -> String? in if case .ref(let t) = f.type { return t } else { return nil } }
            if c.fields.contains(where: { $0.name == "basis" }), schema.collection("sentences") != nil { targets.append("sentences") }
            for t in targets where needed.insert(t).inserted { pending.append(t) }
        }
        let referenced = Set(needed.flatMap { name in
            schema.collection(name)?.fields.compactMap { f -> String? in if case .ref(let t) = f.type { return t } else { return nil } } ?? []
        })
        var pushable: String?
        if case .query = st.kind, texts.isEmpty, case .collection(let name) = q.source.kind, !referenced.contains(name) { pushable = name }
        var fetches: [SQLStatement] = []
        for c in schema.collections where needed.contains(c.name) {
            var t = SQLTranslator(layout: layout)
            let f = try t.fetch(c.name, filteredBy: c.name == pushable ? q.clauses : [], limit: finishingRowLimit + 1, at: q.source.range)
            let shape = RowShape(columns: c.fields.map { ResultColumn(name: $0.name, type: $0.type) }, stored: c.name)
            var fetch = SQLStatement(kind: .query, select: t.finished(f), columns: f, output: shape, translator: t,
                                     dialect: dialect, range: st.range, warnings: [])
            fetch.collection = c.name
            fetches.append(fetch)
        }
        var s = SQLStatement(kind: .query, select: nil, columns: nil, output: q.output, translator: SQLTranslator(layout: layout),
                             dialect: dialect, range: st.range, warnings: warnings)
        let construct = why.message.hasSuffix(" does not run in SQL yet") ? String(why.message.dropLast(24)) : why.message
        s.fetches = fetches
        s.finishing = SQLStatement.Finishing(lets: texts, statement: text, sourceName: source.name, layout: layout,
                                             rowLimit: finishingRowLimit, construct: construct, engine: dialect.engineName,
                                             filtered: pushable)
        return s
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
    /// For a statement SQL does not express whole (`compare`, `cite`, `describe`, `search`,
    /// `conflicts`, `timeline`, `explain` …): the statements that read the rows kbq finishes
    /// it over, one per collection it reads. Run each, hand their results (``result(_:)``
    /// of each) to ``finish(_:parameters:)``. Empty when ``sql`` gives the answer itself.
    public internal(set) var fetches: [SQLStatement] = []
    /// What kbq runs over the fetched rows.
    var finishing: Finishing?
    /// For one of ``fetches``: the collection whose rows it reads.
    public internal(set) var collection: String?

    /// A statement kbq runs in memory over rows read from the database.
    struct Finishing: Sendable {
        /// The `let` statements it reads, in order, then the statement itself.
        var lets: [String]
        var statement: String
        var sourceName: String
        var layout: SQLLayout
        var rowLimit: Int
        /// What SQL does not express ("compare"), and the engine, for the row limit's error.
        var construct: String
        var engine: String
        /// The collection read through the statement's leading `where` clauses, not whole.
        var filtered: String?
    }

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
            case .folded:
                // kbq's `contains` finds only a text: another value is unknown, as NULL is.
                guard case .string(let needle) = v else { out.append(nil); continue }
                out.append(containsFolded(needle) ?? needle)
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
