// Checked query → relational plan. Reads the checker's typed IR (CheckedQuery) and the
// KB's table layout (SQLLayout); writes no SQL text itself (SQLGenerator does, per dialect).
//
// kbq's semantics travel as SQL over the layout's columns:
//   - a condition is two SQL predicates, `yes` (certainly true) and `possible` (true or
//     maybe): `where` keeps `yes`, `where maybe` keeps `possible`; NULL is kbq's unknown.
//     An interval is compared by its bounds and open flags, a partial date by its day range,
//     a hedge by its rank, a reference by its key or display text.
//   - rows keep the order kbq gives them: `sort by` is stable (ties in row order, then the
//     earlier sort), strings sort by their bytes, NULLs last both ways.
//   - a clause that cannot extend the current SELECT (a filter or sort after a limit) wraps
//     it as a subquery that keeps its order as a row number.

/// A bind parameter of a statement: which kbq parameter, and which part of its value.
struct SQLParameterUse: Sendable, Hashable {
    /// `folded`: a text as `contains` compares it (``containsFolded(_:)``).
    enum Part: Sendable, Hashable { case value, folded, dayLow, dayHigh, dateShape, dateAnchor, rank, rowCount }
    var name: String
    var part: Part
}

/// The translation of one query.
struct SQLTranslator {
    let layout: SQLLayout
    let kb: KnowledgeBase
    /// The type the checker found each `$name` takes (from what it is compared with).
    let parameterTypes: [String: FieldType]
    private var aliases = 0

    init(layout: SQLLayout, parameterTypes: [String: FieldType] = [:]) {
        self.layout = layout
        self.kb = layout.kb
        self.parameterTypes = parameterTypes
    }

    /// A SELECT being built, with the columns of kbq's rows as SQL expressions over it.
    struct Frame: Sendable {
        var select: RelationalSelect
        var columns: [SQLColumnValue]
        var names: [String]
        /// Orders the rows as kbq has them (a stored row's position, or a wrapped subquery's
        /// row number); the final tie-break of every sort. Nil after `group by`, whose rows
        /// are ordered by their keys.
        var row: SQLExpr?
        /// The sort keys so far, newest first.
        var order: [SQLOrder] = []
        var limited = false
        /// The SELECT groups: a filter on its rows must wrap it first.
        var grouped = false
        /// Joins made, by what they join on and into which collection, so that
        /// `source.name` and `source.kind` share one.
        var joins: [String: String] = [:]
    }

    private mutating func alias(_ prefix: String) -> String {
        aliases += 1
        return "\(prefix)\(aliases)"
    }

    private func unsupported(_ what: String, _ range: SourceRange) -> Diagnostic {
        Diagnostic(.unsupportedOnEngine, "\(what) does not run in SQL yet", at: range,
                   notes: ["run it on the KB file instead (kbq --kb FILE), or see docs/ENGINES.md for what runs where"])
    }

    // MARK: Queries

    /// The frame of a query; `lets` are the frames of earlier `let` statements.
    mutating func frame(_ q: CheckedQuery, lets: [String: Frame]) throws(Diagnostic) -> Frame {
        var f: Frame
        switch q.source.kind {
        case .collection(let name):
            f = try stored(name, q.source.range)
        case .letName(let name):
            guard let bound = lets[name] else { throw unsupported("'\(name)'", q.source.range) }
            f = bound
        case .describe: throw unsupported("describe", q.source.range)
        case .search: throw unsupported("search", q.source.range)
        case .conflicts: throw unsupported("conflicts", q.source.range)
        case .union: throw unsupported("several collections in one query", q.source.range)
        }
        for c in q.clauses { f = try apply(c, to: f) }
        return f
    }

    /// Every field of collection `name` in KB order, filtered by as many of the leading
    /// `where` clauses of `clauses` as translate, at most `limit` rows: what kbq reads from
    /// the database to finish a statement SQL does not express whole.
    mutating func fetch(_ name: String, filteredBy clauses: [CheckedClause], limit: Int, at range: SourceRange) throws(Diagnostic) -> Frame {
        var f = try stored(name, range)
        for c in clauses {
            guard case .filter = c.kind else { break }
            // A filter that does not translate is left to kbq, with all that follows it.
            do { f = try apply(c, to: f) } catch { break }
        }
        f.select.limit = .integer(limit)
        f.limited = true
        return f
    }

    private mutating func stored(_ name: String, _ range: SourceRange) throws(Diagnostic) -> Frame {
        guard layout.table(name) != nil else { throw unsupported("collection '\(name)'", range) }
        let a = alias("t")
        let cols = try storedColumns(name, alias: a, range)
        return Frame(select: RelationalSelect(from: .table(name), alias: a), columns: cols.map(\.1),
                     names: cols.map(\.0), row: .column(table: a, name: "kbq_row"))
    }

