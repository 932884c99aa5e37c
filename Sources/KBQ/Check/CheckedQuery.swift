// The checked query: what the checker makes of a parsed script, as plain data.
//
// Shape, outermost first:
//
//   CheckedScript            statements + parameter slots + diagnostics (errors, warnings)
//   └ CheckedStatement       .query / .let(name) / .explain, each holding a CheckedQuery
//     └ CheckedQuery         source ─▶ clauses, left to right; `output` is the final RowShape
//       ├ CheckedSource      .collection / .letName / .describe / .search / .conflicts, + shape
//       └ CheckedClause      .filter / .select / .sort / .limit / .group / .compare / .cite /
//                            .timeline / .chart / .follow / .referrers, each with the
//                            RowShape it outputs
//         └ CheckedExpr      a typed tree: every node has `type` and `range`
//              .constant(Value)         literals already parsed and converted where the
//                                       place says so (a year against a date is a date,
//                                       a word against a hedge is that hedge)
//              .field(FieldReference)   column index and name in the rows flowing in, the
//                                       stored collection when rows are still stored, and
//                                       every reference followed (`source.name`)
//              .parameter(name, slot)   a `$name`, read from slot `slot` of the run
//              .call(BuiltinFunction, args), .compare(op, a, b), .arithmetic(op, a, b),
//              .and/.or/.not, .contains, .matches, .between, .isNull, .inList, .inValues,
//              .negate, .list, .refersTo (a reference compared with a name: the rows it names)
//
// Everything is a value (Sendable, Hashable): two checks of the same text against the same
// KB give equal data. Checking reads the KB's schema and dictionaries, never its rows and
// never the clock. `printed()` is a stable text form: the golden test of Examples/ and
// `explain` show it. Evaluate/ lowers it into closures; explain, completion, hover and SQL
// read it.

/// The columns of the rows flowing between two clauses, and what they still are.
public struct RowShape: Sendable, Hashable {
    /// The columns, in order.
    public var columns: [ResultColumn]
    /// The collection whose stored rows these are, unboxed (a scan not yet projected):
    /// field references then read its columns directly.
    public var stored: String?
    /// The collection each row still comes from one-to-one (kept through `select`, `sort`,
    /// `limit`), so `cite` can find a row's sentence.
    public var origin: String?
    /// The field `compare` and `chart` use when none is named.
    public var measure: String?

    /// Makes a shape.
    public init(columns: [ResultColumn], stored: String? = nil, origin: String? = nil, measure: String? = nil) {
        self.columns = columns
        self.stored = stored
        self.origin = origin
        self.measure = measure
    }

    /// The index of the column called `name`.
    public func index(of name: String) -> Int? { columns.firstIndex { $0.name == name } }
}

/// The built-in functions, resolved by the checker.
public enum BuiltinFunction: String, Sendable, Hashable, CaseIterable {
    case lower, upper, len, abs, round, year, month, coalesce, low, high, qualifier, stated, text, trim
    case floor, ceil, day, substr, replace, concat, relative, exact
    // Aggregates.
    case count, sum, avg, min, max, spread

    /// Whether it folds many rows into one value (usable only after `aggregate`).
    public var isAggregate: Bool {
        switch self {
        case .count, .sum, .avg, .min, .max, .spread: return true
        default: return false
        }
    }

    /// How many arguments it takes.
    public var arity: ClosedRange<Int> {
        switch self {
        case .count: return 0...1
        case .round: return 1...2
        case .coalesce, .concat: return 1...16
        case .substr: return 2...3
        case .replace: return 3...3
        default: return 1...1
        }
    }

