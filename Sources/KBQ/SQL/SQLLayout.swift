// How a KB is laid out in SQL tables, so that SQL can ask what kbq asks: one table per
// collection, one row per KB row in KB order (`kbq_row`), and beside each field the columns
// its semantics need:
//
//   string                         f, and f__folded: the text as `contains` compares it (lower
//                                  case, quote marks straight), NULL where that is f itself
//   number, percent, bool          one column of the same name
//   quantity (interval)            f (the stated value) and f__lo, f__hi, f__lo_open, f__hi_open
//                                  (an open end is -Infinity or Infinity)
//   date (partial)                 f (as kbq writes it: "2024-06", "since 2022"); the day range
//                                  comparisons read, f__lo, f__hi (days since 1970-01-01;
//                                  a relative date reaches without end away from its anchor);
//                                  and f__start, f__end, f__shape, f__anchor to sort it and
//                                  rebuild it exactly
//   hedge                          f as its rank on the KB's scale (0 is the strongest)
//   reference                      f as the referenced row's key, f__row its kbq_row, and
//                                  f__display the text the row is shown by
//   list                           f as a JSON array
//
// plus `kbq_percent` where a collection's unit field marks rows whose numbers are
// percentages. The table `kbq_meta` keeps the KB's schema (in the KB file format, without
// rows), so a client can check queries against the database without reading its rows.

/// The SQL tables of a knowledge base: their DDL, indexes, metadata and row data, for
/// `kbq push` and for the SQL backend that reads them.
public struct SQLLayout: Sendable {
    /// One collection's table.
    public struct Table: Sendable {
        /// The collection (and table) name.
        public let name: String
        /// The columns, in order.
        public let columns: [Column]
        let collection: KBCollection
    }

    /// One column of a table.
    public struct Column: Sendable, Hashable {
        /// The column's name.
        public let name: String
        let kind: Kind
        /// The field it belongs to (nil for `kbq_row` and `kbq_percent`).
        let field: Int?

        enum Kind: Sendable, Hashable {
            case row, percentFlag
            case text, folded, double, bool, rank, json
            case quantityLow, quantityHigh, quantityLowOpen, quantityHighOpen
            case dayLow, dayHigh, dayStart, dayEnd, dateShape, dateAnchor
            case refRow, refDisplay
            case integer
        }
    }

    /// The name of the metadata table.
    public static let metaTable = "kbq_meta"
    /// The layout version kept in the metadata table; a client refuses another.
    public static let version = 3

    /// The tables, in the KB's collection order.
    public let tables: [Table]
    let kb: KnowledgeBase

    /// Lays out `kb`. Throws when a generated column name would collide with a field (a field
    /// called `value__lo` beside a quantity `value`), naming both.
    public init(_ kb: KnowledgeBase) throws(SQLError) {
        try self.init(kb, percentCollections: nil)
    }

