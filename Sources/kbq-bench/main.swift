import KBQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// kbq's library benchmark: loads a CSV once, then times the five peer questions
// (../shared/bench/q1..q5.sql, in kbq) over many runs, and the prepared query on the
// article KB. Nothing is asserted: scripts/bench.sh puts the figures beside DuckDB's and
// sqlite3's (docs/PERFORMANCE.md).
//
//   kbq-bench [--csv FILE] [--runs N] [--seconds S] [--prepared-seconds S]
//             [--prepared QUERY] [--only Q1,Q3,prepared] [--cpu] [--answers] [--open FILE.kbqdb]
//
// --prepared QUERY times another prepared query on the article KB ($t = "containers"), so
// that a change's cost can be told apart from what the default query's answer says.
//
// Output: one tab-separated line per figure —
//   load  FILE  ROWS  MS  PEAK_MIB
//   Q1    MEDIAN_MS  RUNS  ROWS  QUERY
//   prepared  RUNS_PER_SECOND  MICROSECONDS_PER_RUN  QUERY
//   open  FILE  MEDIAN_MS  RUNS       (--open: opening a compiled KB file, header and schema)

/// The five peer questions in kbq: each is the statements one SQL file runs.
///
/// Q2 uses `group by … aggregate` rather than `compare`: the SQL mixes every unit in one
/// min/max/avg per source, while `compare` deliberately keeps units apart, so only
/// `group by` gives the SQL's answer; and kbq refuses to aggregate values of several units
/// unless the rows drop the `unit` field first (`select source, value`), as the SQL's mixing
/// is spelled out in kbq. Its mean is `avg(stated(value))`: SQL averages the
/// numbers as written, where kbq's `avg(value)` over "over"/"about"/"up to" values is an
/// interval.
let questions: [(name: String, statements: [String])] = [
    ("Q1", [#"estimates where topic = "topic-0042" sort by id"#]),
    ("Q2", [#"estimates where topic = "topic-0042" select source, value group by source aggregate count() as n, min(value) as lo, max(value) as hi, avg(stated(value)) as mean"#,
            #"estimates where topic = "topic-0042" select value aggregate count() as n, spread(value) as spread"#]),
    ("Q3", [#"estimates group by topic aggregate count() as n sort by n desc, topic limit 10"#]),
    ("Q4", [#"estimates where text contains "artillery" aggregate count() as n"#]),
    ("Q5", [#"estimates where date between 2024-06-01 and 2024-10-31 and unit = "containers" sort by date, id limit 20"#]),
]

/// The prepared query the article KB should answer at least 500,000 times a second.
let preparedText = "estimates where topic = $t compare source"

struct Arguments {
    var csv: String?
    var compiled: String?
    var runs = 200
    var seconds = 1.0
    var preparedSeconds = 2.0
    var prepared = preparedText
    var answers = false
    var only: Set<String> = []
    /// Measure the CPU time of the process (all threads) instead of wall time: steadier on
    /// a busy machine, but it hides what the second core saves.
    var cpu = false

    init(_ args: [String]) {
        var i = 0
        func next() -> String {
            i += 1
            guard i < args.count else { fail("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--csv": csv = next()
            case "--open": compiled = next()
            case "--runs": runs = Int(next()) ?? runs
            case "--seconds": seconds = Double(next()) ?? seconds
            case "--prepared-seconds": preparedSeconds = Double(next()) ?? preparedSeconds
            case "--prepared": prepared = next()
            case "--answers": answers = true
            case "--cpu": cpu = true
            case "--only": only = Set(next().split(separator: ",").map(String.init))
            case "-h", "--help":
                print("usage: kbq-bench [--csv FILE] [--runs N] [--seconds S] [--prepared-seconds S] [--prepared QUERY] [--only Q1,Q3,prepared] [--cpu] [--answers] [--open FILE.kbqdb]")
                exit(0)
            default: fail("unknown argument \(args[i])")
            }
            i += 1
        }
    }
}

func fail(_ message: String) -> Never {
    var m = "kbq-bench: " + message + "\n"
    m.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let args = Arguments(Array(CommandLine.arguments.dropFirst()))
func wanted(_ name: String) -> Bool { args.only.isEmpty || args.only.contains(name) }

/// Now in seconds, on the clock the run measures with (wall, or CPU with --cpu).
func now() -> Double {
    var ts = timespec()
    clock_gettime(args.cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Peak resident memory of this process so far, in MiB.
func peakMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// `x` rounded to `digits` decimals, as text.
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let v = (x * scale).rounded() / scale
    return String(v)
}

/// Times `body` at least 5 times, and up to `runs` times within `budget` seconds; returns
/// the median in seconds and the number of runs.
func measure(runs: Int, budget: Double, _ body: () throws -> Void) rethrows -> (median: Double, runs: Int) {
    var samples: [Double] = []
    let start = now()
    while samples.count < 5 || (samples.count < runs && now() - start < budget) {
        let t0 = now()
        try body()
        samples.append(now() - t0)
    }
    return (median(samples), samples.count)
}

if let path = args.compiled {
    // What `--kb FILE.kbqdb` costs before any column is read: map, header, schema.
    var opened: [KnowledgeBase] = []
    let (t, n) = measure(runs: args.runs, budget: args.seconds) {
        do { opened.append(try KnowledgeBase(contentsOfCompiledFile: path)) } catch { fail("\(error)") }
        if opened.count > 16 { opened.removeAll() }
    }
    print("open\t\(path)\t\(fixed(t * 1000, 3))\t\(n)")
}

if let csv = args.csv {
    let t0 = now()
    let kb: KnowledgeBase
    do { kb = try KnowledgeBase(contentsOfFile: csv) } catch { fail("\(error)") }
    let load = now() - t0
    print("load\t\(csv)\t\(kb.collections.first?.count ?? 0)\t\(fixed(load * 1000, 2))\t\(fixed(peakMiB(), 1))")
    for q in questions where wanted(q.name) {
        for s in q.statements {
            do { _ = try PreparedQuery(s, kb: kb) } catch { fail("\(q.name): \(error)") }
        }
        var results: [ResultTable] = []
        // Check, plan and run every statement: what a REPL line costs with `.timer on`,
        // printing aside.
        let timing = try measure(runs: args.runs, budget: args.seconds) {
            results = try q.statements.map { try PreparedQuery($0, kb: kb).run() }
        }
        let rows = results.map { String($0.rows.count) }.joined(separator: "+")
        print("\(q.name)\t\(fixed(timing.median * 1000, 3))\t\(timing.runs)\t\(rows)\t\(q.statements.joined(separator: "; "))")
        if args.answers {
            for r in results { print(r.rendered(as: .csv), terminator: "") }
        }
    }
}

if wanted("prepared") {
    let kb = KnowledgeBase.article
    let prepared: PreparedQuery
    do { prepared = try PreparedQuery(args.prepared, kb: kb) } catch { fail("prepared: \(error)") }
    let params: [String: Value] = ["t": .string("containers")]
    var rows = 0
    // Warm up, then count runs within the time budget, on this one thread.
    for _ in 0..<1000 { rows &+= try prepared.run(parameters: params).rows.count }
    var n = 0
    let start = now()
    var elapsed = 0.0
    // At least one round, so that the figure is never a division by zero.
    repeat {
        for _ in 0..<1000 { rows &+= try prepared.run(parameters: params).rows.count }
        n += 1000
        elapsed = now() - start
    } while elapsed < args.preparedSeconds
    print("prepared\t\(Int(Double(n) / elapsed))\t\(fixed(elapsed / Double(n) * 1e6, 2))\t\(args.prepared) with $t = \"containers\" (\(rows / (n + 1000)) rows)")
}