    /// Every field of collection `name` read from the table aliased `a`.
    private func storedColumns(_ name: String, alias a: String, _ range: SourceRange) throws(Diagnostic) -> [(String, SQLColumnValue)] {
        guard let t = layout.table(name) else { throw unsupported("collection '\(name)'", range) }
        let c = t.collection
        let names = Set(t.columns.map(\.name))
        func col(_ n: String) -> SQLExpr { .column(table: a, name: n) }
        let percent: SQLExpr? = names.contains("kbq_percent") ? col("kbq_percent") : nil
        return c.fields.map { f in
            let parts: SQLColumnValue.Parts
            switch f.type {
            case .number:
                if names.contains(f.name + "__lo") {
                    parts = .quantity(value: col(f.name), qualifier: f.qualifierField.map(col), upper: f.upperField.map(col),
                                      lo: col(f.name + "__lo"), hi: col(f.name + "__hi"),
                                      loOpen: col(f.name + "__lo_open"), hiOpen: col(f.name + "__hi_open"), percent: percent)
                } else {
                    parts = .number(col(f.name), percent: percent)
                }
            case .date:
                parts = .date(lo: col(f.name + "__lo"), hi: col(f.name + "__hi"), start: col(f.name + "__start"), end: col(f.name + "__end"),
                              shape: col(f.name + "__shape"), anchor: col(f.name + "__anchor"))
            case .hedge: parts = .hedge(col(f.name))
            case .ref(let target):
                parts = .ref(collection: target, key: col(f.name), row: col(f.name + "__row"), display: col(f.name + "__display"))
            default: parts = .single(col(f.name))
            }
            let folded = names.contains(f.name + SQLColumnValue.foldedSuffix) ? col(f.name + SQLColumnValue.foldedSuffix) : nil
            return (f.name, SQLColumnValue(type: f.type, parts: parts, folded: folded))
        }
    }

    private mutating func apply(_ c: CheckedClause, to frame: Frame) throws(Diagnostic) -> Frame {
        var f = frame
        switch c.kind {
        case .filter(let e, let keepMaybe):
            if f.limited || f.grouped { f = wrap(f) }
            let cond = try condition(e, &f)
            let keep = keepMaybe ? cond.possible : cond.yes
            f.select.filter = f.select.filter.map { .and($0, keep) } ?? keep
        case .select(let items):
            var cols: [SQLColumnValue] = []
            for item in items { cols.append(try value(item.expr, &f)) }
            f.columns = cols
            f.names = items.map(\.name)
        case .sort(let keys):
            if f.limited { f = wrap(f) }
            var order: [SQLOrder] = []
            for k in keys { order += sortKeys(try value(k.expr, &f), descending: k.descending) }
            // A stable sort: the earlier order breaks this one's ties.
            f.order = order + f.order
        case .limit(let count, let offset):
            if f.limited { f = wrap(f) }
            f.select.limit = rowCount(count)
            if let offset { f.select.offset = rowCount(offset) }
            f.limited = true
        case .group(let keys, let aggregates):
            if f.limited || f.grouped { f = wrap(f) }
            var cols: [SQLColumnValue] = [], groupBy: [SQLExpr] = [], order: [SQLOrder] = []
            for k in keys {
                let v = SQLTranslator.groupKey(try value(k.expr, &f))
                cols.append(v)
                groupBy += v.named.map(\.expr)
                order += sortKeys(v, descending: false)
            }
            // The file refuses a group whose values are in several units (min(value) over
            // shells and containers); that check is not translated yet, so where it could
            // apply, the aggregate stays on the file.
            let unitsKeptApart = keys.contains { if case .field(let r) = $0.expr.kind { return r.path.isEmpty && r.name == "unit" }; return false }
            let rowsHaveUnits = f.names.indices.contains { f.names[$0] == "unit" && f.columns[$0].type == .string }
            for a in aggregates {
                if a.function != .count, a.argument?.type.isNumeric == true, rowsHaveUnits, !unitsKeptApart {
                    throw unsupported("\(a.text) over rows that may be in several units (add 'group by unit')", a.range)
                }
                cols.append(try aggregate(a, &f))
            }
            f.select.groupBy = groupBy
            f.columns = cols
            f.names = keys.map(\.name) + aggregates.map(\.name)
            // Groups come out in key order, as on the file; groups whose keys sort alike
            // (about 1 and up to 1: intervals sort by their stated number; 5 and 5%; the same
            // period written two ways; two rows of one name) in the order they were first met.
            let keysTie = cols.prefix(keys.count).contains { v in
                switch v.parts {
                case .single, .hedge, .number(_, nil): return false
                default: return true
                }
            }
            if keysTie, let row = f.row { order.append(SQLOrder(expr: .call("min", [row]), descending: false)) }
            f.order = order
            f.row = nil
            f.grouped = true
        case .compare: throw unsupported("compare", c.range)
        case .cite: throw unsupported("cite", c.range)
        case .timeline: throw unsupported("timeline", c.range)
        case .chart: throw unsupported("chart", c.range)
        case .follow: throw unsupported("follow", c.range)
        case .referrers: throw unsupported("referrers", c.range)
        }
        return f
    }

    private mutating func rowCount(_ c: CheckedRowCount) -> SQLExpr {
        switch c {
        case .constant(let n): return .integer(n)
        case .parameter(let name, _, _): return parameter(name, .rowCount)
        }
    }

    private func parameter(_ name: String, _ part: SQLParameterUse.Part) -> SQLExpr {
        .parameter(SQLParameterUse(name: name, part: part))
    }

