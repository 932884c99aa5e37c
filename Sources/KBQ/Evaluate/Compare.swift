import Synchronization

/// What `compare` reads from each row.
struct CompareSpec: Sendable {
    let key: Eval
    let measure: Eval
    let hedge: Eval?
    let sentence: Eval?
    let unit: Eval?
    let columns: [ResultColumn]
    let measureName: String
    /// The compared field's name made plural ("sources"), for the summary's labels.
    let groupLabel: String
    /// Integer forms of the key, unit, hedge and sentence, when all are stored columns.
    let ids: CompareIDs?
    /// What the compared rows say they infer, when their collection says (an extra column).
    let provenance: CompareProvenance?
    /// What each stored row shows that depends on the row alone, kept across runs.
    let rowFacts = CompareRowMemo()

    init(key: @escaping Eval, measure: @escaping Eval, hedge: Eval?, sentence: Eval?, unit: Eval?,
         columns: [ResultColumn], measureName: String, ids: CompareIDs? = nil, provenance: CompareProvenance? = nil) {
        self.ids = ids
        self.provenance = provenance
        self.key = key
        self.measure = measure
        self.hedge = hedge
        self.sentence = sentence
        self.unit = unit
        self.columns = columns
        self.measureName = measureName
        self.groupLabel = plural(columns[0].name)
    }
}

/// Reads the provenance fields (docs/KB-FORMAT.md, "Stated or inferred") of the compared
/// rows: which of the fields compare shows are inferred, and why, so that a value the KB
/// infers (an attribution) is never shown as if its source stated it.
final class CompareProvenance: Sendable {
    let inferred: Eval
    let reason: Eval?
    let id: Eval?
    /// The fields compare shows, by name: only their inferences are its business.
    let shown: [String]
    /// The compared field's name, when it is a field of the rows.
    let keyField: String?

    /// A row's inferred fields among those shown, and the note that says why. A class: a
    /// group keeps it and a result row shows it, each with one reference.
    final class Inference: Sendable {
        let fields: [String]
        /// `fields` as compare's "inferred" column shows them, made once: a group of one
        /// inferring row (the usual case) shows this value as it is, with no list built per run.
        let shown: Value
        let note: String

        init(fields: [String], note: String) {
            self.fields = fields
            self.shown = .list(fields.map(Value.string))
            self.note = note
        }
    }

    init(inferred: @escaping Eval, reason: Eval?, id: Eval?, shown: [String], keyField: String?) {
        self.inferred = inferred
        self.reason = reason
        self.id = id
        self.shown = shown
        self.keyField = keyField
    }

    /// What row `r` infers of the shown fields (nil: nothing), its group's key being `key`.
    func inference(row r: Int, key: Value, _ env: Env) -> Inference? {
        guard case .list(let fields) = inferred(r, env), !fields.isEmpty else { return nil }
        let named = fields.map(\.text).filter { shown.contains($0) }
        if named.isEmpty { return nil }
        let id = self.id.map { $0(r, env).text } ?? ""
        let reason = self.reason.map { $0(r, env) }.flatMap { $0.isNull ? nil : $0.text } ?? ""
        let what = named.count == 1 && named[0] == keyField ? " (\(key.text))" : ""
        return Inference(fields: named, note: "inferred: the \(named.joined(separator: " and ")) of \(id.isEmpty ? "a row" : id)\(what) — \(reason)")
    }
}

/// What `compare` shows of one stored row that depends on that row alone: its sentence as
/// the sentence column shows it (a list) and what it infers of the shown fields.
final class CompareRowFacts: Sendable {
    let sentences: Value
    let inference: CompareProvenance.Inference?

    init(sentence: Value, inference: CompareProvenance.Inference?) {
        switch sentence {
        case .list: self.sentences = sentence
        case .null: self.sentences = .list([])
        default: self.sentences = .list([sentence])
        }
        self.inference = inference
    }
}

