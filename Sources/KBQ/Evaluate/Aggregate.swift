/// What an aggregate computes over a group's values.
enum Aggregation: String, Sendable {
    case count, sum, avg, min, max, spread
}

/// One aggregate of `group by … aggregate`. A class: the run reads it for every row and
/// group, and a struct of a closure, a unit reader and a string was copied (retained and
/// released field by field) at each read.
final class AggregateSpec: Sendable {
    let function: Aggregation
    /// The argument; nil for `count()`.
    let argument: Eval?
    let type: FieldType
    /// The unit of each row's value, when the rows carry one and the groups do not keep
    /// units apart: values in different units are never added up, nor set against each
    /// other by min or max.
    let unit: UnitReader?
    /// The aggregate as written, and where, for the error that refuses mixed units.
    let text: String
    let range: SourceRange?

    init(function: Aggregation, argument: Eval?, type: FieldType, unit: UnitReader? = nil, text: String = "", range: SourceRange? = nil) {
        self.function = function
        self.argument = argument
        self.type = type
        self.unit = unit
        self.text = text
        self.range = range
    }

    /// Adds row `r` of the run to `acc`.
    @inline(__always)
    func add(_ r: Int, to acc: inout Accumulator, _ env: Env) {
        guard let argument else { return }
        let v = argument(r, env)
        if let unit, !v.isNull { acc.note(unit: unit, row: r, env) }
        acc.add(v)
    }

    /// The error for a group whose values are in several units.
    func mixed(_ acc: Accumulator) -> Diagnostic? {
        let what: String
        let how: String
        if acc.units.count > 1 {
            what = "values in different units (" + acc.units.joined(separator: ", ") + (acc.moreUnits ? ", …" : "") + ")"
            how = "add 'group by unit', or keep one unit with 'where unit = \"\(acc.units[0])\"'"
        } else {
            return nil
        }
        let verb = function == .sum || function == .avg ? "adds up" : "compares"
        return Diagnostic(.typeMismatch, "\(text) \(verb) \(what)", at: range, notes: [how])
    }
}

/// How an aggregate reads each row's unit.
enum UnitReader: Sendable {
    /// A stored text column, read as interned ids.
    case stored(StringIDs, StringPool)
    /// Any other column, read as values.
    case computed(Eval)
}

/// Running state of one aggregate over one group.
struct Accumulator {
    var count = 0
    var sum = 0.0
    var numeric = 0
    var percent = false
    var minValue: Value = .null
    var maxValue: Value = .null
    /// The interval the sum lies in, summed bound by bound: "over 16,500" and "13,000" add
    /// up to "over 29,500", not to 29,500.
    var loSum = 0.0
    var hiSum = 0.0
    /// The sums scaled by 2⁻⁶⁴, which cannot overflow: the mean of 1e308 and 1e308 is
    /// 1e308 even though their sum is past Double's range.
    var scaledSum = 0.0
    var scaledLo = 0.0
    var scaledHi = 0.0
    var loOpen = false
    var hiOpen = false
    /// Whether some value was an interval rather than an exact number.
    var qualified = false
    /// Which way the intervals reach from their stated numbers: when all agree (all "over",
    /// all "up to", all "about"), the sum is the stated sum with that word.
    var reach: Reach?
    var mixedReach = false
    /// The units the values came in (the first few), when the rows carry units.
    var units: [String] = []
    var moreUnits = false
    /// How many values were percents.
    var percentValues = 0

    /// The interned ids of the units met, for a stored unit column: each row is an
    /// integer compared with a few, not a string made.
    var unitIDs: [UInt32] = []

    mutating func note(unit: UnitReader, row r: Int, _ env: Env) {
        switch unit {
        case .stored(let ids, let pool):
            let id = ids[r]
            if unitIDs.contains(id) { return }
            unitIDs.append(id)
            if units.count < 4 { units.append(id == StringPool.null ? "no unit" : pool[id]) } else { moreUnits = true }
        case .computed(let f):
            let v = f(r, env)
            let u = v.isNull ? "no unit" : v.text
            if units.contains(u) { return }
            if units.count < 4 { units.append(u) } else { moreUnits = true }
        }
    }

    enum Reach { case above, below, about }

    static let scale = 0x1p-64

    mutating func add(_ v: Value) {
        if v.isNull { return }
        count += 1
        if let n = v.number {
            sum += n
            scaledSum += n * Accumulator.scale
            numeric += 1
            if case .percent = v { percent = true; percentValues += 1 }
            if case .quantity(let q) = v, q.isPercent { percentValues += 1 }
            if case .quantity(let q) = v, !q.isExact {
                qualified = true
                if q.isPercent { percent = true }
                let r: Reach?
                switch Quantity.kind(of: q.qualifier) {
                case .above?, .atLeast?: r = .above
                case .below?, .atMost?: r = .below
                case .about?: r = .about
                default: r = nil
                }
                if let r, reach == nil || reach == r { reach = r } else { mixedReach = true }
                loSum += q.lo
                hiSum += q.hi
                scaledLo += q.lo * Accumulator.scale
                scaledHi += q.hi * Accumulator.scale
                loOpen = loOpen || q.loOpen
                hiOpen = hiOpen || q.hiOpen
            } else {
                loSum += n
                hiSum += n
                scaledLo += n * Accumulator.scale
                scaledHi += n * Accumulator.scale
            }
        }
        if minValue.isNull || orderValues(v, minValue) < 0 { minValue = v }
        if maxValue.isNull || orderValues(v, maxValue) > 0 { maxValue = v }
    }

