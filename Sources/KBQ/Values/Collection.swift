/// The stored values of one field, one entry per row, unboxed.
enum ColumnData: Sendable {
    /// Interned strings; `StringPool.null` is null.
    case string(ids: StringIDs, pool: StringPool)
    /// Numbers; NaN is null (JSON and CSV input cannot produce NaN).
    case number(Stored<Double>)
    /// Dates; `lo == Int32.min` is null.
    case date(Stored<PartialDate>)
    /// 0 false, 1 true, 2 null.
    case bool(Stored<UInt8>)
    /// Hedge ranks; 255 is null.
    case hedge(Stored<UInt8>)
    /// Row indexes into the referenced collection; -1 is null.
    case ref(Stored<Int32>)
    /// Lists (rare: aliases and the like), boxed.
    case list([[Value]?])

    static let nullDate = PartialDate(nullMarker: ())
}

extension PartialDate {
    init(nullMarker: ()) {
        self.init(year: 1970)
        lo = Int32.min
        hi = Int32.min
    }
    var isNullMarker: Bool { lo == Int32.min }
}

/// One collection of a knowledge base: its schema and its rows, stored by column.
public final class KBCollection: Sendable {
    /// The collection's name.
    public let name: String
    /// The declared fields, in order.
    public let fields: [Field]
    /// The key field's name, if the collection has one.
    public let key: String?
    /// The default measure for `compare` and charts.
    public let measure: String?
    /// The number of rows.
    public let count: Int
    let columns: Columns
    let fieldIndex: [String: Int]
    /// Index of the field a reference to this collection is shown by.
    let displayField: Int?
    let keyField: Int?
    /// For qualified numbers, by field index: (qualifier field, upper field); nil for other
    /// fields. An array, not a dictionary keyed by Int: the first dictionary with Int keys
    /// makes the Swift runtime search every protocol conformance in the binary (for
    /// `Int: Hashable`), about 0.25 million instructions of kbq's start-up.
    let qualifiers: [(Int?, Int?)?]
    let hedges: HedgeScale
    /// Per row, whether the row's `unit` field is `percent` or `%` (exactly, as REFERENCE's
    /// "Order, nulls and percents" says): its numbers are percents and print as 76.6%.
    let percentRows: PercentRows?
    /// The indexes a compiled file stores (Compiled/CompiledIndexes.swift); nil for a KB
    /// loaded otherwise.
    let indexes: CollectionIndexes?

    convenience init(name: String, fields: [Field], columns: [ColumnData], count: Int, key: String?, measure: String?, hedges: HedgeScale) {
        self.init(name: name, fields: fields, columns: Columns(columns), count: count, key: key, measure: measure, hedges: hedges)
    }

    init(name: String, fields: [Field], columns: Columns, count: Int, key: String?, measure: String?, hedges: HedgeScale,
         indexes: CollectionIndexes? = nil) {
        self.indexes = indexes
        self.name = name
        self.fields = fields
        self.columns = columns
        self.count = count
        self.key = key
        self.measure = measure
        self.hedges = hedges
        var index: [String: Int] = [:]
        for (i, f) in fields.enumerated() { index[f.name] = i }
        fieldIndex = index
        keyField = key.flatMap { index[$0] }
        // A loop, not a lazy compactMap: each lazy wrapper type is one more generic type the
        // runtime builds at start-up.
        var display: Int?
        for n in ["name", "title"] where display == nil {
            if let i = index[n], fields[i].type == .string { display = i }
        }
        displayField = display ?? key.flatMap { index[$0] }
        var q = [(Int?, Int?)?](repeating: nil, count: fields.count)
        for (i, f) in fields.enumerated() where f.qualifierField != nil || f.upperField != nil {
            q[i] = (f.qualifierField.flatMap { index[$0] }, f.upperField.flatMap { index[$0] })
        }
        qualifiers = q
        // Read a row at a time (PercentRows checks each id): opening the collection reads no
        // column whole.
        if let u = index["unit"], case .string(let ids, let pool) = columns[forRows: u],
           !pool.isDistinct || pool.lookup("percent") != nil || pool.lookup("%") != nil {
            // Per unit string, not per row: opening a million-row collection reads its pool,
            // not its million ids. Equal strings may have different ids: all are marked. (A
            // distinct pool without either string makes no marks: the article KB's start-up
            // makes no array of Bool.)
            let marks = pool.marks(equalToAny: ["percent", "%"])
            percentRows = marks.contains(true) ? PercentRows(ids: ids, marks: marks) : nil
        } else {
            percentRows = nil
        }
    }

    func isPercentRow(_ r: Int) -> Bool { percentRows?[r] ?? false }

    /// The field named `name`, if there is one.
    public func field(_ name: String) -> Field? {
        fieldIndex[name].map { fields[$0] }
    }

    /// The value of field `fieldName` in row `row`, or `nil` if there is no such field or row.
    public func value(row: Int, field fieldName: String, in kb: KnowledgeBase) -> Value? {
        guard let f = fieldIndex[fieldName], row >= 0, row < count else { return nil }
        return value(row: row, column: f, kb: kb)
    }

