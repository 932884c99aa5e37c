import Synchronization

// kbq's pipeline, stage by stage, a folder each:
//
//   query text ──Lexer (Syntax/)──▶ tokens ──Parser (Syntax/)──▶ statements (syntax tree)
//              ──check (Check/)──▶ CheckedScript: the checked query as typed data
//              ──Lowering (Evaluate/)──▶ plan: closures and column-scan fast paths
//              ──run (Evaluate/)──▶ ResultTable ──Render/──▶ table, JSON, CSV or Markdown text
//   CheckedScript ──SQL/──▶ a relational plan ──▶ SQL for PostgreSQL, Spark, DuckDB or SQLite
//
// Beneath them all, Values/ (Value, Quantity, PartialDate, collections, ResultTable) and
// Diagnostics/ (positioned errors and their rendering), and below the library the
// linear-time pattern engine behind `matches`, a module of its own (Sources/KBQPattern,
// with its own tests) that Check/ compiles patterns with and Evaluate/ runs; beside them,
// Formats/, Loading/ and Article/ make knowledge bases, Compiled/ writes and opens
// compiled KB files (`kbq build`; the article KB is one, in the binary), Complete/ offers
// what may be typed and Help/ holds `.help`'s topics. `check` (Check/Check.swift) is the one entry both `PreparedQuery` and
// `Session` use; explain, completion, hover and SQL/ read its output, and Check/ names
// nothing of Evaluate/. Checking reads the KB's schema and dictionaries, never the clock,
// and of its rows only the names of a referenced collection of at most 4,096 rows. Nothing
// runs unless every stage before it succeeded: a script with an error in any statement runs
// none of them. Above the library, Sources/KBQShell is the shell the programs share (the
// REPL, the input loop, the dot-commands) over a KB in memory or in a database, and
// Sources/KBQPostgres runs SQL/'s statements on PostgreSQL (libpq) for kbq-db and for
// programs that embed kbq; the library names nothing of either.

/// Bounds for one run of a query, for queries that come from people you do not trust.
public struct Limits: Sendable, Hashable {
    /// The most rows a result may have.
    public var maxRows: Int
    /// The longest a run may take, in seconds.
    public var maxSeconds: Double
    /// The most rows a run may visit, summed over every step.
    public var maxWork: Int
    /// The most bytes of text `concat` and `replace` may make in a run (and no one value
    /// more than 16 MiB): they are the only functions whose output outgrows their input.
    public var maxTextBytes: Int
    /// The most values a result may hold (rows × columns). With `maxRows` it bounds the
    /// memory a result takes and the time and memory of rendering it: ten thousand rows
    /// of a select list of ten thousand columns would be a hundred million values.
    public var maxValues: Int
    /// The most bytes of text a query's result may hold, summed over its values (a number,
    /// a date, a reference counts as 8): what rendering it costs grows with this, so a
    /// short query cannot make a table of hundreds of megabytes (a select of 3,000 copies
    /// of every sentence).
    public var maxResultBytes: Int

    /// Makes limits.
    public init(maxRows: Int = 10_000_000, maxSeconds: Double = 3600, maxWork: Int = Int.max, maxTextBytes: Int = 256 << 20,
                maxValues: Int = Int.max, maxResultBytes: Int = Int.max) {
        self.maxRows = maxRows
        self.maxSeconds = maxSeconds
        self.maxWork = maxWork
        self.maxTextBytes = maxTextBytes
        self.maxValues = maxValues
        self.maxResultBytes = maxResultBytes
    }

    /// No practical limit but 256 MiB of text made by `concat` and `replace`: what the CLI uses.
    public static let none = Limits()
    /// A conservative default for untrusted queries: 10,000 rows, 2 seconds, 50 million rows
    /// visited, 16 MiB of text made, a million values and 1 MiB of text in a result.
    public static let untrusted = Limits(maxRows: 10_000, maxSeconds: 2, maxWork: 50_000_000, maxTextBytes: 16 << 20,
                                         maxValues: 1_000_000, maxResultBytes: 1 << 20)
}

/// Lets a host stop a running query from another thread or task. The query notices within
/// a few thousand rows and ends with a ``Diagnostic/Kind/cancelled`` diagnostic.
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    /// Makes a token that is not cancelled.
    public init() {}
    /// Asks every query running with this token to stop.
    public func cancel() { flag.store(true, ordering: .relaxed) }
    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// What one statement of a script produced.
public enum StatementOutcome: Sendable {
    /// A query's result.
    case result(ResultTable)
    /// `let NAME = …` bound a name; the payload is the name and its row count.
    case bound(name: String, rows: Int)
    /// A warning found in checking (``Diagnostic/isWarning``), given before any statement
    /// runs; the statements run all the same.
    case warning(Diagnostic)
}

/// An output format for results.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// Aligned columns with a chart under them where one reads better.
    case table
    /// A JSON object per result: columns, rows, notes, summaries.
    case json
    /// RFC 4180 CSV with a header row.
    case csv
    /// A GitHub-flavoured Markdown table.
    case markdown
}