    /// Like arithmetic, an aggregate that overflows (a sum of values near 1e308) is null.
    func result(_ f: Aggregation, rows: Int) -> Value {
        let v = unchecked(f, rows: rows)
        if let n = v.number, !n.isFinite { return .null }
        return v
    }

    private func unchecked(_ f: Aggregation, rows: Int) -> Value {
        // Percents among plain numbers (rows whose unit was dropped on purpose) add up to
        // a number: 76.6% and 3,000,000 shells are not 3,000,076.6%.
        let percent = self.percent && percentValues >= numeric
        switch f {
        case .count: return .number(Double(rows))
        case .sum:
            if numeric == 0 { return .null }
            if qualified { return qualifiedTotal(sum, loSum, hiSum) }
            return percent ? .percent(sum) : .number(sum)
        case .avg:
            if numeric == 0 { return .null }
            let n = Double(numeric)
            func mean(_ total: Double, _ scaled: Double) -> Double { total.isFinite ? total / n : scaled / n / Accumulator.scale }
            if qualified { return qualifiedTotal(mean(sum, scaledSum), mean(loSum, scaledLo), mean(hiSum, scaledHi)) }
            return percent ? .percent(mean(sum, scaledSum)) : .number(mean(sum, scaledSum))
        case .min: return minValue
        case .max: return maxValue
        case .spread:
            // The difference of the stated values, as compare's spread: 3,500 between over
            // 16,500 and 13,000.
            guard let lo = minValue.number, let hi = maxValue.number else { return .null }
            return percent ? .percent(hi - lo) : .number(hi - lo)
        }
    }

    /// A sum or mean of values some of which are intervals. When every interval reaches the
    /// same way from its stated number, the result is the stated total with that word (over
    /// 29,500; about 1,380.2); otherwise the interval its bounds give, as arithmetic does.
    private func qualifiedTotal(_ stated: Double, _ lo: Double, _ hi: Double) -> Value {
        let percent = self.percent && percentValues >= numeric
        if lo.isNaN || hi.isNaN || stated.isNaN { return .null }
        if let reach, !mixedReach {
            let word: String
            switch reach {
            case .above: word = loOpen ? "over" : "at least"
            case .below: word = hiOpen ? "under" : "up to"
            // "About" only when the bounds are ±10% of the total: about 10 and about 20 sum
            // to about 30, but about 10 and 5 to [14, 16], not about 15 (13.5 to 16.5), and
            // with negatives the bands do not add up either. The interval's bounds decide.
            case .about: word = ""
            }
            if !word.isEmpty, let q = Quantity(stated, qualifier: word, percent: percent) { return .quantity(q) }
        }
        let q = Quantity(lo: lo, hi: hi, loOpen: loOpen, hiOpen: hiOpen, percent: percent)
        if q.isExact { return percent ? .percent(q.value) : .number(q.value) }
        return .quantity(q)
    }
}