/// Each stored row's ``CompareRowFacts``, made on the first run that shows the row and kept
/// for the plan's life: a prepared query run many times would otherwise read each row's
/// sentence and inferred fields and build the same one-sentence list on every run (and the
/// same note, a few hundred bytes, for a row that infers). Stored rows' numbers mean the
/// same row on every run (the KB is immutable), so a parameter that selects other rows
/// finds those rows' own facts. Only the first `memoRows` rows of a collection are kept (at
/// most that many small objects): an array by row number, so a run finds a row without hashing.
final class CompareRowMemo: Sendable {
    private let memo = Mutex<[CompareRowFacts?]>([])
    static let memoRows = 4096

    /// Row `r`'s facts, its group's key being `key` (a stored row's key is the row's own).
    func facts(row r: Int, key: Value, _ spec: CompareSpec, _ env: Env) -> CompareRowFacts {
        let memoised = r < CompareRowMemo.memoRows
        if memoised, let known = memo.withLock({ r < $0.count ? $0[r] : nil }) { return known }
        let found = CompareRowFacts(sentence: spec.sentence?(r, env) ?? .null,
                                    inference: spec.provenance?.inference(row: r, key: key, env))
        if memoised {
            memo.withLock {
                if r >= $0.count { $0 += repeatElement(nil, count: r + 1 - $0.count) }
                $0[r] = found
            }
        }
        return found
    }
}

/// A stored row's key, unit and hedge as integers: equal values have equal
/// integers (interned strings, row numbers of references, hedge ranks; -1 for none), so
/// rows are grouped without building a value for each.
struct CompareIDs: Sendable {
    let key: @Sendable (Int) -> Int
    let unit: (@Sendable (Int) -> Int)?
    /// The hedge's rank (larger is weaker); -1 when the row has none.
    let hedge: (@Sendable (Int) -> Int)?
}

/// One group of `compare`: the rows that share the compared field's value (within one
/// unit). Its figures are kept up to date as rows arrive, so nothing is recomputed when the
/// groups are sorted and summarized. A class: a group is big, and a struct's copies (which
/// the optimizer does not always avoid) cost more than one allocation.
final class CompareGroup {
    var key: Value
    /// The unit's block (index into the units seen).
    var block: Int
    /// How many rows give a value.
    var count = 0
    /// Rows of the group whose measure is null: the source is mentioned but gives no value.
    var unstated = 0
    var hedge: Value = .null
    /// The first stated value.
    var first: Value = .null
    /// The lowest and highest stated values.
    var low: Quantity?
    var high: Quantity?
    private var spanLo: Quantity?
    private var spanHi: Quantity?
    private var numeric = 0
    /// The first row's sentence, and those of the rows after it (most groups have one row).
    var sentence: Value = .null
    var moreSentences: [Value] = []
    var rows = 0
    /// For `groupStoredRows`: the key's integer form, the weakest hedge's rank and row, and
    /// the group's rows (first, then the others).
    var keyID = 0
    var hedgeRank = -1
    var hedgeRow = -1
    var firstRow = -1
    var moreRows: [Int] = []
    /// The group has rows in `moreRows`. Kept beside it because reading an array that a
    /// class holds is checked for exclusive access at run time, and most groups have one row.
    var hasMoreRows = false
    /// What the group's rows infer of the shown fields: the first inferring row's inference
    /// (most groups have at most one), then the others'.
    var inference: CompareProvenance.Inference?
    var moreInferences: [CompareProvenance.Inference] = []
    var hasMoreInferences = false

    init(key: Value, block: Int) {
        self.key = key
        self.block = block
    }

    /// Takes the value (`consuming`): the group keeps the first, and a copy of a value costs
    /// more than a move.
    func add(_ v: consuming Value) {
        if v.isNull { unstated += 1; return }
        count += 1
        let q = quantity(of: v)
        if count == 1 { first = v }
        guard let q else { return }
        numeric += 1
        if low.map({ q.value < $0.value }) ?? true { low = q }
        if high.map({ q.value > $0.value }) ?? true { high = q }
        if spanLo.map({ q.lo < $0.lo }) ?? true { spanLo = q }
        if spanHi.map({ q.hi > $0.hi }) ?? true { spanHi = q }
    }

