// The relational plan: what the SQL backend makes of a checked query before any dialect
// spells it. A `SELECT` over one table (or a nested plan), with left joins that follow
// references, a filter, groups, an order and a limit. Expressions are a small tree of
// their own, so that the one generator (SQLGenerator.swift) writes every dialect.
//
//   checked query ──SQLTranslation──▶ RelationalSelect ──SQLGenerator(dialect)──▶ SQL text

/// An expression of the relational plan.
indirect enum SQLExpr: Sendable {
    /// A column of a table or subquery, by alias.
    case column(table: String, name: String)
    /// A literal written into the SQL: only numbers, booleans and NULL the translation
    /// makes itself (never a user's text; user values are parameters).
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case null
    /// A string constant the query wrote, quoted and escaped for the dialect (a value the
    /// user binds at run time is a ``parameter(_:)`` instead).
    case text(String)
    /// The value of `x` in the first row of a group in `order` (an aggregate): the row
    /// `min` and `max` of intervals pick, qualifier and all.
    case firstBy(SQLExpr, [SQLOrder])
    /// Part `index` of `row` (the columns of one value, each with its type) in the first row
    /// of a group in `order`: as ``firstBy(_:_:)`` of that part, but PostgreSQL picks the row
    /// once for all its parts (one aggregate, which it computes once however often it is
    /// written), where a ``firstBy(_:_:)`` each would sort the group once per part.
    case firstOfRow([(SQLExpr, SQLPartType)], index: Int, [SQLOrder])
    /// Whether every row's value is true, NULLs ignored (an aggregate): `bool_and`, or
    /// `min` in SQLite; NULL when every value is.
    case allTrue(SQLExpr)
    /// `row_number() OVER (ORDER BY …)`: a subquery's order, kept as a column.
    case rowNumber([SQLOrder])
    /// A bind parameter: which part of which kbq parameter. The generator numbers them as it
    /// writes them (``SQLGenerator/parameters``).
    case parameter(SQLParameterUse)
    /// `a OP b` for `=`, `<>`, `<`, `<=`, `>`, `>=`, `AND`, `OR`, `+`, `-`, `*`, `/`.
    case binary(String, SQLExpr, SQLExpr)
    /// `NOT a`.
    case not(SQLExpr)
    /// `-a`.
    case negate(SQLExpr)
    /// `a IS [NOT] NULL`.
    case isNull(SQLExpr, negated: Bool)
    /// A function every dialect spells the same (`lower`, `count`, `min` …).
    case call(String, [SQLExpr])
    /// `count(*)`.
    case countAll
    /// Case-insensitive substring test: `a` contains `b`, both lowered by the engine (for
    /// texts that have no folded column).
    case containsText(SQLExpr, SQLExpr)
    /// `a` contains `b` byte for byte: both folded already (a stored text's folded column, a
    /// needle kbq folded).
    case containsFolded(SQLExpr, SQLExpr)
    /// `a`, its ASCII capitals lowered and nothing else, contains `b` (lower case ASCII): how
    /// kbq searches a stored text for a constant of ASCII letters.
    case containsASCIIFolded(SQLExpr, SQLExpr)
    /// `x IN (1, 2, …)`: whole numbers the translation found (rows a name picked).
    case inIntegers(SQLExpr, [Int])
    /// `CASE WHEN c THEN v … ELSE e END`.
    case caseWhen([(SQLExpr, SQLExpr)], SQLExpr)
    /// A text compared byte by byte (PostgreSQL's `COLLATE "C"`), for the tie-break of sorts.
    case binaryText(SQLExpr)
    /// A real division: both sides made floating point where a dialect truncates integers.
    case divide(SQLExpr, SQLExpr)

    static func and(_ a: SQLExpr, _ b: SQLExpr) -> SQLExpr {
        if case .bool(true) = a { return b }
        if case .bool(true) = b { return a }
        return .binary("AND", a, b)
    }
    static func or(_ a: SQLExpr, _ b: SQLExpr) -> SQLExpr { .binary("OR", a, b) }
}

/// The type of one part of ``SQLExpr/firstOfRow(_:index:_:)``'s row, to read it back as.
enum SQLPartType: Sendable { case double, text, bool }

/// One `ORDER BY` key.
struct SQLOrder: Sendable {
    var expr: SQLExpr
    var descending: Bool
}

/// A left join that follows a reference: `LEFT JOIN table AS alias ON alias.kbq_row = on`.
struct SQLJoin: Sendable {
    var table: String
    var alias: String
    var on: SQLExpr
}

/// Where a select reads its rows.
indirect enum SQLFrom: Sendable {
    case table(String)
    case subquery(RelationalSelect)
}

/// One `SELECT`.
struct RelationalSelect: Sendable {
    var from: SQLFrom
    /// The alias of `from` in expressions.
    var alias: String
    var joins: [SQLJoin] = []
    var filter: SQLExpr?
    var groupBy: [SQLExpr] = []
    var columns: [(name: String, expr: SQLExpr)] = []
    var orderBy: [SQLOrder] = []
    var limit: SQLExpr?
    var offset: SQLExpr?
}
