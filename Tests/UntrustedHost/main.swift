import KBQ
#if canImport(Glibc)
import Glibc
#endif

// A host that runs queries from someone it does not trust, as docs/EMBEDDING.md advises:
// each is prepared and run under `Limits.untrusted`, and its result rendered in all four
// formats. For each query it prints how long each step took and the process's peak memory
// so far, so that a test (HostileInputRound2Tests) can hold kbq to its bounds from outside:
//
//   kbq-untrusted-host KB_FILE|article QUERIES_FILE
//
// QUERIES_FILE holds queries separated by lines of `---`. Output, one line per query:
//   QUERY_NUMBER  PREPARE_S  RUN_S  RENDER_S  OUTCOME  PEAK_RSS_KB  CPU_S  WALL_S
// after a first line `load  SECONDS  PEAK_RSS_KB`.

func seconds(since t: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - t
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Processor time used so far (user and system), in seconds: what the work cost, however
/// busy the machine is.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

func peakKB() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Int(u.ru_maxrss)
}

func readFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

let args = CommandLine.arguments
guard args.count == 3, let text = readFile(args[2]) else {
    print("usage: kbq-untrusted-host KB_FILE|article QUERIES_FILE")
    exit(2)
}
let loadStart = ContinuousClock.now
let kb: KnowledgeBase
if args[1] == "article" {
    kb = .article
} else {
    do { kb = try KnowledgeBase(contentsOfFile: args[1]) } catch { print("load failed: \(error)"); exit(2) }
}
print("load\t\(seconds(since: loadStart))\t\(peakKB())")
let limits = Limits.untrusted
for (n, query) in text.split(separator: "\n---\n").enumerated() {
    let cpu0 = cpuSeconds(), wall0 = ContinuousClock.now
    var t = ContinuousClock.now
    var prepareS = 0.0, runS = 0.0, renderS = 0.0
    var outcome = "ok"
    do {
        let prepared = try PreparedQuery(String(query), kb: kb, limits: limits)
        prepareS = seconds(since: t)
        t = .now
        let result = try prepared.run(limits: limits)
        runS = seconds(since: t)
        t = .now
        var bytes = 0
        for format in OutputFormat.allCases { bytes += result.rendered(as: format, width: 100).utf8.count }
        renderS = seconds(since: t)
        outcome = "ok:\(bytes)"
    } catch {
        if prepareS == 0 { prepareS = seconds(since: t) } else { runS = seconds(since: t) }
        outcome = error.items.first.map { $0.kind.rawValue } ?? "error"
    }
    print("\(n)\t\(prepareS)\t\(runS)\t\(renderS)\t\(outcome)\t\(peakKB())\t\(cpuSeconds() - cpu0)\t\(seconds(since: wall0))")
    fflush(nil)
}
