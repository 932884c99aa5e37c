import Synchronization

/// A number as the article states it: a point ("13,000") or an interval given by a
/// qualifier ("over 3 million" is (3,000,000, open); "about 13,000" a band around it).
public struct Quantity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The qualifier word as written ("over", "about" …); empty for an exact value.
    public var qualifier: String {
        get { word.text }
        set { word = QualifierWord(newValue) }
    }
    /// The word as a number, so that a quantity holds no reference: copying one (and every
    /// value that holds one) touches no reference counts.
    var word: QualifierWord
    /// The stated number.
    public var value: Double
    /// Lower bound (`-infinity` when open-ended below).
    public var lo: Double
    /// Upper bound (`infinity` when open-ended above).
    public var hi: Double
    /// Whether the lower bound itself is excluded ("over").
    public var loOpen: Bool
    /// Whether the upper bound itself is excluded ("under").
    public var hiOpen: Bool
    /// Shown as a percentage.
    public var isPercent: Bool

    /// An exact value.
    public init(exactly v: Double, percent: Bool = false) {
        word = .exact; value = v; lo = v; hi = v; loOpen = false; hiOpen = false; isPercent = percent
    }

    /// The interval a qualifier word gives `v`; `nil` when the word is not a known qualifier.
    public init?(_ v: Double, qualifier q: String?, upper: Double? = nil, percent: Bool = false) {
        self.init(v, qualifier: Qualifier(q ?? ""), upper: upper, percent: percent)
    }

    /// A qualifier word as written, normalized, with what it means (`nil`: not a qualifier).
    struct Qualifier: Sendable {
        let word: QualifierWord
        let kind: Kind?
        init(_ written: String) {
            let text = written.lowercased().trimmingSpaces
            word = QualifierWord(text)
            kind = Quantity.kind(of: text)
        }
        private init(word: QualifierWord, kind: Kind?) { self.word = word; self.kind = kind }
        /// No qualifier: an exact value.
        static let none = Qualifier(word: .exact, kind: .exact)
    }

    init?(_ v: Double, qualifier q: Qualifier, upper: Double?, percent: Bool) {
        self.init(exactly: v, percent: percent)
        word = q.word
        switch q.kind {
        case .exact?: break
        case .above?: hi = .infinity; loOpen = true
        case .atLeast?: hi = .infinity
        case .below?: lo = -.infinity; hiOpen = true
        case .atMost?: lo = -.infinity
        case .about?:
            let band = abs(v) * 0.1
            lo = v - band; hi = v + band
        case .between?:
            guard let upper, upper >= v else { return nil }
            hi = upper
        case nil: return nil
        }
        // A single point is exact whatever word stated it: `exactly 5` is 5, and so is
        // `about 0` (±10% of 0), so `qualifier()` is null for both and they group with 5, 0.
        if isExact { word = .exact }
    }

    enum Kind { case exact, above, atLeast, below, atMost, about, between }

    /// The qualifier words kbq understands, and what each means.
    static let words: [String: Kind] = [
        "": .exact, "exactly": .exact,
        "over": .above, "more than": .above, "above": .above,
        "at least": .atLeast, "no fewer than": .atLeast,
        "under": .below, "less than": .below, "fewer than": .below, "below": .below,
        "up to": .atMost, "at most": .atMost, "no more than": .atMost,
        "about": .about, "around": .about, "approximately": .about, "some": .about,
        "nearly": .about, "roughly": .about, "almost": .about,
        "between": .between,
        "any": .between,
    ]

    static func kind(of word: String) -> Kind? { words[word] }

    /// Whether this is a single exact number.
    public var isExact: Bool { lo == hi && !loOpen && !hiOpen }

    /// Whether two quantities can describe the same true number.
    public func overlaps(_ o: Quantity) -> Bool {
        if hi < o.lo || o.hi < lo { return false }
        if hi == o.lo && (hiOpen || o.loOpen) { return false }
        if o.hi == lo && (o.hiOpen || loOpen) { return false }
        return true
    }

    /// "over 16,500", "13,000", "76.6%", "between 10 and 20".
    public var description: String { written { formatNumber($0, percent: isPercent) } }

    /// The quantity in words, its numbers written by `number`: the table shows
    /// "over 16,500", CSV the same words with "over 16500" (`Value.plainText`). A single
    /// point has no word (the qualifier of `exactly 5` or `about 0` says nothing more).
    func written(_ number: (Double) -> String) -> String {
        let n = number(value)
        if qualifier.isEmpty || isExact { return n }
        if qualifier == "between" {
            if !hi.isFinite { return "\(n) or more" }
            return "between \(number(lo)) and \(number(hi))"
        }
        if qualifier == "any" { return "any value" }
        return "\(qualifier) \(n)"
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// Formats a number the way the article writes it: grouped thousands, no trailing zeros
/// (16,500; 3,000,000; 1.27; 76.6%).
public func formatNumber(_ v: Double, percent: Bool = false) -> String {
    let suffix = percent ? "%" : ""
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "∞" : "-∞" }
    if abs(v) >= 1e15 || (abs(v) < 1e-4 && v != 0) {
        return shortestDescription(v) + suffix
    }
    // Round to 4 decimals so that sums like 0.1+0.2 print as written.
    let scaled = (abs(v) * 10000).rounded()
    var intPart = UInt64(scaled / 10000)
    var frac = UInt64(scaled) % 10000
    if frac == 10000 { intPart += 1; frac = 0 }
    var digits = String(intPart)
    var grouped = ""
    while digits.count > 3 {
        // String + String: String + Substring goes through the generic append(contentsOf:),
        // whose first call costs a search of every conformance record (kbq's start-up).
        grouped = "," + String(digits.suffix(3)) + grouped
        digits.removeLast(3)
    }
    grouped = digits + grouped
    var s = (v < 0 && (intPart != 0 || frac != 0) ? "-" : "") + grouped
    if frac != 0 {
        var f = String(frac)
        f = String(repeating: "0", count: 4 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        s += "." + f
    }
    return s + suffix
}

/// A qualifier word as a number: the words kbq knows by their place in one list, any other
/// word (from decoding, or set by a host) interned once for the life of the process.
struct QualifierWord: Sendable, Hashable {
    let index: UInt16

    /// Every word `Quantity.words` knows, "" first.
    static let known: [String] = [""] + Quantity.words.keys.filter { !$0.isEmpty }.sorted()
    static let knownIndex: [String: UInt16] = {
        var m: [String: UInt16] = [:]
        for (i, w) in known.enumerated() { m[w] = UInt16(i) }
        return m
    }()
    /// Other words, after the known ones. At most `UInt16.max` in all: past that a new word
    /// reads back as "" (a host would have to set tens of thousands of distinct words).
    private static let others = Mutex<(words: [String], index: [String: UInt16])>(([], [:]))

    static let exact = QualifierWord(index: 0)

    private init(index: UInt16) { self.index = index }

    init(_ text: String) {
        if let i = QualifierWord.knownIndex[text] { index = i; return }
        let base = QualifierWord.known.count
        index = QualifierWord.others.withLock { others in
            if let i = others.index[text] { return i }
            guard base + others.words.count < Int(UInt16.max) else { return 0 }
            let i = UInt16(base + others.words.count)
            others.words.append(text)
            others.index[text] = i
            return i
        }
    }

    var text: String {
        let i = Int(index)
        if i < QualifierWord.known.count { return QualifierWord.known[i] }
        return QualifierWord.others.withLock { others in
            let k = i - QualifierWord.known.count
            return k < others.words.count ? others.words[k] : ""
        }
    }
}

func shortestDescription(_ v: Double) -> String {
    // -0 (from -(0) or 0 × -1) is written 0, as a table shows it.
    if v == 0 { return "0" }
    var s = "\(v)"
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

extension Quantity {
    enum CodingKeys: String, CodingKey { case value, qualifier, low, high, lowOpen, highOpen, percent }

    /// Encodes as `{"value", "qualifier", "low", "high"}`, a side without a bound as `null`;
    /// `"lowOpen"`/`"highOpen": true` when the bound itself is excluded, `"percent": true`
    /// for a percentage.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(qualifier, forKey: .qualifier)
        if lo.isFinite { try c.encode(lo, forKey: .low) } else { try c.encodeNil(forKey: .low) }
        if hi.isFinite { try c.encode(hi, forKey: .high) } else { try c.encodeNil(forKey: .high) }
        if loOpen { try c.encode(true, forKey: .lowOpen) }
        if hiOpen { try c.encode(true, forKey: .highOpen) }
        if isPercent { try c.encode(true, forKey: .percent) }
    }

    /// Decodes what ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        value = try c.decode(Double.self, forKey: .value)
        word = QualifierWord(try c.decodeIfPresent(String.self, forKey: .qualifier) ?? "")
        lo = try c.decodeIfPresent(Double.self, forKey: .low) ?? -.infinity
        hi = try c.decodeIfPresent(Double.self, forKey: .high) ?? .infinity
        loOpen = try c.decodeIfPresent(Bool.self, forKey: .lowOpen) ?? false
        hiOpen = try c.decodeIfPresent(Bool.self, forKey: .highOpen) ?? false
        isPercent = try c.decodeIfPresent(Bool.self, forKey: .percent) ?? false
    }
}