    func addInference(_ found: CompareProvenance.Inference?) {
        guard let found else { return }
        if inference == nil { inference = found } else { moreInferences.append(found); hasMoreInferences = true }
    }

    /// The shown fields any of the group's rows infer, as compare's "inferred" column shows
    /// them, and a note for each inferring row.
    func inferredColumn(notes: inout [String]) -> Value {
        guard let first = inference else { return .list([]) }
        notes.append(first.note)
        if !hasMoreInferences { return first.shown }
        var fields = first.fields
        for i in moreInferences {
            notes.append(i.note)
            for f in i.fields where !fields.contains(f) { fields.append(f) }
        }
        return .list(fields.map(Value.string))
    }

    func addSentence(_ s: Value) {
        rows += 1
        if rows == 1 { sentence = s } else { moreSentences.append(s) }
    }

    /// The sentences of the group's rows, as one list.
    var sentences: Value {
        if rows <= 1 {
            // One row (most groups): its sentence as a list, or its list as it is.
            switch sentence {
            case .list: return sentence
            case .null: return .list([])
            default: return .list([sentence])
            }
        }
        var list: [Value] = []
        for s in [sentence] + moreSentences {
            switch s {
            case .list(let l): list += l
            case .null: break
            default: list.append(s)
            }
        }
        return .list(list)
    }

    /// The interval every value of the group lies in.
    var span: Quantity? {
        guard let a = spanLo, let b = spanHi else { return nil }
        return numeric == 1 ? a : Quantity(lo: a.lo, hi: b.hi, loOpen: a.loOpen, hiOpen: b.hiOpen, percent: a.isPercent)
    }

    /// The group's value: its one value, or the range its values span.
    var value: Value {
        if count == 1 { return first }
        guard let span else { return .null }
        return span.isExact ? first : .quantity(span)
    }
}