    /// Reads the column as single rows are read (``Columns/subscript(forRows:)``): each value is
    /// checked as it is read, and one out of bounds (a compiled file's damage) reads as null
    /// and has the column checked whole, which records the damage for the statement to report.
    func value(row: Int, column f: Int, kb: KnowledgeBase) -> Value {
        switch columns[forRows: f] {
        case .string(let ids, let pool):
            let id = ids[row]
            if id == StringPool.null { return .null }
            guard Int(id) < pool.count else { return damaged(f) }
            return .string(pool[id])
        case .number(let v):
            let x = v[row]
            if x.isNaN { return .null }
            if fields[f].type == .percent { return .percent(x) }
            if let (qf, uf) = qualifiers[f] {
                let q = quantity(row: row, value: x, qualifierField: qf, upperField: uf)
                // An exact quantity is its number, so `5`, `exactly 5` and `about 0`-style
                // points compare, group and print alike (a percent stays a percent).
                return Value(exactOrInterval: q)
            }
            return isPercentRow(row) ? .percent(x) : .number(x)
        case .date(let d):
            guard let x = d.checked(row) else { return damaged(f) }
            return x.isNullMarker ? .null : .date(x)
        case .bool(let b):
            let x = b[row]
            if x > 2 { return damaged(f) }
            return x == 2 ? .null : .bool(x == 1)
        case .hedge(let h):
            let r = Int(h[row])
            if r == 255 { return .null }
            return r < hedges.words.count ? .hedge(rank: r, word: hedges.words[r]) : damaged(f)
        case .ref(let r):
            let target = r[row]
            guard target >= 0, case .ref(let cname) = fields[f].type, let c = kb.collection(cname) else { return target < -1 ? damaged(f) : .null }
            guard Int(target) < c.count else { return damaged(f) }
            return .ref(c.rowRef(Int(target), kb: kb))
        case .list(let l):
            return l[row].map { .list($0) } ?? .null
        }
    }

    /// A value of column `f` found out of bounds as a row was read (only a compiled file's
    /// can be): the column is checked whole, which records the damage, and the value reads
    /// as null meanwhile.
    @inline(never)
    func damaged(_ f: Int) -> Value {
        _ = columns[f]
        return .null
    }

    func quantity(row: Int, value x: Double, qualifierField qf: Int?, upperField uf: Int?) -> Quantity {
        var word: String?
        if let qf, case .string(let ids, let pool) = columns[forRows: qf], ids[row] != StringPool.null {
            if Int(ids[row]) < pool.count { word = pool[ids[row]] } else { _ = damaged(qf) }
        }
        var upper: Double?
        if let uf, case .number(let u) = columns[forRows: uf], !u[row].isNaN { upper = u[row] }
        let percent = isPercentRow(row)
        return Quantity(x, qualifier: word, upper: upper, percent: percent) ?? Quantity(exactly: x, percent: percent)
    }

    /// A reference to row `row`, carrying its key and display text.
    func rowRef(_ row: Int, kb: KnowledgeBase) -> RowRef {
        let key = keyField.map { value(row: row, column: $0, kb: kb).text } ?? String(row + 1)
        let display = displayField.map { value(row: row, column: $0, kb: kb).text } ?? key
        return RowRef(collection: name, key: key, display: display, row: row)
    }

    /// The row whose key is `key`.
    func row(forKey key: String) -> Int? {
        // Ids are compared, never used as indexes: the column need not be checked whole.
        guard let k = keyField, case .string(let ids, let pool) = columns[forRows: k], let id = pool.lookup(key) else { return nil }
        // Keys are unique, so the key pool interned them in row order: id == row.
        if Int(id) < ids.count, ids[Int(id)] == id { return Int(id) }
        return ids.firstIndex(of: id)
    }
}

/// Which rows of a collection have a percent unit: the unit column's ids, and per id whether
/// its string is `percent` or `%`.
struct PercentRows: Sendable {
    let ids: StringIDs
    let marks: [Bool]

    /// Whether row `r`'s unit is a percent; an id past the pool (a compiled file's damage,
    /// read unchecked) is not.
    @inline(__always)
    subscript(r: Int) -> Bool {
        let id = Int(ids[r])
        return id < marks.count && marks[id]
    }
}

/// A knowledge base: typed collections of sourced facts. Immutable once loaded, and safe to
/// share across threads.
public final class KnowledgeBase: Sendable {
    /// A short name (`article` for the built-in KB).
    public let name: String
    /// A human title, if the KB gives one.
    public let title: String?
    /// The collections, in the order the KB declares them.
    public var collections: [KBCollection] { lazy?.all ?? loaded }
    /// The ordered hedge words.
    public let hedges: HedgeScale
    let byName: [String: Int]
    private let loaded: [KBCollection]
    /// The collections of a compiled KB, each made ready on first use; nil when they are all
    /// in `loaded`.
    private let lazy: LazyCollections?
    /// Where parts of a compiled file found damaged when first read are recorded (its columns
    /// are checked when first read, not when the file is opened): one log per compiled file
    /// this KB's collections come from, none for other KBs.
    let damage: [DamageLog]
    /// For a KB whose rows live in a database (`kbq --db`): what checking reads of the
    /// collections whose rows this KB does not hold, by name. Empty for every other KB.
    let rowsElsewhere: [String: RowsElsewhere]