    /// `percentCollections`: the collections whose rows carry `kbq_percent`, as the metadata
    /// of a pushed KB says (its schema has no rows to tell); nil: as `kb`'s rows say.
    init(_ kb: KnowledgeBase, percentCollections: Set<String>?) throws(SQLError) {
        self.kb = kb
        var tables: [Table] = []
        for c in kb.collections {
            if c.name == SQLLayout.metaTable {
                throw SQLError("collection '\(c.name)' has the name of kbq's metadata table; rename it to push the KB")
            }
            var columns = [Column(name: "kbq_row", kind: .row, field: nil)]
            for (i, f) in c.fields.enumerated() {
                func add(_ suffix: String, _ kind: Column.Kind) { columns.append(Column(name: f.name + suffix, kind: kind, field: i)) }
                switch f.type {
                case .string: add("", .text); add("__folded", .folded)
                case .number(let qualified):
                    add("", .double)
                    if qualified || c.qualifiers[i] != nil {
                        add("__lo", .quantityLow); add("__hi", .quantityHigh)
                        add("__lo_open", .quantityLowOpen); add("__hi_open", .quantityHighOpen)
                    }
                case .percent: add("", .double)
                case .date:
                    add("", .text); add("__lo", .dayLow); add("__hi", .dayHigh); add("__start", .dayStart); add("__end", .dayEnd)
                    add("__shape", .dateShape); add("__anchor", .dateAnchor)
                case .bool: add("", .bool)
                case .hedge: add("", .rank)
                case .ref: add("", .text); add("__row", .refRow); add("__display", .refDisplay)
                case .list, .null: add("", .json)
                }
            }
            if percentCollections?.contains(c.name) ?? (c.percentRows != nil) { columns.append(Column(name: "kbq_percent", kind: .percentFlag, field: nil)) }
            var seen: [String: Int] = [:]
            for col in columns {
                if let other = seen[col.name] {
                    let first = other == -1 ? "kbq's own column" : "field '\(c.fields[other].name)'"
                    throw SQLError("collection '\(c.name)': \(first) and field '\(col.field.map { c.fields[$0].name } ?? col.name)' both need the column '\(col.name)'; rename one to push the KB")
                }
                seen[col.name] = col.field ?? -1
            }
            tables.append(Table(name: c.name, columns: columns, collection: c))
        }
        self.tables = tables
    }

    /// How many rows `t` holds.
    public func rowCount(of t: Table) -> Int { t.collection.count }

    /// The table of collection `name`.
    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    // MARK: DDL

    /// The statements that drop the previous tables (those named in `previous`, the
    /// collections of the KB pushed before, and this KB's), then create this KB's tables and
    /// metadata. Run them in one transaction with the rows and ``indexStatements(_:)``.
    public func createStatements(_ d: SQLDialect, dropping previous: [String] = []) -> [String] {
        var out: [String] = []
        var dropped = Set<String>()
        for name in previous + tables.map(\.name) + [SQLLayout.metaTable] where dropped.insert(name).inserted {
            out.append("DROP TABLE IF EXISTS \(d.quote(name))")
        }
        for t in tables {
            let cols = t.columns.map { "\(d.quote($0.name)) \(sqlType($0.kind, d))\(collation($0.kind, d))\($0.kind == .row ? " NOT NULL" : "")" }
            out.append("CREATE TABLE \(d.quote(t.name)) (" + cols.joined(separator: ", ") + ")")
        }
        out.append("CREATE TABLE \(d.quote(SQLLayout.metaTable)) (\(d.quote("key")) \(d.textType) NOT NULL, \(d.quote("value")) \(d.textType))")
        return out
    }

    /// The metadata rows: (key, value).
    public var metadata: [(key: String, value: String)] {
        [("version", String(SQLLayout.version)), ("name", kb.name), ("schema", schemaDocument),
         ("tables", tables.map(\.name).joined(separator: "\n")), ("rows", rowsElsewhereDocument),
         ("percent", tables.filter { $0.columns.contains { $0.kind == .percentFlag } }.map(\.name).joined(separator: "\n"))]
    }

    /// The indexes the common clauses need: the row order and the key (unique), every
    /// reference (navigation, joins), hedges, the periods of dates, the measure, and string
    /// fields with repeated values (`where topic = …`, `group by source`). Built after the
    /// rows are in, which is faster than keeping them up to date row by row.
    public func indexStatements(_ d: SQLDialect) -> [String] {
        var out: [String] = []
        for t in tables {
            let c = t.collection
            func index(_ cols: [String], unique: Bool = false) {
                let name = "kbq_" + t.name + "_" + cols.joined(separator: "_")
                out.append("CREATE \(unique ? "UNIQUE " : "")INDEX \(d.quote(name)) ON \(d.quote(t.name)) (" +
                           cols.map(d.quote).joined(separator: ", ") + ")")
            }
            index(["kbq_row"], unique: true)
            for (i, f) in c.fields.enumerated() {
                let isKey = c.keyField == i
                switch f.type {
                case .ref, .hedge: index([f.name])
                // Firm date conditions are said on the start too (SQLTranslator.startBounds),
                // and `sort by date` is by (start, end): one index serves both.
                case .date: index([f.name + "__start", f.name + "__end"])
                case .string:
                    if isKey { index([f.name], unique: true) }
                    else if case .string(_, let pool) = c.columns[i], pool.count * 2 < c.count { index([f.name]) }
                case .number, .percent:
                    if c.measure == f.name { index([f.name]) }
                default: break
                }
            }
        }
        return out
    }