    /// The frame's rows as a subquery: every column under a name of its own, and the order
    /// so far as a row number, so that what comes next (a filter after a limit) sees the
    /// rows the limit kept, in their order.
    private mutating func wrap(_ f: Frame) -> Frame {
        let inner = finished(f, rowColumn: true)
        let a = alias("s")
        let cols = f.columns.enumerated().map { i, c in c.reading(from: a, prefix: "c\(i)") }
        return Frame(select: RelationalSelect(from: .subquery(inner), alias: a), columns: cols, names: f.names,
                     row: .column(table: a, name: "kbq_row"))
    }

    /// The frame as a finished SELECT: its columns, and the order kbq gives its rows.
    /// With `rowColumn`, the columns are named by position and the order is kept as a
    /// `kbq_row` column (for a subquery); otherwise they are named after kbq's columns.
    func finished(_ f: Frame, rowColumn: Bool = false) -> RelationalSelect {
        var s = f.select
        let order = f.order + (f.row.map { [SQLOrder(expr: $0, descending: false)] } ?? [])
        s.columns = []
        for (i, c) in f.columns.enumerated() {
            let base = rowColumn ? "c\(i)" : f.names[i]
            for (suffix, e) in c.named { s.columns.append((base + suffix, e)) }
            // A subquery passes the folded text on, for a `contains` after it.
            if rowColumn, let folded = c.folded { s.columns.append((base + SQLColumnValue.foldedSuffix, folded)) }
        }
        if rowColumn { s.columns.append(("kbq_row", .rowNumber(order))) }
        // A subquery's rows are unordered but for its row numbers: it sorts only to limit.
        if !rowColumn || s.limit != nil { s.orderBy = order }
        return s
    }

    // MARK: Values

    private mutating func value(_ e: CheckedExpr, _ f: inout Frame) throws(Diagnostic) -> SQLColumnValue {
        switch e.kind {
        case .constant(let v): return try constant(v, e.type, e.range)
        case .parameter(let name, _):
            let type = e.type == .null ? parameterTypes[name] ?? .string : e.type
            switch type {
            case .date:
                // A parameter is a year, month or day: never relative, so its range is its period.
                return SQLColumnValue(type: .date, parts: .date(lo: parameter(name, .dayLow), hi: parameter(name, .dayHigh),
                                                                 start: parameter(name, .dayLow), end: parameter(name, .dayHigh),
                                                                 shape: parameter(name, .dateShape), anchor: parameter(name, .dateAnchor)))
            case .hedge: return SQLColumnValue(type: .hedge, parts: .hedge(parameter(name, .rank)))
            case .number, .percent: return SQLColumnValue(type: .number(), parts: .number(parameter(name, .value), percent: nil))
            case .string, .ref: return SQLColumnValue(type: .string, parts: .single(parameter(name, .value)))
            case .bool: return SQLColumnValue(type: .bool, parts: .single(parameter(name, .value)))
            default: throw unsupported("a parameter of type \(type)", e.range)
            }
        case .field(let ref):
            guard ref.column >= 0, ref.column < f.columns.count else { throw unsupported("field '\(ref.name)'", e.range) }
            var v = f.columns[ref.column]
            for step in ref.path {
                guard case .ref(let target, _, let row, _) = v.parts, target == step.collection else {
                    throw unsupported("the path step '\(step.field)'", step.range)
                }
                let key = SQLGenerator(dialect: .postgres).expr(row) + "→" + target
                let a: String
                if let existing = f.joins[key] { a = existing } else {
                    a = alias("j")
                    f.joins[key] = a
                    f.select.joins.append(SQLJoin(table: target, alias: a, on: row))
                }
                let cols = try storedColumns(target, alias: a, step.range)
                guard step.index >= 0, step.index < cols.count else { throw unsupported("the path step '\(step.field)'", step.range) }
                v = cols[step.index].1
            }
            return v
        case .negate(let a):
            let (x, p) = try numberAndPercent(a, &f)
            return numeric(e.type, .negate(x), percent: p)
        case .arithmetic(let op, let a, let b):
            if op == .mod { throw unsupported("%", e.range) }
            let (x, pa) = try numberAndPercent(a, &f), (y, pb) = try numberAndPercent(b, &f)
            let r: SQLExpr = switch op {
            case .div: .divide(x, y)
            default: .binary(op.rawValue, x, y)
            }
            // As the file's arithmetic: a percent stays a percent, but for a percent divided
            // by a percent; a plain number becomes one when added to, taken from or
            // multiplied by a percent.
            var percent: SQLExpr? = pa.map { op == .div ? SQLExpr.and($0, .not(pb ?? .bool(false))) : $0 }
            if let pb, op == .add || op == .sub || op == .mul { percent = percent.map { .or($0, pb) } ?? pb }
            return numeric(e.type, r, percent: percent)
        case .call(let fn, let args):
            switch fn {
            case .lower, .upper, .trim:
                guard args.count == 1 else { break }
                return SQLColumnValue(type: .string, parts: .single(.call(fn.rawValue, [try text(args[0], &f)])))
            case .abs, .floor, .ceil:
                guard args.count == 1 else { break }
                let (x, p) = try numberAndPercent(args[0], &f)
                return numeric(e.type, .call(fn.rawValue, [x]), percent: p)
            case .stated, .low, .high, .qualifier:
                guard args.count == 1 else { break }
                let v = try value(args[0], &f)
                guard case .quantity(let stated, let word, _, let lo, let hi, let loOpen, let hiOpen, let percent) = v.parts else {
                    // Not an interval: stated, low and high are the number itself, and there is no qualifier.
                    if fn == .qualifier { return SQLColumnValue(type: .string, parts: .single(.null)) }
                    return v
                }
                switch fn {
                case .stated: return SQLColumnValue(type: e.type, parts: .number(stated, percent: percent))
                case .qualifier:
                    guard let word else { return SQLColumnValue(type: .string, parts: .single(.null)) }
                    return SQLColumnValue(type: .string, parts: .single(SQLTranslator.qualifierWord(word, lo: lo, hi: hi, loOpen: loOpen, hiOpen: hiOpen)))
                default:
                    // An open end has no number: null, as on the file.
                    let bound = fn == .low ? lo : hi
                    let finite = SQLExpr.caseWhen([(.or(.binary("=", bound, .number(.infinity)), .binary("=", bound, .number(-.infinity))), .null)], bound)
                    return SQLColumnValue(type: e.type, parts: .number(finite, percent: percent))
                }
            default: break
            }
            throw unsupported("\(fn.rawValue)()", e.range)
        default:
            throw unsupported("this expression", e.range)
        }
    }

