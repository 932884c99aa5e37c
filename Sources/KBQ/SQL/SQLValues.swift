// How one column of kbq's rows is read in SQL, and how its cells come back as kbq values.
// A kbq value may take several SQL columns (an interval quantity takes its stated value,
// qualifier and upper bound for showing, and its bounds for comparing); the translation
// carries them together, and the decoder reads them back in the same order.

/// One column of kbq's rows as SQL expressions.
struct SQLColumnValue: Sendable {
    var type: FieldType
    var parts: Parts
    /// A text's folded form for `contains` (a stored string's `f__folded`, NULL where the text
    /// is its own fold), carried through subqueries; never part of a result.
    var folded: SQLExpr? = nil

    enum Parts: Sendable {
        /// Text, a bool, a list (as JSON), a percent: one SQL value.
        case single(SQLExpr)
        /// A plain number; `percent` is a boolean expression saying the row's unit is percent.
        case number(SQLExpr, percent: SQLExpr?)
        /// An interval quantity: shown from value, qualifier and upper; compared by its bounds.
        case quantity(value: SQLExpr, qualifier: SQLExpr?, upper: SQLExpr?, lo: SQLExpr, hi: SQLExpr,
                      loOpen: SQLExpr, hiOpen: SQLExpr, percent: SQLExpr?)
        /// A partial date: the day range comparisons read; the period's days, to sort it; its
        /// shape and anchor, to show it exactly.
        case date(lo: SQLExpr, hi: SQLExpr, start: SQLExpr, end: SQLExpr, shape: SQLExpr, anchor: SQLExpr)
        /// A hedge, by rank.
        case hedge(SQLExpr)
        /// A reference: the row's key, its `kbq_row`, and its display text.
        case ref(collection: String, key: SQLExpr, row: SQLExpr, display: SQLExpr)
    }

    /// The SQL columns, each with the suffix its output name gets.
    var named: [(suffix: String, expr: SQLExpr)] {
        switch parts {
        case .single(let e): return [("", e)]
        case .number(let e, let p): return [("", e)] + (p.map { [("__pct", $0)] } ?? [])
        case .quantity(let v, let q, let u, let lo, let hi, let lop, let hip, let p):
            var out: [(String, SQLExpr)] = [("", v)]
            if let q { out.append(("__q", q)) }
            if let u { out.append(("__u", u)) }
            out += [("__lo", lo), ("__hi", hi), ("__lo_open", lop), ("__hi_open", hip)]
            if let p { out.append(("__pct", p)) }
            return out
        case .date(let lo, let hi, let start, let end, let shape, let anchor):
            return [("__lo", lo), ("__hi", hi), ("__start", start), ("__end", end), ("__shape", shape), ("__anchor", anchor)]
        case .hedge(let e): return [("", e)]
        case .ref(_, let key, let row, let display): return [("", key), ("__row", row), ("__display", display)]
        }
    }

    /// The suffix of the folded text's column, in a table and in a subquery.
    static let foldedSuffix = "__folded"

    /// The text `contains` searches, folded: the folded column, or the text where that is NULL.
    var foldedText: SQLExpr? {
        guard let folded, case .single(let x) = parts else { return nil }
        return .call("coalesce", [folded, x])
    }

    /// The same column read from a subquery that selected it as `named` under `prefix`
    /// (and its folded text as `prefix` + ``foldedSuffix``).
    func reading(from alias: String, prefix: String) -> SQLColumnValue {
        var it = named.makeIterator()
        func next() -> SQLExpr {
            guard let (suffix, _) = it.next() else { return .null }
            return .column(table: alias, name: prefix + suffix)
        }
        var copy = self
        copy.folded = folded.map { _ in .column(table: alias, name: prefix + SQLColumnValue.foldedSuffix) }
        switch parts {
        case .single: copy.parts = .single(next())
        case .number(_, let p): let v = next(); copy.parts = .number(v, percent: p.map { _ in next() })
        case .quantity(_, let q, let u, _, _, _, _, let p):
            let v = next(), qq = q.map { _ in next() }, uu = u.map { _ in next() }
            let lo = next(), hi = next(), lop = next(), hip = next()
            copy.parts = .quantity(value: v, qualifier: qq, upper: uu, lo: lo, hi: hi, loOpen: lop, hiOpen: hip, percent: p.map { _ in next() })
        case .date: copy.parts = .date(lo: next(), hi: next(), start: next(), end: next(), shape: next(), anchor: next())
        case .hedge: copy.parts = .hedge(next())
        case .ref(let c, _, _, _): copy.parts = .ref(collection: c, key: next(), row: next(), display: next())
        }
        return copy
    }

    /// The same column with every SQL expression passed through `transform` (an aggregate
    /// over each of its parts).
    func reading(_ transform: (SQLExpr) -> SQLExpr) -> Parts {
        switch parts {
        case .single(let e): return .single(transform(e))
        case .number(let e, let p): return .number(transform(e), percent: p.map(transform))
        case .quantity(let v, let q, let u, let lo, let hi, let lop, let hip, let p):
            return .quantity(value: transform(v), qualifier: q.map(transform), upper: u.map(transform), lo: transform(lo), hi: transform(hi),
                             loOpen: transform(lop), hiOpen: transform(hip), percent: p.map(transform))
        case .date(let lo, let hi, let start, let end, let shape, let anchor):
            return .date(lo: transform(lo), hi: transform(hi), start: transform(start), end: transform(end),
                         shape: transform(shape), anchor: transform(anchor))
        case .hedge(let r): return .hedge(transform(r))
        case .ref(let c, let k, let r, let d): return .ref(collection: c, key: transform(k), row: transform(r), display: transform(d))
        }
    }