extension Quantity {
    /// A quantity known only by its bounds, with the qualifier that says them: "over 29,500"
    /// for (29,500, open), "between 10 and 20" for [10, 20].
    init(lo: Double, hi: Double, loOpen: Bool, hiOpen: Bool, percent: Bool) {
        self.init(exactly: lo.isFinite ? lo : hi, percent: percent)
        self.lo = lo
        self.hi = hi
        self.loOpen = loOpen && lo.isFinite
        self.hiOpen = hiOpen && hi.isFinite
        switch (lo.isFinite, hi.isFinite) {
        case (true, true):
            if lo == hi {
                word = .exact
            } else if let mid = Quantity.aboutMidpoint(lo: lo, hi: hi, loOpen: loOpen, hiOpen: hiOpen) {
                word = QualifierWord("about"); value = mid
            } else {
                word = QualifierWord("between")
            }
        case (true, false): word = QualifierWord(loOpen ? "over" : "at least")
        case (false, true): word = QualifierWord(hiOpen ? "under" : "up to"); value = hi
        case (false, false): word = QualifierWord("any"); value = 0
        }
    }

    /// The number m when [lo, hi] is exactly "about m" (m ± 10% of m, both ends reached), so
    /// the word of a computed interval says that interval: -(about 10) and (about 10) × 2 are
    /// about -10 and about 20, but (about 10) + 7 is [16, 18], which "about 17" would widen.
    static func aboutMidpoint(lo: Double, hi: Double, loOpen: Bool, hiOpen: Bool) -> Double? {
        if loOpen || hiOpen { return nil }
        let mid = lo / 2 + hi / 2
        guard mid != 0, mid.isFinite else { return nil }
        let half = hi / 2 - lo / 2, band = abs(mid) * 0.1
        return abs(half - band) <= abs(mid) * 1e-12 ? mid : nil
    }