    /// The qualifier word as Quantity reads it: lower case, no spaces around it; none is
    /// null, and so is the word of an exact number ("exactly 5" is the number 5).
    static func qualifierWord(_ word: SQLExpr, lo: SQLExpr, hi: SQLExpr, loOpen: SQLExpr, hiOpen: SQLExpr) -> SQLExpr {
        let w = SQLExpr.call("lower", [.call("trim", [word])])
        let exact = SQLExpr.and(.binary("=", lo, hi), .and(.not(loOpen), .not(hiOpen)))
        return .caseWhen([(.or(.binary("=", w, .text("")), exact), .null)], w)
    }

    /// A group key as kbq compares values: an interval by its stated number, bounds and
    /// percent-ness with its word as Quantity reads it, so that `exactly 5` and `5` (and
    /// `Over 5` and `over 5`) are one group; the upper bound shown is the interval's own.
    /// A null number is one group, whatever its row's unit or qualifier says.
    static func groupKey(_ v: SQLColumnValue) -> SQLColumnValue {
        var key = v
        // Equal texts fold alike: any row's folded text is the group's.
        key.folded = v.folded.map { .call("min", [$0]) }
        switch v.parts {
        case .number(let x, let p?):
            key.parts = .number(x, percent: .caseWhen([(.isNull(x, negated: false), .null)], p))
        case .quantity(let x, let q, let u, let lo, let hi, let loOpen, let hiOpen, let p):
            func known(_ e: SQLExpr) -> SQLExpr { .caseWhen([(.isNull(x, negated: false), .null)], e) }
            key.parts = .quantity(value: x, qualifier: q.map { known(qualifierWord($0, lo: lo, hi: hi, loOpen: loOpen, hiOpen: hiOpen)) },
                                  upper: u.map { _ in known(hi) }, lo: known(lo), hi: known(hi), loOpen: known(loOpen),
                                  hiOpen: known(hiOpen), percent: p.map(known))
        default: break
        }
        return key
    }

    private func constant(_ v: Value, _ type: FieldType, _ range: SourceRange) throws(Diagnostic) -> SQLColumnValue {
        switch v {
        case .null: return SQLColumnValue(type: type, parts: .single(.null))
        case .string(let s): return SQLColumnValue(type: .string, parts: .single(.text(s)))
        case .number(let d): return SQLColumnValue(type: .number(), parts: .number(.number(d), percent: nil))
        case .percent(let d): return SQLColumnValue(type: .percent, parts: .single(.number(d)))
        case .bool(let b): return SQLColumnValue(type: .bool, parts: .single(.bool(b)))
        case .hedge(let rank, _): return SQLColumnValue(type: .hedge, parts: .hedge(.integer(rank)))
        case .date(let d):
            return SQLColumnValue(type: .date, parts: .date(lo: .integer(Int(d.comparedFrom)), hi: .integer(Int(d.comparedTo)),
                                                             start: .integer(Int(d.lo)), end: .integer(Int(d.hi)),
                                                             shape: .integer(d.shape), anchor: .integer(Int(d.anchor))))
        case .quantity(let q):
            return SQLColumnValue(type: type, parts: .quantity(value: .number(q.value), qualifier: .text(q.qualifier), upper: nil,
                                                              lo: .number(q.lo), hi: .number(q.hi), loOpen: .bool(q.loOpen),
                                                              hiOpen: .bool(q.hiOpen), percent: .bool(q.isPercent)))
        default: throw unsupported("the value \(v.text)", range)
        }
    }

    /// A number without an interval, and whether it is a percent (nil: never).
    private mutating func numberAndPercent(_ e: CheckedExpr, _ f: inout Frame) throws(Diagnostic) -> (SQLExpr, SQLExpr?) {
        let v = try value(e, &f)
        switch v.parts {
        case .number(let x, let p): return (x, p)
        case .single(let x) where v.type == .percent: return (x, .bool(true))
        case .single(.null): return (.null, nil)
        default: throw unsupported("arithmetic on \(v.type)", e.range)
        }
    }