    private func sqlType(_ k: Column.Kind, _ d: SQLDialect) -> String {
        switch k {
        case .row, .refRow, .integer: return d == .spark ? "BIGINT" : "bigint"
        case .dayLow, .dayHigh, .dayStart, .dayEnd, .dateAnchor: return d == .spark ? "INT" : "integer"
        case .rank, .dateShape: return d == .spark ? "SMALLINT" : "smallint"
        case .text, .folded, .refDisplay, .json: return d.textType
        case .double, .quantityLow, .quantityHigh: return d.doubleType
        case .bool, .quantityLowOpen, .quantityHighOpen, .percentFlag: return d == .spark ? "BOOLEAN" : "boolean"
        }
    }

    /// Text columns compare by their bytes in PostgreSQL (`COLLATE "C"`), as kbq orders
    /// text: an index then serves `sort by id limit 10` and `where id < "e05"` as it serves
    /// `=`, with no collation of the database's to read around. (`lower` and `upper` name the
    /// database's own collation, as they did before: SQLGenerator.)
    private func collation(_ k: Column.Kind, _ d: SQLDialect) -> String {
        guard d == .postgres else { return "" }
        switch k {
        case .text, .folded, .refDisplay: return " COLLATE \"C\""
        default: return ""
        }
    }

    // MARK: The KB's schema

    /// Collections up to this many rows keep their rows in the metadata too: checking reads
    /// the names of small collections (a reference compared with "Trump" means the rows that
    /// answer to that name) and the dictionaries of their text fields (a literal that matches
    /// nothing is warned about), and a client must check as the file does.
    public static let rowsKeptForChecking = 4096

    /// A text field's dictionary is kept in the metadata up to this many strings and
    /// ``dictionaryBytesKept`` bytes (as many as checking searches for near values); past
    /// either, checking on the database warns about no literal of that field.
    public static let dictionaryStringsKept = 100_000
    /// See ``dictionaryStringsKept``.
    public static let dictionaryBytesKept = 4 << 20

    /// The KB as a KB file (docs/KB-FORMAT.md), with the rows of small collections only
    /// (``rowsKeptForChecking``): what a client loads to check queries against the database.
    /// A kept row's reference into a collection whose rows are not kept is written as null
    /// (it would dangle): checking follows references only into small collections.
    var schemaDocument: String {
        let kept = Set(kb.collections.filter { $0.count <= SQLLayout.rowsKeptForChecking }.map(\.name))
        return document { c in
            guard kept.contains(c.name) else { return [] }
            let dangling = c.fields.map { f in if case .ref(let t) = f.type { return !kept.contains(t) }; return false }
            return (0..<c.count).map { r in c.fields.indices.map { dangling[$0] ? .null : c.value(row: r, column: $0, kb: kb) } }
        }
    }

    /// What checking reads of the collections whose rows the schema document does not keep,
    /// as JSON: `{"NAME": {"count": N, "dictionaries": {"FIELD": ["a", "b", …]}}}`, the
    /// dictionaries of text fields whose strings the KB interned, within the bounds above.
    var rowsElsewhereDocument: String {
        var out: [String] = []
        for c in kb.collections where c.count > SQLLayout.rowsKeptForChecking {
            var fields: [String] = []
            for (i, f) in c.fields.enumerated() {
                guard let pool = kb.dictionary(of: c, field: i), pool.count <= SQLLayout.dictionaryStringsKept,
                      pool.byteCount <= SQLLayout.dictionaryBytesKept else { continue }
                fields.append(jsonQuote(f.name) + ": [" + (0..<pool.count).map { jsonQuote(pool[UInt32($0)]) }.joined(separator: ", ") + "]")
            }
            out.append(jsonQuote(c.name) + ": {\"count\": \(c.count), \"dictionaries\": {" + fields.joined(separator: ", ") + "}}")
        }
        return "{" + out.joined(separator: ",\n") + "}"
    }

