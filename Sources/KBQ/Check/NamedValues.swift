/// What a string literal compared with a field names, known before anything runs.
///
/// A reference field compared with a name (`claims where source = "Trump"`) means the rows
/// it refers to that have that name, an alias, or that key, in any case, as `describe`
/// finds them; a source is also found by the names of its entity. And a literal that no
/// value of a text or reference field matches gets a warning of its own kind (`no-match`),
/// with the nearest values: a query that returns no rows must not look like "the article
/// does not say". Only the KB's schema and its dictionaries of interned strings are read,
/// never a collection's rows, except the names of a small referenced collection. For a KB
/// whose rows are in a database, those are what its metadata keeps (``RowsElsewhere``):
/// a dictionary it did not keep gives no warning rather than a false one.
extension Checker {
    /// A referenced collection up to this many rows has its names matched at check time;
    /// past it, a reference compares by key or display text as it runs.
    static let namedTargetRows = 4096
    /// A text field's dictionary up to this many strings is searched for near values when
    /// a literal matches none of them; past it the warning comes without suggestions.
    static let nearValueStrings = 100_000

    /// The condition for `a op b` when it compares a reference field with a name, as the
    /// rows that name picks (``CheckedExpr/Kind/refersTo(_:collection:rows:negated:)``); and
    /// the warning when a literal compared with a stored text or reference field matches
    /// nothing. Nil when the comparison is none of those (the caller keeps it as it is).
    mutating func namedValueComparison(_ a: CheckedExpr, _ op: BinaryOp, _ b: CheckedExpr, in scope: RowShape, listItem: Bool = false,
                                       range: SourceRange) -> CheckedExpr? {
        guard op == .eq || op == .ne, case .string(let literal)? = b.constant else { return nil }
        if case .ref(let targetName) = a.type, let target = kb.collection(targetName), kb.rowCount(of: target) <= Checker.namedTargetRows {
            let hits = rowsNamed(literal, in: target)
            if !hits.contains(true) {
                warnNoMatch(a, literal, names: names(of: target), at: b.range, in: scope, op: listItem ? nil : op,
                            elsewhere: otherReference(named: literal, than: target, in: scope))
            }
            let rows = hits.indices.filter { hits[$0] }
            return CheckedExpr(.refersTo(a, collection: target.name, rows: rows, negated: op == .ne), type: .bool, range: range)
        }
        if let (name, fi) = a.storedColumn, let c = kb.collection(name), let pool = kb.dictionary(of: c, field: fi),
           pool.lookup(literal) == nil {
            let values = pool.count <= Checker.nearValueStrings ? (0..<pool.count).map { pool[UInt32($0)] } : []
            warnNoMatch(a, literal, names: values, at: b.range, in: scope, op: listItem ? nil : op)
        }
        return nil
    }

    /// Which rows of `target` the name picks: by key, `name`, `title` or an alias, in any
    /// case and with either kind of quote mark; a row with an `entity` reference also by
    /// its entity's names (the source "Trump" is Donald Trump's).
    func rowsNamed(_ name: String, in target: KBCollection) -> [Bool] {
        let want = Checker.folded(name)
        var hits = [Bool](repeating: false, count: target.count)
        let entityFields = target.fields.enumerated().compactMap { i, f -> (Int, KBCollection)? in
            guard f.name == "entity", case .ref(let t) = f.type, let tc = kb.collection(t), tc !== target,
                  kb.rowCount(of: tc) <= Checker.namedTargetRows else { return nil }
            return (i, tc)
        }
        let entityHits = entityFields.map { rowsNamed(name, in: $0.1) }
        for r in 0..<target.count {
            if names(of: target, row: r).contains(where: { Checker.folded($0) == want }) { hits[r] = true; continue }
            for (k, (fi, _)) in entityFields.enumerated() {
                if case .ref(let refs) = target.columns[fi], refs[r] >= 0, Int(refs[r]) < entityHits[k].count, entityHits[k][Int(refs[r])] {
                    hits[r] = true
                }
            }
        }
        return hits
    }

    /// The names a row answers to: its name or title, aliases, and key (in the order
    /// suggestions prefer them).
    func names(of c: KBCollection, row r: Int) -> [String] {
        var out: [String] = []
        for f in ["name", "title"] {
            if let v = c.value(row: r, field: f, in: kb), !v.isNull { out.append(v.text) }
        }
        if case .list(let aliases)? = c.value(row: r, field: "aliases", in: kb) { out += aliases.map(\.text) }
        if let k = c.key, let v = c.value(row: r, field: k, in: kb), !v.isNull { out.append(v.text) }
        return out
    }

    /// Every name of every row of `c`, for suggestions.
    func names(of c: KBCollection) -> [String] {
        var out: [String] = []
        for r in 0..<c.count { out += names(of: c, row: r).filter { !out.contains($0) } }
        return out
    }

