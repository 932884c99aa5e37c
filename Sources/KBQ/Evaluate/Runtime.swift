/// Rows flowing from one step of a plan to the next.
enum Rows: @unchecked Sendable {
    /// Rows of a stored collection, by index (`nil`: all of them, in order). Filters and
    /// sorts stay here, on unboxed columns, as long as they can.
    case stored(KBCollection, [Int32]?)
    /// Computed rows of boxed values.
    case table(Table)

    var count: Int {
        switch self {
        case .stored(let c, let sel): return sel?.count ?? c.count
        case .table(let t): return t.rows.count
        }
    }
}

/// Computed rows, with what the clauses so far added around them.
struct Table: Sendable {
    var columns: [ResultColumn]
    var rows: [[Value]]
    /// For each row, the stored row it came from (kept by `select`, `sort`, `limit`), so
    /// `cite` can still find its sentence.
    var origin: [Int32]?
    var decorations = Decorations()
}

struct Decorations: Sendable {
    var title: String?
    var notes: [String] = []
    var summaries: [Summary] = []
    var chart: Chart?
}

/// Three-valued logic with two kinds of "neither": `unknown` (a null took part) and
/// `maybe` (an interval straddles the bound). `where` keeps `yes`; `where maybe` keeps
/// `maybe` too.
enum Truth: UInt8, Sendable {
    case no, unknown, maybe, yes

    static func && (a: Truth, b: Truth) -> Truth {
        if a == .no || b == .no { return .no }
        if a == .unknown || b == .unknown { return .unknown }
        if a == .maybe || b == .maybe { return .maybe }
        return .yes
    }
    static func || (a: Truth, b: Truth) -> Truth {
        if a == .yes || b == .yes { return .yes }
        if a == .maybe || b == .maybe { return .maybe }
        if a == .unknown || b == .unknown { return .unknown }
        return .no
    }
    static prefix func ! (a: Truth) -> Truth {
        switch a {
        case .yes: return .no
        case .no: return .yes
        default: return a
        }
    }
    init(_ b: Bool) { self = b ? .yes : .no }

    var value: Value {
        switch self {
        case .yes: return .bool(true)
        case .no: return .bool(false)
        case .unknown, .maybe: return .null
        }
    }
}

/// Everything one run of a plan needs: the KB, parameter values, `let` results, and the
/// bounds it must stay inside.
final class Env {
    let kb: KnowledgeBase
    let params: [String: Value]
    let lets: [String: Rows]
    let limits: Limits
    let cancel: CancellationToken?
    let deadline: ContinuousClock.Instant
    var work = 0
    /// The rows of the table a table-frame expression reads.
    var table: [[Value]] = []

    /// `started` and `work` carry a run's clock and work count from one statement of a
    /// script to the next: the limits bound the whole run, not each statement.
    init(kb: KnowledgeBase, params: [String: Value], lets: [String: Rows], limits: Limits, cancel: CancellationToken?,
         started: ContinuousClock.Instant = .now, work: Int = 0) {
        self.kb = kb
        self.params = params
        self.lets = lets
        self.limits = limits
        self.cancel = cancel
        self.work = work
        let seconds = min(max(0, limits.maxSeconds.isNaN ? 0 : limits.maxSeconds), 1e9)
        self.deadline = started.advanced(by: .milliseconds(Int64(seconds * 1000)))
    }

    /// Whether the run is past its deadline or cancelled. Work inside one row that can
    /// take long (a pattern over a long text) polls this and gives up; the next `tick`
    /// then ends the run.
    var mustStop: Bool {
        if let cancel, cancel.isCancelled { return true }
        return ContinuousClock.now > deadline
    }

    /// Counts `n` rows of work and checks the bounds; called once per batch of rows.
    @inline(__always)
    func tick(_ n: Int) throws(Diagnostic) {
        work &+= n
        if work > limits.maxWork {
            throw Diagnostic(.workLimit, "the query visited more than \(limits.maxWork) rows, the limit for this run")
        }
        if let cancel, cancel.isCancelled { throw Diagnostic(.cancelled, "the query was cancelled") }
        if ContinuousClock.now > deadline {
            throw Diagnostic(.timeout, "the query ran longer than \(formatNumber(limits.maxSeconds)) s, the limit for this run")
        }
    }
}

typealias Eval = @Sendable (Int, Env) -> Value
typealias Pred = @Sendable (Int, Env) -> Truth
