/// A byte range in a query's source text: `start..<end`, in UTF-8 bytes.
///
/// Positions stay byte offsets inside the engine; line and column are computed only when
/// a diagnostic is shown (see ``SourceText``).
public struct SourceRange: Sendable, Hashable, Codable {
    /// The first byte of the range.
    public var start: Int
    /// One past the last byte of the range.
    public var end: Int

    /// Makes a range; `end` is clamped to be at least `start`.
    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = max(start, end)
    }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(min(start, other.start), max(end, other.end))
    }
}

/// A problem found in a query or a knowledge base, as a value a host can show its own way.
///
/// Every diagnostic has a stable ``Kind`` (tests and tools match on it, not on prose), a
/// message, and where known the range of query text it is about and a suggestion.
public struct Diagnostic: Error, Sendable, Hashable, Codable {
    /// What kind of problem this is. The raw value is a stable identifier.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The text is not a valid statement (unexpected token, unterminated string ...).
        case syntax = "syntax"
        /// A literal that cannot be represented: a number out of range, a bad date.
        case invalidLiteral = "invalid-literal"
        /// A name that is not a collection or `let` name.
        case unknownCollection = "unknown-collection"
        /// A field or path step that the collection in scope does not have.
        case unknownField = "unknown-field"
        /// A function that does not exist.
        case unknownFunction = "unknown-function"
        /// A word compared with a hedge that is not one of the KB's hedge words.
        case unknownHedge = "unknown-hedge"
        /// An entity name given to `describe` that no entity has as name or alias.
        case unknownEntity = "unknown-entity"
        /// Operands whose types do not fit the operator or function.
        case typeMismatch = "type-mismatch"
        /// An aggregate function used outside `group by … aggregate`.
        case misplacedAggregate = "misplaced-aggregate"
        /// A clause that cannot apply here (`compare` on a non-numeric measure, …).
        case invalidClause = "invalid-clause"
        /// A `$name` parameter that the run did not bind, or bound with the wrong type.
        case unboundParameter = "unbound-parameter"
        /// A size or depth bound was exceeded (nesting, query length, list size ...).
        case limitExceeded = "limit-exceeded"
        /// The result would have more rows than the run allows.
        case tooManyRows = "too-many-rows"
        /// The query ran longer than the run allows.
        case timeout = "timeout"
        /// The query did more work than the run allows.
        case workLimit = "work-limit"
        /// The host cancelled the query.
        case cancelled = "cancelled"
        /// A knowledge-base file that cannot be loaded.
        case invalidKB = "invalid-kb"
        /// A warning, not an error: a literal compared with a field matches no value the
        /// field has (`topic = "shells"`), so the condition can keep no row. The query
        /// still runs.
        case noMatch = "no-match"
        /// A statement the engine it runs on cannot run (`kbq --db`: one SQL does not
        /// express whole, over more rows than kbq finishes one over; docs/ENGINES.md).
        case unsupportedOnEngine = "unsupported-on-engine"
    }

    /// Whether this is a warning: shown, but the query still runs and the run succeeds.
    public var isWarning: Bool { kind == .noMatch }

    /// The kind of problem; stable across releases.
    public var kind: Kind
    /// What is wrong, in one sentence, without position information.
    public var message: String
    /// The part of the query text the problem is about, when there is one.
    public var range: SourceRange?
    /// A replacement the user probably meant ("did you mean …").
    public var suggestion: String?
    /// Further lines of explanation.
    public var notes: [String]
    /// For an ``Kind/invalidKB`` diagnostic made from a KB problem, that problem's kind
    /// (`dangling-reference`, `damaged` …): the finer reason, stable like ``kind``.
    public var problem: KBProblem.Kind?

    /// Makes a diagnostic.
    public init(_ kind: Kind, _ message: String, at range: SourceRange? = nil,
                suggestion: String? = nil, notes: [String] = [], problem: KBProblem.Kind? = nil) {
        self.kind = kind
        self.message = message
        self.range = range
        self.suggestion = suggestion
        self.notes = notes
        self.problem = problem
    }
}

extension Diagnostic {
    /// The most diagnostics one run reports: past that, the rest are counted in a note on
    /// the last one shown (a binary file read as a script has an error every few bytes).
    public static let maxReported = 100

    /// `diagnostics` cut to ``maxReported``.
    static func reported(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        guard diagnostics.count > maxReported else { return diagnostics }
        var out = Array(diagnostics.prefix(maxReported))
        out[maxReported - 1].notes.append("\(diagnostics.count - maxReported) more errors not shown")
        return out
    }
}

/// Several diagnostics reported together, as thrown by the engine.
public struct Diagnostics: Error, Sendable, Hashable, Codable {
    /// The problems, in source order.
    public var items: [Diagnostic]
    /// Wraps a list of diagnostics.
    public init(_ items: [Diagnostic]) { self.items = items }
}

extension Diagnostic {
    /// The candidate closest to `word` (by edit distance, ignoring case, or the only name
    /// it begins), if one is close enough to be a slip of the fingers: the "did you mean"
    /// of every diagnostic, for hosts that want to suggest the same way.
    public static func suggestion(for word: String, among candidates: [String]) -> String? {
        suggest(word, from: candidates)
    }
}

/// Suggests the closest of `candidates` to `word`, if one is close enough to be a typo.
func suggest(_ word: String, from candidates: some Sequence<String>) -> String? {
    let w = Array(word.lowercased().utf8)
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(w, Array(c.lowercased().utf8))
        let limit = max(1, min(3, (max(w.count, c.utf8.count) + 2) / 3))
        if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    if best == nil {
        // A prefix of a longer name is a likely slip too ("topi" for "topic").
        for c in candidates where w.count >= 2 && c.lowercased().hasPrefix(word.lowercased()) {
            return c
        }
    }
    return best?.0
}

func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    if a.count > 64 || b.count > 64 { return abs(a.count - b.count) + 64 }
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
