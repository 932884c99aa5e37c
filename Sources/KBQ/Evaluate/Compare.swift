/// What `compare` reads from each row.
struct CompareSpec: Sendable {
    let key: Eval
    let measure: Eval
    let hedge: Eval?
    let sentence: Eval?
    let unit: Eval?
    let columns: [ResultColumn]
    let measureName: String
}

/// One group of `compare`: the rows that share the compared field's value.
struct CompareGroup {
    var key: Value
    var values: [Value] = []
    var hedge: Value = .null
    var sentences: [Value] = []
    /// Rows of the group whose measure is null: the source is mentioned but gives no value.
    var unstated = 0

    var low: Quantity? { values.compactMap(quantity(of:)).min { $0.value < $1.value } }
    var high: Quantity? { values.compactMap(quantity(of:)).max { $0.value < $1.value } }

    /// The group's value: its one value, or the range its values span.
    var value: Value {
        if values.count == 1 { return values[0] }
        guard let span else { return .null }
        if span.isExact { return values[0] }
        return .quantity(span)
    }

    /// The interval every value of the group lies in.
    var span: Quantity? {
        let qs = values.compactMap(quantity(of:))
        guard let lo = qs.min(by: { $0.lo < $1.lo }), let hi = qs.max(by: { $0.hi < $1.hi }) else { return nil }
        if qs.count == 1 { return qs[0] }
        return Quantity(lo: lo.lo, hi: hi.hi, loOpen: lo.loOpen, hiOpen: hi.hiOpen, percent: lo.isPercent)
    }
}

/// `compare FIELD on MEASURE`: one row per value of FIELD, side by side, with the spread
/// between them; rows in different units are compared separately, never mixed.
func compareRows(_ rows: Rows, _ spec: CompareSpec, _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    var blocks: [(unit: Value, groups: [CompareGroup])] = []
    for r in idx {
        let unit = spec.unit?(r, env) ?? .null
        var b = blocks.firstIndex { $0.unit == unit } ?? -1
        if b < 0 { blocks.append((unit, [])); b = blocks.count - 1 }
        let key = spec.key(r, env)
        var g = blocks[b].groups.firstIndex { $0.key == key } ?? -1
        if g < 0 { blocks[b].groups.append(CompareGroup(key: key)); g = blocks[b].groups.count - 1 }
        let v = spec.measure(r, env)
        if v.isNull { blocks[b].groups[g].unstated += 1 } else { blocks[b].groups[g].values.append(v) }
        if let h = spec.hedge?(r, env), !h.isNull {
            // The group is only as firm as its weakest row.
            if case .hedge(let rank, _) = h, case .hedge(let old, _) = blocks[b].groups[g].hedge, old >= rank {} else {
                blocks[b].groups[g].hedge = h
            }
        }
        if let s = spec.sentence?(r, env) {
            if case .list(let l) = s { blocks[b].groups[g].sentences += l } else if !s.isNull { blocks[b].groups[g].sentences.append(s) }
        }
    }
    var out: [[Value]] = []
    var summaries: [Summary] = []
    var notes: [String] = []
    var bars: [Chart.Bar] = []
    let hasUnit = spec.unit != nil
    if hasUnit && blocks.count > 1 {
        notes.append("the rows are in \(blocks.count) units (\(blocks.map { $0.unit.isNull ? "none" : $0.unit.text }.joined(separator: ", "))); each unit is compared on its own")
    }
    for block in blocks {
        // Largest value first; groups with no value last.
        let groups = block.groups.sorted { a, b in
            switch (a.high?.value, b.high?.value) {
            case (let x?, let y?): return x > y
            case (_?, nil): return true
            default: return false
            }
        }
        for g in groups {
            var row: [Value] = [g.key, .number(Double(g.values.count)), g.value]
            if hasUnit { row.append(block.unit) }
            if spec.hedge != nil { row.append(g.hedge) }
            if spec.sentence != nil { row.append(.list(g.sentences)) }
            out.append(row)
            if let v = g.high?.value, v.isFinite {
                // Each unit is drawn to its own scale: bars in shells and in containers
                // must not be read against each other.
                let blockMax = groups.compactMap { $0.high?.value }.filter(\.isFinite).map(abs).max() ?? 1
                let label = blocks.count > 1 ? "\(g.key.text) (\(block.unit.text))" : g.key.text
                bars.append(Chart.Bar(label: label, value: blocks.count > 1 && blockMax > 0 ? v / blockMax : v, text: g.value.text))
            }
            if g.values.isEmpty {
                notes.append("\(g.key.isNull ? "(no \(spec.columns[0].name))" : g.key.text) is mentioned but gives no value" +
                             (g.hedge.isNull ? "" : " (\(g.hedge.text))"))
            }
        }
        summaries.append(summarize(groups, title: hasUnit && blocks.count > 1 ? (block.unit.isNull ? "no unit" : block.unit.text) : nil,
                                   groupLabel: plural(spec.columns[0].name)))
    }
    var t = Table(columns: spec.columns, rows: out)
    if case .table(let old) = rows { t.decorations = old.decorations }
    t.decorations.notes += notes
    t.decorations.summaries += summaries
    if !bars.isEmpty { t.decorations.chart = .bars(bars) }
    return .table(t)
}

