/// The syntax tree: what the parser read, with the source range of every node.

/// An expression.
public struct Expr: Sendable, Hashable {
    /// The shapes an expression can take.
    public indirect enum Kind: Sendable, Hashable {
        /// A literal value: `"containers"`, `16_500`, `76.6%`, `2024-06`, `true`, `null`.
        case literal(Literal)
        /// A field or path (`source.name`), or a bare word the checker resolves.
        case path([Name])
        /// A `$name` parameter, bound to a value when the query runs (the name without `$`).
        case parameter(String)
        /// A list literal: `["a", "b"]`.
        case list([Expr])
        /// A prefix operator applied to an operand: `not x`, `-x`.
        case unary(UnaryOp, Expr)
        /// An infix operator between two operands: `value > 1000`.
        case binary(BinaryOp, Expr, Expr)
        /// A function call: `lower(topic)`.
        case call(Name, [Expr])
        /// `x [not] between low and high`.
        case between(Expr, Expr, Expr, negated: Bool)
        /// `x is [not] null`.
        case isNull(Expr, negated: Bool)
        /// `x [not] in list`.
        case inList(Expr, Expr, negated: Bool)
    }
    /// The expression's shape.
    public var kind: Kind
    /// Where it is in the source.
    public var range: SourceRange
}

/// A name with its range.
public struct Name: Sendable, Hashable {
    /// The name.
    public var text: String
    /// Where it is.
    public var range: SourceRange
}

/// A literal value in query text.
public enum Literal: Sendable, Hashable {
    /// A quoted string.
    case string(String)
    /// A number: `16500`, `16_500`, `3e6`.
    case number(Double)
    /// A percentage: `76.6%` is `.percent(76.6)`.
    case percent(Double)
    /// A (partial) date: `2024`, `2024-06`, `2024-06-19`.
    case date(PartialDate)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null
}

/// Prefix operators.
public enum UnaryOp: String, Sendable, Hashable {
    /// `not`: logical negation.
    case not
    /// `-`: arithmetic negation.
    case negate = "-"
}

/// Infix operators.
public enum BinaryOp: String, Sendable, Hashable {
    /// `and`: both conditions.
    case and
    /// `or`: either condition.
    case or
    /// `=`: equal.
    case eq = "="
    /// `!=`: not equal.
    case ne = "!="
    /// `<`: less than.
    case lt = "<"
    /// `<=`: less than or equal.
    case le = "<="
    /// `>`: greater than.
    case gt = ">"
    /// `>=`: greater than or equal.
    case ge = ">="
    /// `contains`: case-insensitive text search, or list membership.
    case contains
    /// `matches`: a pattern match.
    case matches
    /// `+`: addition.
    case add = "+"
    /// `-`: subtraction.
    case sub = "-"
    /// `*`: multiplication.
    case mul = "*"
    /// `/`: division.
    case div = "/"
    /// `%`: remainder.
    case mod = "%"

    var isComparison: Bool { [.eq, .ne, .lt, .le, .gt, .ge].contains(self) }

    /// The comparison with its operands swapped: `a < b` is `b > a`.
    var flipped: BinaryOp {
        switch self {
        case .lt: return .gt
        case .le: return .ge
        case .gt: return .lt
        case .ge: return .le
        default: return self
        }
    }
}

/// One item of `select`: an expression and the column name it gets.
public struct SelectItem: Sendable, Hashable {
    /// The value.
    public var expr: Expr
    /// `as NAME`, if given.
    public var alias: Name?
}

/// One key of `sort by`.
public struct SortKey: Sendable, Hashable {
    /// What to sort by.
    public var expr: Expr
    /// Largest first.
    public var descending: Bool
}

/// A clause of a query pipeline.
public struct Clause: Sendable, Hashable {
    /// The clause kinds.
    public enum Kind: Sendable, Hashable {
        /// `where CONDITION` (`where maybe …` also keeps rows the condition may hold for).
        case `where`(Expr, maybe: Bool)
        /// `select ITEM, …`.
        case select([SelectItem])
        /// `sort by KEY [asc|desc], …`.
        case sort([SortKey])
        /// `limit N [offset M]`: the first N rows after the first M are skipped.
        case limit(Expr, offset: Expr?)
        /// `group by ITEM, … aggregate AGG, …`.
        case group([SelectItem], aggregates: [SelectItem])
        /// `aggregate AGG, …` over all rows.
        case aggregate([SelectItem])
        /// `compare FIELD [on MEASURE]`.
        case compare(Expr, on: Expr?)
        /// `cite`: adds each row's supporting sentence.
        case cite
        /// `timeline [DATE]`.
        case timeline(Expr?)
        /// `chart [LABEL] [on MEASURE]`.
        case chart(Expr?, on: Expr?)
        /// `follow REFERENCE`: each row becomes the row its reference points at.
        case follow(Expr)
        /// `referrers [COLLECTION[.FIELD]]`: the rows that refer to the rows flowing in (of
        /// that collection, through that field, when named).
        case referrers(collection: Name?, field: Name?)
    }
    /// Which clause.
    public var kind: Kind
    /// From its keyword to its end.
    public var range: SourceRange
    /// The range of the clause keyword alone.
    public var keywordRange: SourceRange
}

/// Where a query's rows come from.
public enum QuerySource: Sendable, Hashable {
    /// A collection or a `let` name.
    case name(Name)
    /// `describe "Pyongyang"`: everything about an entity.
    case describe(String, SourceRange)
    /// `search "Kursk"`: the article's sentences that contain the text.
    case search(String, SourceRange)
    /// `conflicts`: topics on which sources disagree.
    case conflicts(SourceRange)
    /// `claims, estimates, events`: the rows of several collections, one after another,
    /// with the fields they share.
    case union([Name])
}

/// A query: a source and a pipeline of clauses.
public struct Query: Sendable, Hashable {
    /// Where rows come from.
    public var source: QuerySource
    /// The clauses, applied left to right.
    public var clauses: [Clause]
    /// The whole query.
    public var range: SourceRange
}

/// A statement of a script.
public struct Statement: Sendable, Hashable {
    /// The statement kinds.
    public indirect enum Kind: Sendable, Hashable {
        /// A query whose result is shown.
        case query(Query)
        /// `let NAME = QUERY`: names the query's rows for later statements.
        case `let`(Name, Query)
        /// `explain QUERY`: the checked plan, not the rows.
        case explain(Query)
    }
    /// Which statement.
    public var kind: Kind
    /// Where it is.
    public var range: SourceRange
}