/// Groups rows by key values and computes aggregates per group; groups come out in key
/// order, or with `inKeyOrder` false in the order they are found (a sort over every key
/// follows). With no keys, the whole input is one group.
func groupRows(_ rows: Rows, keys: [Eval], fastKey: (KBCollection, StringIDs, StringPool)?, aggregates: [AggregateSpec],
               columns: [ResultColumn], inKeyOrder: Bool = true, _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    var groupKeys: [[Value]] = []
    var rowCounts: [Int] = []
    var accs: [[Accumulator]] = []
    func newGroup(_ key: [Value]) -> Int {
        groupKeys.append(key)
        rowCounts.append(0)
        // Built in place: `repeating:` copies a prototype once per aggregate.
        var group: [Accumulator] = []
        group.reserveCapacity(aggregates.count)
        for _ in aggregates.indices { group.append(Accumulator()) }
        accs.append(group)
        return groupKeys.count - 1
    }
    let needsValues = aggregates.contains { $0.argument != nil }
    var i = 0
    if keys.isEmpty {
        _ = newGroup([])
        if !needsValues {
            // count() alone: no row needs to be read.
            try env.tick(rows.count)
            rowCounts[0] = rows.count
        } else {
            let idx = rowIndexes(rows)
            while i < idx.count {
                let end = min(idx.count, i + tickEvery)
                try env.tick(end - i)
                rowCounts[0] += end - i
                for k in i..<end {
                    for a in aggregates.indices { aggregates[a].add(idx[k], to: &accs[0][a], env) }
                }
                i = end
            }
        }
    } else if let (_, ids, pool) = fastKey, pool.isDistinct, case .stored(_, let sel) = rows, !needsValues {
        // One stored string key and only counts: a histogram of interned ids.
        let counts = try countIDs(ids, pool.count, sel, env)
        for slot in counts.indices where counts[slot] > 0 {
            if slot % tickEvery == tickEvery - 1 { try env.checkStop() }
            let g = newGroup([slot == pool.count ? .null : .string(pool[UInt32(slot)])])
            rowCounts[g] = counts[slot]
        }
    } else if let (_, ids, pool) = fastKey, pool.isDistinct, case .stored = rows {
        // One stored string key: group by interned id, no hashing of values.
        let idx = rowIndexes(rows)
        var groupOf = [Int32](repeating: -1, count: pool.count + 1)
        while i < idx.count {
            let end = min(idx.count, i + tickEvery)
            try env.tick(end - i)
            for k in i..<end {
                let r = idx[k]
                let id = ids[r]
                let slot = id == StringPool.null ? pool.count : Int(id)
                var g = Int(groupOf[slot])
                if g < 0 {
                    g = newGroup([id == StringPool.null ? .null : .string(pool[id])])
                    groupOf[slot] = Int32(g)
                }
                rowCounts[g] += 1
                for a in aggregates.indices { aggregates[a].add(r, to: &accs[g][a], env) }
            }
            i = end
        }
    } else {
        let idx = rowIndexes(rows)
        var groupOf: [[Value]: Int] = [:]
        while i < idx.count {
            let end = min(idx.count, i + tickEvery)
            try env.tick(end - i)
            for k in i..<end {
                let r = idx[k]
                let key = keys.map { $0(r, env) }
                let g: Int
                if let existing = groupOf[key] { g = existing } else { g = newGroup(key); groupOf[key] = g }
                rowCounts[g] += 1
                if needsValues {
                    for a in aggregates.indices { aggregates[a].add(r, to: &accs[g][a], env) }
                }
            }
            i = end
        }
    }
    // Groups in key order, each key position unpacked once (as `sort by` does) rather than
    // compared as arrays of values.
    let order: [Int]
    if inKeyOrder {
        let keyColumns = (0..<keys.count).map { j in SortColumn(groupKeys.map { $0[j] }, descending: false) }
        order = try sortedOrder(keyColumns, count: groupKeys.count, env)
    } else {
        order = Array(groupKeys.indices)
    }
    var out: [[Value]] = []
    out.reserveCapacity(order.count)
    var unbounded: [Int] = []
    for (k, g) in order.enumerated() {
        // As many groups as rows, at worst: a long step that still stops when told to.
        if k % tickEvery == tickEvery - 1 { try env.checkStop() }
        var row = groupKeys[g]
        for (a, spec) in aggregates.enumerated() {
            if spec.function == .count && spec.argument != nil {
                row.append(.number(Double(accs[g][a].count)))
            } else {
                // Only a group that met two units is handed over whole (a copy of its state).
                if spec.function != .count, accs[g][a].units.count > 1, let d = spec.mixed(accs[g][a]) { throw d }
                let v = accs[g][a].result(spec.function, rows: rowCounts[g])
                if case .quantity(let q) = v, q.lo == -.infinity, q.hi == .infinity, !unbounded.contains(a) { unbounded.append(a) }
                row.append(v)
            }
        }
        out.append(row)
    }
    var t = Table(columns: columns, rows: out)
    if case .table(let old) = rows { t.decorations = old.decorations }
    for a in unbounded {
        // Intervals that reach without end both ways (over one value, under another) add up
        // to any value at all: say so, and how to add the numbers as the article states them.
        let arg = aggregates[a].text.firstIndex(of: "(").map { String(aggregates[a].text[aggregates[a].text.index(after: $0)...].dropLast()) } ?? "value"
        t.decorations.notes.append("\(aggregates[a].text) is any value: its intervals reach without end both ways; "
                                   + "\(aggregates[a].function.rawValue)(stated(\(arg))) uses the numbers as stated")
    }
    return .table(t)
}

/// How many of the rows (all of them, or `sel`) have each id; the last slot counts nulls.
/// Large inputs are counted on every core, each part into its own histogram.
private func countIDs(_ ids: StringIDs, _ distinct: Int, _ sel: [Int32]?, _ env: Env) throws(Diagnostic) -> [Int] {
    let total = sel?.count ?? ids.count
    try env.tick(total)
    let slots = distinct + 1
    let parts = ParallelWork.parts(forRows: total)
    var partial = [[Int32]](repeating: [], count: parts)
    partial.withUnsafeMutableBufferPointer { partial in
        ParallelWork.run(parts) { part in
            var h = [Int32](repeating: 0, count: slots)
            let lo = total * part / parts, hi = total * (part + 1) / parts
            h.withUnsafeMutableBufferPointer { h in
                if let sel {
                    for k in lo..<hi {
                        let id = ids[Int(sel[k])]
                        h[id == StringPool.null ? distinct : Int(id)] &+= 1
                    }
                } else {
                    for r in lo..<hi {
                        let id = ids[r]
                        h[id == StringPool.null ? distinct : Int(id)] &+= 1
                    }
                }
            }
            partial[part] = h
        }
    }
    var counts = [Int](repeating: 0, count: slots)
    for h in partial { for s in 0..<slots { counts[s] += Int(h[s]) } }
    return counts
}