    /// How it is called, for messages and completion.
    public var signature: String {
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

    /// What it gives, in one line (completion and hover show it).
    public var summary: String {
        switch self {
        case .lower: return "the text in lower case"
        case .upper: return "the text in upper case"
        case .trim: return "the text without leading and trailing spaces"
        case .len: return "the number of characters of a text, or items of a list"
        case .abs: return "the magnitude of a number"
        case .round: return "a number rounded to so many digits after the point (0 by default)"
        case .year: return "the year of a date, as a date"
        case .month: return "the month of a date (1-12), null when the date names none"
        case .coalesce: return "the first of its arguments that is not null"
        case .low: return "the lower bound of a quantity"
        case .high: return "the upper bound of a quantity"
        case .qualifier: return "a quantity's qualifier word (over, about, …)"
        case .stated: return "the number a quantity states, without its qualifier"
        case .text: return "the value as the table shows it"
        case .floor: return "the largest whole number not above it"
        case .ceil: return "the smallest whole number not below it"
        case .day: return "the day of the month of a date, null when the date names none"
        case .substr: return "characters of a text, counted from 1"
        case .replace: return "the text with every occurrence of old replaced by new"
        case .concat: return "the values' texts joined, nulls skipped"
        case .relative: return "whether a date is stated from another (\"days after 2024-10-13\")"
        case .exact: return "whether a value is one point known exactly (a number without qualifier, a day)"
        case .count: return "the number of rows (or of non-null values)"
        case .sum: return "the sum of the values"
        case .avg: return "the mean of the values"
        case .min: return "the smallest value"
        case .max: return "the largest value"
        case .spread: return "the largest value minus the smallest"
        }
    }
}

/// A field read by an expression, resolved against the rows flowing in.
public struct FieldReference: Sendable, Hashable {
    /// The column's index among the columns flowing in (``RowShape/columns``).
    public var column: Int
    /// The column's name.
    public var name: String
    /// The collection whose stored column is read directly, when the rows are still stored.
    public var collection: String?
    /// The references followed after the column, in order (`source.name` follows `source`
    /// into field `name` of `sources`).
    public var path: [Step]

    /// One reference followed: into `field` (at index `index`) of `collection`.
    public struct Step: Sendable, Hashable {
        /// The collection the reference points into.
        public var collection: String
        /// The field's index among the collection's fields.
        public var index: Int
        /// The field's name.
        public var field: String
        /// Where the step is written.
        public var range: SourceRange
    }
}

/// A checked expression: its shape, its type, and where it is written.
public struct CheckedExpr: Sendable, Hashable {
    /// The shapes a checked expression takes.
    public indirect enum Kind: Sendable, Hashable {
        /// A value known before any row is seen (literals, folded constant arithmetic,
        /// words resolved as hedges, years and date strings read as dates).
        case constant(Value)
        /// A field of the rows flowing in, perhaps followed through references.
        case field(FieldReference)
        /// A `$name` parameter, read from the run's slot `slot`.
        case parameter(name: String, slot: Int)
        /// A list of expressions that are not all constant.
        case list([CheckedExpr])
        /// Arithmetic negation (intervals stay intervals).
        case negate(CheckedExpr)
        /// Logical `not` (three-valued).
        case not(CheckedExpr)
        /// Logical `and`.
        case and(CheckedExpr, CheckedExpr)
        /// Logical `or`.
        case or(CheckedExpr, CheckedExpr)
        /// A comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`), operands already made comparable.
        case compare(BinaryOp, CheckedExpr, CheckedExpr)
        /// Arithmetic (`+`, `-`, `*`, `/`, `%`) on numbers, percents or intervals.
        case arithmetic(BinaryOp, CheckedExpr, CheckedExpr)
        /// A call of a non-aggregate built-in function.
        case call(BuiltinFunction, [CheckedExpr])
        /// `text contains needle` (or a list containing a value).
        case contains(CheckedExpr, CheckedExpr)
        /// `text matches pattern`; a constant pattern was checked to compile.
        case matches(CheckedExpr, CheckedExpr)
        /// `x [not] between lo and hi`.
        case between(CheckedExpr, CheckedExpr, CheckedExpr, negated: Bool)
        /// `x is [not] null`.
        case isNull(CheckedExpr, negated: Bool)
        /// `x [not] in [a, b, …]` with the items written out, each made comparable with `x`.
        case inList(CheckedExpr, [CheckedExpr], negated: Bool)
        /// `x [not] in LIST` with the list known when the query runs (a parameter).
        case inValues(CheckedExpr, CheckedExpr, negated: Bool)
        /// A reference compared with a name (`source = "Trump"`, or `in` a list of names):
        /// whether it refers to one of these rows of `collection`, found by key, name, title
        /// or alias when the query was checked.
        case refersTo(CheckedExpr, collection: String, rows: [Int], negated: Bool)
    }