/// `compare FIELD on MEASURE`: one row per value of FIELD, side by side, with the spread
/// between them; rows in different units are compared separately, never mixed.
func compareRows(_ rows: Rows, _ spec: CompareSpec, _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    try env.tick(rows.count)
    var units = UnitList()
    var building: [CompareGroup] = []
    building.reserveCapacity(min(rows.count, 16))
    // Past a few groups, finding a row's group by looking at each one would make compare
    // quadratic in the number of groups.
    var index: [CompareKey: Int] = [:]
    // A loop, not a function per row: a nested function would capture `groups` in a box,
    // and every read of a group through the box copies it.
    var sel: [Int32]?
    if case .stored(_, let s) = rows { sel = s }
    if case .stored = rows, let ids = spec.ids {
        try groupStoredRows(sel, count: rows.count, spec, ids, env, units: &units, groups: &building)
    } else {
        for k in 0..<rows.count {
            // The rows were counted as work up front; the clock is read as they are grouped.
            if k & 4095 == 4095 { try env.checkStop() }
            let r: Int
            if let sel { r = Int(sel[k]) } else { r = k }
            var b = 0
            if let readUnit = spec.unit {
                let unit = readUnit(r, env)
                if units.count >= 1 && units[0] == unit {
                    b = 0
                } else if let i = units.firstIndex(of: unit) {
                    b = i
                } else {
                    units.append(unit)
                    b = units.count - 1
                }
            } else if units.isEmpty {
                units.append(.null)
            }
            let key = spec.key(r, env)
            var g = -1
            if building.count <= 8 {
                for i in building.indices where building[i].block == b && building[i].key == key { g = i; break }
            } else {
                if index.isEmpty { for (i, x) in building.enumerated() { index[CompareKey(block: x.block, key: x.key)] = i } }
                g = index[CompareKey(block: b, key: key)] ?? -1
            }
            if g < 0 {
                g = building.count
                if !index.isEmpty { index[CompareKey(block: b, key: key)] = g }
                building.append(CompareGroup(key: key, block: b))
            }
            building[g].add(spec.measure(r, env))
            if let h = spec.hedge?(r, env), !h.isNull {
                // The group is only as firm as its weakest row.
                if case .hedge(let rank, _) = h, case .hedge(let old, _) = building[g].hedge, old >= rank {} else {
                    building[g].hedge = h
                }
            }
            if let read = spec.sentence { building[g].addSentence(read(r, env)) }
            if let p = spec.provenance { building[g].addInference(p.inference(row: r, key: building[g].key, env)) }
        }
    }
    var out: [[Value]] = []
    out.reserveCapacity(building.count)
    var summaries: [Summary] = []
    var notes: [String] = []
    var bars: [Chart.Bar] = []
    bars.reserveCapacity(building.count)
    let hasUnit = spec.unit != nil, hasHedge = spec.hedge != nil, hasSentence = spec.sentence != nil, hasInferred = spec.provenance != nil
    // A result row's width: the key, count and value, then the columns the rows have.
    let width = 3 + (hasUnit ? 1 : 0) + (hasHedge ? 1 : 0) + (hasSentence ? 1 : 0) + (hasInferred ? 1 : 0)
    let manyUnits = hasUnit && units.count > 1
    if manyUnits {
        let named = (0..<min(units.count, 20)).map { units[$0].isNull ? "none" : units[$0].text }.joined(separator: ", ") + (units.count > 20 ? ", …" : "")
        notes.append("the rows are in \(units.count) units (\(named)); each unit is compared on its own")
    }
    // The groups of each unit, in one pass (filtering all groups once per unit was
    // quadratic when each row had a unit of its own).
    var byBlock: [[CompareGroup]] = []
    if units.count > 1 {
        byBlock = [[CompareGroup]](repeating: [], count: units.count)
        for g in building { byBlock[g.block].append(g) }
        building = []
    }
    for b in 0..<units.count {
        // Between units, for Ctrl-C and the time limit: the rows were counted as they were
        // grouped, so one unit (the usual compare) needs no look at the clock here.
        if b > 0 { try env.checkStop() }
        let unit = units[b]
        var groups: [CompareGroup]
        if units.count == 1 { groups = building; building = [] } else { groups = byBlock[b]; byBlock[b] = [] }
        // Largest value first; groups with no value last.
        groups.sort { a, b in
            switch (a.high?.value, b.high?.value) {
            case (let x?, let y?): return x > y
            case (_?, nil): return true
            default: return false
            }
        }
        // Each unit is drawn to its own scale: bars in shells and in containers must not be
        // read against each other.
        var blockMax = 0.0
        for g in groups { if let v = g.high?.value, v.isFinite { blockMax = max(blockMax, abs(v)) } }
        for g in groups {
            let value = g.value
            var row: [Value]
            if width == 7 {
                // Every column (a collection with units, hedges, sentences and provenance, as
                // the article KB's): one array literal, allocated at its size, where reserving
                // room and appending cost twice as much (and `unsafeUninitializedCapacity`
                // looks the array's type up at run time, more again).
                row = [g.key, .number(Double(g.count)), value, unit, g.hedge, g.sentences, g.inferredColumn(notes: &notes)]
            } else {
                row = []
                row.reserveCapacity(width)
                row.append(g.key)
                row.append(.number(Double(g.count)))
                row.append(value)
                if hasUnit { row.append(unit) }
                if hasHedge { row.append(g.hedge) }
                if hasSentence { row.append(g.sentences) }
                if hasInferred { row.append(g.inferredColumn(notes: &notes)) }
            }
            out.append(row)
            if let v = g.high?.value, v.isFinite {
                if manyUnits {
                    bars.append(Chart.Bar(label: "\(g.key.text) (\(unit.text))", value: blockMax > 0 ? v / blockMax : v, shown: value))
                } else {
                    bars.append(Chart.Bar(label: g.key.text, value: v, shown: value))
                }
            }
            if g.count == 0 {
                notes.append("\(g.key.isNull ? "(no \(spec.columns[0].name))" : g.key.text) is mentioned but gives no value" +
                             (g.hedge.isNull ? "" : " (\(g.hedge.text))"))
            }
        }
        summaries.append(summarize(groups, title: manyUnits ? (unit.isNull ? "no unit" : unit.text) : nil, groupLabel: spec.groupLabel))
    }
    var decorations = Decorations()
    if case .table(let old) = rows {
        decorations = old.decorations
        decorations.notes += notes
        decorations.summaries += summaries
    } else {
        decorations.notes = notes
        decorations.summaries = summaries
    }
    if !bars.isEmpty { decorations.chart = .bars(bars) }
    return .table(Table(columns: spec.columns, rows: out, decorations: decorations))
}