    /// Interval arithmetic: the set of results of `op` over every pair of values the two
    /// quantities allow. Division by an interval that holds zero has no answer.
    static func combine(_ a: Quantity, _ op: BinaryOp, _ b: Quantity) -> Quantity? {
        let percent = a.isPercent || b.isPercent
        switch op {
        case .add:
            return Quantity(lo: a.lo + b.lo, hi: a.hi + b.hi, loOpen: a.loOpen || b.loOpen, hiOpen: a.hiOpen || b.hiOpen, percent: percent)
        case .sub:
            return Quantity(lo: a.lo - b.hi, hi: a.hi - b.lo, loOpen: a.loOpen || b.hiOpen, hiOpen: a.hiOpen || b.loOpen, percent: percent)
        case .mul, .div:
            var c = b
            if op == .div {
                if b.lo <= 0 && b.hi >= 0 { return nil }
                c = Quantity(lo: 1 / b.hi, hi: 1 / b.lo, loOpen: b.hiOpen, hiOpen: b.loOpen, percent: false)
                if b.isExact { c = Quantity(exactly: 1 / b.value) }
            }
            // A bound of the product is reached when one pair of reached bounds gives it, so
            // each corner keeps whether it is reached: over 16,500 × -1 is under -16,500,
            // not "up to". A closed zero reaches zero whatever it multiplies.
            func corner(_ x: Double, _ xOpen: Bool, _ y: Double, _ yOpen: Bool) -> (value: Double, open: Bool) {
                if (x == 0 && !xOpen) || (y == 0 && !yOpen) { return (0, false) }
                return ((x == 0 || y == 0) ? 0 : x * y, xOpen || yOpen)
            }
            let corners = [corner(a.lo, a.loOpen, c.lo, c.loOpen), corner(a.lo, a.loOpen, c.hi, c.hiOpen),
                           corner(a.hi, a.hiOpen, c.lo, c.loOpen), corner(a.hi, a.hiOpen, c.hi, c.hiOpen)]
                .filter { !$0.value.isNaN }
            guard let lo = corners.map(\.value).min(), let hi = corners.map(\.value).max() else { return nil }
            return Quantity(lo: lo, hi: hi,
                            loOpen: corners.allSatisfy { $0.value != lo || $0.open },
                            hiOpen: corners.allSatisfy { $0.value != hi || $0.open },
                            percent: a.isPercent && !(op == .div && b.isPercent))
        default:
            return nil
        }
    }
}

extension Quantity {
    /// The interval of `-x` for every `x` this quantity allows: -(over 16,500) is
    /// under -16,500, -(about 10) about -10.
    var negated: Quantity {
        Quantity(lo: -hi, hi: -lo, loOpen: hiOpen, hiOpen: loOpen, percent: isPercent)
    }

    /// The interval of `|x|` for every `x` this quantity allows.
    var magnitude: Quantity {
        if lo >= 0 { return self }
        if hi <= 0 { return negated }
        let top = Swift.max(-lo, hi)
        let topOpen = -lo == hi ? loOpen && hiOpen : top == hi ? hiOpen : loOpen
        return Quantity(lo: 0, hi: top, loOpen: false, hiOpen: topOpen, percent: isPercent)
    }
}

extension Quantity {
    /// This result of arithmetic on `a` and `b`, or nil when it overflowed: a bound that
    /// went past Double's range (`value * 1e308` is (∞, ∞), not "any"), as a plain number
    /// that overflows is null. A bound that was open-ended in an operand ("over 16,500")
    /// stays open-ended.
    func unlessOverflowed(_ a: Quantity, _ b: Quantity) -> Quantity? {
        if lo == .infinity || hi == -.infinity || lo.isNaN || hi.isNaN { return nil }
        let operandsBounded = a.lo.isFinite && a.hi.isFinite && b.lo.isFinite && b.hi.isFinite
        if operandsBounded && !(lo.isFinite && hi.isFinite) { return nil }
        return self
    }
}