    /// What a decoder needs to turn this column's cells back into values.
    var shape: SQLOutputColumn.Shape {
        switch parts {
        case .single:
            switch type {
            case .bool: return .bool
            case .percent: return .percent
            case .list: return .list
            default: return .text
            }
        case .number(_, let p): return .number(percent: p != nil)
        case .quantity(_, let q, let u, _, _, _, _, let p): return .quantity(qualifier: q != nil, upper: u != nil, percent: p != nil)
        case .date: return .date
        case .hedge: return .hedge
        case .ref(let c, _, _, _): return .ref(c)
        }
    }
}

/// One column of a statement's result, and how its SQL cells read back.
struct SQLOutputColumn: Sendable {
    var column: ResultColumn
    var shape: Shape

    enum Shape: Sendable, Equatable {
        case text, bool, percent, list, hedge, date
        case number(percent: Bool)
        case quantity(qualifier: Bool, upper: Bool, percent: Bool)
        case ref(String)

        /// How many SQL cells the column takes.
        var width: Int {
            switch self {
            case .text, .bool, .percent, .list, .hedge: return 1
            case .number(let p): return p ? 2 : 1
            case .quantity(let q, let u, let p): return 5 + (q ? 1 : 0) + (u ? 1 : 0) + (p ? 1 : 0)
            case .date: return 6
            case .ref: return 3
            }
        }
    }

    /// The value of this column in `cells` (exactly ``Shape/width`` of them), as the
    /// in-memory engine would give it.
    func decode(_ cells: ArraySlice<String?>, hedges: HedgeScale) throws(SQLError) -> Value {
        var it = cells.makeIterator()
        let first = it.next() ?? nil
        func double(_ s: String?) throws(SQLError) -> Double? {
            guard let s else { return nil }
            switch s {
            case "Infinity", "inf": return .infinity
            case "-Infinity", "-inf": return -.infinity
            default:
                guard let d = Double(s) else { throw SQLError("the database gave '\(s)' for the number column '\(column.name)'") }
                return d
            }
        }
        func int(_ s: String?) throws(SQLError) -> Int? {
            guard let s else { return nil }
            guard let i = Int(s) else { throw SQLError("the database gave '\(s)' for a whole number of column '\(column.name)'") }
            return i
        }
        func bool(_ s: String?) -> Bool? { s.map { $0 == "t" || $0 == "true" || $0 == "1" } }
        switch shape {
        case .text:
            return first.map(Value.string) ?? .null
        case .bool:
            return bool(first).map(Value.bool) ?? .null
        case .percent:
            return try double(first).map(Value.percent) ?? .null
        case .list:
            guard let first else { return .null }
            guard let json = try? JSONParser.parse(Array(first.utf8)), case .array = json else {
                throw SQLError("the database gave '\(first)' for the list column '\(column.name)'")
            }
            return listValue(json)
        case .hedge:
            guard let r = try int(first) else { return .null }
            guard r >= 0, r < hedges.words.count else { throw SQLError("the database gave hedge rank \(r), which the KB's scale does not have") }
            return .hedge(rank: r, word: hedges.words[r])
        case .number(let hasPercent):
            guard let x = try double(first) else { return .null }
            let percent = hasPercent ? bool(it.next() ?? nil) ?? false : false
            return percent ? .percent(x) : .number(x)
        case .quantity(let hasQualifier, let hasUpper, let hasPercent):
            let word = hasQualifier ? (it.next() ?? nil) : nil
            let upper = hasUpper ? try double(it.next() ?? nil) : nil
            for _ in 0..<4 { _ = it.next() }
            let percent = hasPercent ? bool(it.next() ?? nil) ?? false : false
            guard let x = try double(first) else { return .null }
            // What KBCollection.value does for a stored quantity.
            let q = Quantity(x, qualifier: word, upper: upper, percent: percent) ?? Quantity(exactly: x, percent: percent)
            return q.isExact && q.isPercent ? .percent(x) : .quantity(q)
        case .date:
            _ = it.next()
            let start = it.next() ?? nil, hi = it.next() ?? nil, shape = it.next() ?? nil, anchor = it.next() ?? nil
            guard first != nil, let lo = try int(start) else { return .null }
            guard let h = try int(hi), let s = try int(shape), let a = try int(anchor),
                  let d = PartialDate(lo: Int32(clamping: lo), hi: Int32(clamping: h), shape: s, anchor: Int32(clamping: a))
            else { throw SQLError("the database gave an incomplete date for column '\(column.name)'") }
            return .date(d)
        case .ref(let collection):
            let row = it.next() ?? nil, display = it.next() ?? nil
            guard let key = first else { return .null }
            return .ref(RowRef(collection: collection, key: key, display: display ?? key, row: try int(row) ?? -1))
        }
    }

    private func listValue(_ j: JSON) -> Value {
        switch j {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .array(let items): return .list(items.map(listValue))
        case .object: return .string("")
        }
    }
}
