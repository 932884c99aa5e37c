import Foundation
import Testing

// Results on the terminal: the pager for what is taller than the screen, and Ctrl-C that stops
// printing as well as computing.

@Suite("REPL output on the terminal") struct ReplOutputTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func aTallResultGoesThroughThePager() throws {
        // A pager that keeps what it is given, so the test can see what was paged.
        let paged = scratch.file("paged.txt")
        let kbq = try TerminalSession(scratch: scratch, environment: ["PAGER": "cat > '\(paged)'"])
        try kbq.expect("kbq> ")
        kbq.send("sentences select id\r")
        try kbq.expect("kbq> ")
        let text = try String(contentsOfFile: paged, encoding: .utf8)
        #expect(text.contains("p1.1") && text.contains("(57 rows)"), "\(text)")
        // A short one is printed, and `.pager off` prints even a tall one.
        try FileManager.default.removeItem(atPath: paged)
        kbq.send("sources limit 1 select name\r")
        try kbq.expect("(1 row)")
        kbq.send(".pager off\r")
        kbq.send("sentences select id\r")
        try kbq.expect("(57 rows)")
        try kbq.expect("kbq> ")
        #expect(!FileManager.default.fileExists(atPath: paged))
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func ctrlCStopsPrintingAndComesBackToThePrompt() throws {
        var csv = "id,text\n"
        for i in 0..<200_000 { csv += "r\(i),row number \(i) of a long result that takes a while to print\n" }
        let path = try scratch.write("big.csv", csv)
        let kbq = try TerminalSession(["--kb", path], scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send(".rows all\r")
        kbq.send("big\r")
        try kbq.expect("row number 2")
        kbq.send("\u{03}", waitingForEditor: false)
        let shown = try kbq.expect("interrupted (Ctrl-C)", timeout: 10)
        try kbq.expect("kbq> ", timeout: 10)
        #expect(!shown.contains("row number 199999"))
        #expect(!shown.contains("error:"), "a Ctrl-C is no error in the text")
        // The session goes on.
        kbq.send("big limit 1 select id\r")
        try kbq.expect("(1 row)")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }
}