/// `compareRows`' grouping for stored rows whose key, unit and hedge have integer
/// forms: per row, only the measure is read as a value; the other values are read once per
/// group (the key, the unit, the weakest hedge) or once per row at the end (sentences).
private func groupStoredRows(_ sel: [Int32]?, count n: Int, _ spec: CompareSpec, _ ids: CompareIDs, _ env: Env,
                             units: inout UnitList, groups: inout [CompareGroup]) throws(Diagnostic) {
    // Nothing here allocates for the usual few rows in one unit, one row per group.
    var firstUnit = Int.min
    var moreUnits: [Int] = []
    var unitIndex: [Int: Int] = [:]
    var index: [IDKey: Int] = [:]
    // The readers as locals: a closure called through a struct's field is retained and
    // released around every call.
    let keyID = ids.key, unitID = ids.unit, hedgeRank = ids.hedge
    let readKey = spec.key, readMeasure = spec.measure, readUnit = spec.unit
    let hasSentence = spec.sentence != nil || spec.provenance != nil
    for k in 0..<n {
        if k & 4095 == 4095 { try env.checkStop() }
        let r: Int
        if let sel { r = Int(sel[k]) } else { r = k }
        var b = 0
        if let unitID {
            let u = unitID(r)
            if u == firstUnit {
                b = 0
            } else if let i = moreUnits.count <= 8 ? moreUnits.firstIndex(of: u) : unitIndex[u] {
                b = i + 1
            } else {
                if units.isEmpty { firstUnit = u } else {
                    moreUnits.append(u)
                    if moreUnits.count > 8 {
                        if unitIndex.isEmpty { for (i, x) in moreUnits.enumerated() where unitIndex[x] == nil { unitIndex[x] = i } } else { unitIndex[u] = moreUnits.count - 1 }
                    }
                }
                units.append(readUnit?(r, env) ?? .null)
                b = units.count - 1
            }
        } else if units.isEmpty {
            units.append(.null)
        }
        let key = keyID(r)
        var g = -1
        if groups.count <= 8 {
            for i in groups.indices where groups[i].keyID == key && groups[i].block == b { g = i; break }
        } else {
            if index.isEmpty { for i in groups.indices { index[IDKey(block: groups[i].block, key: groups[i].keyID)] = i } }
            g = index[IDKey(block: b, key: key)] ?? -1
        }
        // One reference for the row's work: each read through the array is a retain.
        let group: CompareGroup
        if g < 0 {
            if !index.isEmpty { index[IDKey(block: b, key: key)] = groups.count }
            group = CompareGroup(key: readKey(r, env), block: b)
            group.keyID = key
            groups.append(group)
        } else {
            group = groups[g]
        }
        group.add(readMeasure(r, env))
        // The group is only as firm as its weakest row.
        if let h = hedgeRank?(r), h > group.hedgeRank {
            group.hedgeRank = h
            group.hedgeRow = r
        }
        if hasSentence {
            if group.firstRow < 0 { group.firstRow = r } else { group.moreRows.append(r); group.hasMoreRows = true }
        }
    }
    let hasSentenceColumn = spec.sentence != nil
    for group in groups {
        if let readHedge = spec.hedge, group.hedgeRow >= 0 { group.hedge = readHedge(group.hedgeRow, env) }
        guard hasSentence, group.firstRow >= 0 else { continue }
        let first = spec.rowFacts.facts(row: group.firstRow, key: group.key, spec, env)
        if hasSentenceColumn { group.addSentence(first.sentences) }
        group.addInference(first.inference)
        if group.hasMoreRows {
            for r in group.moreRows {
                let facts = spec.rowFacts.facts(row: r, key: group.key, spec, env)
                if hasSentenceColumn { group.addSentence(facts.sentences) }
                group.addInference(facts.inference)
            }
        }
    }
}

