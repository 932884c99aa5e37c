/// Writes a relational plan as the SQL text of one dialect. One generic generator: the
/// dialect is asked only where engines differ (quoting, placeholders, NULL order, integer
/// division, case-insensitive matching, byte-order text).
///
/// A class: it numbers bind parameters as it writes them, in the order of the text, so the
/// statement lists exactly the parameters it reads (`$1` once for each, or `?` each time).
final class SQLGenerator {
    let dialect: SQLDialect
    /// The bind parameters written so far, in the order the statement takes them.
    private(set) var parameters: [SQLParameterUse] = []

    init(dialect: SQLDialect) { self.dialect = dialect }

    func select(_ s: RelationalSelect, indent: String = "") -> String {
        let d = dialect
        var out = indent + "SELECT "
        out += s.columns.isEmpty ? "*" : s.columns.map { "\(expr($0.expr)) AS \(d.quote($0.name))" }.joined(separator: ", ")
        switch s.from {
        case .table(let t): out += "\n\(indent)FROM \(d.quote(t)) AS \(d.quote(s.alias))"
        case .subquery(let inner):
            out += "\n\(indent)FROM (\n" + select(inner, indent: indent + "  ") + "\n\(indent)) AS \(d.quote(s.alias))"
        }
        for j in s.joins {
            out += "\n\(indent)LEFT JOIN \(d.quote(j.table)) AS \(d.quote(j.alias)) ON \(d.quote(j.alias)).\(d.quote("kbq_row")) = \(expr(j.on))"
        }
        if let f = s.filter { out += "\n\(indent)WHERE " + expr(f) }
        if !s.groupBy.isEmpty { out += "\n\(indent)GROUP BY " + s.groupBy.map(expr).joined(separator: ", ") }
        if !s.orderBy.isEmpty { out += "\n\(indent)ORDER BY " + s.orderBy.map(order).joined(separator: ", ") }
        if let l = s.limit { out += "\n\(indent)LIMIT " + expr(l) }
        if let o = s.offset {
            // Spark has no OFFSET without LIMIT before 3.4; a LIMIT is always given with it here.
            out += "\n\(indent)OFFSET " + expr(o)
        }
        return out
    }

    /// kbq sorts NULLs last in both directions; the clause is written only where the
    /// dialect's default differs (PostgreSQL puts them first in DESC, the others last).
    func order(_ o: SQLOrder) -> String {
        var s = expr(o.expr) + (o.descending ? " DESC" : "")
        if dialect.putsNullsFirst(descending: o.descending) { s += " NULLS LAST" }
        return s
    }