    /// The shape.
    public var kind: Kind
    /// The type of its value.
    public var type: FieldType
    /// Where it is written in the source.
    public var range: SourceRange

    /// Makes a checked expression.
    public init(_ kind: Kind, type: FieldType, range: SourceRange) {
        self.kind = kind
        self.type = type
        self.range = range
    }

    /// The value, when it is a constant.
    public var constant: Value? {
        if case .constant(let v) = kind { return v }
        return nil
    }

    /// The parameter's name, when it is a parameter.
    public var parameter: String? {
        if case .parameter(let name, _) = kind { return name }
        return nil
    }

    /// The stored column it reads without following a reference: (collection, field index).
    public var storedColumn: (collection: String, field: Int)? {
        guard case .field(let f) = kind, f.path.isEmpty, let c = f.collection else { return nil }
        return (c, f.column)
    }
}

/// A named column an item of `select` or `group by` makes.
public struct CheckedColumn: Sendable, Hashable {
    /// The column's name in the output.
    public var name: String
    /// Its value.
    public var expr: CheckedExpr
}

/// One aggregate of `aggregate` or `group by … aggregate`.
public struct CheckedAggregate: Sendable, Hashable {
    /// The output column's name.
    public var name: String
    /// The aggregate function.
    public var function: BuiltinFunction
    /// Its argument (`count()` has none).
    public var argument: CheckedExpr?
    /// The type of the aggregated value.
    public var type: FieldType
    /// The call as written (`max(value)`), for messages.
    public var text: String
    /// Where the call is written.
    public var range: SourceRange
}

/// One key of `sort by`.
public struct CheckedSortKey: Sendable, Hashable {
    /// The key.
    public var expr: CheckedExpr
    /// Largest first.
    public var descending: Bool
}

/// A number of rows for `limit` or `offset`.
public enum CheckedRowCount: Sendable, Hashable {
    /// Written in the query.
    case constant(Int)
    /// A `$name` parameter (checked to be a whole number when the run binds it).
    case parameter(name: String, slot: Int, range: SourceRange)
}

/// Where `cite` finds each row's sentence.
/// Where `compare` reads what its rows infer (docs/KB-FORMAT.md, "Stated or inferred"):
/// column indexes into the rows flowing in, and the fields compare shows, by name.
public struct CheckedProvenance: Sendable, Hashable {
    /// The `inferred` column (a list of field names).
    public let inferred: Int
    /// The `reason` and key columns, for the notes.
    public let reason: Int?
    public let id: Int?
    /// The fields compare shows (the compared field, the measure, unit, hedge, sentence):
    /// only their inferences are its business.
    public let shown: [String]
    /// The compared field's name, when it is a field of the rows.
    public let keyField: String?
}

public enum CheckedCiteSource: Sendable, Hashable {
    /// Column `index` of the rows flowing in.
    case column(Int)
    /// Field `field` (at `index`) of collection `collection`, which the rows still come
    /// from one-to-one.
    case origin(collection: String, index: Int, field: String)
}

/// A reference field that points into another collection: field `field` (at `index`) of
/// `collection`. `referrers` follows such links backwards.
public struct ReferenceLink: Sendable, Hashable {
    /// The collection whose rows hold the reference.
    public var collection: String
    /// The field's index among the collection's fields.
    public var index: Int
    /// The field's name.
    public var field: String
}

/// A checked clause.
public struct CheckedClause: Sendable, Hashable {
    /// The clause kinds.
    public enum Kind: Sendable, Hashable {
        /// `where` keeps rows for which the condition is yes (and maybe, with `where maybe`).
        case filter(CheckedExpr, keepMaybe: Bool)
        /// `select` makes these columns.
        case select([CheckedColumn])
        /// `sort by`, nulls last.
        case sort([CheckedSortKey])
        /// `limit N [offset M]`.
        case limit(CheckedRowCount, offset: CheckedRowCount?)
        /// `group by KEYS aggregate AGGS`; with no keys, `aggregate AGGS` over all rows.
        case group(keys: [CheckedColumn], aggregates: [CheckedAggregate])
        /// `compare KEY on MEASURE`: the unit, hedge and sentence columns are those of the
        /// rows flowing in that compare keeps beside the values (indexes into them).
        case compare(key: CheckedExpr, measure: CheckedExpr, measureName: String, unit: Int?, hedge: Int?, sentence: Int?,
                     provenance: CheckedProvenance?)
        /// `cite` adds paragraph and quote from each row's sentence.
        case cite(CheckedCiteSource)
        /// `timeline`: sorted by `date`, drawn with the label column (an index), if any.
        case timeline(date: CheckedExpr, label: Int?)
        /// `chart`: bars of `measure` labelled by `label`, with a unit column (an index), if any.
        case chart(label: CheckedExpr, measure: CheckedExpr, unit: Int?)
        /// `follow REF`: each row becomes the row of `collection` its reference points at,
        /// once each, in the order first reached; rows whose reference is null lead nowhere.
        case follow(CheckedExpr, collection: String)
        /// `referrers`: the rows whose `links` point at one of the rows flowing in (rows of
        /// `target`), in their collections' order. `listed`: every collection's, shown as
        /// `describe` shows them (and, as there, what refers to those in turn); otherwise
        /// the stored rows of the one collection named.
        case referrers(target: String, links: [ReferenceLink], listed: Bool)
    }

