import Synchronization

/// A column of a result: its name and type.
public struct ResultColumn: Sendable, Hashable, Codable {
    /// The column's name.
    public var name: String
    /// Its type, as the checker knows it.
    public var type: FieldType

    /// Makes a column.
    public init(name: String, type: FieldType) {
        self.name = name
        self.type = type
    }

    enum CodingKeys: String, CodingKey { case name, type }
    /// Encodes the type by its name (`"string"`, `"ref<sources>"` …).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(type.description, forKey: .type)
    }

    /// Decodes what ``encode(to:)`` writes: the type by its name.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let typeName = try c.decode(String.self, forKey: .type)
        guard let t = FieldType(name: typeName) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown type '\(typeName)'")
        }
        type = t
    }
}

extension FieldType {
    /// Reads a type by the name ``description`` gives it (`"string"`, `"quantity"`,
    /// `"list<ref<sentences>>"` …).
    init?(name: some StringProtocol) {
        switch name {
        case "string": self = .string
        case "number": self = .number()
        case "quantity": self = .number(qualified: true)
        case "percent": self = .percent
        case "date": self = .date
        case "bool": self = .bool
        case "hedge": self = .hedge
        case "list": self = .list(nil)
        case "null": self = .null
        default:
            guard name.hasSuffix(">") else { return nil }
            if name.hasPrefix("ref<") {
                self = .ref(String(name.dropFirst(4).dropLast()))
            } else if name.hasPrefix("list<"), let element = FieldType(name: name.dropFirst(5).dropLast()) {
                self = .list(element)
            } else {
                return nil
            }
        }
    }
}

/// A labelled figure under a table: `spread 3,500`.
public struct SummaryItem: Sendable, Hashable, Codable {
    /// What the figure is.
    public var label: String
    /// The figure.
    public var value: Value
}

/// `compare`'s figures for one block: how many groups gave values, and the lowest and
/// highest of them.
struct CompareFigures: Sendable {
    let groupLabel: String
    let groups: Int
    let low: Quantity?
    let high: Quantity?

    /// groups, min, max, spread, ratio and relative spread, labelled.
    var items: [SummaryItem] {
        var items = [SummaryItem(label: groupLabel, value: .number(Double(groups)))]
        guard let lo = low, let hi = high else { return items }
        let spread = hi.value - lo.value
        items.append(SummaryItem(label: "min", value: .quantity(lo)))
        items.append(SummaryItem(label: "max", value: .quantity(hi)))
        items.append(SummaryItem(label: "spread", value: lo.isPercent ? .percent(spread) : .number(spread)))
        items.append(SummaryItem(label: "ratio", value: lo.value > 0 ? .number((hi.value / lo.value * 100).rounded() / 100) : .null))
        items.append(SummaryItem(label: "relative spread", value: relativeSpread(lo.value, hi.value).map { .percent($0.rounded()) } ?? .null))
        return items
    }
}

/// A block of figures about the whole result (one per unit for `compare`).
public struct Summary: Sendable, Hashable, Codable {
    /// What the block is about (a unit, a topic), if more than one block.
    public var title: String?
    /// The figures, in order.
    public var items: [SummaryItem] {
        get { storedItems ?? figures?.items ?? [] }
        set { storedItems = newValue; figures = nil }
    }
    private var storedItems: [SummaryItem]?
    /// `compare`'s figures as numbers; the labelled items are made when someone reads them,
    /// so a run whose result is only counted or compared builds no array of them.
    private var figures: CompareFigures?
    /// A sentence that reads the figures ("conflict: the values do not overlap").
    public var verdict: String? {
        get { reading?.text }
        set { reading = newValue.map(Verdict.text) }
    }
    /// The verdict as values; its sentence is written only when someone reads it, so a
    /// prepared query run many times does not format numbers nobody shows.
    var reading: Verdict?

    /// Makes a block of figures.
    public init(title: String?, items: [SummaryItem], verdict: String?) {
        self.title = title
        self.storedItems = items
        self.reading = verdict.map(Verdict.text)
    }

    init(title: String?, items: [SummaryItem], verdict: Verdict) {
        self.title = title
        self.storedItems = items
        self.reading = verdict
    }

    init(title: String?, figures: CompareFigures, verdict: Verdict) {
        self.title = title
        self.figures = figures
        self.reading = verdict
    }