/// The units `compare` has seen, in order; the first kept inline, since most comparisons
/// are in one unit and need not allocate a list for it.
struct UnitList {
    private var first: Value = .null
    private var more: [Value] = []
    /// Past a few units, each unit's place: looking at each unit in turn made compare
    /// quadratic in the number of units (a KB with a unit per row).
    private var index: [Value: Int] = [:]
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(i: Int) -> Value { i == 0 ? first : more[i - 1] }

    /// Takes the value (`consuming`): a copy of a value costs more than a move.
    mutating func append(_ v: consuming Value) {
        let position = count
        if position >= 8 {
            if index.isEmpty { for i in 0..<position { index[self[i]] = index[self[i]] ?? i } }
            if index[copy v] == nil { index[copy v] = position }
        }
        count += 1
        if position == 0 { first = v } else { more.append(v) }
    }

    func firstIndex(of v: Value) -> Int? {
        if count > 0 && first == v { return 0 }
        if !index.isEmpty { return index[v] }
        return more.firstIndex(of: v).map { $0 + 1 }
    }

    var all: [Value] { (0..<count).map { self[$0] } }
}

/// A group's place in `groupStoredRows`' index.
private struct IDKey: Hashable {
    let block: Int
    let key: Int
}

/// A group's place in the index: its unit's block and its key.
private struct CompareKey: Hashable {
    let block: Int
    let key: Value
}

/// min, max, spread, ratio and relative spread of the groups' values, and whether their
/// intervals can agree.
func summarize(_ groups: [CompareGroup], title: String?, groupLabel: String = "groups") -> Summary {
    // Indexes rather than references: each reference taken out of the array is a retain.
    var valued = 0
    var lowG = -1, highG = -1, firstValued = -1
    for i in groups.indices where groups[i].count > 0 {
        valued += 1
        if firstValued < 0 { firstValued = i }
        // Equal stated values are told apart by their intervals: of "at least 5" and "up to 5"
        // the least is "up to 5".
        let l = groups[i].low, bl = lowG < 0 ? nil : groups[lowG].low
        if lowG < 0 || (l?.value ?? 0, l?.lo ?? 0) < (bl?.value ?? 0, bl?.lo ?? 0) { lowG = i }
        let h = groups[i].high, bh = highG < 0 ? nil : groups[highG].high
        if highG < 0 || (h?.value ?? 0, h?.hi ?? 0) > (bh?.value ?? 0, bh?.hi ?? 0) { highG = i }
    }
    guard lowG >= 0, highG >= 0, let lo = groups[lowG].low, let hi = groups[highG].high else {
        return Summary(title: title, figures: CompareFigures(groupLabel: groupLabel, groups: valued, low: nil, high: nil),
                       verdict: .text("no values to compare"))
    }
    let verdict: Summary.Verdict
    if valued < 2 {
        if firstValued >= 0, groups[firstValued].count > 1 {
            let g = groups[firstValued]
            verdict = .oneGroup(groupLabel: groupLabel, key: g.key, count: g.count, span: g.value)
        } else {
            verdict = .text(valued == 1 ? "one value only: nothing to compare it with" : "no values to compare")
        }
    } else {
        var disjoint: (Int, Int)?
        if groups.count <= 64 {
            // The first pair in the order shown.
            outer: for i in groups.indices where groups[i].count > 0 {
                guard let a = groups[i].span else { continue }
                for j in (i + 1)..<groups.count where groups[j].count > 0 {
                    if let b = groups[j].span, !a.overlaps(b) { disjoint = (i, j); break outer }
                }
            }
        } else {
            // Every pair would be quadratic in the groups (a million of them: hours).
            disjoint = disjointPair(groups.count, interval: { groups[$0].count > 0 ? groups[$0].span : nil }, owner: { $0 })
        }
        if let (i, j) = disjoint {
            verdict = .conflict(groups[i].key, groups[i].value, groups[j].key, groups[j].value)
        } else if hi.value == lo.value, groups.allSatisfy({ $0.count == 0 || ($0.span?.isExact ?? false) }) {
            // Only exact values can be the same: "at least 5" and "up to 5" share 5 alone.
            verdict = .text("agreement: every value is the same")
        } else {
            verdict = .text("possible agreement: the values' intervals overlap")
        }
    }
    return Summary(title: title, figures: CompareFigures(groupLabel: groupLabel, groups: valued, low: lo, high: hi), verdict: verdict)
}

