import Synchronization

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
    /// The collection ``origin`` indexes, when there is one.
    var originCollection: KBCollection?
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
        case .maybe: return .maybe
        case .unknown: return .null
        }
    }
}

/// Everything one run of a plan needs: the KB, parameter values, `let` results, and the
/// bounds it must stay inside.
final class Env {
    let kb: KnowledgeBase
    let params: [String: Value]
    /// The parameters' values by slot (``CheckedParameter/slot``), as rows read them.
    private let args: Arguments
    /// How many parameter slots the run has.
    let argCount: Int
    let lets: [String: Rows]
    let limits: Limits
    let cancel: CancellationToken?
    /// When the run must end: fixed when the Env is made if the caller gives the start (a
    /// script's statements share one clock), else the first time it is read — the run's
    /// first look at the clock, once some rows of work have passed, so a short run reads
    /// the clock not at all. It is first read on the run's own thread: work split across
    /// the cores reads it before it splits (see `filterInParts`).
    var deadline: ContinuousClock.Instant {
        if let d = fixedDeadline { return d }
        let d = ContinuousClock.now.advanced(by: budget)
        fixedDeadline = d
        return d
    }
    private var fixedDeadline: ContinuousClock.Instant?
    private let budget: Duration
    var work = 0
    /// One remembered integer for the run, under the key of the closure that worked it out
    /// (a parameter's string id, found once rather than on every row). One slot: queries
    /// with several such closures take turns in it, and stay correct. Key and value share
    /// one atomic word, because a filter over a big collection runs its closures on both
    /// cores at once: a reader sees a key with its own value, never another's.
    private let memoWord = Atomic<UInt64>(0)
    private static let memoKeys = Atomic<UInt32>(0)

    /// A key for ``memo(_:)``; never 0, which marks the empty slot.
    static func memoKey() -> UInt32 {
        while true {
            let k = memoKeys.add(1, ordering: .relaxed).newValue
            if k != 0 { return k }
        }
    }

    /// The value remembered under `key` in this run, if any.
    @inline(__always)
    func memo(_ key: UInt32) -> UInt32? {
        let word = memoWord.load(ordering: .relaxed)
        return UInt32(truncatingIfNeeded: word >> 32) == key ? UInt32(truncatingIfNeeded: word) : nil
    }

    /// Remembers `value` under `key` for the rest of the run.
    func setMemo(_ key: UInt32, _ value: UInt32) {
        memoWord.store(UInt64(key) << 32 | UInt64(value), ordering: .relaxed)
    }

    /// The longest text `concat` or `replace` may make (the most they may make in a run is
    /// `Limits.maxTextBytes`): the only functions whose output outgrows their input, so a
    /// query nesting them (or a chain of lets) could otherwise fill memory.
    static let maxTextBytes = 16 << 20
    private let textBytes: Atomic<Int>
    /// How much text `concat` and `replace` have made in this run (a script's statements
    /// carry it from one to the next, as they carry `work`).
    var builtText: Int { textBytes.load(ordering: .relaxed) }
    /// Set when a value could not be made; checked after each step (an `Eval` returns a
    /// value and cannot throw). A flag read on every step, the diagnostic behind a lock.
    private let failed = Atomic<Bool>(false)
    private let failure = Mutex<Diagnostic?>(nil)

    /// Whether `bytes` more of built text fit this run's bounds; if not, records why
    /// (against `range`, for `function`) and the run stops after the current step.
    func mayBuildText(_ bytes: Int, by function: String, at range: SourceRange) -> Bool {
        mayBuildOneText(bytes, by: function, at: range) && charge(bytes, by: function, at: range)
    }

    /// Whether one text of up to `bytes` may be made (checked before making it).
    func mayBuildOneText(_ bytes: Int, by function: String, at range: SourceRange) -> Bool {
        if bytes > Env.maxTextBytes {
            fail(Diagnostic(.limitExceeded, "\(function) would make a text of \(formatNumber(Double(bytes))) bytes; the limit is 16 MiB", at: range))
            return false
        }
        return true
    }

    /// Counts `bytes` of text made against the run's budget: whether they fit.
    func charge(_ bytes: Int, by function: String, at range: SourceRange) -> Bool {
        let total = textBytes.add(bytes, ordering: .relaxed).newValue
        if total > limits.maxTextBytes {
            fail(Diagnostic(.limitExceeded, "\(function) made more than \(formatNumber(Double(limits.maxTextBytes))) bytes of text in this run, the limit", at: range))
            return false
        }
        return true
    }

    /// Records the first failure of the run.
    func fail(_ d: Diagnostic) {
        failure.withLock { if $0 == nil { $0 = d } }
        failed.store(true, ordering: .relaxed)
    }

