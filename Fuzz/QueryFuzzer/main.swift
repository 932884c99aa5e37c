// libFuzzer target: query text through every stage a user's query goes through.
//
// The bytes become a query (invalid UTF-8 is repaired, as it is for any String), which is
// lexed, parsed, checked and run on the article KB under the limits an embedding tool
// would set for untrusted users; each result is rendered in all four formats and each
// diagnostic is drawn under its source line. The REPL's completeness test and TAB
// completion read the same text. scripts/fuzz.sh compiles this file together with
// Sources/KBQ into one module, so internal API is visible here.
//
// Beyond "no crash, no hang", the target checks two promises and traps when one breaks:
// text shown on a terminal (tables without colour, Markdown, JSON, CSV rendered for a
// terminal, diagnostics) never holds a raw ESC byte, and no run goes far past its time limit.

#if canImport(Glibc)
import Glibc
#endif

private let limits = Limits(maxRows: 10_000, maxSeconds: 1, maxWork: 5_000_000, maxTextBytes: 4 << 20)

/// Values for the parameters the seeds use, of each kind, so that `$name` queries run.
private let parameters: [String: Value] = [
    "t": .string("containers"), "topic": .string("containers"), "s": .string("Kursk"), "name": .string("North Korea"),
    "v": .number(1000), "x": .number(2e6), "n": .number(3), "p": .percent(50), "d": .string("2024-06"), "date": .date(PartialDate(year: 2024)),
    "h": .string("reportedly"), "b": .bool(true), "pattern": .string("(a+)+$"), "names": .list([.string("containers"), .string("troops")]),
]

private func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func mustBeTerminalSafe(_ text: String, _ what: String) {
    if text.utf8.contains(0x1B) {
        fputs("raw ESC byte in \(what):\n\(text.debugDescription)\n", stderr)
        abort()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func queryFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let source = SourceText(text, name: "fuzz.kbq")
    var session = Session(kb: .article)
    let started = now()
    // An odd length also runs the script the way `kbq --keep-going` does.
    let diagnostics = session.run(source, parameters: parameters, limits: limits, keepGoing: size % 2 == 1) { outcome in
        guard case .result(let table) = outcome else { return }
        mustBeTerminalSafe(table.rendered(as: .table, width: 80), "a table")
        _ = table.rendered(as: .table, width: nil, color: true)
        mustBeTerminalSafe(table.rendered(as: .json), "JSON")
        _ = table.rendered(as: .csv)
        mustBeTerminalSafe(table.rendered(as: .csv, forTerminal: true), "CSV for a terminal")
        mustBeTerminalSafe(table.rendered(as: .markdown), "Markdown")
    }
    // Each statement may use its full second; a script of many gets more, but not unbounded.
    if now() - started > 10 {
        fputs("a run took \(now() - started) s\n", stderr)
        abort()
    }
    for d in diagnostics {
        mustBeTerminalSafe(source.render(d), "a diagnostic")
        _ = source.render(d, color: true)
        if let r = d.range, r.start < 0 || r.end > text.utf8.count {
            fputs("diagnostic range \(r) outside a text of \(text.utf8.count) bytes: \(d.message)\n", stderr)
            abort()
        }
    }
    // An embedding program prepares a query once and runs it many times.
    if size <= 4096, let prepared = try? PreparedQuery(text) {
        for _ in 0..<2 {
            if let table = try? prepared.run(parameters: parameters, limits: limits) { _ = table.rendered(as: .json) }
        }
        _ = prepared.plans
    }
    // What the REPL asks of every line typed.
    _ = Parser.isComplete(text)
    _ = Completion.candidates(for: text, cursor: text.utf8.count, session: session)
    _ = Completion.candidates(for: text, cursor: text.utf8.count / 2, session: session)
    return 0
}