/// The spread of `lo`…`hi` as a percentage of the larger of their magnitudes: 13,000 and
/// 16,500 differ by 21%, and so do -13,000 and -16,500 (dividing by the maximum would give
/// 27% for those, and 500% for -20 and 5); nil when both are 0.
func relativeSpread(_ lo: Double, _ hi: Double) -> Double? {
    let scale = max(abs(lo), abs(hi))
    return scale > 0 ? (hi - lo) / scale * 100 : nil
}

/// A field name made plural for a label: source → sources.
func plural(_ word: String) -> String {
    if word.hasSuffix("s") { return word }
    if word.hasSuffix("y"), let c = word.dropLast().last, !"aeiou".contains(c) { return word.dropLast() + "ies" }
    return word + "s"
}

/// Adds each row's paragraph and sentence text; and, for a row of `origin` that has fields
/// the KB infers rather than the source states, a note saying which, why, and from what.
func citeRows(_ rows: Rows, columns: [ResultColumn], _ env: Env, origin: KBCollection?, sentence: (Int, Env) -> Value) throws(Diagnostic) -> Rows {
    var t = materialize(rows, env)
    env.table = t.rows
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    var inferred: [String] = []
    for (k, r) in idx.enumerated() {
        if let origin {
            var row: Int?
            if case .stored = rows { row = r } else if case .table(let from) = rows, let o = from.origin, k < o.count { row = Int(o[k]) }
            if let row, row >= 0, row < origin.count, let p = rowProvenance(origin, row, env.kb), !p.fields.isEmpty { inferred.append("inferred: " + p.note) }
        }
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
    t.decorations.notes += inferred
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

/// A pair of items with different owners whose intervals cannot overlap, if there is one,
/// found in linear time: the interval that ends lowest against the one that starts highest
/// (when one owner has both, each of them against the best of the other owners). If any
/// interval X of one owner lies below an interval Y of another, the lowest end is at most
/// X's and the highest start at least Y's, so one of those pairs lies apart too.
/// The pair is given in index order.
func disjointPair(_ n: Int, interval: (Int) -> Quantity?, owner: (Int) -> Int) -> (Int, Int)? {
    // An open end is a little lower than a closed one at the same number; an open start a
    // little higher.
    func endsBefore(_ a: Quantity, _ b: Quantity) -> Bool { a.hi < b.hi || (a.hi == b.hi && a.hiOpen && !b.hiOpen) }
    func startsAfter(_ a: Quantity, _ b: Quantity) -> Bool { a.lo > b.lo || (a.lo == b.lo && a.loOpen && !b.loOpen) }
    /// The item `better` puts first, among those not of owner `o`.
    func best(excluding o: Int?, _ better: (Quantity, Quantity) -> Bool) -> Int? {
        var best: Int?
        for i in 0..<n {
            guard let q = interval(i), o == nil || owner(i) != o else { continue }
            if let b = best, let bq = interval(b), !better(q, bq) { continue }
            best = i
        }
        return best
    }
    func lowestEnd(excluding o: Int?) -> Int? { best(excluding: o, endsBefore) }
    func highestStart(excluding o: Int?) -> Int? { best(excluding: o, startsAfter) }
    func apart(_ i: Int?, _ j: Int?) -> (Int, Int)? {
        guard let i, let j, i != j, owner(i) != owner(j), let a = interval(i), let b = interval(j), !a.overlaps(b) else { return nil }
        return (min(i, j), max(i, j))
    }
    guard let a = lowestEnd(excluding: nil), let b = highestStart(excluding: nil) else { return nil }
    if owner(a) != owner(b) { return apart(a, b) }
    return apart(lowestEnd(excluding: owner(a)), b) ?? apart(a, highestStart(excluding: owner(a)))
}
