#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How values compare: numbers and quantities as intervals, dates as the periods they name,
/// hedges by their rank, references by key or display text. Comparisons answer yes, no,
/// maybe (an interval straddles) or unknown (a null took part).

/// Compares a quantity interval against a point.
func compareInterval(_ q: Quantity, _ op: BinaryOp, _ p: Double) -> Truth {
    switch op {
    case .gt:
        if q.lo > p || (q.lo == p && q.loOpen) { return .yes }
        if q.hi <= p { return .no }
        return .maybe
    case .ge:
        if q.lo >= p { return .yes }
        if q.hi < p || (q.hi == p && q.hiOpen) { return .no }
        return .maybe
    case .lt:
        if q.hi < p || (q.hi == p && q.hiOpen) { return .yes }
        if q.lo >= p { return .no }
        return .maybe
    case .le:
        if q.hi <= p { return .yes }
        if q.lo > p || (q.lo == p && q.loOpen) { return .no }
        return .maybe
    case .eq:
        if q.isExact { return Truth(q.value == p) }
        if compareInterval(q, .ge, p) != .no && compareInterval(q, .le, p) != .no { return .maybe }
        return .no
    case .ne:
        return !compareInterval(q, .eq, p)
    default:
        return .unknown
    }
}

/// Compares two quantities (both possibly intervals).
func compareIntervals(_ a: Quantity, _ op: BinaryOp, _ b: Quantity) -> Truth {
    if b.isExact { return compareInterval(a, op, b.value) }
    if a.isExact {
        let flipped: BinaryOp = switch op {
        case .gt: .lt
        case .ge: .le
        case .lt: .gt
        case .le: .ge
        default: op
        }
        return compareInterval(b, flipped, a.value)
    }
    switch op {
    case .eq: return a.overlaps(b) ? .maybe : .no
    case .ne: return a.overlaps(b) ? .maybe : .yes
    case .gt, .ge:
        if a.lo > b.hi || (a.lo == b.hi && (a.loOpen || b.hiOpen) && op == .gt) || (a.lo >= b.hi && op == .ge) { return .yes }
        if a.hi < b.lo || (op == .gt && a.hi <= b.lo) { return .no }
        return .maybe
    case .lt, .le:
        return compareIntervals(b, op == .lt ? .gt : .ge, a)
    default: return .unknown
    }
}

/// Compares a date with a period: `x >= 2024-06` means x is not before June 2024.
func compareDates(_ x: PartialDate, _ op: BinaryOp, _ p: PartialDate) -> Truth {
    // A relative date reaches without end away from its anchor: only the anchor decides.
    if x.isRelative || p.isRelative { return compareDays(x.knownLo, x.knownHi, op, p.knownLo, p.knownHi) }
    return compareDays(x.lo, x.hi, op, p.lo, p.hi)
}

/// Compares the days `xlo...xhi` with the period `plo...phi`.
func compareDays(_ xlo: Int32, _ xhi: Int32, _ op: BinaryOp, _ plo: Int32, _ phi: Int32) -> Truth {
    switch op {
    case .gt:
        if xlo > phi { return .yes }
        if xhi <= phi { return .no }
        return .maybe
    case .ge:
        if xlo >= plo { return .yes }
        if xhi < plo { return .no }
        return .maybe
    case .lt:
        if xhi < plo { return .yes }
        if xlo >= plo { return .no }
        return .maybe
    case .le:
        if xhi <= phi { return .yes }
        if xlo > phi { return .no }
        return .maybe
    case .eq:
        if xlo >= plo && xhi <= phi { return .yes }
        if xhi < plo || xlo > phi { return .no }
        return .maybe
    case .ne:
        return !compareDays(xlo, xhi, .eq, plo, phi)
    default:
        return .unknown
    }
}

func quantity(of v: Value) -> Quantity? {
    switch v {
    case .number(let d): return Quantity(exactly: d)
    case .percent(let d): return Quantity(exactly: d, percent: true)
    case .quantity(let q): return q
    default: return nil
    }
}

/// Compares two values under the KB's hedge scale. Mismatched kinds that the checker let
/// through (parameters) compare as unknown.
func compareValues(_ a: Value, _ op: BinaryOp, _ b: Value, hedges: HedgeScale) -> Truth {
    if a.isNull || b.isNull { return .unknown }
    switch (a, b) {
    case (.number, _), (.percent, _), (.quantity, _):
        guard let qa = quantity(of: a), let qb = quantity(of: b) else { return .unknown }
        return compareIntervals(qa, op, qb)
    case (.string(let x), .string(let y)):
        return Truth(ordered(x.compareText(y), op))
    case (.date(let x), .date(let y)):
        return compareDates(x, op, y)
    case (.date(let x), .number(let y)) where y == y.rounded() && y >= 1 && y <= 9999:
        return compareDates(x, op, PartialDate(year: Int(y)))
    case (.hedge(let r, _), .hedge(let s, _)):
        // A stronger hedge (smaller rank) is greater.
        return Truth(ordered(s < r ? -1 : s > r ? 1 : 0, op))
    case (.hedge(let r, _), .string(let w)):
        guard let s = hedges.rank(of: w) else { return .unknown }
        return Truth(ordered(s < r ? -1 : s > r ? 1 : 0, op))
    case (.string, .hedge):
        return compareValues(b, op.flipped, a, hedges: hedges)
    case (.bool(let x), .bool(let y)):
        return Truth(ordered(x == y ? 0 : (!x ? -1 : 1), op))
    case (.maybe, .bool), (.bool, .maybe), (.maybe, .maybe):
        // Whatever the condition turns out to be, it may or may not equal the other side.
        return .maybe
    case (.ref(let r), .string(let s)):
        let eq = r.key == s || r.display.lowercased() == s.lowercased()
        switch op {
        case .eq: return Truth(eq)
        case .ne: return Truth(!eq)
        default: return Truth(ordered(r.display.compareText(s), op))
        }
    case (.string, .ref):
        return compareValues(b, op.flipped, a, hedges: hedges)
    case (.ref(let r), .ref(let s)):
        switch op {
        case .eq: return Truth(r.collection == s.collection && r.row == s.row)
        case .ne: return Truth(!(r.collection == s.collection && r.row == s.row))
        default: return Truth(ordered(r.display.compareText(s.display), op))
        }
    case (.list(let x), .list(let y)):
        switch op {
        case .eq: return Truth(x == y)
        case .ne: return Truth(x != y)
        default: return .unknown
        }
    default:
        return .unknown
    }
}