    /// A computed number: a percent when the checker says so, else a number that is a
    /// percent on the rows where `percent` holds.
    private func numeric(_ type: FieldType, _ x: SQLExpr, percent: SQLExpr?) -> SQLColumnValue {
        if type == .percent { return SQLColumnValue(type: .percent, parts: .single(x)) }
        if case .bool(false)? = percent { return SQLColumnValue(type: type, parts: .number(x, percent: nil)) }
        return SQLColumnValue(type: type, parts: .number(x, percent: percent))
    }

    /// Text to compare or search: a string, or a reference's display text.
    private mutating func text(_ e: CheckedExpr, _ f: inout Frame) throws(Diagnostic) -> SQLExpr {
        try textPart(try value(e, &f), e.range)
    }

    private func textPart(_ v: SQLColumnValue, _ range: SourceRange) throws(Diagnostic) -> SQLExpr {
        switch v.parts {
        case .single(let x) where v.type == .string || v.type == .null: return x
        case .ref(_, _, _, let display): return display
        default: throw unsupported("text operations on \(v.type)", range)
        }
    }

    // MARK: Sorting

    private func sortKeys(_ v: SQLColumnValue, descending: Bool) -> [SQLOrder] {
        func key(_ x: SQLExpr, _ desc: Bool = descending) -> SQLOrder { SQLOrder(expr: x, descending: desc) }
        switch v.parts {
        case .single(let x) where v.type == .string:
            // Text sorts by its bytes, as kbq sorts it (REFERENCE, "Order, nulls and percents").
            return [key(.binaryText(x))]
        case .ref(_, _, _, let display): return [key(.binaryText(display))]
        case .single(let x), .number(let x, _), .quantity(let x, _, _, _, _, _, _, _): return [key(x)]
        case .date(_, _, let start, let end, _, _): return [key(start), key(end)]
        // A stronger hedge (a smaller rank) sorts later.
        case .hedge(let r): return [key(r, !descending)]
        }
    }

    // MARK: Aggregates

    /// count() of anything; sum, avg, min, max and spread of plain numbers and percents
    /// (intervals' totals and the order of texts are not translated yet).
    private mutating func aggregate(_ a: CheckedAggregate, _ f: inout Frame) throws(Diagnostic) -> SQLColumnValue {
        guard let argument = a.argument else { return SQLColumnValue(type: a.type, parts: .number(.countAll, percent: nil)) }
        let v = try value(argument, &f)
        if a.function == .count {
            guard let first = v.named.first?.expr else { throw unsupported("count of this", a.range) }
            return SQLColumnValue(type: a.type, parts: .number(.call("count", [first]), percent: nil))
        }
        if a.function == .min || a.function == .max, case .quantity = v.parts {
            // The interval of the row with the least (greatest) stated number, first in row
            // order among equals: what the file's min and max give, qualifier and all.
            guard let row = f.row else { throw unsupported("\(a.function.rawValue)() of an interval after a group", a.range) }
            guard case .quantity(let stated, let q, let u, let lo, let hi, let lop, let hip, let p) = v.parts else { throw unsupported("this", a.range) }
            let keys = [SQLOrder(expr: stated, descending: a.function == .max), SQLOrder(expr: row, descending: false)]
            let parts: [(SQLExpr, SQLPartType)] = [(stated, .double)] + (q.map { [($0, .text)] } ?? []) + (u.map { [($0, .double)] } ?? [])
                + [(lo, .double), (hi, .double), (lop, .bool), (hip, .bool)] + (p.map { [($0, .bool)] } ?? [])
            // The parts in the order of `parts` (Swift evaluates arguments left to right).
            var next = -1
            func pick() -> SQLExpr { next += 1; return .firstOfRow(parts, index: next, keys) }
            var picked = v
            picked.parts = .quantity(value: pick(), qualifier: q.map { _ in pick() }, upper: u.map { _ in pick() }, lo: pick(), hi: pick(),
                                     loOpen: pick(), hiOpen: pick(), percent: p.map { _ in pick() })
            picked.folded = nil
            return picked
        }
        let x: SQLExpr, rowPercent: SQLExpr?
        switch v.parts {
        case .number(let e, let p): x = e; rowPercent = p
        case .single(let e) where v.type == .percent: x = e; rowPercent = nil
        // The spread of intervals is that of their stated numbers, as compare's spread.
        case .quantity(let e, _, _, _, _, _, _, let p) where a.function == .spread: x = e; rowPercent = p
        default: throw unsupported("\(a.function.rawValue)() of \(v.type)", a.range)
        }
        // As the file's aggregates: min and max are the value of the row they pick (a
        // percent when that row's is); a sum, mean or spread is a percent only when every
        // value is one (76.6% and 3,000,000 shells are not 3,000,076.6%).
        var percent: SQLExpr?
        if let p = rowPercent {
            switch a.function {
            case .min, .max:
                guard let row = f.row else { throw unsupported("\(a.function.rawValue)() of numbers some of which are percents, after a group", a.range) }
                percent = .firstBy(p, [SQLOrder(expr: x, descending: a.function == .max), SQLOrder(expr: row, descending: false)])
            default:
                percent = .allTrue(.caseWhen([(.isNull(x, negated: true), p)], .null))
            }
        }
        let result: SQLExpr
        switch a.function {
        case .sum, .avg, .min, .max: result = .call(a.function.rawValue, [x])
        case .spread: result = .binary("-", .call("max", [x]), .call("min", [x]))
        default: throw unsupported("\(a.function.rawValue)()", a.range)
        }
        if v.type == .percent { return SQLColumnValue(type: .percent, parts: .single(result)) }
        return SQLColumnValue(type: a.type, parts: .number(result, percent: percent))
    }

