#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import KBQ

/// The CPU time, in seconds, that the calling thread spends in `body`. A bound on it is a
/// bound on the work done (linear, not quadratic or exponential) that holds however busy
/// the machine is: the wall clock also counts the time other processes and tests had the
/// cores, and made such bounds fail on a loaded machine.
func threadCPUSeconds(_ body: () throws -> Void) rethrows -> Double {
    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    let start = now()
    try body()
    return now() - start
}

/// Runs `text` on the article KB (or `kb`) and returns its last result; fails the test on
/// any diagnostic.
func query(_ text: String, kb: KnowledgeBase = .article, parameters: [String: Value] = [:],
           sourceLocation: SourceLocation = #_sourceLocation) -> ResultTable {
    var session = Session(kb: kb)
    var last = ResultTable(columns: [], rows: [])
    let diags = session.run(SourceText(text, name: "test.kbq"), parameters: parameters) { outcome in
        if case .result(let r) = outcome { last = r }
    }
    for d in diags { Issue.record("unexpected diagnostic: \(SourceText(text, name: "test.kbq").render(d))", sourceLocation: sourceLocation) }
    return last
}

/// The diagnostics `text` produces (checking and running), in order.
func diagnostics(_ text: String, kb: KnowledgeBase = .article, parameters: [String: Value] = [:], limits: Limits = .none) -> [Diagnostic] {
    var session = Session(kb: kb)
    return session.run(SourceText(text, name: "test.kbq"), parameters: parameters, limits: limits) { _ in }
}

/// The one diagnostic `text` produces, or a recorded failure.
func diagnostic(_ text: String, kb: KnowledgeBase = .article, sourceLocation: SourceLocation = #_sourceLocation) -> Diagnostic? {
    let d = diagnostics(text, kb: kb)
    #expect(d.count >= 1, "expected an error from: \(text)", sourceLocation: sourceLocation)
    return d.first
}

/// The text of `column` in every row.
func texts(_ r: ResultTable, _ column: String) -> [String] {
    (r.column(column) ?? []).map(\.text)
}

/// Loads a KB from JSON text, returning the error if it is refused.
func loadKB(_ json: String) -> Result<KnowledgeBase, KBLoadError> {
    do throws(KBLoadError) {
        return .success(try KnowledgeBase(json: Array(json.utf8), name: "test.kb.json"))
    } catch {
        return .failure(error)
    }
}

/// A temporary folder for files a test writes.
func temporaryDirectory(_ name: String = #function) -> String {
    let base = "/tmp/kbq-tests-\(getpid())-\(name.filter { $0.isLetter || $0.isNumber })"
    _ = base.withCString { mkdir($0, 0o755) }
    return base
}

func writeFile(_ path: String, _ text: String) {
    let f = fopen(path, "w")
    fputs(text, f)
    fclose(f)
}

#if canImport(Glibc)
import Glibc
#endif

/// The repository's root folder, found from this source file's own path (Tests/KBQTests/).
let repositoryRoot: String = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

/// The text of a file of this repository (`docs/ARTICLE-KB.md`), found from this source
/// file's own path; nil when it cannot be read.
func repositoryFile(_ relative: String) -> String? {
    guard let f = fopen(repositoryRoot + "/" + relative, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

