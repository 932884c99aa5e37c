import Foundation
import Testing
@testable import KBQ
#if canImport(Glibc)
import Glibc
#endif

// The second round of hostile inputs (issue 20): each case found by hand or by a host
// program is here with what kbq answers; docs/ROBUSTNESS.md lists them.

private func problems(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> [KBProblem] {
    switch loadKB(json) {
    case .success: Issue.record("the KB loaded but should have been refused", sourceLocation: sourceLocation); return []
    case .failure(let e): return e.problems
    }
}

private func problems(file path: String, sourceLocation: SourceLocation = #_sourceLocation) -> [KBProblem] {
    do throws(KBLoadError) {
        _ = try KnowledgeBase(contentsOfFile: path)
        Issue.record("\(path) loaded but should have been refused", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.problems
    }
}

private func loaded(file path: String, sourceLocation: SourceLocation = #_sourceLocation) -> KnowledgeBase? {
    do throws(KBLoadError) {
        return try KnowledgeBase(contentsOfFile: path)
    } catch {
        Issue.record("\(path) was refused: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite struct HostileInputRound2Tests {
    // MARK: crash

    @Test func moreHedgeWordsThanARankCanHoldAreRefusedNotACrash() throws {
        let words = (0..<257).map { "\"h\($0)\"" }.joined(separator: ",")
        let p = problems(#"{"kbq": 1, "hedges": [\#(words)], "collections": {"t": {"fields": {"h": "hedge"}, "rows": [{"h": "h256"}, {"h": "h3"}]}}}"#)
        #expect(p.contains { $0.path == "$.hedges" && $0.kind == .limitExceeded })
        let unknown = try #require(p.first { $0.path == "$.collections.t.rows[0].h" })
        #expect(unknown.kind == .unknownHedge)
        // A long scale is listed by its first words, not all 250.
        #expect(unknown.message.hasSuffix("h8, h9, h10, h11 … (250 words)"))
    }

    @Test func aBuilderWithAHedgeScaleTooLongIsRefusedNotACrash() {
        var b = KnowledgeBase.Builder(name: "host", hedges: HedgeScale(words: (0..<300).map { "w\($0)" }))
        b.addCollection("t", fields: [("h", .hedge)])
        b.addRow(to: "t", ["h": .string("w299")])
        b.addRow(to: "t", ["h": .string("w1")])
        do throws(KBLoadError) {
            _ = try b.build()
            Issue.record("built")
        } catch {
            #expect(error.problems.contains { $0.path == "$.hedges" && $0.kind == .limitExceeded })
            #expect(error.problems.contains { $0.path == "$.collections.t.rows[0].h" })
        }
    }

    @Test func aScaleOfExactlyTheMostWordsLoadsAndRanksItsLastWord() throws {
        let words = (0..<HedgeScale.maxWords).map { "\"h\($0)\"" }.joined(separator: ",")
        let kb = try loadKB(#"{"kbq": 1, "hedges": [\#(words)], "collections": {"t": {"fields": {"h": "hedge"}, "rows": [{"h": "h249"}, {"h": "h0"}]}}}"#).get()
        let r = query("t where h = \"h249\" select h", kb: kb)
        #expect(texts(r, "h") == ["h249"])
    }

    // MARK: time

    @Test func aCSVOf100000ColumnsLoadsInLinearTime() throws {
        let dir = temporaryDirectory()
        let n = 100_000
        let path = dir + "/wide.csv"
        writeFile(path, (0..<n).map { "c\($0)" }.joined(separator: ",") + "\n" + (0..<n).map { "\($0)" }.joined(separator: ",") + "\n")
        let start = ContinuousClock.now
        let kb = try #require(loaded(file: path))
        let elapsed = ContinuousClock.now - start
        #expect(kb.collection("wide")?.fields.count == n)
        // Matching the header field by field took minutes (20,000 columns: 4.3 s).
        #expect(elapsed < .seconds(20), "\(elapsed)")
    }

    // MARK: data kept, never dropped

    @Test func csvTextAfterAClosingQuoteIsKept() throws {
        let dir = temporaryDirectory()
        let path = dir + "/q.csv"
        writeFile(path, "id,a\nr1,\"he said \"hi\" and bye\"\nr2,\"x\"tail\nr3,\"plain\"\n")
        let kb = try #require(loaded(file: path))
        // As Python's csv module reads them.
        #expect(texts(query("q select a", kb: kb), "a") == ["he said hi\" and bye\"", "xtail", "plain"])
    }

    @Test func numbersAreDecimalNeverHex() throws {
        let dir = temporaryDirectory()
        writeFile(dir + "/n.csv", "id,n\na,0x10\nb,12\n")
        let kb = try #require(loaded(file: dir + "/n.csv"))
        #expect(kb.collection("n")?.fields.first { $0.name == "n" }?.type == .string)
        #expect(texts(query("n select n", kb: kb), "n") == ["0x10", "12"])
        // A declared number field refuses it, as it refuses "inf" and "nan".
        writeFile(dir + "/rows.csv", "n\n0x10\ninf\nnan\n1e5\n")
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"n": "number"}, "file": "rows.csv"}}}"#)
        let p = problems(file: dir + "/kb.json")
        #expect(p.map { "\($0.path) \($0.message)" } == ["rows.csv:2: n expected a number, found \"0x10\"", "rows.csv:3: n expected a number, found \"inf\"",
                                     "rows.csv:4: n expected a number, found \"nan\""])
        #expect(p.allSatisfy { $0.kind == .typeMismatch })
    }

    @Test func rowsOrCollectionsGivenTwiceAreRefusedWithTheirPath() {
        let p = problems(#"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "rows": [{"a": 1}], "rows": [{"a": 2}]}}, "collections": {}}"#)
        #expect(p.map(\.path) == ["$.collections", "$.collections.t.rows"])
        #expect(p.map(\.kind) == [.duplicateName, .duplicateName])
        let q = problems(#"{"kbq": 1, "collections": {"t": {"fields": {"a": {"type": "number", "type": "string"}}, "rows": []}}}"#)
        #expect(q.map(\.path) == ["$.collections.t.fields.a.type"])
    }

    @Test func arithmeticThatOverflowsIsNullNeverZeroOrAny() throws {
        // An interval quantity times 1e308 is past Double's range: null, as for a plain number.
        let r = query("estimates where topic = \"containers\" select value * 1e308 as v, value * 2 as w limit 1")
        #expect(r.rows.first?.first?.isNull == true)
        #expect(r.rows.first?.last?.isNull == false)
        let kb = try loadKB(#"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "rows": [{"a": 1e308}, {"a": 1e308}]}}}"#).get()
        let m = query("t aggregate avg(a) as m, sum(a) as s", kb: kb)
        #expect(m.rows.first?.first?.number == 1e308)
        #expect(m.rows.first?.last?.isNull == true)
    }

    @Test func aYearBeforeYearOneIsNullAndSuchADateShowsItsSign() throws {
        #expect(PartialDate.format(Int32(daysFromCivil(-10, 3, 1)), .month) == "-0010-03")
        #expect(PartialDate.format(Int32(daysFromCivil(7, 3, 1)), .day) == "0007-03-01")
        // "years before" year 1 reaches back ten years.
        let kb = try loadKB(#"{"kbq": 1, "collections": {"t": {"fields": {"d": "date"}, "rows": [{"d": {"before": "0001-06", "by": "years"}}]}}}"#).get()
        let r = query("t select year(d) as y", kb: kb)
        #expect(r.rows.first?.first?.isNull == true)
    }

    // MARK: bounds on checking and on results

    @Test func checkingIsBoundedByTheRunsTimeAndCounts() throws {
        // 30,000 lets: linear now (each binding copied every one before it: 28 s).
        let script = (0..<30_000).map { "let a\($0) = sources\n" }.joined() + "sources limit 1"
        var t = ContinuousClock.now
        #expect(diagnostics(script).isEmpty)
        #expect(ContinuousClock.now - t < .seconds(30))
        // No time at all: checking stops at once with a timeout, through both entries.
        t = ContinuousClock.now
        let d = diagnostics(script, limits: Limits(maxSeconds: 0))
        #expect(d.map(\.kind) == [.timeout])
        #expect(d.first?.message == "checking the query took longer than 0 s, the limit for this run")
        #expect(ContinuousClock.now - t < .seconds(10))
        #expect(throws: Diagnostics.self) { try PreparedQuery(script, limits: Limits(maxSeconds: 0)) }
        // A select list is bounded like a list literal.
        let wide = try #require(diagnostic("estimates select " + Array(repeating: "value", count: 10_001).joined(separator: ", ")))
        #expect(wide.kind == .limitExceeded && wide.message == "more than 10000 columns in one list")
        #expect(diagnostics("estimates select " + Array(repeating: "value", count: 10_000).joined(separator: ", ") + " limit 1").isEmpty)
    }

    @Test func aResultIsBoundedInValuesAndInText() throws {
        let values = diagnostics("sentences select text, text as t2, text as t3", limits: Limits(maxValues: 20))
        #expect(values.first?.kind == .tooManyRows)
        #expect(values.first?.message.hasSuffix("more than the 20 values allowed for this run") == true)
        let text = diagnostics("sentences select text", limits: Limits(maxResultBytes: 1000))
        #expect(text.map(\.message) == ["the result holds more than 1000 bytes of text, the limit for this run"])
        #expect(diagnostics("sentences select text limit 2", limits: Limits(maxResultBytes: 1000)).isEmpty)
    }

    @Test func disjointIntervalsAreFoundInLinearTimeAsEveryPairWouldFindThem() {
        // Random intervals of a few owners, closed and open ends: the linear search finds a
        // pair exactly when looking at every pair does.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 1...12, using: &rng)
            let items: [(Quantity, Int)] = (0..<n).map { _ in
                let lo = Double(Int.random(in: 0...20, using: &rng)), hi = lo + Double(Int.random(in: 0...6, using: &rng))
                return (Quantity(lo: lo, hi: hi, loOpen: Bool.random(using: &rng), hiOpen: Bool.random(using: &rng), percent: false),
                        Int.random(in: 0...2, using: &rng))
            }
            var brute = false
            for i in 0..<n { for j in 0..<n where i < j && items[i].1 != items[j].1 && !items[i].0.overlaps(items[j].0) { brute = true } }
            let found = disjointPair(n, interval: { items[$0].0 }, owner: { items[$0].1 })
            #expect((found != nil) == brute, "\(items)")
            if let (i, j) = found { #expect(items[i].1 != items[j].1 && !items[i].0.overlaps(items[j].0)) }
        }
    }

    // MARK: files outside the KB's folder

    @Test func aKBReadsRowsFilesOnlyFromItsOwnFolder() throws {
        let dir = temporaryDirectory()
        mkdir(dir + "/kb", 0o755)
        writeFile(dir + "/outside.csv", "a\n1\n")
        writeFile(dir + "/kb/inside.csv", "a\n1\n")
        unlink(dir + "/kb/link.csv")
        symlink(dir + "/outside.csv", dir + "/kb/link.csv")
        unlink(dir + "/kb/inlink.csv")
        symlink("inside.csv", dir + "/kb/inlink.csv")
        func kb(_ file: String) -> String {
            writeFile(dir + "/kb/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "file": "\#(file)"}}}"#)
            return dir + "/kb/kb.json"
        }
        for (file, says) in [("../outside.csv", "reaches out of the KB's folder with '..'"), ("/etc/passwd", "is an absolute path"),
                             ("/proc/self/environ", "is an absolute path"), ("link.csv", "is a link to a file outside the KB's folder")] {
            let p = problems(file: kb(file))
            #expect(p.count == 1 && p[0].path == "$.collections.t.file" && p[0].kind == .fileOutsideFolder, "\(file): \(p)")
            // Which of the three ways out it took is said in words.
            #expect(p.first?.message.contains(says) == true, "\(file): \(p)")
        }
        #expect(loaded(file: kb("inside.csv")) != nil)
        #expect(loaded(file: kb("inlink.csv")) != nil)
        // Bytes with a folder are confined the same way.
        do throws(KBLoadError) {
            _ = try KnowledgeBase(json: Array(#"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "file": "../outside.csv"}}}"#.utf8),
                                  baseDirectory: dir + "/kb")
            Issue.record("loaded")
        } catch {
            #expect(error.problems.map(\.kind) == [.fileOutsideFolder])
        }
    }

    @Test func aFileThatFailsToParseIsEchoedOnlyAsAShortEscapedExcerpt() throws {
        let dir = temporaryDirectory()
        let secret = "SECRET=" + String(repeating: "x", count: 5000) + "\u{1B}[2J"
        writeFile(dir + "/rows.csv", secret + "\n1\n")
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "file": "rows.csv"}}}"#)
        let p = problems(file: dir + "/kb.json")
        let all = p.map(\.message).joined()
        #expect(!all.contains(String(repeating: "x", count: 50)))
        #expect(!all.utf8.contains(0x1B))
        #expect(all.contains("column 'SECRET=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is not a field"))
        // The same for a value, and for NDJSON keys.
        writeFile(dir + "/rows.ndjson", "{\"" + secret.replacingOccurrences("\u{1B}", "") + "\": 1}\n")
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"a": "number"}, "file": "rows.ndjson"}}}"#)
        #expect(!problems(file: dir + "/kb.json").map(\.message).joined().contains(String(repeating: "x", count: 50)))
    }

    // MARK: unsafe or unclear output

    @Test func bidirectionalAndInvisibleControlsAreEscapedInEveryFormat() throws {
        for c in ["\u{202A}", "\u{202E}", "\u{2066}", "\u{2069}", "\u{200B}", "\u{200E}", "\u{FEFF}", "\u{2028}"] {
            let shown = sanitizeForTerminal("Reuters\(c) (retracted)")
            #expect(!shown.unicodeScalars.contains { $0 == c.unicodeScalars.first })
            #expect(shown.hasPrefix("Reuters\\u{"))
        }
        let kb = try loadKB(#"{"kbq": 1, "title": "T\u202e", "collections": {"s": {"fields": {"name": "string"}, "rows": [{"name": "Reuters\u202e (retracted)"}]}}}"#).get()
        let r = query("s", kb: kb)
        for format in [OutputFormat.table, .markdown, .json] {
            let out = r.rendered(as: format, width: 100)
            #expect(!out.unicodeScalars.contains("\u{202E}"), "\(format)")
        }
        #expect(r.rendered(as: .csv, width: 100, forTerminal: true).contains("Reuters\\u{202e}"))
        // Into a file, CSV is the data as it is.
        #expect(r.rendered(as: .csv, width: 100).unicodeScalars.contains("\u{202E}"))
        // Query text shown under a diagnostic too.
        let source = SourceText("s where name = \"\u{202E}x\" and 1 +", name: "q")
        let d = diagnostics(source.text, kb: kb)
        #expect(!d.isEmpty && !d.map { source.render($0) }.joined().unicodeScalars.contains("\u{202E}"))
    }

    @Test func aLetterFromAnotherScriptIsNamedAndItsLatinTwinSaid() throws {
        let d = try #require(diagnostic("еstimates"))
        #expect(d.message == "unexpected character 'е' (U+0435 CYRILLIC SMALL LETTER IE)")
        #expect(d.notes == ["it looks like the Latin letter 'e' but is not one; type 'e' instead"])
        let o = try #require(diagnostic("estimates where tΟpic = \"x\""))
        #expect(o.notes.first?.contains("'O'") == true)
    }

    @Test func aUTF16FileSaysItIsNotUTF8() throws {
        let dir = temporaryDirectory()
        func write(_ name: String, _ bytes: [UInt8]) {
            let f = fopen(dir + "/" + name, "w")
            _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
        let text = Array("id,n\nab,1\n".utf8)
        let le: [UInt8] = text.flatMap { [$0, 0] as [UInt8] }, be: [UInt8] = text.flatMap { [0, $0] as [UInt8] }
        write("le.csv", [0xFF, 0xFE] + le)
        write("nobom.csv", le)
        write("be.csv", [0xFE, 0xFF] + be)
        write("be.json", [0xFE, 0xFF] + Array(#"{"kbq": 1}"#.utf8).flatMap { [0, $0] as [UInt8] })
        #expect(problems(file: dir + "/le.csv").map(\.message) == ["the file is not UTF-8: it looks like UTF-16 (little-endian) (save it as UTF-8)"])
        #expect(problems(file: dir + "/nobom.csv").map(\.message) == ["the file is not UTF-8: it looks like UTF-16 (little-endian) (save it as UTF-8)"])
        #expect(problems(file: dir + "/be.csv").map(\.message) == ["the file is not UTF-8: it looks like UTF-16 (big-endian) (save it as UTF-8)"])
        #expect(problems(file: dir + "/be.json").map(\.message) == ["the file is not UTF-8: it looks like UTF-16 (big-endian) (save it as UTF-8)"])
        for file in ["le.csv", "nobom.csv", "be.csv", "be.json"] { #expect(problems(file: dir + "/" + file).map(\.kind) == [.encoding], "\(file)") }
    }
}

// MARK: the most expensive queries under Limits.untrusted

/// The host program beside the test bundle (KBQTests depends on it).
private func untrustedHost() -> String? {
    guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
    let path = dir.appendingPathComponent("kbq-untrusted-host").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}

/// One query's figures as the host printed them.
private struct HostRun {
    let query: String
    let prepare: Double, run: Double, render: Double
    let outcome: String
    let peakKB: Int
    let cpu: Double
    let wall: Double
}

/// Runs `queries` in a host process of their own on `kb` ("article" or a file), each under
/// Limits.untrusted; returns the memory after loading and each query's figures.
private func runUntrusted(_ queries: [String], kb: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (loadKB: Int, runs: [HostRun]) {
    let host = try #require(untrustedHost(), sourceLocation: sourceLocation)
    let file = temporaryDirectory("untrusted") + "/queries-\(abs(kb.hashValue)).txt"
    writeFile(file, queries.joined(separator: "\n---\n"))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: host)
    p.arguments = [kb, file]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "\(out)", sourceLocation: sourceLocation)
    let lines = out.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
    let load = Int(lines.first?[2] ?? "") ?? 0
    var runs: [HostRun] = []
    for l in lines.dropFirst() where l.count == 8 {
        guard let n = Int(l[0]) else { continue }
        runs.append(HostRun(query: String(queries[n].prefix(60)), prepare: Double(l[1]) ?? -1, run: Double(l[2]) ?? -1, render: Double(l[3]) ?? -1,
                            outcome: l[4], peakKB: Int(l[5]) ?? 0, cpu: Double(l[6]) ?? -1, wall: Double(l[7]) ?? -1))
    }
    #expect(runs.count == queries.count, "the host stopped early:\n\(out)", sourceLocation: sourceLocation)
    return (load, runs)
}

/// Each query ended with a result or a limit's diagnostic; each step (checking, running,
/// rendering all four formats) within twice `maxSeconds` of the clock, and the whole
/// query within twice `maxSeconds` of processor time; and memory grew at most
/// `maxGrowthMB` over the loaded KB (peak resident size, from the host's getrusage).
private func expectBounded(_ r: (loadKB: Int, runs: [HostRun]), maxGrowthMB: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    let limit = Limits.untrusted.maxSeconds
    for run in r.runs {
        let known = run.outcome.hasPrefix("ok:") || ["timeout", "too-many-rows", "limit-exceeded", "work-limit"].contains(run.outcome)
        #expect(known, "\(run.query): \(run.outcome)", sourceLocation: sourceLocation)
        for (step, s) in [("checking", run.prepare), ("running", run.run), ("rendering", run.render)] {
            // On the clock; unless the host had less than half a processor meanwhile (a
            // machine busy with other programs), when it was waiting, not working: the
            // processor time below still holds it to the bound.
            let starved = run.wall > 0 && run.cpu / run.wall < 0.5
            #expect(s < 2 * limit || starved, "\(run.query): \(step) took \(s) s (\(run.cpu) s of processor time in \(run.wall) s)",
                    sourceLocation: sourceLocation)
        }
        #expect(run.cpu < 2 * limit, "\(run.query): \(run.cpu) s of processor time", sourceLocation: sourceLocation)
    }
    let peak = r.runs.map(\.peakKB).max() ?? 0
    #expect(peak - r.loadKB < maxGrowthMB << 10, "peak \(peak) KB after loading \(r.loadKB) KB", sourceLocation: sourceLocation)
}

@Suite(.serialized) struct UntrustedQueryBoundsTests {
    @Test func theMostExpensiveQueriesOnTheArticleStayInBounds() throws {
        let queries = [
            // Wide: 10,000 columns of the longest text, checked, run and drawn.
            "sentences select " + (0..<10_000).map { "text as c\($0)" }.joined(separator: ", "),
            "sentences select " + (0..<3_000).map { "text as c\($0)" }.joined(separator: ", "),
            // One past the bound of a select list.
            "estimates select " + Array(repeating: "value", count: 10_001).joined(separator: ", "),
            // Many statements, many aggregates.
            (0..<30_000).map { "let a\($0) = sources\n" }.joined() + "sources limit 1",
            "estimates group by topic aggregate " + (0..<10_000).map { "count() as c\($0)" }.joined(separator: ", "),
            // Text made to grow: concat of concat, up to the run's text bound.
            "sentences select concat(text, text, text, text, text, text, text, text) as t, concat(text, text) as u",
        ]
        let r = try runUntrusted(queries, kb: "article")
        expectBounded(r, maxGrowthMB: 512)
        #expect(r.runs[2].outcome == "limit-exceeded")
        #expect(r.runs[1].outcome == "too-many-rows")
    }

    @Test func compareAndConflictsOnAMillionRowsStopInTime() throws {
        let dir = temporaryDirectory()
        let path = dir + "/big.csv"
        var text = "id,topic,source,value,unit\n"
        text.reserveCapacity(30 << 20)
        for i in 0..<1_000_000 {
            text += "e\(i),t\(i % 1000),s\(i % 7),\((i &* 7919) % 100_000 + 1),u\(i % 50_000)\n"
        }
        writeFile(path, text)
        let queries = [
            "big compare source",
            "conflicts",
            "big compare id",
            "big group by id aggregate count() as n",
            "big sort by topic, value desc limit 10",
            "big where value > 5 compare topic",
        ]
        let r = try runUntrusted(queries, kb: path)
        expectBounded(r, maxGrowthMB: 1024)
        unlink(path)
    }
}
