/// What a clause can see: the columns of the rows flowing into it, and whether those rows
/// are still a stored collection (so filters run on unboxed columns).
struct Scope {
    var columns: [ResultColumn]
    /// The rows are `Rows.stored` of this collection.
    var stored: KBCollection?
    /// Table rows still map one-to-one to rows of this collection (`Table.origin`).
    var origin: KBCollection?
    /// The measure `compare` and `chart` use when none is named.
    var measure: String?

    static func of(_ c: KBCollection) -> Scope {
        Scope(columns: c.fields.map { ResultColumn(name: $0.name, type: $0.type) }, stored: c, origin: c, measure: c.measure)
    }

    func index(of name: String) -> Int? { columns.firstIndex { $0.name == name } }
}

/// A compiled expression: its type and how to compute it for a row.
struct Compiled {
    var type: FieldType
    var eval: Eval
    /// The value, when it is known before any row is seen.
    var constant: Value?
    /// A bare word that is not a field: it may still be a hedge word, depending on what
    /// it is compared with.
    var unresolved: Name?
    /// The stored column it reads directly, for fast paths.
    var column: (KBCollection, Int)?
    /// Contains an aggregate call.
    var isAggregate = false
    /// The parameter it is, if it is one.
    var parameter: String?
    var range: SourceRange

    static func constant(_ v: Value, _ t: FieldType, _ r: SourceRange) -> Compiled {
        Compiled(type: t, eval: { _, _ in v }, constant: v, range: r)
    }
}

/// The built-in functions: name, argument count, and what they do.
enum Function: String, CaseIterable {
    case lower, upper, len, abs, round, year, month, coalesce, low, high, qualifier, stated, text, trim
    case floor, ceil, day, substr, replace, concat, relative, exact
    // Aggregates.
    case count, sum, avg, min, max, spread

    var isAggregate: Bool {
        switch self {
        case .count, .sum, .avg, .min, .max, .spread: return true
        default: return false
        }
    }

    var arity: ClosedRange<Int> {
        switch self {
        case .count: return 0...1
        case .round: return 1...2
        case .coalesce, .concat: return 1...16
        case .substr: return 2...3
        case .replace: return 3...3
        default: return 1...1
        }
    }

    var signature: String {
        switch self {
        case .lower: return "lower(string)"
        case .upper: return "upper(string)"
        case .trim: return "trim(string)"
        case .len: return "len(string or list)"
        case .abs: return "abs(number)"
        case .round: return "round(number[, digits])"
        case .year: return "year(date)"
        case .month: return "month(date)"
        case .coalesce: return "coalesce(value, …)"
        case .low: return "low(quantity)"
        case .high: return "high(quantity)"
        case .qualifier: return "qualifier(quantity)"
        case .stated: return "stated(quantity)"
        case .text: return "text(value)"
        case .floor: return "floor(number)"
        case .ceil: return "ceil(number)"
        case .day: return "day(date)"
        case .substr: return "substr(string, start[, length])"
        case .replace: return "replace(string, old, new)"
        case .concat: return "concat(value, …)"
        case .relative: return "relative(date)"
        case .exact: return "exact(value)"
        case .count: return "count() or count(value)"
        case .sum: return "sum(number)"
        case .avg: return "avg(number)"
        case .min: return "min(value)"
        case .max: return "max(value)"
        case .spread: return "spread(number)"
        }
    }
}