    /// Which clause.
    public var kind: Kind
    /// The rows it gives.
    public var output: RowShape
    /// From its keyword to its end.
    public var range: SourceRange
}

/// Where a checked query's rows come from.
public struct CheckedSource: Sendable, Hashable {
    /// The source kinds.
    public enum Kind: Sendable, Hashable {
        /// Every row of a stored collection.
        case collection(String)
        /// The rows a `let` name is bound to in the run.
        case letName(String)
        /// Everything that refers to the entity with this name, alias or id.
        case describe(String)
        /// The sentences that contain this text, in any case.
        case search(String)
        /// Topics on which sources disagree, in these collections.
        case conflicts([String])
        /// The rows of these collections one after another, with the fields they share.
        case union([String])
    }
    /// Which source.
    public var kind: Kind
    /// The rows it gives.
    public var output: RowShape
    /// Where it is written.
    public var range: SourceRange
}

/// A checked query: a source, then clauses left to right.
public struct CheckedQuery: Sendable, Hashable {
    /// Where rows come from.
    public var source: CheckedSource
    /// The clauses, in order.
    public var clauses: [CheckedClause]
    /// The whole query.
    public var range: SourceRange

    /// The rows the query gives.
    public var output: RowShape { clauses.last?.output ?? source.output }
}

/// A checked statement.
public struct CheckedStatement: Sendable, Hashable {
    /// The statement kinds.
    public enum Kind: Sendable, Hashable {
        /// A query whose rows are shown.
        case query(CheckedQuery)
        /// `let NAME = QUERY`.
        case `let`(String, CheckedQuery)
        /// `explain QUERY`: the plan, not the rows.
        case explain(CheckedQuery)
    }
    /// Which statement.
    public var kind: Kind
    /// Where it is.
    public var range: SourceRange

    /// The query the statement holds.
    public var query: CheckedQuery {
        switch kind {
        case .query(let q), .let(_, let q), .explain(let q): return q
        }
    }
}

/// A `$name` parameter a checked script reads.
public struct CheckedParameter: Sendable, Hashable {
    /// The name, without `$`.
    public var name: String
    /// The slot rows read it from.
    public var slot: Int
    /// The type of what it is compared with or given to, when that says (nil: any value).
    public var type: FieldType?
    /// Whether it is used as a `matches` pattern (checked to compile when bound).
    public var isPattern: Bool
    /// Where it is first written (or where its type was decided).
    public var range: SourceRange
}

/// What checking a script gives: the statements that checked, the parameters they read,
/// and every problem found.
public struct CheckedScript: Sendable, Hashable {
    /// The statements that checked, in order (a statement with an error is left out).
    public var statements: [CheckedStatement]
    /// The parameters read, by name.
    public var parameters: [CheckedParameter]
    /// Syntax and checking errors, sorted by position.
    public var diagnostics: [Diagnostic]
    /// What does not stop the script from running (``Diagnostic/isWarning``): a literal
    /// that matches no value of the field it is compared with.
    public var warnings: [Diagnostic]

    /// Whether any error was found.
    public var hasErrors: Bool { !diagnostics.isEmpty }
}