    /// Reads ``rowsElsewhereDocument`` back, for the collections of `kb`.
    static func rowsElsewhere(_ document: String, of kb: KnowledgeBase) throws(SQLError) -> [String: RowsElsewhere] {
        let bad = SQLError("the database's KB metadata ('rows') does not read: push the KB again")
        guard let json = try? JSONParser.parse(Array(document.utf8)), case .object(let collections) = json else { throw bad }
        var out: [String: RowsElsewhere] = [:]
        for (name, entry) in collections {
            guard let c = kb.collection(name), case .object(let parts) = entry,
                  case .number(let count)? = parts.first(where: { $0.0 == "count" })?.1, count >= 0, count <= Double(Int32.max)
            else { throw bad }
            var dictionaries: [Int: StringPool] = [:]
            if case .object(let fields)? = parts.first(where: { $0.0 == "dictionaries" })?.1 {
                for (field, strings) in fields {
                    guard let fi = c.fieldIndex[field], case .array(let items) = strings else { throw bad }
                    var pool = StringPool(expectedCount: items.count)
                    for case .string(let s) in items { _ = pool.intern(s) }
                    dictionaries[fi] = pool
                }
            }
            out[name] = RowsElsewhere(count: Int(count), dictionaries: dictionaries)
        }
        return out
    }

    /// The KB as a KB file whose collections hold the rows `rows` gives (each row's values in
    /// field order): the schema document, or a KB rebuilt from rows a database gave back.
    func document(rows: (KBCollection) -> [[Value]]) -> String {
        var s = "{\"kbq\": 1, \"name\": " + jsonQuote(kb.name)
        if let t = kb.title { s += ", \"title\": " + jsonQuote(t) }
        let aliases = Dictionary(grouping: kb.hedges.aliases, by: \.value)
        s += ", \"hedges\": [" + kb.hedges.words.enumerated().map { i, w in
            guard let a = aliases[i], !a.isEmpty else { return jsonQuote(w) }
            return "{\"word\": \(jsonQuote(w)), \"aliases\": [" + a.map { jsonQuote($0.key) }.sorted().joined(separator: ", ") + "]}"
        }.joined(separator: ", ") + "]"
        s += ", \"collections\": {"
        s += tables.map { t in
            let c = t.collection
            var m = jsonQuote(c.name) + ": {"
            if let k = c.key { m += "\"key\": \(jsonQuote(k)), " }
            if let ms = c.measure { m += "\"measure\": \(jsonQuote(ms)), " }
            m += "\"fields\": {" + c.fields.map { f in
                jsonQuote(f.name) + ": " + SQLLayout.typeDocument(f)
            }.joined(separator: ", ") + "}, \"rows\": ["
            m += rows(c).map { row in
                "{" + zip(c.fields, row).map { f, v in jsonQuote(f.name) + ": " + documentValue(v, f) }.joined(separator: ", ") + "}"
            }.joined(separator: ",\n")
            return m + "]}"
        }.joined(separator: ", ")
        return s + "}}"
    }

    /// A value as a KB file writes it, so that loading the document gives it back.
    private func documentValue(_ v: Value, _ f: Field) -> String {
        switch v {
        case .null: return "null"
        case .number(let d), .percent(let d): return d.isFinite ? shortestDescription(d) : "null"
        case .quantity(let q): return q.value.isFinite ? shortestDescription(q.value) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .ref(let r): return jsonQuote(r.key)
        case .hedge(_, let w): return jsonQuote(w)
        case .list(let items): return "[" + items.map { documentValue($0, f) }.joined(separator: ", ") + "]"
        case .date(let d):
            switch d.form {
            case .point: return jsonQuote(d.description)
            case .span:
                var m = "{\"from\": " + jsonQuote(PartialDate.format(d.lo, d.precision))
                if d.hi != Int32.max { m += ", \"to\": " + jsonQuote(PartialDate.format(d.hi, d.hiPrecision, end: true)) }
                return m + "}"
            case .after, .before:
                let by = ["days", "weeks", "months", "years"][Int(d.unit.rawValue)]
                return "{\"\(d.form == .after ? "after" : "before")\": " + jsonQuote(PartialDate.format(d.anchor, .day)) + ", \"by\": \"\(by)\"}"
            }
        default: return jsonQuote(v.text)
        }
    }