    /// The figure labelled `label`.
    public subscript(label: String) -> Value? { items.first { $0.label == label }?.value }

    enum Verdict: Sendable {
        case text(String)
        /// Two groups whose intervals cannot overlap: keys and values. Boxed, so that a
        /// summary is copied with one retain rather than four values' copies.
        indirect case conflict(Value, Value, Value, Value)
        /// One group only, with several values spanning `span`.
        indirect case oneGroup(groupLabel: String, key: Value, count: Int, span: Value)

        var text: String {
            switch self {
            case .text(let s): return s
            case .conflict(let ka, let va, let kb, let vb):
                return "conflict: \(ka.text) (\(va.text)) and \(kb.text) (\(vb.text)) cannot both be right"
            case .oneGroup(let label, let key, let count, let span):
                return "one \(label.dropLast()) only (\(key.text)): its \(count) values span \(span.text)"
            }
        }
    }

    enum CodingKeys: String, CodingKey { case title, items, verdict }

    /// Decodes what ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        storedItems = try c.decode([SummaryItem].self, forKey: .items)
        reading = try c.decodeIfPresent(String.self, forKey: .verdict).map(Verdict.text)
    }

    /// Encodes the title, the figures and the verdict's sentence.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(title, forKey: .title)
        try c.encode(items, forKey: .items)
        try c.encodeIfPresent(verdict, forKey: .verdict)
    }

    /// Summaries are equal when they read the same: same title, figures and verdict text.
    public static func == (a: Summary, b: Summary) -> Bool {
        a.title == b.title && a.items == b.items && a.verdict == b.verdict
    }

    /// Hashes what `==` compares.
    public func hash(into h: inout Hasher) {
        h.combine(title)
        h.combine(items)
        h.combine(verdict)
    }
}

/// A small picture drawn under a table where it reads better than numbers.
public enum Chart: Sendable, Hashable, Codable {
    /// Horizontal bars: one per label, scaled to the largest value.
    case bars([Bar])
    /// Dated marks along a line, oldest first.
    case timeline([Mark])

    enum CodingKeys: String, CodingKey { case bars, timeline }

    /// Encodes as `{"bars": [...]}` or `{"timeline": [...]}`. (The form Swift derives would
    /// put the list under a `_0` key, a detail of Swift, not of the chart.)
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .bars(let bars): try c.encode(bars, forKey: .bars)
        case .timeline(let marks): try c.encode(marks, forKey: .timeline)
        }
    }

    /// Decodes what ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let bars = try c.decodeIfPresent([Bar].self, forKey: .bars) {
            self = .bars(bars)
        } else {
            self = .timeline(try c.decode([Mark].self, forKey: .timeline))
        }
    }

    /// One bar.
    public struct Bar: Sendable, Hashable, Codable {
        /// The bar's label.
        public var label: String
        /// The length it stands for.
        public var value: Double
        /// The value as shown (keeps qualifiers: "over 16,500").
        public var text: String {
            get { shown.text }
            set { shown = .string(newValue) }
        }
        /// The value behind ``text``, formatted only when the bar is drawn.
        var shown: Value

        /// Makes a bar.
        public init(label: String, value: Double, text: String) {
            self.label = label
            self.value = value
            self.shown = .string(text)
        }

        init(label: String, value: Double, shown: Value) {
            self.label = label
            self.value = value
            self.shown = shown
        }

        enum CodingKeys: String, CodingKey { case label, value, text }

        /// Decodes what ``encode(to:)`` writes.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            label = try c.decode(String.self, forKey: .label)
            value = try c.decode(Double.self, forKey: .value)
            shown = .string(try c.decode(String.self, forKey: .text))
        }

        /// Encodes the label, the length and the text shown.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(label, forKey: .label)
            try c.encode(value, forKey: .value)
            try c.encode(text, forKey: .text)
        }

        /// Bars are equal when they are drawn the same.
        public static func == (a: Bar, b: Bar) -> Bool { a.label == b.label && a.value == b.value && a.text == b.text }

        /// Hashes what `==` compares.
        public func hash(into h: inout Hasher) {
            h.combine(label)
            h.combine(value)
            h.combine(text)
        }
    }

    /// One dated mark.
    public struct Mark: Sendable, Hashable, Codable {
        /// When.
        public var date: PartialDate
        /// What.
        public var label: String
    }
}

