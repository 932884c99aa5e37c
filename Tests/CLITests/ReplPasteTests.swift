import Foundation
import Testing

// Statements over several lines, pasted into the REPL or typed: a pasted line that starts with
// a clause word or `|` continues the statement above it, as in a file.

/// The Examples whose expected output has no error: what running them prints.
private let examplesWithoutErrors: [String] = {
    let dir = packageRoot.appendingPathComponent("Examples").path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasSuffix(".kbq") }
        .filter { !FileManager.default.fileExists(atPath: dir + "/" + $0.dropLast(4) + ".err") }
        .sorted()
}()

@Suite("REPL pastes and continuation lines") struct ReplPasteTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func theExamplesAreFound() {
        #expect(examplesWithoutErrors.count >= 20)
    }

    @Test func theDocumentedMultiLineStyleRunsWhenPasted() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send("estimates\n  where topic = \"containers\"\n  | select source, value\n")
        let shown = try kbq.expect("(2 rows)")
        #expect(!shown.contains("error"), "\(shown)")
        #expect(shown.contains("U.S. intelligence") && shown.contains("South Korea"))
        try kbq.expect("kbq> ")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    /// Pasting an Example's text into the REPL prints what running the file prints. Results
    /// go to a file (the prompts and the echo stay on the terminal), as `kbq > FILE` does.
    @Test(arguments: examplesWithoutErrors)
    func pastingAnExamplePrintsWhatRunningItPrints(name: String) throws {
        let path = packageRoot.appendingPathComponent("Examples/" + name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let script = kbq([path], scratch: scratch)
        try #require(script.status == 0, "\(script.error)")
        let results = scratch.file("results.txt")
        let session = try TerminalSession(["-c", "exec '\(kbqBinary)' > '\(results)'"], scratch: scratch, program: "/bin/sh")
        try session.expect("kbq> ")
        session.send(text.replacingOccurrences(of: "\n", with: "\r") + "\u{04}")
        #expect(session.waitForExit() == 0)
        let pasted = try String(contentsOfFile: results, encoding: .utf8)
        let trim = { (s: String) in s.trimmingCharacters(in: .newlines) }
        #expect(trim(pasted) == trim(script.output), "\(difference(trim(script.output), trim(pasted)))")
        #expect(!session.text.contains("error"), "\(session.text)")
    }

    @Test func anOpenQuoteOrBracketShowsInThePrompt() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send("claims where text contains \"nuclear\r")
        try kbq.expect("...\"> ")
        kbq.send("weapons\" and hedge in [\"stated\",\r")
        try kbq.expect("...[> ")
        kbq.send("\"likely\"] select id\r")
        try kbq.expect("rows)")
        try kbq.expect("kbq> ")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func ctrlDOnAContinuationLineDropsTheStatement() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send("estimates where topic =\r")
        try kbq.expect("...> ")
        kbq.send("\u{04}")
        try kbq.expect("the unfinished statement was dropped; Ctrl-D again leaves")
        try kbq.expect("kbq> ")
        // Nothing of it ran, and it does not join the next statement.
        kbq.send("sources limit 1 select name\r")
        let shown = try kbq.expect("(1 row)")
        #expect(!shown.contains("error"), "\(shown)")
        try kbq.expect("kbq> ")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }
}