    /// Throws the failure an `Eval` recorded, if any.
    @inline(__always)
    func checkFailure() throws(Diagnostic) {
        guard failed.load(ordering: .relaxed) else { return }
        if let d = failure.withLock({ $0 }) { throw d }
    }

    /// Values worked out once per run and shared by its rows (and threads): a list
    /// parameter's set of strings.
    private let perRunValues = Mutex<[UInt32: any Sendable]>([:])

    /// The value kept under `key` for this run, made by `make` the first time.
    func perRun<T: Sendable>(_ key: UInt32, _ make: () -> T) -> T {
        perRunValues.withLock { values in
            if let v = values[key] as? T { return v }
            let v = make()
            values[key] = v
            return v
        }
    }

    /// The value of parameter slot `slot` (null outside the slots). Read through the Env
    /// rather than by taking `args` out of it, which would copy the whole struct.
    @inline(__always)
    func arg(_ slot: Int) -> Value {
        switch slot {
        case 0: return args.first
        case 1: return args.second
        case 2..<argCount: return args[slot]
        default: return .null
        }
    }

    /// `work` when the clock was last read or the run started (`Int.min`: read it at the
    /// next tick).
    private var clockedAt = Int.min
    /// The rows of the table a table-frame expression reads.
    var table: [[Value]] = []

    /// `started` and `work` carry a run's clock and work count from one statement of a
    /// script to the next: the limits bound the whole run, not each statement.
    init(kb: KnowledgeBase, params: [String: Value], args: Arguments = Arguments(), lets: [String: Rows], limits: Limits,
         cancel: CancellationToken?, started: ContinuousClock.Instant? = nil, work: Int = 0, builtText: Int = 0) {
        textBytes = Atomic(builtText)
        self.kb = kb
        self.params = params
        self.args = args
        self.argCount = args.count
        self.lets = lets
        self.limits = limits
        self.cancel = cancel
        self.work = work
        let seconds = min(max(0, limits.maxSeconds.isNaN ? 0 : limits.maxSeconds), 1e9)
        budget = .milliseconds(Int64(seconds * 1000))
        // No time at all: the run is already late.
        if let started { fixedDeadline = started.advanced(by: budget) } else if seconds == 0 { fixedDeadline = .now }
        // The run has only just started: the first look at the clock (about 50 ns here, a
        // twentieth of a small prepared run) waits until some rows of work have passed,
        // unless there is no time at all.
        if seconds > 0 { clockedAt = work }
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
        if let cancel, cancel.isCancelled { throw cancelled }
        // Reading the clock costs more than a small query's step: read it on the first
        // tick and then once some rows of work have passed. Work that is slow per row
        // (patterns) polls `mustStop` itself.
        if work &- clockedAt < 256 && clockedAt != Int.min { return }
        clockedAt = work
        if ContinuousClock.now > deadline { throw timedOut }
    }

    /// Ends the run when it is cancelled or past its deadline, reading the clock now. For
    /// long steps whose rows were counted before they began (a sort, a projection): they
    /// call it between batches, so Ctrl-C or a time limit does not wait for the whole step.
    func checkStop() throws(Diagnostic) {
        if let cancel, cancel.isCancelled { throw cancelled }
        if ContinuousClock.now > deadline { throw timedOut }
    }

    private var cancelled: Diagnostic { Diagnostic(.cancelled, "the query was cancelled") }
    private var timedOut: Diagnostic {
        Diagnostic(.timeout, "the query ran longer than \(formatNumber(limits.maxSeconds)) s, the limit for this run")
    }
}

/// A run's parameter values by slot. The first two are kept inline: most prepared queries
/// take one or two, and a run should not allocate an array for them.
struct Arguments {
    fileprivate(set) var first: Value = .null
    fileprivate(set) var second: Value = .null
    private var rest: [Value] = []
    /// How many slots there are.
    let count: Int

    init(count: Int = 0) {
        self.count = count
        if count > 2 { rest = [Value](repeating: .null, count: count - 2) }
    }

    /// The value in `slot`; null outside the slots.
    subscript(slot: Int) -> Value {
        get {
            switch slot {
            case 0: return first
            case 1: return second
            case 2..<count: return rest[slot - 2]
            default: return .null
            }
        }
        set {
            switch slot {
            case 0: first = newValue
            case 1: second = newValue
            case 2..<count: rest[slot - 2] = newValue
            default: break
            }
        }
    }
}

typealias Eval = @Sendable (Int, Env) -> Value
typealias Pred = @Sendable (Int, Env) -> Truth