    static func folded(_ s: String) -> String { foldingQuoteMarks(s).lowercased().trimmingSpaces }

    /// Another reference field of the rows whose collection has a row of that name: "Ukrainian
    /// intelligence" is no actor of an event, but it is an event's source.
    func otherReference(named literal: String, than target: KBCollection, in scope: RowShape) -> (field: String, collection: String)? {
        for col in scope.columns {
            guard case .ref(let t) = col.type, t != target.name, let other = kb.collection(t), kb.rowCount(of: other) <= Checker.namedTargetRows,
                  rowsNamed(literal, in: other).contains(true) else { continue }
            return (col.name, other.name)
        }
        return nil
    }

    /// Records that `literal` matches no value of the field `a` reads, with the values
    /// nearest to it; `elsewhere` is another field of the rows that the name is a value of.
    /// `op` is nil for an item of an `in` list.
    mutating func warnNoMatch(_ a: CheckedExpr, _ literal: String, names: [String], at range: SourceRange, in scope: RowShape, op: BinaryOp?,
                              elsewhere: (field: String, collection: String)? = nil) {
        let column = a.storedColumn.flatMap { c in kb.collection(c.collection).map { ($0, c.field) } }
        let field = column.map { $0.0.fields[$0.1].name } ?? "that field"
        let collection = column?.0.name ?? scope.stored ?? "rows"
        // A name of another field's rows: that field is the hint, not a near spelling.
        let near = elsewhere == nil ? Checker.nearest(literal, among: names) : []
        var message = "no \(collection) have \(field) \"\(sanitizeForTerminal(literal))\""
        if !near.isEmpty { message += "; did you mean " + near.map { "\"\(sanitizeForTerminal($0))\"" }.joined(separator: " or ") + "?" }
        var notes: [String] = []
        if let elsewhere {
            notes.append("\"\(sanitizeForTerminal(literal))\" is one of \(elsewhere.collection), which \(elsewhere.field) refers to: \(elsewhere.field) = \"\(sanitizeForTerminal(literal))\"")
        }
        if let first = near.first, Checker.folded(first) == Checker.folded(literal), case .string = a.type {
            notes.append("text compares case by case: \"\(sanitizeForTerminal(literal))\" is not \"\(sanitizeForTerminal(first))\"")
        }
        switch op {
        case .eq?:
            notes.append("the condition can keep no row, so the result will be empty for that reason")
            // A word rather than a value ("nuclear" for a topic): say how to look for it.
            if case .string = a.type, Checker.folded(near.first ?? "") != Checker.folded(literal) {
                let quoted = "\"" + sanitizeForTerminal(literal).replacingOccurrences("\"", "\\\"") + "\""
                let text = field != "text" && scope.index(of: "text").map { scope.columns[$0].type == .string } == true
                notes.append("for the rows whose \(field) holds it as a part: \(field) contains \(quoted)" + (text ? "; whose text mentions it: text contains \(quoted)" : ""))
            }
            if near.isEmpty && names.count <= 30 && !names.isEmpty {
                notes.append("\(collection) have \(field): " + names.sorted().map { "\"\(sanitizeForTerminal($0))\"" }.joined(separator: ", "))
            }
        case .ne?: notes.append("the condition holds for every row that has a \(field)")
        default: notes.append("this item of the list matches no row")
        }
        warnings.append(Diagnostic(.noMatch, message, at: range, notes: notes))
    }

    /// Up to three values near `word`: the same in another case, then those that hold it
    /// as a word (or it them), then the closest by spelling.
    static func nearest(_ word: String, among values: [String]) -> [String] {
        let w = folded(word)
        guard !w.isEmpty else { return [] }
        var out: [String] = []
        func add(_ s: String) { if out.count < 3 && !out.contains(s) { out.append(s) } }
        for v in values where folded(v) == w { add(v) }
        let words = Set(w.split(separator: " "))
        for v in values {
            let f = folded(v)
            let vw = Set(f.split(separator: " "))
            if vw.isSuperset(of: words) || words.isSuperset(of: vw) && !vw.isEmpty { add(v) }
        }
        if out.isEmpty, let s = suggest(word, from: values) { add(s) }
        // Part of a longer word: "nuclear" in "denuclearization".
        if out.isEmpty && w.count >= 4 { for v in values where folded(v).contains(w) { add(v) } }
        // A slip inside one word of a longer value: "shels" for "artillery shells".
        if out.isEmpty {
            for v in values where folded(v).split(separator: " ").contains(where: { vw in words.contains { suggest(String($0), from: [String(vw)]) != nil } }) {
                add(v)
            }
        }
        return out
    }
}