    func expr(_ e: SQLExpr) -> String {
        switch e {
        case .column(let t, let n): return dialect.quote(t) + "." + dialect.quote(n)
        case .number(let v):
            if v.isInfinite { return literalInfinity(v > 0) }
            return shortestDescription(v)
        case .integer(let i): return String(i)
        case .bool(let b): return b ? "TRUE" : "FALSE"
        case .null: return "NULL"
        case .text(let t): return stringLiteral(t)
        case .rowNumber(let keys):
            if keys.isEmpty { return "row_number() OVER ()" }
            return "row_number() OVER (ORDER BY " + keys.map(order).joined(separator: ", ") + ")"
        case .firstBy(let x, let keys):
            switch dialect {
            case .postgres: return "(array_agg(\(expr(x)) ORDER BY " + keys.map(order).joined(separator: ", ") + "))[1]"
            case .duckdb: return "first(\(expr(x)) ORDER BY " + keys.map(order).joined(separator: ", ") + ")"
            case .spark, .sqlite:
                // No ordered aggregate: the least of (nulls last, keys…, x) structs, by position.
                var fields: [String] = []
                for (i, k) in keys.enumerated() {
                    fields.append("'n\(i)', \(expr(k.expr)) IS NULL")
                    fields.append("'k\(i)', " + (k.descending ? "-(\(expr(k.expr)))" : expr(k.expr)))
                }
                fields.append("'v', \(expr(x))")
                return "element_at(array_sort(collect_list(named_struct(" + fields.joined(separator: ", ") + "))), 1).v"
            }
        case .firstOfRow(let row, let index, let keys):
            guard index >= 0, index < row.count else { return "NULL" }
            guard dialect == .postgres else { return expr(.firstBy(row[index].0, keys)) }
            // The row's parts as one text array, so that one aggregate picks them all.
            let array = "ARRAY[" + row.map { "(" + expr($0.0) + ")::text" }.joined(separator: ", ") + "]"
            let picked = "(array_agg(" + array + " ORDER BY " + keys.map(order).joined(separator: ", ") + "))[1][\(index + 1)]"
            switch row[index].1 {
            case .text: return picked
            case .double: return "(" + picked + ")::double precision"
            case .bool: return "(" + picked + ")::boolean"
            }
        case .allTrue(let a): return (dialect == .sqlite ? "min(" : "bool_and(") + expr(a) + ")"
        case .parameter(let use):
            if dialect.numbersPlaceholders, let i = parameters.firstIndex(of: use) { return dialect.placeholder(i + 1) }
            parameters.append(use)
            return dialect.placeholder(parameters.count)
        case .binary(let op, let a, let b): return "(" + expr(a) + " " + op + " " + expr(b) + ")"
        case .not(let a): return "(NOT " + expr(a) + ")"
        case .negate(let a): return "(-" + expr(a) + ")"
        case .isNull(let a, let negated): return "(" + expr(a) + (negated ? " IS NOT NULL)" : " IS NULL)")
        case .call(let f, let args):
            // Text columns compare by bytes in PostgreSQL (COLLATE "C", SQLLayout), where
            // lower and upper would then touch only ASCII: they keep the database's collation.
            if dialect == .postgres, f == "lower" || f == "upper", args.count == 1 { return f + "(" + expr(args[0]) + " COLLATE \"default\")" }
            return f + "(" + args.map(expr).joined(separator: ", ") + ")"
        case .countAll: return "count(*)"
        case .containsText(let a, let b):
            // kbq's `contains` ignores case. strpos/instr/position find a substring without
            // LIKE's wildcards, so a `%` or `_` in the needle means itself.
            switch dialect {
            case .postgres:
                // lower() of a UTF-8 text converts it to wide characters and back; of a text
                // that is all ASCII (bytes == characters), lowering under "C" gives the same
                // letters at a third of the cost. The needle is lowered in full either way.
                let x = expr(a), needle = "lower(\(expr(b)) COLLATE \"default\")"
                return "((CASE WHEN octet_length(\(x)) = char_length(\(x)) THEN strpos(lower(\(x) COLLATE \"C\"), \(needle))" +
                    " ELSE strpos(lower(\(x) COLLATE \"default\"), \(needle)) END) > 0)"
            case .spark, .sqlite: return "(instr(lower(\(expr(a))), lower(\(expr(b)))) > 0)"
            case .duckdb: return "(strpos(lower(\(expr(a))), lower(\(expr(b)))) > 0)"
            }
        case .containsFolded(let a, let b):
            return "(" + dialect.positionFunction + "(" + expr(a) + ", " + expr(b) + ") > 0)"
        case .containsASCIIFolded(let a, let b):
            let lowered: String
            switch dialect {
            case .postgres: lowered = "lower(\(expr(a)) COLLATE \"C\")"
            // SQLite's lower() maps ASCII only; DuckDB's and Spark's map every letter.
            case .sqlite: lowered = "lower(\(expr(a)))"
            case .duckdb, .spark: lowered = "translate(\(expr(a)), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
            }
            return "(" + dialect.positionFunction + "(" + lowered + ", " + expr(b) + ") > 0)"
        case .inIntegers(let x, let values):
            return "(" + expr(x) + " IN (" + values.map(String.init).joined(separator: ", ") + "))"
        case .caseWhen(let arms, let otherwise):
            return "CASE" + arms.map { " WHEN " + expr($0.0) + " THEN " + expr($0.1) }.joined() + " ELSE " + expr(otherwise) + " END"
        case .binaryText(let a):
            switch dialect {
            case .postgres: return expr(a) + " COLLATE \"C\""
            case .sqlite: return expr(a) + " COLLATE BINARY"
            // Spark and DuckDB (without a collation set) compare strings by their bytes already.
            case .spark, .duckdb: return expr(a)
            }
        case .divide(let a, let b):
            // kbq's x / 0 is null; PostgreSQL (and Spark in ANSI mode) would refuse the statement.
            let divisor = "NULLIF(" + expr(b) + ", 0)"
            if dialect.integerDivisionTruncates { return "(CAST(\(expr(a)) AS \(dialect.doubleType)) / \(divisor))" }
            return "(" + expr(a) + " / " + divisor + ")"
        }
    }

    /// A string constant. Standard SQL doubles the quote; Spark reads backslash escapes in
    /// literals too, so there a backslash is doubled as well.
    func stringLiteral(_ t: String) -> String {
        var out = "'"
        for c in t {
            if c == "'" { out += dialect == .spark ? "\\'" : "''" }
            else if c == "\\" && dialect == .spark { out += "\\\\" }
            else { out.append(c) }
        }
        return out + "'"
    }

    private func literalInfinity(_ positive: Bool) -> String {
        switch dialect {
        case .postgres: return positive ? "'Infinity'::float8" : "'-Infinity'::float8"
        case .spark: return positive ? "double('Infinity')" : "double('-Infinity')"
        case .duckdb: return positive ? "'Infinity'::DOUBLE" : "'-Infinity'::DOUBLE"
        case .sqlite: return positive ? "9e999" : "-9e999"
        }
    }
}