    // MARK: Conditions

    /// A condition as (yes, possible): SQL predicates for "certainly true" and "true or
    /// maybe"; both NULL when kbq's answer is unknown. With `exact` false only where each is
    /// TRUE matters (a `where` keeps those rows), not whether it is FALSE or NULL, which
    /// keeps the SQL of `and` and `or` plain (and their indexes usable); under `not` it does.
    private mutating func condition(_ e: CheckedExpr, _ f: inout Frame, exact: Bool = false) throws(Diagnostic) -> (yes: SQLExpr, possible: SQLExpr) {
        switch e.kind {
        case .and(let a, let b):
            return SQLTranslator.and(try condition(a, &f, exact: exact), try condition(b, &f, exact: exact), exact: exact)
        case .or(let a, let b):
            return SQLTranslator.or(try condition(a, &f, exact: exact), try condition(b, &f, exact: exact), exact: exact)
        case .not(let a):
            let x = try condition(a, &f, exact: true)
            return (.not(x.possible), .not(x.yes))
        case .compare(let op, let a, let b):
            return try compare(op, try value(a, &f), try value(b, &f), e.range)
        case .between(let x, let lo, let hi, let negated):
            let v = try value(x, &f)
            let ge = try compare(.ge, v, try value(lo, &f), e.range), le = try compare(.le, v, try value(hi, &f), e.range)
            let both = SQLTranslator.and(ge, le, exact: exact || negated)
            return negated ? (.not(both.possible), .not(both.yes)) : both
        case .isNull(let x, let negated):
            let v = try value(x, &f)
            guard let first = v.named.first?.expr else { throw unsupported("is null here", e.range) }
            let p = SQLExpr.isNull(first, negated: negated)
            return (p, p)
        case .inList(let x, let items, let negated):
            let v = try value(x, &f)
            var any: (yes: SQLExpr, possible: SQLExpr)?
            for item in items {
                let c = try compare(.eq, v, try value(item, &f), e.range)
                any = any.map { SQLTranslator.or($0, c, exact: exact || negated) } ?? c
            }
            guard let any else { return (.bool(false), .bool(false)) }
            return negated ? (.not(any.possible), .not(any.yes)) : any
        case .contains(let a, let b):
            guard a.type == .string || a.type.isRef else { throw unsupported("contains on \(a.type)", e.range) }
            let p = try contains(a, b, &f)
            return (p, p)
        case .field, .parameter, .constant:
            let v = try value(e, &f)
            guard case .single(let x) = v.parts, v.type == .bool || v.type == .null else { throw unsupported("this condition", e.range) }
            return (x, x)
        case .refersTo(let x, let collection, let rows, let negated):
            // The rows the name picked when the query was checked: their positions are the
            // tables' kbq_row (checking reads the same small collections, in the same order).
            let v = try value(x, &f)
            guard case .ref(let target, _, let row, _) = v.parts, target == collection else { throw unsupported("this reference", e.range) }
            let p: SQLExpr = rows.isEmpty ? .caseWhen([(.isNull(row, negated: false), .null)], .bool(false))
                : .inIntegers(row, rows.sorted())
            return negated ? (.not(p), .not(p)) : (p, p)
        case .matches: throw unsupported("matches", e.range)
        case .inValues: throw unsupported("in with a list parameter", e.range)
        default: throw unsupported("this condition", e.range)
        }
    }

    /// `a contains b` as kbq's evaluator answers it. A text with a folded column (a stored
    /// string, SQLLayout) is searched there for the needle folded alike: by kbq where the
    /// needle is a constant or a parameter, from its own folded column where it is a stored
    /// string too: a plain byte search, as cheap as a hand-written LIKE. kbq searches a stored
    /// text for a constant of ASCII alone by folding the text's ASCII capitals only, which
    /// differs from the full fold where the text has a Kelvin sign (a "k") or a capital
    /// dotted I (an "i" and a dot above): for a needle with a "k" or ending in "i", so does
    /// the SQL. Other texts are lowered by the engine (``SQLExpr/containsText(_:_:)``).
    private mutating func contains(_ a: CheckedExpr, _ b: CheckedExpr, _ f: inout Frame) throws(Diagnostic) -> SQLExpr {
        let hay = try value(a, &f)
        let text = try textPart(hay, a.range)
        guard let folded = hay.foldedText else { return .containsText(text, try self.text(b, &f)) }
        switch b.kind {
        case .constant(.string(let needle)):
            if a.storedColumn != nil, needle.utf8.allSatisfy({ $0 < 0x80 }), !hasQuoteMarks(needle) {
                let lowered = String(decoding: needle.utf8.map(foldByte), as: UTF8.self)
                if lowered.contains("k") || lowered.hasSuffix("i") { return .containsASCIIFolded(text, .text(lowered)) }
            }
            return .containsFolded(folded, .text(containsFolded(needle) ?? needle))
        case .parameter(let name, _):
            return .containsFolded(folded, parameter(name, .folded))
        default:
            let needle = try value(b, &f)
            if let n = needle.foldedText { return .containsFolded(folded, n) }
            return .containsText(text, try textPart(needle, b.range))
        }
    }