/// The result of a query: typed columns and rows, plus what the clauses add around them
/// (a title, notes, summary figures, a chart).
public struct ResultTable: Sendable, Hashable, Codable {
    /// The columns, in order.
    public var columns: [ResultColumn]
    /// The rows; each has one value per column.
    ///
    /// A result of stored rows keeps its text where the KB holds it (``ColumnarRows``) and
    /// makes these values the first time they are read; rendering a result reads the text
    /// without making them.
    public var rows: [[Value]] {
        get { columnar?.rows ?? madeRows }
        set {
            madeRows = newValue
            columnar = nil
        }
    }
    private var madeRows: [[Value]]
    /// The rows by column, when they are stored rows gathered from their columns (see ``rows``).
    private(set) var columnar: ColumnarRows?
    /// A heading (`describe` names the entity here).
    public var title: String?
    /// Remarks about the result: rows in other units kept apart, a limit reached …
    public var notes: [String]
    /// Figures about the whole result (`compare`'s min, max, spread …).
    public var summaries: [Summary]
    /// A chart, for `compare`, `timeline` and `chart`.
    public var chart: Chart?
    /// The collection whose stored rows the result's rows still are, one to one (through
    /// `where`, `sort`, `limit`, `select`, `cite`), or nil when the rows were made anew
    /// (`group`, `compare`, `describe` …). See ``originRow(_:)``.
    public internal(set) var originCollection: String?
    /// Kept as the evaluator keeps it: moved into the result, not converted per run.
    var originRows: [Int32]?

    /// The position, in ``originCollection``, of the stored row that result row `i` is
    /// (nil when the result has no origin or `i` is out of range): what a host needs to
    /// cite each row with its sentence, source and hedge.
    public func originRow(_ i: Int) -> Int? {
        guard let rows = originRows, i >= 0, i < rows.count else { return nil }
        return Int(rows[i])
    }

    // The origin is not part of a result's JSON: it is a position in one loaded KB.
    enum CodingKeys: String, CodingKey { case columns, rows, title, notes, summaries, chart }

    /// Makes a result.
    public init(columns: [ResultColumn], rows: [[Value]], title: String? = nil, notes: [String] = [],
                summaries: [Summary] = [], chart: Chart? = nil) {
        self.columns = columns
        self.madeRows = rows
        self.title = title
        self.notes = notes
        self.summaries = summaries
        self.chart = chart
    }

    /// A result whose rows are kept by column.
    init(columns: [ResultColumn], columnar: ColumnarRows) {
        self.init(columns: columns, rows: [])
        self.columnar = columnar
    }

    /// How many rows there are, without making them.
    public var rowCount: Int { columnar?.count ?? madeRows.count }

    /// The value in row `row`, column `column`, without making the other rows' values (both
    /// must be in range).
    public func value(row: Int, column: Int) -> Value {
        if let columnar { return columnar.value(row, column) }
        return madeRows[row][column]
    }

    /// Keeps the first `n` rows (all when there are fewer), as they are kept: a result kept by
    /// column is cut without making its rows (a shell showing the first of many).
    package mutating func keepFirstRows(_ n: Int) {
        guard n >= 0, n < rowCount else { return }
        if let columnar {
            self.columnar = columnar.prefix(n)
        } else {
            madeRows.removeLast(madeRows.count - n)
        }
        if let o = originRows, o.count > n { originRows = Array(o.prefix(n)) }
    }

    /// The index of the column named `name`.
    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// The values of the column named `name`.
    public func column(_ name: String) -> [Value]? {
        columnIndex(name).map { i in (0..<rowCount).map { value(row: $0, column: i) } }
    }