/// min, max, spread, ratio and relative spread of the groups' values, and whether their
/// intervals can agree.
func summarize(_ groups: [CompareGroup], title: String?, groupLabel: String = "groups") -> Summary {
    let valued = groups.filter { !$0.values.isEmpty }
    var items: [SummaryItem] = [SummaryItem(label: groupLabel, value: .number(Double(valued.count)))]
    guard let lowG = valued.min(by: { ($0.low?.value ?? 0) < ($1.low?.value ?? 0) }),
          let highG = valued.max(by: { ($0.high?.value ?? 0) < ($1.high?.value ?? 0) }),
          let lo = lowG.low, let hi = highG.high else {
        return Summary(title: title, items: items, verdict: "no values to compare")
    }
    let percent = lo.isPercent
    func num(_ v: Double) -> Value { percent ? .percent(v) : .number(v) }
    items.append(SummaryItem(label: "min", value: .quantity(lo)))
    items.append(SummaryItem(label: "max", value: .quantity(hi)))
    let spread = hi.value - lo.value
    items.append(SummaryItem(label: "spread", value: num(spread)))
    items.append(SummaryItem(label: "ratio", value: lo.value > 0 ? .number((hi.value / lo.value * 100).rounded() / 100) : .null))
    items.append(SummaryItem(label: "relative spread", value: hi.value != 0 ? .percent((spread / abs(hi.value) * 100).rounded()) : .null))
    var verdict: String
    if valued.count < 2 {
        if let g = valued.first, g.values.count > 1 {
            verdict = "one \(groupLabel.dropLast()) only (\(g.key.text)): its \(g.values.count) values span \(g.value.text)"
        } else {
            verdict = valued.count == 1 ? "one value only: nothing to compare it with" : "no values to compare"
        }
    } else {
        var disjoint: (CompareGroup, CompareGroup)?
        outer: for i in valued.indices {
            for j in valued.indices where j > i {
                if let a = valued[i].span, let b = valued[j].span, !a.overlaps(b) { disjoint = (valued[i], valued[j]); break outer }
            }
        }
        if let (a, b) = disjoint {
            verdict = "conflict: \(a.key.text) (\(a.value.text)) and \(b.key.text) (\(b.value.text)) cannot both be right"
        } else if spread == 0 {
            verdict = "agreement: every value is the same"
        } else {
            verdict = "possible agreement: the values' intervals overlap"
        }
    }
    return Summary(title: title, items: items, verdict: verdict)
}

/// A field name made plural for a label: source → sources.
func plural(_ word: String) -> String {
    if word.hasSuffix("s") { return word }
    if word.hasSuffix("y"), let c = word.dropLast().last, !"aeiou".contains(c) { return word.dropLast() + "ies" }
    return word + "s"
}

/// Adds each row's paragraph and sentence text.
func citeRows(_ rows: Rows, columns: [ResultColumn], _ env: Env, sentence: (Int, Env) -> Value) throws(Diagnostic) -> Rows {
    var t = materialize(rows, env)
    env.table = t.rows
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    for (k, r) in idx.enumerated() {
        let s: Value
        if case .stored = rows { s = sentence(r, env) } else { s = sentence(k, env) }
        let refs: [RowRef]
        switch s {
        case .ref(let ref): refs = [ref]
        case .list(let l): refs = l.compactMap { if case .ref(let ref) = $0 { return ref }; return nil }
        default: refs = []
        }
        var paragraph: Value = .null
        var quotes: [String] = []
        for ref in refs {
            guard let c = env.kb.collection(ref.collection) else { continue }
            if paragraph.isNull, let p = c.value(row: ref.row, field: "paragraph", in: env.kb) { paragraph = p }
            if let q = c.value(row: ref.row, field: "text", in: env.kb), !q.isNull { quotes.append(q.text) }
        }
        t.rows[k].append(paragraph)
        t.rows[k].append(quotes.isEmpty ? .null : .string(quotes.joined(separator: " / ")))
    }
    t.columns = columns
    return .table(t)
}

/// Sorts by date (undated rows last) and draws the dates as a line.
func timelineRows(_ rows: Rows, date: @escaping Eval, label: Eval?, _ env: Env) throws(Diagnostic) -> Rows {
    let sorted = try sortRows(rows, [(date, false)], env)
    bind(sorted, env)
    var marks: [Chart.Mark] = []
    var undated = 0
    for r in rowIndexes(sorted) {
        guard case .date(let d) = date(r, env) else { undated += 1; continue }
        marks.append(Chart.Mark(date: d, label: label?(r, env).text ?? ""))
    }
    var t = materialize(sorted, env)
    if !marks.isEmpty { t.decorations.chart = .timeline(marks) }
    if undated > 0 { t.decorations.notes.append("\(undated) row\(undated == 1 ? " has" : "s have") no date and \(undated == 1 ? "is" : "are") listed last") }
    return .table(t)
}

/// Draws one bar per row.
func chartRows(_ rows: Rows, label: Eval, measure: Eval, unit: Eval?, _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    var bars: [(Chart.Bar, Value)] = []
    for r in rowIndexes(rows) {
        let v = measure(r, env)
        guard let n = v.number, n.isFinite else { continue }
        bars.append((Chart.Bar(label: label(r, env).text, value: n, text: v.text), unit?(r, env) ?? .null))
        if bars.count >= 200 { break }
    }
    // Bars in different units are each drawn to their own unit's scale and labelled so.
    let units = Set(bars.map(\.1))
    if units.count > 1 {
        var maxOf: [Value: Double] = [:]
        for (b, u) in bars { maxOf[u] = max(maxOf[u] ?? 0, abs(b.value)) }
        bars = bars.map { b, u in
            let m = maxOf[u] ?? 1
            return (Chart.Bar(label: "\(b.label) (\(u.isNull ? "no unit" : u.text))", value: m > 0 ? b.value / m : 0, text: b.text), u)
        }
    }
    var t = materialize(rows, env)
    t.decorations.chart = .bars(bars.map(\.0))
    if units.count > 1 { t.decorations.notes.append("the bars are in \(units.count) units, each drawn to its own scale") }
    return .table(t)
}