    init(name: String, title: String?, collections: [KBCollection], hedges: HedgeScale, damage: [DamageLog] = [],
         rowsElsewhere: [String: RowsElsewhere] = [:]) {
        self.name = name
        self.title = title
        self.loaded = collections
        self.lazy = nil
        self.hedges = hedges
        self.damage = damage
        self.rowsElsewhere = rowsElsewhere
        var m: [String: Int] = [:]
        for (i, c) in collections.enumerated() { m[c.name] = i }
        byName = m
    }

    /// A KB whose collections, named `names` in order, are made when first asked for.
    init(name: String, title: String?, names: [String], collections: LazyCollections, hedges: HedgeScale, damage: [DamageLog] = []) {
        self.name = name
        self.title = title
        self.loaded = []
        self.lazy = collections
        self.hedges = hedges
        self.damage = damage
        self.rowsElsewhere = [:]
        var m: [String: Int] = [:]
        for (i, n) in names.enumerated() { m[n] = i }
        byName = m
    }

    /// The collection named `name`.
    public func collection(_ name: String) -> KBCollection? {
        guard let i = byName[name] else { return nil }
        return lazy?[i] ?? loaded[i]
    }
}

/// What checking reads of a collection whose rows are elsewhere (in a database, for
/// `kbq --db`): how many rows it has, which decides whether a reference to it is matched by
/// name at check time, and the dictionaries of its text fields, against which a literal
/// that matches nothing is warned about.
struct RowsElsewhere: Sendable {
    /// How many rows the collection has.
    var count: Int
    /// By field index: the distinct strings of a text field, when they are known (a field
    /// whose strings are not interned, or are too many to keep, has none).
    var dictionaries: [Int: StringPool]
}

extension KnowledgeBase {
    /// This KB, for checking, with what is known of the collections whose rows it does not
    /// hold (their rows are in a database).
    func with(rowsElsewhere: [String: RowsElsewhere]) -> KnowledgeBase {
        KnowledgeBase(name: name, title: title, collections: collections, hedges: hedges, damage: damage, rowsElsewhere: rowsElsewhere)
    }

    /// How many rows `c` has, here or in the database that holds its rows.
    public func rowCount(of c: KBCollection) -> Int { rowsElsewhere[c.name]?.count ?? c.count }

    /// The distinct strings of `field` of `c`, sorted, at most `limit` of them, for completion
    /// menus: from the rows when this KB holds them, else from the dictionary kept for
    /// checking (a KB pushed into a database keeps the strings of its text fields, within
    /// ``SQLLayout``'s bounds, beside the rows): no row is read from the database for them.
    func distinctStrings(of c: KBCollection, field: String, limit: Int) -> [String] {
        if rowsElsewhere[c.name] != nil, let i = c.fieldIndex[field], let pool = dictionary(of: c, field: i) {
            return (0..<min(pool.count, limit)).map { pool[UInt32($0)] }.sorted()
        }
        return c.distinctStrings(of: field, limit: limit)
    }

    /// The distinct strings of text field `field` of `c`, when they are known: nil for a
    /// field whose strings are not interned (equal strings may have several ids), or whose
    /// rows are in a database that did not keep them.
    func dictionary(of c: KBCollection, field: Int) -> StringPool? {
        if let elsewhere = rowsElsewhere[c.name] { return elsewhere.dictionaries[field] }
        guard field >= 0, field < c.fields.count, case .string(_, let pool) = c.columns[forRows: field], pool.isDistinct else { return nil }
        return pool
    }
}

extension KBCollection {
    /// The distinct values of a string field (or the display texts of a reference field, or
    /// the items of a list field), sorted, at most `limit` of them: for completion menus.
    public func distinctStrings(of field: String, limit: Int = 1000) -> [String] {
        guard let f = fieldIndex[field] else { return [] }
        var seen = Set<String>()
        switch columns[f] {
        case .string(_, let pool):
            for id in 0..<min(pool.count, limit) { seen.insert(pool[UInt32(id)]) }
        case .list(let l):
            for case let items? in l { for v in items where seen.count < limit { seen.insert(v.text) } }
        case .ref(let rows):
            guard case .ref(let target) = fields[f].type else { return [] }
            _ = target
            var done = Set<Int32>()
            for r in rows where r >= 0 && done.insert(r).inserted && seen.count < limit {
                if let c = refTarget(f) { seen.insert(c.rowDisplay(Int(r))) }
            }
        case .hedge:
            seen = Set(hedges.words)
        default:
            return []
        }
        return seen.sorted()
    }

    func refTarget(_ f: Int) -> KBCollection? { nil }

    func rowDisplay(_ r: Int) -> String {
        guard let d = displayField, case .string(let ids, let pool) = columns[forRows: d], ids[r] != StringPool.null else { return String(r + 1) }
        return Int(ids[r]) < pool.count ? pool[ids[r]] : damaged(d).text
    }
}