    /// Decodes what ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(columns: try c.decode([ResultColumn].self, forKey: .columns), rows: try c.decode([[Value]].self, forKey: .rows),
                  title: try c.decodeIfPresent(String.self, forKey: .title), notes: try c.decode([String].self, forKey: .notes),
                  summaries: try c.decode([Summary].self, forKey: .summaries), chart: try c.decodeIfPresent(Chart.self, forKey: .chart))
    }

    /// Encodes the columns, rows, title, notes, summaries and chart (not the origin: a
    /// position in one loaded KB).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(columns, forKey: .columns)
        try c.encode(rows, forKey: .rows)
        try c.encodeIfPresent(title, forKey: .title)
        try c.encode(notes, forKey: .notes)
        try c.encode(summaries, forKey: .summaries)
        try c.encodeIfPresent(chart, forKey: .chart)
    }

    /// Results are equal when they hold the same columns, values, decorations and origin,
    /// however their rows are kept.
    public static func == (a: ResultTable, b: ResultTable) -> Bool {
        a.columns == b.columns && a.title == b.title && a.notes == b.notes && a.summaries == b.summaries && a.chart == b.chart
            && a.originCollection == b.originCollection && a.originRows == b.originRows && a.rows == b.rows
    }

    /// Hashes what `==` compares.
    public func hash(into h: inout Hasher) {
        h.combine(columns)
        h.combine(rows)
        h.combine(title)
        h.combine(notes)
        h.combine(summaries)
        h.combine(chart)
        h.combine(originCollection)
        h.combine(originRows)
    }
}

/// A result's rows kept by column, as the evaluator gathered them from stored rows: text as
/// ids into the string pool that holds it (checked as they were gathered), other values as
/// values. A renderer reads the text's bytes where they lie; ``rows`` makes the values, once,
/// for whoever asks for them.
final class ColumnarRows: Sendable {
    /// One column's cells.
    enum Cells: Sendable {
        /// Strings by id (``StringPool/null`` for null, ``ColumnarRows/unreadable`` for one
        /// found out of bounds in a damaged file, which reads as empty text).
        case text(ids: [UInt32], pool: StringPool)
        /// Strings copied out of the KB file (a few rows scattered over a large column):
        /// `ids` as for ``text(ids:pool:)``, and each row's bytes ending at `ends[row]`.
        case copied(ids: [UInt32], bytes: [UInt8], ends: [Int])
        case values([Value])
    }

    /// A string whose bytes a damaged compiled file puts out of bounds: shown empty, as
    /// reading it as a value does; the damage was recorded when it was gathered.
    static let unreadable: UInt32 = StringPool.null &- 1

    let count: Int
    let columns: [Cells]
    private let made = Mutex<[[Value]]?>(nil)

    init(count: Int, columns: [Cells]) {
        self.count = count
        self.columns = columns
    }

    /// The first `n` rows (at most ``count``).
    func prefix(_ n: Int) -> ColumnarRows {
        ColumnarRows(count: n, columns: columns.map { cells in
            switch cells {
            case .text(let ids, let pool): return .text(ids: Array(ids.prefix(n)), pool: pool)
            case .copied(let ids, let bytes, let ends): return .copied(ids: Array(ids.prefix(n)), bytes: bytes, ends: Array(ends.prefix(n)))
            case .values(let v): return .values(Array(v.prefix(n)))
            }
        })
    }

    /// The rows as values, made the first time they are asked for.
    var rows: [[Value]] {
        made.withLock { made in
            if let made { return made }
            let rows = (0..<count).map { r in (0..<columns.count).map { value(r, $0) } }
            made = rows
            return rows
        }
    }

    func value(_ row: Int, _ column: Int) -> Value {
        switch columns[column] {
        case .values(let v): return v[row]
        case .text(let ids, let pool):
            let id = ids[row]
            if id == StringPool.null { return .null }
            if id == ColumnarRows.unreadable { return .string("") }
            return .string(pool[id])
        case .copied(let ids, _, _):
            if ids[row] == StringPool.null { return .null }
            return .string(withText(row, column) { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// Calls `body` with the bytes of the text in row `row` of column `column` (empty for a
    /// null, or a column that is not text).
    func withText<R>(_ row: Int, _ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch columns[column] {
        case .text(let ids, let pool) where ids[row] < ColumnarRows.unreadable: return pool.withBytes(ids[row], body)
        case .copied(_, let bytes, let ends):
            let start = row == 0 ? 0 : ends[row - 1]
            return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<ends[row]])) }
        default: return body(UnsafeBufferPointer(start: nil, count: 0))
        }
    }

    /// Whether row `row` of column `column` is text kept here, not null (see ``withText``).
    func holdsText(_ row: Int, _ column: Int) -> Bool {
        switch columns[column] {
        case .text(let ids, _), .copied(let ids, _, _): return ids[row] < ColumnarRows.unreadable
        case .values: return false
        }
    }
}