    /// kbq's `and`: *no* if either side is, else *unknown* if either is, else *maybe* if
    /// either is, else *yes*. SQL's AND of the `possible` sides says exactly that; of the
    /// `yes` sides it says FALSE for *maybe* and *unknown*, where kbq says *unknown*.
    static func and(_ x: (yes: SQLExpr, possible: SQLExpr), _ y: (yes: SQLExpr, possible: SQLExpr),
                    exact: Bool) -> (yes: SQLExpr, possible: SQLExpr) {
        let yes = SQLExpr.and(x.yes, y.yes), possible = SQLExpr.and(x.possible, y.possible)
        guard exact else { return (yes, possible) }
        return (.caseWhen([(.isNull(possible, negated: false), .null)], yes), possible)
    }

    /// kbq's `or`: *yes* if either side is, else *maybe* if either is, else *unknown* if
    /// either is, else *no*. SQL's OR of the `possible` sides says exactly that; of the `yes`
    /// sides it says NULL for *maybe* or *unknown*, where kbq says *maybe* (not yes).
    static func or(_ x: (yes: SQLExpr, possible: SQLExpr), _ y: (yes: SQLExpr, possible: SQLExpr),
                   exact: Bool) -> (yes: SQLExpr, possible: SQLExpr) {
        let yes = SQLExpr.or(x.yes, y.yes), possible = SQLExpr.or(x.possible, y.possible)
        guard exact else { return (yes, possible) }
        return (.call("coalesce", [yes, .not(possible)]), possible)
    }

    /// `a op b` on two columns of comparable types, with kbq's meaning. A percent literal
    /// asks about percents: against a number that is no percent the answer is unknown.
    private func compare(_ op: BinaryOp, _ a: SQLColumnValue, _ b: SQLColumnValue, _ range: SourceRange) throws(Diagnostic) -> (yes: SQLExpr, possible: SQLExpr) {
        func percentOnly(_ x: SQLColumnValue, _ literal: SQLColumnValue) -> SQLExpr? {
            guard literal.type == .percent, case .single(.number) = literal.parts else { return nil }
            switch x.parts {
            case .number(_, let p), .quantity(_, _, _, _, _, _, _, let p): return p ?? .bool(false)
            default: return nil
            }
        }
        let r = try compareValues(op, a, b, range)
        guard let gate = percentOnly(a, b) ?? percentOnly(b, a) else { return r }
        return (.caseWhen([(gate, r.yes)], .null), .caseWhen([(gate, r.possible)], .null))
    }

    private func compareValues(_ op: BinaryOp, _ a: SQLColumnValue, _ b: SQLColumnValue, _ range: SourceRange) throws(Diagnostic) -> (yes: SQLExpr, possible: SQLExpr) {
        let sqlOp = op == .ne ? "<>" : op.rawValue
        func plain(_ x: SQLExpr, _ y: SQLExpr) -> (SQLExpr, SQLExpr) { let p = SQLExpr.binary(sqlOp, x, y); return (p, p) }
        switch (a.parts, b.parts) {
        case (.quantity(_, _, _, let lo, let hi, let lop, let hip, _), _):
            guard let p = scalarNumber(b) else { throw unsupported("comparing two intervals", range) }
            return interval(op, lo: lo, hi: hi, loOpen: lop, hiOpen: hip, p)
        case (_, .quantity):
            return try compare(op.flipped, b, a, range)
        case (.date(let xl, let xh, let xs, _, _, _), .date(let pl, let ph, let ps, _, _, _)):
            let r = dates(op, xl, xh, pl, ph)
            // Said again on a stored date's start, a firm answer can use the index on
            // (start, end), the one `sort by date` reads in order too.
            return (.and(r.yes, SQLTranslator.startBounds(op, x: (xl, xh, xs), p: (pl, ph, ps))), r.possible)
        case (.hedge(let r), .hedge(let s)):
            // A stronger hedge (smaller rank) is greater: a op b ⇔ b.rank op a.rank.
            let p = SQLExpr.binary(sqlOp, s, r)
            return (p, p)
        case (.ref(_, let key, _, let display), .single(let s)) where b.type == .string || b.type == .null:
            switch op {
            case .eq, .ne:
                let eq = SQLExpr.or(.binary("=", key, s), .binary("=", .call("lower", [display]), .call("lower", [s])))
                let p = op == .eq ? eq : .not(eq)
                return (p, p)
            default: return plain(.binaryText(display), .binaryText(s))
            }
        case (.single, .ref):
            return try compare(op.flipped, b, a, range)
        case (.ref(_, _, let x, _), .ref(_, _, let y, _)) where op == .eq || op == .ne:
            return plain(x, y)
        case (.ref(_, _, _, let x), .ref(_, _, _, let y)):
            return plain(.binaryText(x), .binaryText(y))
        case (.single(let x), .single(let y)) where a.type == .string || b.type == .string:
            if op == .eq || op == .ne { return plain(x, y) }
            return plain(.binaryText(x), .binaryText(y))
        default:
            guard let x = scalarNumber(a) ?? scalarBool(a), let y = scalarNumber(b) ?? scalarBool(b) else {
                throw unsupported("comparing \(a.type) with \(b.type)", range)
            }
            return plain(x, y)
        }
    }