    private static func typeDocument(_ f: Field) -> String {
        if f.qualifierField != nil || f.upperField != nil {
            var m = "{\"type\": \"number\""
            if let q = f.qualifierField { m += ", \"qualifier\": " + jsonQuote(q) }
            if let u = f.upperField { m += ", \"upper\": " + jsonQuote(u) }
            return m + "}"
        }
        switch f.type {
        case .ref(let target): return "{\"ref\": \(jsonQuote(target))}"
        case .list(let element?): return "{\"list\": \(jsonQuote(element.description))}"
        case .number: return "\"number\""
        default: return jsonQuote(f.type.description)
        }
    }

    // MARK: Rows

    /// `COPY table (columns) FROM STDIN`: PostgreSQL's text format, which ``copyRows(of:from:count:)``
    /// writes.
    public func copyStatement(_ t: Table) -> String {
        "COPY \(SQLDialect.postgres.quote(t.name)) (" + t.columns.map { SQLDialect.postgres.quote($0.name) }.joined(separator: ", ") + ") FROM STDIN"
    }

    /// How rows are written: PostgreSQL's COPY text format (tab-separated, `\N` for null,
    /// backslash escapes), or CSV (RFC 4180, every text quoted, `\N` for null, booleans as
    /// `true`/`false`) that DuckDB, Spark and SQLite read.
    public enum RowFormat: Sendable {
        /// `COPY … FROM STDIN` text.
        case copyText
        /// CSV with `\N` for null.
        case csv
    }

    /// Rows `start..<start+count` of `t`, so that a big collection goes out in bounded chunks.
    public func copyRows(of t: Table, from start: Int, count: Int, format: RowFormat = .copyText) -> [UInt8] {
        var out: [UInt8] = []
        let c = t.collection
        let end = min(c.count, start + max(0, count))
        guard start < end else { return out }
        out.reserveCapacity((end - start) * t.columns.count * 8)
        let separator: UInt8 = format == .csv ? 0x2C : 0x09
        for r in start..<end {
            for (j, col) in t.columns.enumerated() {
                if j > 0 { out.append(separator) }
                cell(col, row: r, c, format, &out)
            }
            out.append(0x0A)
        }
        return out
    }

    /// The CSV header of `t`: its column names.
    public func csvHeader(of t: Table) -> [UInt8] {
        Array((t.columns.map(\.name).joined(separator: ",") + "\n").utf8)
    }

