import Foundation
import Synchronization
import Testing
import KBQ  // the public API only, as an embedding host sees it

// The library API as a host uses it: prepared queries with parameters, limits and
// cancellation for untrusted queries, concurrent use of one KB, every diagnostic kind,
// results as JSON, KBs built in code, and no way for a query to reach files or the
// environment. Diagnostics are matched by their stable kind, never by prose.

// MARK: - Helpers

/// Prepares `text`, recording any diagnostic as a test failure.
private func prepare(_ text: String, kb: KnowledgeBase = .article,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> PreparedQuery {
    do {
        return try PreparedQuery(text, kb: kb)
    } catch {
        let source = SourceText(text)
        Issue.record("did not prepare: \(error.items.map { source.render($0) }.joined())", sourceLocation: sourceLocation)
        throw error
    }
}

/// The kinds of the diagnostics that preparing `text` reports (empty if it prepares).
private func prepareKinds(_ text: String, kb: KnowledgeBase = .article) -> [Diagnostic.Kind] {
    do {
        _ = try PreparedQuery(text, kb: kb)
        return []
    } catch {
        return error.items.map(\.kind)
    }
}

/// The diagnostics a run ends with (empty if it succeeds).
private func runDiagnostics(_ q: PreparedQuery, _ parameters: [String: Value] = [:], limits: Limits = .none,
                            cancel: CancellationToken? = nil) -> [Diagnostic] {
    do {
        _ = try q.run(parameters: parameters, limits: limits, cancel: cancel)
        return []
    } catch {
        return error.items
    }
}

/// The text of every value of `column`.
private func columnTexts(_ r: ResultTable, _ column: String) -> [String] {
    (r.column(column) ?? []).map(\.text)
}

/// A KB built in code, large enough that a query over it takes measurable time:
/// `items` has 200,000 rows (id, name, grp, value).
private let bigKB: KnowledgeBase = {
    var b = KnowledgeBase.Builder(name: "big")
    b.addCollection("items", fields: [("id", .string), ("name", .string), ("grp", .string), ("value", .number())],
                    key: "id", measure: "value")
    for i in 0..<200_000 {
        b.addRow(to: "items", values: [.string("i\(i)"), .string("item number \(i)"), .string("g\(i % 100)"),
                                       .number(Double((i &* 7919) % 100_003))])
    }
    do {
        return try b.build()
    } catch {
        fatalError("the big test KB should build: \(error)")
    }
}()

/// A query over `bigKB` that takes seconds in a debug build: every row's number is compared
/// with each item of a 1000-item list parameter (numbers are compared one by one; a list of
/// strings against a string field would be one set lookup per row). It checks its bounds
/// every few thousand rows, and inside a row every 256 items, so it is the query the time
/// and cancellation tests stop part way.
private let slowQueryText = "items where value in $values select id"
private let slowParameters: [String: Value] = ["values": .list((0..<1000).map { .number(-1 - Double($0)) })]
private let slowerParameters: [String: Value] = ["values": .list((0..<10_000).map { .number(-1 - Double($0)) })]

// MARK: - Parameters

@Suite struct ParameterTests {
    @Test func preparedOnceRunManyWithTypedValues() throws {
        let q = try prepare("estimates where topic = $t compare source")
        #expect(q.parameterNames == ["t"])
        let containers = try q.run(parameters: ["t": .string("containers")])
        #expect(columnTexts(containers, "source") == ["U.S. intelligence", "South Korea"])
        #expect(containers.summaries.first?["spread"] == .number(3_500))
        let shells = try q.run(parameters: ["t": .string("artillery shells")])
        #expect(shells.rows.count == 1)
        // The same prepared query again gives the same result.
        #expect(try q.run(parameters: ["t": .string("containers")]) == containers)
    }

    @Test func numbersDatesHedgesListsAndLimits() throws {
        let byValue = try prepare("estimates where value >= $v select id")
        #expect(try columnTexts(byValue.run(parameters: ["v": .number(13_000)]), "id").sorted() == ["e2", "e3", "e5"])

        let byDate = try prepare("events where date >= $d select date")
        let fromDate = try byDate.run(parameters: ["d": .date(PartialDate(year: 2024, month: 6))])
        let fromText = try byDate.run(parameters: ["d": .string("2024-06")])  // read as a date
        #expect(!fromDate.rows.isEmpty && fromDate == fromText)
        let fromYear = try byDate.run(parameters: ["d": .number(2024)])  // a year
        #expect(fromYear.rows.count >= fromDate.rows.count)

        let byHedge = try prepare("claims where hedge >= $h select hedge")
        let firm = try byHedge.run(parameters: ["h": .string("stated")])
        #expect(!firm.rows.isEmpty)
        #expect(Set(columnTexts(firm, "hedge")).isSubset(of: ["confirmed", "stated"]))

        let inList = try prepare("estimates where topic in $topics select id")
        let r = try inList.run(parameters: ["topics": .list([.string("containers"), .string("troops")])])
        #expect(columnTexts(r, "id").sorted() == ["e1", "e3", "e5"])

        let limited = try prepare("claims limit $n")
        #expect(try limited.run(parameters: ["n": .number(4)]).rows.count == 4)
    }

    @Test func aMissingParameterIsUnbound() throws {
        let text = "estimates where topic = $t select id"
        let q = try prepare(text)
        let d = runDiagnostics(q)
        #expect(d.map(\.kind) == [.unboundParameter])
        // The diagnostic points at `$t` in the query text.
        let start = text.utf8.count - " select id".utf8.count - 2
        #expect(d.first?.range == SourceRange(start, start + 2))
    }

    @Test func aParameterOfTheWrongTypeIsRefused() throws {
        let byValue = try prepare("estimates where value > $v")
        #expect(runDiagnostics(byValue, ["v": .string("many")]).map(\.kind) == [.unboundParameter])
        let byDate = try prepare("events where date >= $d")
        #expect(runDiagnostics(byDate, ["d": .string("last june")]).map(\.kind) == [.unboundParameter])
        let byHedge = try prepare("claims where hedge >= $h")
        #expect(runDiagnostics(byHedge, ["h": .string("firmly")]).map(\.kind) == [.unboundParameter])
        let limited = try prepare("claims limit $n")
        #expect(!runDiagnostics(limited, ["n": .number(-1)]).isEmpty)
        // Where a function takes a number or a date, a parameter of another kind was a
        // silent null on every row.
        let floored = try prepare("estimates select floor($x) as f")
        #expect(runDiagnostics(floored, ["x": .string("ten")]).map(\.kind) == [.unboundParameter])
        // Said by what the place needs: the parameter is an argument here, not compared.
        #expect(runDiagnostics(floored, ["x": .string("ten")]).first?.message == "parameter $x needs a number here, but was given a string ten")
        #expect(try floored.run(parameters: ["x": .number(2.5)]).rows.first?.first == .number(2))
        let cut = try prepare("sentences select substr(text, $from, $count) as s limit 1")
        #expect(runDiagnostics(cut, ["from": .string("start"), "count": .number(3)]).map(\.kind) == [.unboundParameter])
        let dayOf = try prepare("events select day($d) as d limit 1")
        #expect(runDiagnostics(dayOf, ["d": .string("soon")]).map(\.kind) == [.unboundParameter])
        // A pattern given as a parameter is checked before the run, like one in the text.
        let byPattern = try prepare("claims where text matches $p select id")
        #expect(runDiagnostics(byPattern, ["p": .string("(unclosed")]).map(\.kind) == [.invalidLiteral])
        #expect(try !byPattern.run(parameters: ["p": .string("(?i)kursk")]).rows.isEmpty)
    }

    @Test func datesParseOnlyInTheirThreeForms() {
        #expect(PartialDate.parse("2024") == PartialDate(year: 2024))
        #expect(PartialDate.parse("2024-06"[...]) == PartialDate(year: 2024, month: 6))
        #expect(PartialDate.parse("2024-02-29") == PartialDate(year: 2024, month: 2, day: 29))
        for bad in ["+202", "2023-02-29", "2024-13", "2024-6", "2024-06-1", "0000", "２０２４", "2024-06-01x", ""] {
            #expect(PartialDate.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func aListParameterMustBeAList() throws {
        let q = try prepare("estimates where topic in $t select id")
        #expect(runDiagnostics(q, ["t": .string("containers")]).map(\.kind) == [.unboundParameter])
        #expect(try q.run(parameters: ["t": .list([.string("troops")])]).rows.map { $0[0].text } == ["e1"])
        // The command line's reading of a value takes lists too.
        #expect(Value.parse(literal: #"["a", 'b']"#) == .list([.string("a"), .string("b")]))
        #expect(Value.parse(literal: "[1, -2, 76.6%, 2024-06, true, null]") == .list([.number(1), .number(-2), .percent(76.6), .date(PartialDate.parse("2024-06")!), .bool(true), .null]))
        #expect(Value.parse(literal: "[]") == .list([]))
        #expect(Value.parse(literal: "[a b]") == .string("[a b]"))
        #expect(Value.parse(literal: "[1,,2]") == .string("[1,,2]"))
    }

    @Test func aParameterIsNeverSplicedIntoTheQuery() throws {
        let q = try prepare("estimates where topic = $t select id")
        // Text that would change the query if it were pasted into it is only compared as text.
        for hostile in [#"containers" or topic != ""#, #"x" select text"#, "containers\nclaims", "$t", "1 = 1"] {
            let r = try q.run(parameters: ["t": .string(hostile)])
            #expect(r.rows.isEmpty, "\(hostile) matched rows")
            #expect(r.columns.map(\.name) == ["id"])
        }
        // A value containing query text can still be found as text when it is there.
        let kb = try textKB(["select * from x; drop", #"a" or "b"#])
        let search = try prepare("notes where text = $t select id", kb: kb)
        #expect(try columnTexts(search.run(parameters: ["t": .string(#"a" or "b"#)]), "id") == ["n2"])
        let contains = try prepare("notes where text contains $t select id", kb: kb)
        #expect(try columnTexts(contains.run(parameters: ["t": .string("; DROP")]), "id") == ["n1"])
    }

    /// A KB with one collection `notes(id, text)`.
    private func textKB(_ texts: [String]) throws -> KnowledgeBase {
        var b = KnowledgeBase.Builder(name: "notes")
        b.addCollection("notes", fields: [("id", .string), ("text", .string)], key: "id")
        for (i, t) in texts.enumerated() { b.addRow(to: "notes", ["id": .string("n\(i + 1)"), "text": .string(t)]) }
        return try b.build()
    }
}

// MARK: - Limits and cancellation

@Suite struct LimitTests {
    @Test func maxRowsEndsWithTooManyRows() throws {
        let q = try prepare("claims select text")
        let d = runDiagnostics(q, limits: Limits(maxRows: 5))
        #expect(d.map(\.kind) == [.tooManyRows])
        #expect(try q.run(limits: Limits(maxRows: 100)).rows.count == 72)
        let limited = try prepare("claims select text limit 5")
        #expect(try limited.run(limits: Limits(maxRows: 5)).rows.count == 5)
    }

    @Test func maxWorkEndsWithWorkLimit() throws {
        let q = try prepare("items where value > 50000 select id", kb: bigKB)
        #expect(runDiagnostics(q, limits: Limits(maxWork: 100_000)).map(\.kind) == [.workLimit])
        #expect(runDiagnostics(q, limits: Limits(maxWork: 10_000_000)).isEmpty)
        let small = try prepare("claims where text contains \"Kursk\"")
        #expect(runDiagnostics(small, limits: Limits(maxWork: 10)).map(\.kind) == [.workLimit])
    }

    @Test func maxSecondsEndsASlowQueryWithTimeout() throws {
        let q = try prepare(slowQueryText, kb: bigKB)
        let clock = ContinuousClock()
        var diagnostics: [Diagnostic] = []
        let elapsed = clock.measure {
            diagnostics = runDiagnostics(q, slowerParameters, limits: Limits(maxSeconds: 0.2))
        }
        #expect(diagnostics.map(\.kind) == [.timeout])
        // It stops soon after its deadline, not when the query would have ended (ten times
        // the slow query: tens of seconds in a debug build). The bound is loose: on a machine
        // whose cores other processes share, the checks between rows come later in wall time.
        #expect(elapsed < .seconds(15))
    }

    /// A sort, a projection or a grouping of many rows is one step whose rows were counted
    /// before it began: it must still stop at its deadline, not at its end.
    @Test(arguments: ["items sort by name desc", "items select id, lower(name) as n, value * 2 as v",
                      "items group by name aggregate count()"])
    func longStepsStopAtTheDeadlineToo(_ text: String) throws {
        let q = try prepare(text, kb: bigKB)
        let clock = ContinuousClock()
        let whole = clock.measure { #expect(runDiagnostics(q, limits: .none).isEmpty) }
        let seconds = Double(whole.components.seconds) + Double(whole.components.attoseconds) / 1e18
        var diagnostics: [Diagnostic] = []
        let bounded = clock.measure { diagnostics = runDiagnostics(q, limits: Limits(maxSeconds: seconds / 20)) }
        #expect(diagnostics.map(\.kind) == [.timeout])
        #expect(bounded < whole / 2, "\(text): \(bounded) with a deadline, \(whole) without")
    }

    @Test func theUntrustedPresetBoundsEveryRun() throws {
        #expect(Limits.untrusted.maxRows == 10_000)
        #expect(Limits.untrusted.maxSeconds == 2)
        let q = try prepare("items select id", kb: bigKB)
        #expect(runDiagnostics(q, limits: .untrusted).map(\.kind) == [.tooManyRows])
    }

    @Test func aCancelledTokenStopsTheRun() throws {
        let token = CancellationToken()
        #expect(!token.isCancelled)
        token.cancel()
        #expect(token.isCancelled)
        let q = try prepare("claims")
        #expect(runDiagnostics(q, cancel: token).map(\.kind) == [.cancelled])
        // Other runs, with no token or another one, are not affected.
        #expect(runDiagnostics(q, cancel: CancellationToken()).isEmpty)
    }

    @Test func cancellingFromAnotherTaskStopsARunningQuery() async throws {
        let q = try prepare(slowQueryText, kb: bigKB)
        let token = CancellationToken()
        let clock = ContinuousClock()
        // `run` is synchronous: the query gets a thread of its own, as a host would give it,
        // rather than holding one of the few threads that run tasks.
        let times = RunTimes()
        let (results, finish) = AsyncStream<[Diagnostic]>.makeStream()
        let worker = Thread {
            times.started.withLock { $0 = clock.now }
            let d = runDiagnostics(q, slowerParameters, cancel: token)
            times.ended.withLock { $0 = clock.now }
            finish.yield(d)
            finish.finish()
        }
        worker.start()
        // Cancel only once the query is known to be running: on a loaded machine the
        // thread may take a while to start, and a token cancelled before the start proves
        // nothing about stopping a running query.
        let deadline = clock.now + .seconds(30)
        while times.started.withLock({ $0 }) == nil && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        let cancelledAt = clock.now
        token.cancel()
        var next = results.makeAsyncIterator()
        let diagnostics = await next.next() ?? []
        #expect(diagnostics.map(\.kind) == [.cancelled])
        let started = times.started.withLock { $0 }, ended = times.ended.withLock { $0 }
        // The query was running when it was cancelled, and noticed within a few thousand
        // rows, not at the end: run to its end it takes tens of seconds (ten thousand values
        // tested for every row), so a generous bound still tells the two apart on a loaded
        // machine, where 5 s against the shorter query failed while cancelling worked.
        if let started, let ended {
            #expect(started < cancelledAt)
            #expect(ended - cancelledAt < .seconds(15))
        } else {
            Issue.record("the query did not run")
        }
    }
}

/// When a run on another thread started and ended.
private final class RunTimes: Sendable {
    let started = Mutex<ContinuousClock.Instant?>(nil)
    let ended = Mutex<ContinuousClock.Instant?>(nil)
}

// MARK: - Concurrency

@Suite struct ConcurrencyTests {
    @Test func manyTasksRunPreparedQueriesOnOneKB() async throws {
        let kb = KnowledgeBase.article
        let compare = try prepare("estimates where topic = $t compare source", kb: kb)
        let claims = try prepare("claims where source.name = $s and hedge >= $h select id, text", kb: kb)
        let topics = ["containers", "artillery shells", "troops", "support for nuclear weapons"]
        let sources = Set(columnTexts(try prepare("claims select source.name as s", kb: kb).run(), "s")).sorted()
        let hedges = ["stated", "likely", "unknown"]
        // The answers, computed one at a time first.
        var expectedCompare: [String: ResultTable] = [:]
        for t in topics { expectedCompare[t] = try compare.run(parameters: ["t": .string(t)]) }
        var expectedClaims: [String: ResultTable] = [:]
        for s in sources {
            for h in hedges { expectedClaims[s + "|" + h] = try claims.run(parameters: ["s": .string(s), "h": .string(h)]) }
        }
        let wanted = expectedCompare
        let wantedClaims = expectedClaims

        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures = 0
                    for run in 0..<200 {
                        let i = task * 200 + run
                        do {
                            if i % 2 == 0 {
                                let t = topics[i % topics.count]
                                if try compare.run(parameters: ["t": .string(t)]) != wanted[t] { failures += 1 }
                            } else {
                                let s = sources[i % sources.count], h = hedges[i % hedges.count]
                                let r = try claims.run(parameters: ["s": .string(s), "h": .string(h)], limits: .untrusted)
                                if r != wantedClaims[s + "|" + h] { failures += 1 }
                            }
                        } catch {
                            failures += 1
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func sessionsAndPreparingAlsoRunConcurrently() async throws {
        let kb = KnowledgeBase.article
        let expected = try prepare("estimates where unit = \"containers\" select id").run()
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ok = true
                    for run in 0..<25 {
                        // A session of its own per task: `let` names stay in it.
                        var session = Session(kb: kb)
                        var last: ResultTable?
                        let name = "t\(task)_\(run)"
                        let source = SourceText("let \(name) = estimates where unit = \"containers\"\n\(name) select id")
                        let d = session.run(source) { if case .result(let r) = $0 { last = r } }
                        ok = ok && d.isEmpty && last == expected && session.letNames == [name]
                        // Preparing concurrently is fine too.
                        let q = try? PreparedQuery("estimates where unit = $u select id", kb: kb)
                        ok = ok && (try? q?.run(parameters: ["u": .string("containers")])) == expected
                    }
                    return ok
                }
            }
            return await group.allSatisfy { $0 }
        }
        #expect(results)
    }

    @Test func publicTypesAreSendable() {
        func isSendable<T: Sendable>(_: T.Type) -> Bool { true }
        #expect(isSendable(KnowledgeBase.self) && isSendable(KBCollection.self) && isSendable(KnowledgeBase.Builder.self))
        #expect(isSendable(PreparedQuery.self) && isSendable(Session.self) && isSendable(ResultTable.self))
        #expect(isSendable(Value.self) && isSendable(Diagnostic.self) && isSendable(Diagnostics.self))
        #expect(isSendable(Limits.self) && isSendable(CancellationToken.self) && isSendable(SourceText.self))
        #expect(isSendable(KBLoadError.self) && isSendable(StatementOutcome.self) && isSendable(OutputFormat.self))
    }
}

// MARK: - Diagnostics

@Suite struct DiagnosticKindTests {
    /// Every kind, reached through the public API: preparing a query, running it, loading a KB.
    @Test func everyKindIsReachable() throws {
        var reached: [Diagnostic.Kind: Bool] = [:]
        func prepared(_ text: String, _ kind: Diagnostic.Kind, kb: KnowledgeBase = .article,
                      sourceLocation: SourceLocation = #_sourceLocation) {
            let kinds = prepareKinds(text, kb: kb)
            #expect(kinds.contains(kind), "\(text): \(kinds)", sourceLocation: sourceLocation)
            if kinds.contains(kind) { reached[kind] = true }
        }
        func ran(_ text: String, _ kind: Diagnostic.Kind, _ parameters: [String: Value] = [:], kb: KnowledgeBase = .article,
                 limits: Limits = .none, cancel: CancellationToken? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
            guard let q = try? PreparedQuery(text, kb: kb) else {
                Issue.record("\(text) did not prepare", sourceLocation: sourceLocation)
                return
            }
            let kinds = runDiagnostics(q, parameters, limits: limits, cancel: cancel).map(\.kind)
            #expect(kinds == [kind], "\(text): \(kinds)", sourceLocation: sourceLocation)
            if kinds == [kind] { reached[kind] = true }
        }

        prepared("estimates where topic = = 1", .syntax)
        prepared("estimates where", .syntax)
        prepared("", .syntax)
        prepared("events where date > 2024-13", .invalidLiteral)
        prepared("estimates where value > 1e999", .invalidLiteral)
        prepared("estimats", .unknownCollection)
        prepared("estimates where topc = \"containers\"", .unknownField)
        prepared("estimates select source.nam", .unknownField)
        prepared("estimates select read_file(\"/etc/passwd\")", .unknownFunction)
        prepared("claims where hedge >= firmly", .unknownHedge)
        prepared("estimates where value > \"many\"", .typeMismatch)
        prepared("estimates where max(value) > 1", .misplacedAggregate)
        prepared("sentences cite", .invalidClause)
        prepared("estimates where " + String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300), .limitExceeded)
        prepared(String(repeating: "x", count: Lexer.maxSourceBytes + 1), .limitExceeded)

        ran("estimates where topic = $t", .unboundParameter)
        ran("estimates where value > $v", .unboundParameter, ["v": .string("many")])
        ran("claims", .tooManyRows, limits: Limits(maxRows: 1))
        ran(slowQueryText, .timeout, slowParameters, kb: bigKB, limits: Limits(maxSeconds: 0.05))
        ran("claims where text contains \"Kursk\"", .workLimit, limits: Limits(maxWork: 1))
        let token = CancellationToken()
        token.cancel()
        ran("claims", .cancelled, cancel: token)
        // The entity is looked up when the query runs: checking never reads rows.
        ran("describe \"Atlantis\"", .unknownEntity)

        // A pattern is checked when the query is prepared; a bad one is an invalid literal.
        prepared("claims where text matches \"(unclosed\"", .invalidLiteral)

        ran("claims where text matches $p", .invalidLiteral, ["p": .string("(unclosed")])

        // A KB that is refused: its problems as diagnostics.
        switch Result(catching: { () throws(KBLoadError) in try KnowledgeBase(json: Array(#"{"kbq": 1}"#.utf8)) }) {
        case .success: Issue.record("a KB without collections loaded")
        case .failure(let e):
            #expect(e.diagnostics.map(\.kind) == [.invalidKB])
            if e.diagnostics.first?.kind == .invalidKB { reached[.invalidKB] = true }
        }

        // A warning: the query is prepared all the same, and says what it found.
        if let w = (try? PreparedQuery(#"estimates where topic = "shells""#))?.warnings.first, w.isWarning { reached[w.kind] = true }
        // A statement SQL does not express whole, over more rows than kbq finishes one over.
        var sql = try SQLSession(schema: .article)
        sql.finishingRowLimit = 1
        let compare = sql.compile(SourceText("estimates compare source")).statements
        #expect(compare.count == 1 && compare.allSatisfy(\.isFinishedInKBQ))
        let twoRows = ResultTable(columns: [ResultColumn(name: "id", type: .string)], rows: [[.string("a")], [.string("b")]])
        do {
            _ = try compare.first?.finish(compare.first?.fetches.map { _ in twoRows } ?? [])
            Issue.record("more rows than the bound were finished")
        } catch {
            #expect(error.kind == .unsupportedOnEngine)
            #expect(error.message.hasPrefix("compare does not run in PostgreSQL's SQL"), "\(error.message)")
            if error.kind == .unsupportedOnEngine { reached[.unsupportedOnEngine] = true }
        }

        let unreached = Diagnostic.Kind.allCases.filter { reached[$0] != true }.map(\.rawValue)
        #expect(unreached.isEmpty, "unreached: \(unreached)")
    }

    @Test func kindIdentifiersAreStable() {
        #expect(Diagnostic.Kind.allCases.map(\.rawValue) == [
            "syntax", "invalid-literal", "unknown-collection", "unknown-field", "unknown-function", "unknown-hedge",
            "unknown-entity", "type-mismatch", "misplaced-aggregate", "invalid-clause", "unbound-parameter",
            "limit-exceeded", "too-many-rows", "timeout", "work-limit", "cancelled", "invalid-kb", "no-match",
            "unsupported-on-engine",
        ])
    }

    @Test func diagnosticsAreValuesWithRangeSuggestionAndTheCLIRendering() {
        let text = "estimates\n  where topc = \"containers\""
        do {
            _ = try PreparedQuery(text, name: "q.kbq")
            Issue.record("prepared a bad query")
        } catch {
            #expect(error.items.count == 1)
            let d = error.items[0]
            #expect(d.kind == .unknownField)
            #expect(d.suggestion == "topic")
            let range = d.range ?? SourceRange(0, 0)
            #expect(Array(Array(text.utf8)[range.start..<range.end]) == Array("topc".utf8))
            let source = SourceText(text, name: "q.kbq")
            #expect(source.lineColumn(of: range.start) == (2, 9))
            let rendered = source.render(d)
            #expect(rendered.hasPrefix("q.kbq:2:9: error: "))
            #expect(rendered.contains("        ^~~~"))
            #expect(rendered.contains("did you mean 'topic'?"))
            // Diagnostics are Codable too, for a host that ships them elsewhere.
            let json = try? JSONEncoder().encode(error)
            #expect((try? json.map { try JSONDecoder().decode(Diagnostics.self, from: $0) }) == error)
        }
    }

    @Test func everyProblemOfAQueryIsReportedAndNothingIsHalfPrepared() {
        #expect(prepareKinds("estimats\nestimates where topc = 1\nclaims where hedge >= firmly")
                    == [.unknownCollection, .unknownField, .unknownHedge])
    }
}

// MARK: - Results as values and as JSON

@Suite struct ResultTests {
    @Test func resultsAreTypedAndCodableToJSON() throws {
        let r = try prepare("estimates where topic = $t compare source").run(parameters: ["t": .string("containers")])
        #expect(r.columns.map(\.name) == ["source", "n", "value", "unit", "hedge", "sentence", "inferred"])
        #expect(r.columns.first?.type == .ref("sources"))
        let value = try #require(r.columnIndex("value"))
        #expect(r.rows.map { $0[value].number } == [16_500, 13_000])
        guard case .quantity(let over)? = r.rows.first?[value] else {
            Issue.record("expected an interval quantity")
            return
        }
        #expect(over.qualifier == "over" && over.lo == 16_500 && over.hi == .infinity)

        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(r)
        // Plain JSON for any consumer: column names and types by name, values as JSON values.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let columns = try #require(object["columns"] as? [[String: Any]])
        #expect(columns.compactMap { $0["name"] as? String } == r.columns.map(\.name))
        #expect(columns.compactMap { $0["type"] as? String } == r.columns.map(\.type.description))
        let rows = try #require(object["rows"] as? [[Any]])
        #expect(rows.count == 2)
        #expect(rows.compactMap { $0.first as? String } == ["U.S. intelligence", "South Korea"])
        #expect((rows[1][value] as? Double) == 13_000)
        #expect(((rows[0][value] as? [String: Any])?["qualifier"] as? String) == "over")

        // The chart is plain JSON too: its bars under "bars", not under a Swift detail.
        let chart = try #require(object["chart"] as? [String: Any])
        let bars = try #require(chart["bars"] as? [[String: Any]], "\(chart)")
        #expect(bars.compactMap { $0["text"] as? String } == ["over 16,500", "13,000"])

        // And back: decoding gives the same JSON again.
        let decoded = try JSONDecoder().decode(ResultTable.self, from: data)
        #expect(decoded.columns == r.columns)
        #expect(decoded.rows.map { $0.map(\.text) } == r.rows.map { $0.map(\.text) })
        #expect(try encoder.encode(decoded) == data)
    }

    /// A table too wide for its width, even with each column squeezed to its longest word,
    /// is shown one record at a time: no word is broken, nothing is dropped.
    @Test func tooWideTablesAreShownOneRecordAtATime() throws {
        let r = try prepare("events where id = \"ev4\" or id = \"ev7\" sort by id").run()
        let narrow = r.rendered(as: .table, width: 100)
        #expect(narrow.hasPrefix("─[ row 1 ]─"))
        #expect(narrow.contains("\n─[ row 2 ]─"))
        #expect(narrow.contains("(2 rows, shown one by one: 14 columns do not fit in 100)"))
        // Every value is there, each on its own line after its column's name.
        let lines = narrow.split(separator: "\n").map(String.init)
        #expect(lines.contains("hedge        reportedly"))
        #expect(lines.contains("hedge        stated"))
        #expect(lines.allSatisfy { $0.count <= 100 })
        let description = try #require(r.column("description")?.first?.text)
        let shown = lines.filter { $0.hasPrefix("description") || $0.hasPrefix("             ") }
            .prefix(2).map { $0.dropFirst(13) }.joined(separator: " ")
        #expect(shown == description)
        // Wide enough, the same rows are a table again.
        let wide = r.rendered(as: .table, width: 400)
        #expect(wide.hasPrefix("id "))
        #expect(!wide.contains("─[ row"))
        // A narrow width that fits the words keeps the table.
        let compare = try prepare("estimates where topic = \"containers\" compare source").run()
        #expect(compare.rendered(as: .table, width: 80).hasPrefix("source"))
        #expect(compare.rendered(as: .table, width: 50).hasPrefix("─[ row 1 ]─"))
    }

    @Test func anEmptyTableKeepsItsColumnNamesWhole() throws {
        // With no rows, the names were squeezed to 8 columns: "value_hi" over "gh".
        let r = try prepare(#"estimates where topic = "none""#).run()
        let lines = r.rendered(as: .table, width: 100).split(separator: "\n").map(String.init)
        // The last line says why the table is empty ("none" is no topic of an estimate).
        #expect(lines.count == 4)
        #expect(lines.last?.hasPrefix("note: empty because no estimates have topic \"none\"") == true)
        #expect(lines[0] == "id  topic  subject  value  value_high  qualifier  unit  period  source  via  hedge  reported  text  sentence  inferred  reason  basis")
        #expect(lines[2] == "(0 rows)")
    }

    @Test func anEmptyResultSaysWhichParameterValueMatchedNothing() throws {
        let q = try prepare("estimates where topic = $t and value > $v compare source")
        let none = try q.run(parameters: ["t": .string("containerz"), "v": .number(0)])
        #expect(none.rows.isEmpty)
        #expect(none.notes == [#"empty because no estimates have topic "containerz" ($t); did you mean "containers"?"#])
        // A value the KB holds that keeps no row for another reason: no such note.
        let high = try q.run(parameters: ["t": .string("containers"), "v": .number(1e12)])
        #expect(high.rows.isEmpty && !high.notes.contains { $0.hasPrefix("empty because") })
        // Rows found: the same parameter says nothing.
        #expect(try q.run(parameters: ["t": .string("containers"), "v": .number(0)]).notes.allSatisfy { !$0.hasPrefix("empty because") })
    }

    @Test func everyRendererIsAFunctionOfTheResult() throws {
        let r = try prepare("estimates where topic = \"containers\" compare source").run()
        let table = r.rendered(as: .table, width: 100)
        #expect(table.contains("U.S. intelligence") && table.contains("spread 3,500"))
        #expect(!table.contains("\u{1B}["))
        #expect(r.rendered(as: .table, width: 100, color: true).contains("\u{1B}["))
        let json = r.rendered(as: .json)
        #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil)
        #expect(r.rendered(as: .csv).hasPrefix("source,n,value,unit,hedge,sentence"))
        #expect(r.rendered(as: .markdown).hasPrefix("| source"))
        #expect(OutputFormat.allCases.count == 4)
    }

    @Test func plansAreResultsToo() throws {
        let q = try prepare("estimates where value > $v sort by value desc")
        #expect(q.plans.count == 1)
        #expect(q.plans[0].rows.count >= 3)
    }
}

// MARK: - KBs built in code

@Suite struct BuilderTests {
    /// A small KB in the article's shape: sources and estimates with a reference, an
    /// interval quantity, hedges and dates.
    static func shipmentsBuilder() -> KnowledgeBase.Builder {
        var b = KnowledgeBase.Builder(name: "shipments", title: "Shipments")
        b.addCollection("sources", fields: [("id", .string), ("name", .string), ("aliases", .list(.string))], key: "id")
        b.addCollection("estimates",
                        fields: [("id", .string), ("topic", .string), ("value", .number(qualified: true)), ("value_high", .number()),
                                 ("qualifier", .string), ("unit", .string), ("source", .ref("sources")), ("hedge", .hedge),
                                 ("period", .date), ("share", .percent)],
                        key: "id", measure: "value",
                        intervals: ["value": .init(qualifier: "qualifier", upper: "value_high")])
        b.addRow(to: "sources", ["id": .string("us"), "name": .string("U.S. intelligence"), "aliases": .list([.string("Washington")])])
        b.addRow(to: "sources", values: [.string("sk"), .string("South Korean intelligence"), .null])
        b.addRow(to: "estimates", ["id": .string("e1"), "topic": .string("containers"), "value": .number(16_500), "value_high": .null,
                                   "qualifier": .string("over"), "unit": .string("containers"), "source": .string("us"),
                                   "hedge": .string("by some estimates"), "period": .date(PartialDate(from: PartialDate(year: 2023), to: nil)),
                                   "share": .null])
        b.addRow(to: "estimates", values: [.string("e2"), .string("containers"), .number(13_000), .null, .null, .string("containers"),
                                           .string("sk"), .hedge(rank: 1, word: "stated"), .date(PartialDate(year: 2024, month: 6)),
                                           .percent(76.6)])
        return b
    }

    @Test func aKBBuiltInCodeIsQueriedLikeALoadedOne() throws {
        let b = Self.shipmentsBuilder()
        #expect(b.collectionNames == ["sources", "estimates"])
        #expect(b.rowCount(of: "estimates") == 2)
        let kb = try b.build()
        #expect(kb.name == "shipments" && kb.title == "Shipments")
        #expect(kb.collections.map(\.name) == ["sources", "estimates"])
        #expect(kb.collection("estimates")?.measure == "value" && kb.collection("estimates")?.key == "id")

        let r = try prepare("estimates where topic = $t compare source", kb: kb).run(parameters: ["t": .string("containers")])
        #expect(columnTexts(r, "source") == ["U.S. intelligence", "South Korean intelligence"])
        #expect(r.summaries.first?["spread"] == .number(3_500))
        #expect(r.rendered(as: .table, width: 100).contains("over 16,500"))

        let firm = try prepare("estimates where hedge >= stated select id, source.name, period, share", kb: kb).run()
        #expect(columnTexts(firm, "id") == ["e2"])
        #expect(firm.rows.first?.map(\.text) == ["e2", "South Korean intelligence", "2024-06", "76.6%"])
        let spans = try prepare("estimates where period >= 2023 select period", kb: kb).run()
        #expect(columnTexts(spans, "period").contains("since 2023"))
        #expect(kb.collection("sources")?.value(row: 0, field: "aliases", in: kb) == .list([.string("Washington")]))
    }

    @Test func relativeSpreadIsOfTheLargerMagnitudeWhateverTheSigns() throws {
        var b = KnowledgeBase.Builder(name: "signs")
        b.addCollection("changes", fields: [("id", .string), ("topic", .string), ("source", .string), ("value", .number())],
                        key: "id", measure: "value")
        for (id, topic, source, value) in [("a", "down", "s1", -10.0), ("b", "down", "s2", -20), ("c", "mixed", "s1", -20), ("d", "mixed", "s2", 5)] {
            b.addRow(to: "changes", values: [.string(id), .string(topic), .string(source), .number(value)])
        }
        let kb = try b.build()
        let q = try prepare("changes where topic = $t compare source", kb: kb)
        // -10 and -20 differ by half of 20, as 10 and 20 do; -20 and 5 by 25 of 20.
        #expect(try q.run(parameters: ["t": .string("down")]).summaries.first?["relative spread"] == .percent(50))
        #expect(try q.run(parameters: ["t": .string("mixed")]).summaries.first?["relative spread"] == .percent(125))
    }

    @Test func aBuiltKBRoundTripsEveryKindOfDate() throws {
        var b = KnowledgeBase.Builder(name: "dates")
        b.addCollection("events", fields: [("id", .string), ("date", .date)], key: "id")
        let anchor = PartialDate(year: 2024, month: 10, day: 13)
        let dates = [PartialDate(year: 2024), PartialDate(year: 2024, month: 6, day: 19),
                     PartialDate(from: PartialDate(year: 2022), to: PartialDate(year: 2024)),
                     PartialDate(relativeTo: anchor, after: true, by: .days), PartialDate(relativeTo: anchor, after: false, by: .weeks)]
        for (i, d) in dates.enumerated() { b.addRow(to: "events", ["id": .string("v\(i)"), "date": .date(d)]) }
        let kb = try b.build()
        let events = try #require(kb.collection("events"))
        for (i, d) in dates.enumerated() { #expect(events.value(row: i, field: "date", in: kb) == .date(d)) }
    }

    @Test func aBadKBIsRefusedWithEveryProblemAndItsPath() {
        var b = Self.shipmentsBuilder()
        b.addRow(to: "estimates", ["id": .string("e1"), "topic": .number(3), "value": .string("many"), "value_high": .null,
                                   "qualifier": .string("umpteen"), "unit": .null, "source": .string("nobody"),
                                   "hedge": .string("firmly"), "period": .string("last year"), "share": .null, "colour": .string("red")])
        b.addRow(to: "estimates", ["id": .string("e4")])
        b.addRow(to: "estimats", ["id": .string("x")])
        b.addRow(to: "sources", values: [.string("only one value")])
        b.addRow(to: "sources", values: [.string("nan"), .number(.nan), .null])
        b.addCollection("checks", fields: [("id", .string), ("ok", .bool)])
        b.addRow(to: "checks", values: [.string("k1"), .maybe])
        b.addCollection("sources", fields: [("id", .string)])
        do {
            _ = try b.build()
            Issue.record("a bad KB was built")
        } catch {
            let found = Dictionary(error.problems.map { ($0.path, $0.kind) }, uniquingKeysWith: { a, _ in a })
            let expected: [String: KBProblem.Kind] = [
                "$.collections.estimates.rows[2].id": .duplicateKey,             // duplicate key e1
                "$.collections.estimates.rows[2].topic": .typeMismatch,          // a number for a string
                "$.collections.estimates.rows[2].value": .typeMismatch,          // a string for a number
                "$.collections.estimates.rows[2].qualifier": .unknownQualifier,  // not a qualifier word
                "$.collections.estimates.rows[2].source": .danglingReference,    // dangling reference
                "$.collections.estimates.rows[2].hedge": .unknownHedge,          // not a hedge word
                "$.collections.estimates.rows[2].period": .invalidDate,          // not a date
                "$.collections.estimates.rows[2].colour": .unknownField,         // unknown field
                "$.collections.estimates.rows[3]": .missing,                     // missing fields
                "$.collections.estimats": .unknownCollection,                    // rows for an undeclared collection
                "$.collections.sources.rows[2]": .fieldCount,                    // wrong number of values
                "$.collections.sources.rows[3].name": .typeMismatch,             // not a finite number
                "$.collections.checks.rows[0].ok": .typeMismatch,                // maybe is an answer, not a fact
                "$.collections.sources": .duplicateName,                         // declared twice
            ]
            for (path, kind) in expected { #expect(found[path] == kind, "\(path): \(found[path].map { "\($0)" } ?? "not reported")") }
            #expect(error.file == "shipments")
            #expect(error.problems.first { $0.path == "$.collections.estimats" }?.message.contains("did you mean 'estimates'?") == true)
            #expect(error.description.contains("the KB was not loaded"))
        }
    }

    @Test func schemaProblemsHaveTheirPathsToo() {
        var b = KnowledgeBase.Builder(name: "schema")
        b.addCollection("a", fields: [("id", .string), ("b", .ref("missing")), ("q", .number(qualified: true)), ("n", .string)],
                        key: "n2", measure: "id")
        b.addCollection("bad name", fields: [("x", .string)])
        do {
            _ = try b.build()
            Issue.record("a bad schema was built")
        } catch {
            let paths = Set(error.problems.map(\.path))
            #expect(paths.isSuperset(of: ["$.collections.a.fields.b", "$.collections.a.fields.q", "$.collections.a.key",
                                          "$.collections.a.measure", "$.collections.bad name"]), "\(paths.sorted())")
        }
    }

    @Test func aBuiltKBGivesTheSameAnswersAsTheSameDocumentLoaded() throws {
        let json = #"""
        {"kbq": 1, "name": "shipments", "collections": {
          "sources": {"key": "id", "fields": {"id": "string", "name": "string"},
                      "rows": [{"id": "us", "name": "U.S."}, {"id": "sk", "name": "South Korea"}]},
          "estimates": {"key": "id", "measure": "value", "fields": {"id": "string", "value": "number", "source": {"ref": "sources"}},
                        "rows": [{"id": "e1", "value": 16500, "source": "us"}, {"id": "e2", "value": 13000, "source": "sk"}]}}}
        """#
        let loaded = try KnowledgeBase(json: Array(json.utf8), name: "shipments")
        var b = KnowledgeBase.Builder(name: "shipments")
        b.addCollection("sources", fields: [("id", .string), ("name", .string)], key: "id")
        b.addCollection("estimates", fields: [("id", .string), ("value", .number()), ("source", .ref("sources"))], key: "id", measure: "value")
        b.addRows(to: "sources", [["id": .string("us"), "name": .string("U.S.")], ["id": .string("sk"), "name": .string("South Korea")]])
        b.addRow(to: "estimates", values: [.string("e1"), .number(16_500), .string("us")])
        b.addRow(to: "estimates", values: [.string("e2"), .number(13_000), .string("sk")])
        let built = try b.build()
        let text = "estimates compare source"
        #expect(try prepare(text, kb: built).run() == prepare(text, kb: loaded).run())
    }
}

// MARK: - A query reaches only its KB

@Suite struct IsolationTests {
    @Test func aQueryCannotReadFilesOrTheEnvironment() throws {
        // There is no function for it: a path is just text.
        let r = try prepare("estimates select lower(\"/etc/passwd\") as p, upper(\"$HOME\") as h limit 1").run()
        #expect(r.rows.first == [.string("/etc/passwd"), .string("$HOME")])
        for f in ["read_file", "readfile", "file", "load", "open", "env", "getenv", "environment", "exec", "system",
                  "shell", "http", "fetch", "url", "import", "include"] {
            let kinds = prepareKinds("estimates select \(f)(\"/etc/passwd\")")
            #expect(kinds == [.unknownFunction], "\(f): \(kinds)")
        }
        // `$HOME` is a parameter the host binds, never an environment variable.
        let home = try prepare("estimates where topic = $HOME")
        #expect(runDiagnostics(home).map(\.kind) == [.unboundParameter])
        // Statements that name files are not part of the language: dot-commands belong to the CLI.
        #expect(!prepareKinds(".load /etc/passwd").isEmpty)
        #expect(!prepareKinds(".read /etc/passwd").isEmpty)
    }
}