func ordered(_ c: Int, _ op: BinaryOp) -> Bool {
    switch op {
    case .eq: return c == 0
    case .ne: return c != 0
    case .lt: return c < 0
    case .le: return c <= 0
    case .gt: return c > 0
    case .ge: return c >= 0
    default: return false
    }
}

extension String {
    /// The one order of text: by UTF-8 bytes, as SQL's C collation (capitals before small
    /// letters, "Banana" before "apple"). `=`, `<`, `between`, `sort by`, `group by`'s key
    /// order and `min`/`max` all follow it (REFERENCE, "Order, nulls and percents"), so a
    /// sorted list, a range and the least value never disagree.
    func compareText(_ o: String) -> Int {
        var x = self, y = o
        return x.withUTF8 { p in
            y.withUTF8 { q in
                let n = Swift.min(p.count, q.count)
                if n > 0, let pb = p.baseAddress, let qb = q.baseAddress {
                    let c = memcmp(pb, qb, n)
                    if c != 0 { return c < 0 ? -1 : 1 }
                }
                return p.count == q.count ? 0 : p.count < q.count ? -1 : 1
            }
        }
    }
}

/// Orders values for `sort by`; nulls are handled by the caller (always last).
func orderValues(_ a: Value, _ b: Value) -> Int {
    switch (a, b) {
    case (.string(let x), .string(let y)): return x.compareText(y)
    case (.date(let x), .date(let y)): return x < y ? -1 : y < x ? 1 : 0
    case (.hedge(let r, _), .hedge(let s, _)): return r > s ? -1 : r < s ? 1 : 0
    case (.bool, .bool), (.bool, .maybe), (.maybe, .bool), (.maybe, .maybe):
        // false, then maybe, then true.
        return a.truthRank < b.truthRank ? -1 : a.truthRank > b.truthRank ? 1 : 0
    case (.ref(let x), .ref(let y)): return x.display.compareText(y.display)
    case (.list(let x), .list(let y)):
        for (p, q) in zip(x, y) {
            let c = orderValues(p, q)
            if c != 0 { return c }
        }
        return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
    default:
        if let x = a.number, let y = b.number { return x < y ? -1 : x > y ? 1 : 0 }
        // Different kinds: order by kind so the sort is still total.
        return a.kindOrder < b.kindOrder ? -1 : a.kindOrder > b.kindOrder ? 1 : 0
    }
}

extension Value {
    /// Where a condition's value sorts: false, maybe, true (others after).
    var truthRank: Int {
        switch self {
        case .bool(false): return 0
        case .maybe: return 1
        case .bool(true): return 2
        default: return 3
        }
    }

    var kindOrder: Int {
        switch self {
        case .null: return 9
        case .bool, .maybe: return 0
        case .number, .percent, .quantity: return 1
        case .string: return 2
        case .date: return 3
        case .hedge: return 4
        case .ref: return 5
        case .list: return 6
        }
    }
}

/// Case-insensitive substring search (ASCII letters fold; other text must match exactly).
func containsFolded(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    let n = needle.count
    if n == 0 { return true }
    if hay.count < n { return false }
    let first = needle[0]
    let last = hay.count - n
    var i = 0
    while i <= last {
        if foldByte(hay[i]) == first {
            var j = 1
            while j < n, foldByte(hay[i + j]) == needle[j] { j += 1 }
            if j == n { return true }
        }
        i += 1
    }
    return false
}

@inline(__always) func foldByte(_ b: UInt8) -> UInt8 {
    b &- 0x41 < 26 ? b | 0x20 : b
}

func foldedBytes(_ s: String) -> [UInt8] {
    // Non-ASCII letters are lowercased by the standard library first.
    Array(s.lowercased().utf8).map(foldByte)
}

func containsText(_ hay: String, _ needle: String) -> Bool {
    let quoted = hasQuoteMarks(needle)
    var h = (quoted ? foldingQuoteMarks(hay) : hay).lowercased()
    let n = foldedBytes(quoted ? foldingQuoteMarks(needle) : needle)
    return h.withUTF8 { containsFolded($0, n) }
}

/// Whether text holds an apostrophe or a double quote, straight or curly: the article writes
/// "Zelensky’s" and “Treaty …”, an analyst types "Zelensky's", and text search should not
/// tell them apart.
func hasQuoteMarks(_ s: String) -> Bool {
    s.unicodeScalars.contains { quoteMarkFold($0) != nil || $0 == "'" || $0 == "\"" }
}