    private func cell(_ col: Column, row r: Int, _ c: KBCollection, _ format: RowFormat, _ out: inout [UInt8]) {
        func null() { out.append(contentsOf: [0x5C, 0x4E]) }
        /// A number, a flag: no character that needs escaping.
        func raw(_ s: String) { out.append(contentsOf: s.utf8) }
        func text(_ s: String) {
            if format == .csv {
                out.append(0x22)
                for b in s.utf8 { if b == 0x22 { out.append(0x22) }; out.append(b) }
                out.append(0x22)
                return
            }
            for b in s.utf8 {
                switch b {
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                default: out.append(b)
                }
            }
        }
        // An open bound is an infinity, which every engine here stores and compares, so that
        // `value__lo > 5` is false (not unknown) for "under 10".
        func number(_ x: Double) {
            if x.isNaN { null() } else if x.isInfinite { raw(x > 0 ? "Infinity" : "-Infinity") } else { raw(shortestDescription(x)) }
        }
        func bool(_ b: Bool) { raw(format == .csv ? (b ? "true" : "false") : (b ? "t" : "f")) }
        switch col.kind {
        case .row: raw(String(r)); return
        case .percentFlag: bool(c.isPercentRow(r)); return
        default: break
        }
        guard let f = col.field else { null(); return }
        let v = c.value(row: r, column: f, kb: kb)
        if v.isNull { null(); return }
        switch col.kind {
        case .text:
            if case .date(let d) = v { text(d.description) } else if case .ref(let ref) = v { text(ref.key) } else { text(v.text) }
        case .folded:
            if let f = containsFolded(v.text) { text(f) } else { null() }
        case .double: v.number.map(number) ?? null()
        case .bool: if case .bool(let b) = v { bool(b) } else { null() }
        case .rank: if case .hedge(let rank, _) = v { raw(String(rank)) } else { null() }
        case .json: text(jsonText(v))
        case .quantityLow, .quantityHigh, .quantityLowOpen, .quantityHighOpen:
            guard let q = quantity(of: v) else { null(); return }
            switch col.kind {
            case .quantityLow: number(q.lo)
            case .quantityHigh: number(q.hi)
            case .quantityLowOpen: bool(q.loOpen)
            default: bool(q.hiOpen)
            }
        case .dayLow, .dayHigh, .dayStart, .dayEnd, .dateShape, .dateAnchor:
            guard case .date(let d) = v else { null(); return }
            switch col.kind {
            case .dayLow: raw(String(d.comparedFrom))
            case .dayHigh: raw(String(d.comparedTo))
            case .dayStart: raw(String(d.lo))
            case .dayEnd: raw(String(d.hi))
            case .dateShape: raw(String(d.shape))
            default: raw(String(d.anchor))
            }
        case .refRow: if case .ref(let ref) = v { raw(String(ref.row)) } else { null() }
        case .refDisplay: if case .ref(let ref) = v { text(ref.display) } else { null() }
        case .row, .percentFlag, .integer: null()
        }
    }
}

extension PartialDate {
    /// The first and last day comparisons read: the period's, except that a relative date
    /// ("days after 2024-10-13") is only known to fall after (before) its anchor, so it
    /// reaches without end the other way and comparisons that depend on that answer maybe,
    /// as Evaluate's compareDates answers.
    var comparedFrom: Int32 { form == .before ? Int32.min + 1 : lo }
    var comparedTo: Int32 { form == .after ? Int32.max : hi }

    /// Precision, end precision, form and unit in one small number (2 bits each), so that a
    /// date comes back from SQL exactly as it went in.
    var shape: Int {
        Int(precision.rawValue) | Int(hiPrecision.rawValue) << 2 | Int(form.rawValue) << 4 | Int(unit.rawValue) << 6
    }

    /// The date ``shape`` and the day range describe; nil when the shape is not one kbq writes.
    init?(lo: Int32, hi: Int32, shape: Int, anchor: Int32) {
        guard shape >= 0, shape < 256,
              let p = Precision(rawValue: UInt8(shape & 3)), let hp = Precision(rawValue: UInt8(shape >> 2 & 3)),
              let form = Form(rawValue: UInt8(shape >> 4 & 3)), let unit = Unit(rawValue: UInt8(shape >> 6 & 3))
        else { return nil }
        self.init(year: 1970)
        self.lo = lo; self.hi = hi; self.precision = p; self.hiPrecision = hp
        self.form = form; self.unit = unit; self.anchor = anchor
    }
}

/// A problem the SQL backend found: a KB it cannot lay out, a query it cannot translate, a
/// row it cannot read back.
public struct SQLError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in a sentence.
    public let message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// A value as JSON for a list column: lists, strings, numbers, bools and null as JSON's own;
/// anything else as the text it is shown by.
func jsonText(_ v: Value) -> String {
    switch v {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let d) where d.isFinite: return shortestDescription(d)
    case .list(let l): return "[" + l.map(jsonText).joined(separator: ", ") + "]"
    default: return jsonQuote(v.text)
    }
}
