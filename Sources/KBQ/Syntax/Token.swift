/// The words of the language that are not names. They are reserved: a field with such a
/// name is written in backquotes (\`limit\`).
public enum Keyword: String, Sendable, CaseIterable {
    /// A word of a clause: `where`, `select`, `sort by`, `limit`, `group by`, `aggregate`,
    /// `compare … on`, `cite`, `timeline`, `chart`, `follow`, `referrers`.
    case `where`, select, sort, by, limit, group, aggregate, compare, on, cite, timeline, chart, follow, referrers
    /// A word that begins a statement: `let`, `explain`, `describe`, `search`, `conflicts`.
    case `let`, explain, describe, search, conflicts
    /// A word of an expression: operators, literals, `as`, `asc`/`desc`, `maybe`.
    case and, or, not, `in`, contains, matches, between, `is`, null, `true`, `false`, `as`, asc, desc, maybe

    /// Keywords that begin a clause, in the order a reference lists them: a line starting
    /// with one continues the statement above. Completion offers them as ``written``.
    public static let clauses: [Keyword] = [.where, .select, .sort, .limit, .group, .aggregate, .compare, .cite, .timeline, .chart, .follow, .referrers]
    /// Keywords that begin a clause, as a set.
    public static let clauseStarts = Set(clauses)
    /// Keywords that begin a statement.
    public static let statements: [Keyword] = [.let, .explain, .describe, .search, .conflicts]

    /// The keyword as a clause is written: `sort by` and `group by` with their `by`.
    public var written: String {
        switch self {
        case .sort, .group: return rawValue + " by"
        default: return rawValue
        }
    }

    /// Whether this keyword is one of ``clauses`` (a test holds the two together). The parser asks this of every
    /// statement: a switch, because building the first `Set<Keyword>` makes the Swift runtime
    /// search every protocol conformance in the binary for `Keyword: Hashable` (about 0.25
    /// million instructions, a tenth of `kbq -e QUERY`).
    public var isClauseStart: Bool {
        switch self {
        case .where, .select, .sort, .limit, .group, .aggregate, .compare, .cite, .timeline, .chart, .follow, .referrers: return true
        default: return false
        }
    }
}

/// One token of query text, with its byte range.
public struct Token: Sendable, Hashable {
    /// What kind of token this is.
    public enum Kind: Sendable, Hashable {
        /// A name: a collection, field, function or `let` name (backquoted names unquoted).
        case identifier(String)
        /// A reserved word.
        case keyword(Keyword)
        /// A quoted string, with its escapes resolved.
        case string(String)
        /// A number.
        case number(Double)
        /// A percentage (`76.6%` is `.percent(76.6)`).
        case percent(Double)
        /// A date literal.
        case date(PartialDate)
        /// A `$name` parameter (the name without `$`).
        case parameter(String)
        /// Punctuation or an operator: `(`, `,`, `>=`, `|` ….
        case symbol(String)
        /// A line break, which can end a statement.
        case newline
        /// The end of the text.
        case end
        /// Text the lexer could not read; the diagnostic says why.
        case invalid
    }
    /// The token's kind and value.
    public let kind: Kind
    /// Where it is in the source.
    public let range: SourceRange

    var symbol: String? { if case .symbol(let s) = kind { return s }; return nil }
    var keyword: Keyword? { if case .keyword(let k) = kind { return k }; return nil }

    /// How the token reads in an error message.
    var describe: String {
        switch kind {
        case .identifier(let s): return "'\(s)'"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .string: return "a string"
        case .number, .percent: return "a number"
        case .date: return "a date"
        case .parameter(let p): return "'$\(p)'"
        case .symbol(let s): return "'\(s)'"
        case .newline: return "the end of the line"
        case .end: return "the end of the input"
        case .invalid: return "invalid text"
        }
    }
}