    private func scalarNumber(_ v: SQLColumnValue) -> SQLExpr? {
        switch v.parts {
        case .number(let x, _): return x
        case .single(let x) where v.type == .percent || v.type == .null || v.type.isNumeric: return x
        default: return nil
        }
    }

    private func scalarBool(_ v: SQLColumnValue) -> SQLExpr? {
        if case .single(let x) = v.parts, v.type == .bool || v.type == .null { return x }
        return nil
    }

    /// An interval against a point, as Evaluate's compareInterval answers it.
    private func interval(_ op: BinaryOp, lo: SQLExpr, hi: SQLExpr, loOpen: SQLExpr, hiOpen: SQLExpr, _ p: SQLExpr) -> (yes: SQLExpr, possible: SQLExpr) {
        func b(_ o: String, _ x: SQLExpr, _ y: SQLExpr) -> SQLExpr { .binary(o, x, y) }
        let gtYes = SQLExpr.or(b(">", lo, p), .and(b("=", lo, p), loOpen))
        let gtPossible = b(">", hi, p)
        let geYes = b(">=", lo, p)
        let gePossible = SQLExpr.or(b(">", hi, p), .and(b("=", hi, p), .not(hiOpen)))
        let ltYes = SQLExpr.or(b("<", hi, p), .and(b("=", hi, p), hiOpen))
        let ltPossible = b("<", lo, p)
        let leYes = b("<=", hi, p)
        let lePossible = SQLExpr.or(b("<", lo, p), .and(b("=", lo, p), .not(loOpen)))
        let eqYes = SQLExpr.and(.and(b("=", lo, p), b("=", hi, p)), .and(.not(loOpen), .not(hiOpen)))
        let eqPossible = SQLExpr.and(gePossible, lePossible)
        switch op {
        case .gt: return (gtYes, gtPossible)
        case .ge: return (geYes, gePossible)
        case .lt: return (ltYes, ltPossible)
        case .le: return (leYes, lePossible)
        case .eq: return (eqYes, eqPossible)
        default: return (.not(eqPossible), .not(eqYes))
        }
    }

    /// What a firm `x op p` (``dates(_:_:_:_:_:)``'s *yes*) says of the period starts of x and
    /// p where they are stored columns: a period lies inside the day range comparisons read
    /// (a relative date's reaches further), so `x.lo >= p.lo` gives `x.start >= p.lo`, and
    /// `x.hi <= p.hi` gives `x.start <= p.hi`. The same rows, and conditions an index on the
    /// start serves (a range scan, in sort order). TRUE when they say nothing.
    static func startBounds(_ op: BinaryOp, x: (lo: SQLExpr, hi: SQLExpr, start: SQLExpr),
                            p: (lo: SQLExpr, hi: SQLExpr, start: SQLExpr)) -> SQLExpr {
        func b(_ o: String, _ l: SQLExpr, _ r: SQLExpr) -> SQLExpr { .binary(o, l, r) }
        var out = SQLExpr.bool(true)
        if case .column = x.start {
            switch op {
            case .gt: out = b(">", x.start, p.hi)
            case .ge: out = b(">=", x.start, p.lo)
            case .lt: out = b("<", x.start, p.lo)
            case .le: out = b("<=", x.start, p.hi)
            case .eq: out = .and(b(">=", x.start, p.lo), b("<=", x.start, p.hi))
            default: break
            }
        }
        if case .column = p.start {
            // x.lo > p.hi puts p's start below x.lo; x.hi < p.lo puts it above x.hi.
            switch op {
            case .gt: out = .and(out, b("<", p.start, x.lo))
            case .lt: out = .and(out, b(">", p.start, x.hi))
            default: break
            }
        }
        return out
    }

    /// A date's day range against a period's, as Evaluate's compareDates answers it.
    private func dates(_ op: BinaryOp, _ xl: SQLExpr, _ xh: SQLExpr, _ pl: SQLExpr, _ ph: SQLExpr) -> (yes: SQLExpr, possible: SQLExpr) {
        func b(_ o: String, _ x: SQLExpr, _ y: SQLExpr) -> SQLExpr { .binary(o, x, y) }
        let eqYes = SQLExpr.and(b(">=", xl, pl), b("<=", xh, ph))
        let eqPossible = SQLExpr.and(b(">=", xh, pl), b("<=", xl, ph))
        switch op {
        case .gt: return (b(">", xl, ph), b(">", xh, ph))
        case .ge: return (b(">=", xl, pl), b(">=", xh, pl))
        case .lt: return (b("<", xh, pl), b("<", xl, pl))
        case .le: return (b("<=", xh, ph), b("<=", xl, ph))
        case .eq: return (eqYes, eqPossible)
        default: return (.not(eqPossible), .not(eqYes))
        }
    }
}

extension FieldType {
    var isRef: Bool {
        if case .ref = self { return true }
        return false
    }
}
