/// The syntax tree: what the parser read, with the source range of every node.

/// An expression.
public struct Expr: Sendable, Hashable {
    /// The shapes an expression can take.
    public indirect enum Kind: Sendable, Hashable {
        case literal(Literal)
        /// A field or path (`source.name`), or a bare word the checker resolves.
        case path([Name])
        case parameter(String)
        case list([Expr])
        case unary(UnaryOp, Expr)
        case binary(BinaryOp, Expr, Expr)
        case call(Name, [Expr])
        case between(Expr, Expr, Expr, negated: Bool)
        case isNull(Expr, negated: Bool)
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
    case string(String), number(Double), percent(Double), date(PartialDate), bool(Bool), null
}

/// Prefix operators.
public enum UnaryOp: String, Sendable, Hashable { case not, negate = "-" }

/// Infix operators.
public enum BinaryOp: String, Sendable, Hashable {
    case and, or
    case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case contains, matches
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"

    var isComparison: Bool { [.eq, .ne, .lt, .le, .gt, .ge].contains(self) }
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
        case `where`(Expr, maybe: Bool)
        case select([SelectItem])
        case sort([SortKey])
        case limit(Expr)
        case group([SelectItem], aggregates: [SelectItem])
        case aggregate([SelectItem])
        case compare(Expr, on: Expr?)
        case cite
        case timeline(Expr?)
        case chart(Expr?, on: Expr?)
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
        case query(Query)
        case `let`(Name, Query)
        case explain(Query)
    }
    /// Which statement.
    public var kind: Kind
    /// Where it is.
    public var range: SourceRange
}
