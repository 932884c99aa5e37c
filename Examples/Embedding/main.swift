// kbq-embed-example: a host program that embeds the KBQ library, the way a notebook, a bot
// or a web service would. It uses only the public API (`import KBQ`, no `@testable`).
//
//     swift run kbq-embed-example
//
// Tests/KBQTests/EmbeddingExampleTests.swift runs it and checks what it prints.

import KBQ

/// Prints a heading between the parts of the demonstration.
func section(_ title: String) {
    print("\n== \(title) ==")
}

/// Prints every diagnostic of a failed prepare or run, as the CLI would, plus its stable kind.
func report(_ diagnostics: Diagnostics, in source: SourceText) {
    for d in diagnostics.items {
        print(source.render(d), terminator: "")
        print("kind: \(d.kind.rawValue)")
    }
}

// 1. A knowledge base: the article KB compiled into the library. A host could instead load
//    one with `KnowledgeBase(contentsOfFile:)` or `KnowledgeBase(json:)`, or build one in
//    code with `KnowledgeBase.Builder`.
let kb = KnowledgeBase.article

// 2. Prepare once: parsed and checked against the KB. `$t` is a parameter, bound at each
//    run to a typed value; it is never spliced into the query text.
let compareText = "estimates where topic = $t compare source"
let compare: PreparedQuery
do {
    compare = try PreparedQuery(compareText, kb: kb, name: "compare.kbq")
} catch {
    report(error, in: SourceText(compareText, name: "compare.kbq"))
    fatalError("the example query should check")
}
print("prepared: \(compare.source.text)  (parameters: \(compare.parameterNames.map { "$" + $0 }.joined(separator: ", ")))")

// 3. Run it (as many times as wanted) with t = "containers", and print the table the CLI
//    would print.
section("containers comparison")
do {
    let result = try compare.run(parameters: ["t": .string("containers")])
    print(result.rendered(as: .table, width: 100), terminator: "")

    // 4. Read the typed result: columns with their types, rows of values, summary figures.
    section("typed result")
    print("columns: " + result.columns.map { "\($0.name): \($0.type)" }.joined(separator: ", "))
    if let source = result.columnIndex("source"), let value = result.columnIndex("value") {
        for row in result.rows {
            let number = row[value].number.map { String(Int($0)) } ?? "unknown"
            print("\(row[source].text): \(row[value].text) (number \(number))")
        }
    }
    if let summary = result.summaries.first, let spread = summary["spread"] {
        print("spread: \(spread.text)")
        if let relative = summary["relative spread"] { print("relative spread: \(relative.text)") }
    }
} catch {
    report(error, in: compare.source)
}

// 5. A bad query is answered with diagnostics, as values: a stable kind, a message, the byte
//    range it is about and a suggestion. `SourceText.render` draws them the way the CLI does.
section("diagnostic for a bad query")
let badText = "estimates where topc = \"containers\""
let badSource = SourceText(badText, name: "bad.kbq")
do {
    _ = try PreparedQuery(badText, kb: kb, name: "bad.kbq")
    print("unexpectedly prepared")
} catch {
    report(error, in: badSource)
    if let d = error.items.first, let range = d.range {
        print("range: bytes \(range.start)..<\(range.end), suggestion: \(d.suggestion ?? "none")")
    }
}

// 6. Queries from people you do not trust: bound rows, time and work, and keep a token to
//    cancel from another thread or task. Each bound ends the run with its own kind.
section("limits and cancellation")
do {
    let everything = try PreparedQuery("claims select source.name, text", kb: kb)
    let limits = Limits(maxRows: 5, maxSeconds: 1, maxWork: 1_000_000)
    let token = CancellationToken()
    do {
        let r = try everything.run(limits: limits, cancel: token)
        print("ran: \(r.rows.count) rows")
    } catch {
        report(error, in: everything.source)
    }
    let limited = try PreparedQuery("claims select source.name, text limit 3", kb: kb)
    let r = try limited.run(limits: limits, cancel: token)
    print("with limit 3: \(r.rows.count) rows")
    token.cancel()
    do {
        _ = try limited.run(limits: limits, cancel: token)
    } catch {
        report(error, in: limited.source)
    }
} catch {
    print("unexpected: \(error)")
}
