/// The SQL engines kbq writes for. One generic generator (``SQLGenerator``) targets the
/// standard form; a dialect says only where an engine lacks it or spells it differently,
/// as feature flags and small templates (the rule prqlc's dialect handlers follow too).
public enum SQLDialect: String, Sendable, CaseIterable {
    /// PostgreSQL (the `kbq push` / `kbq --db` engine).
    case postgres
    /// Spark SQL (pyspark, a Spark cluster).
    case spark
    /// DuckDB.
    case duckdb
    /// SQLite.
    case sqlite

    /// How a bind parameter is written: `$1` in PostgreSQL and DuckDB, `?` in Spark and
    /// SQLite (positional, in the order ``SQLStatement/parameters`` lists them).
    func placeholder(_ position: Int) -> String {
        numbersPlaceholders ? "$\(position)" : "?"
    }

    /// Whether placeholders are numbered (`$1` may be read twice) or positional (`?`).
    var numbersPlaceholders: Bool {
        switch self {
        case .postgres, .duckdb: return true
        case .spark, .sqlite: return false
        }
    }

    /// An identifier quoted for this dialect. Identifiers are quoted always (a field may be
    /// called `from` or `order`): double quotes in the standard, backticks in Spark.
    public func quoted(_ identifier: String) -> String { quote(identifier) }

    func quote(_ identifier: String) -> String {
        switch self {
        case .spark: return "`" + identifier.replacingAll("`", with: "``") + "`"
        default: return "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
        }
    }

    /// Whether a sort puts NULLs first unless told: PostgreSQL in `DESC` (NULL is largest),
    /// Spark and SQLite in `ASC` (NULL is smallest), DuckDB never. kbq sorts NULLs last
    /// both ways, so the generator writes `NULLS LAST` exactly where this says.
    func putsNullsFirst(descending: Bool) -> Bool {
        switch self {
        case .postgres: return descending
        case .spark, .sqlite: return !descending
        case .duckdb: return false
        }
    }

    /// The type of a floating-point column.
    var doubleType: String {
        switch self {
        case .postgres: return "double precision"
        case .spark, .duckdb: return "DOUBLE"
        case .sqlite: return "REAL"
        }
    }

    /// The engine's name, for messages.
    public var engineName: String {
        switch self {
        case .postgres: return "PostgreSQL"
        case .spark: return "Spark SQL"
        case .duckdb: return "DuckDB"
        case .sqlite: return "SQLite"
        }
    }

    /// The type of a text column.
    var textType: String { self == .spark ? "STRING" : "text" }

    /// Whether `/` between two integers truncates (`7 / 2` is 3): PostgreSQL and SQLite do;
    /// Spark and DuckDB divide exactly. kbq's numbers are real, so the generator casts the
    /// dividend where a dialect truncates.
    var integerDivisionTruncates: Bool { self == .postgres || self == .sqlite }

    /// The function that gives where a text first holds another (from 1; 0 when nowhere):
    /// a substring search without LIKE's wildcards.
    var positionFunction: String {
        switch self {
        case .postgres, .duckdb: return "strpos"
        case .spark, .sqlite: return "instr"
        }
    }

    /// `LIKE` ignores case in SQLite (ASCII) and nowhere else, and treats `%` and `_` as
    /// wildcards; kbq's `contains` ignores case and means its text literally, so the generator
    /// writes a substring search of both sides lowered instead (``SQLGenerator``).
    var likeIgnoresCase: Bool { self == .sqlite }
}

extension String {
    /// Every occurrence of `target` replaced by `replacement` (no Foundation in the engine).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
