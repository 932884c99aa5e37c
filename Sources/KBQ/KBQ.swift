import Synchronization

// kbq's pipeline, stage by stage, a folder each:
//
//   query text ──Lexer (Syntax/)──▶ tokens ──Parser (Syntax/)──▶ statements (syntax tree)
//              ──check (Check/)──▶ CheckedScript: the checked query as typed data
//              ──Lowering (Evaluate/)──▶ plan: closures and column-scan fast paths
//              ──run (Evaluate/)──▶ ResultTable ──Render/──▶ table, JSON, CSV or Markdown text
//
// Beneath them all, Values/ (Value, Quantity, PartialDate, collections, ResultTable) and
// Pattern/ (the linear-time pattern engine); beside them, Formats/, Loading/, Snapshot/
// and Article/ make knowledge bases, and Complete/ offers what may be typed. `check`
// (Check/Check.swift) is the one entry both `PreparedQuery` and `Session` use; explain,
// completion and a SQL backend read its output. Checking reads the KB's schema and
// dictionaries, never its rows or the clock. Nothing runs unless every stage before it
// succeeded: a script with an error in any statement runs none of them.

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

    /// Makes limits.
    public init(maxRows: Int = 10_000_000, maxSeconds: Double = 3600, maxWork: Int = Int.max, maxTextBytes: Int = 256 << 20) {
        self.maxRows = maxRows
        self.maxSeconds = maxSeconds
        self.maxWork = maxWork
        self.maxTextBytes = maxTextBytes
    }

    /// No practical limit but 256 MiB of text made by `concat` and `replace`: what the CLI uses.
    public static let none = Limits()
    /// A conservative default for untrusted queries: 10,000 rows, 2 seconds, 50 million rows
    /// visited, 16 MiB of text made.
    public static let untrusted = Limits(maxRows: 10_000, maxSeconds: 2, maxWork: 50_000_000, maxTextBytes: 16 << 20)
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
