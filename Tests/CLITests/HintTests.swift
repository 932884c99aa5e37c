import Foundation
import Testing

// Errors whose notes point to the fix a person needs (issue 16), through the real binary.

@Suite("hints that point the right way") struct HintTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test(arguments: [
        ("claims where hedge = reported", "did you mean '\"reportedly\"'?", "dates are written"),
        ("claims aggregate count(*)", "count() counts rows: write it with nothing inside", "a query without select"),
        ("estimates select topic | where value > 1", "put this clause before the select, or add value to the select", "put it in quotes"),
        (#"estimates select topic where value = "x""#, "the select before this clause left it out", "put it in quotes"),
        ("claims where hedge is likely", "write: = likely", nil),
        ("estimates where value > 10,000", "numbers are written without commas: 10000 or 10_000", "expected a clause"),
        (#"claims where text ~ "x""#, "write 'matches' for a pattern", nil),
    ] as [(String, String, String?)])
    func theNoteNamesTheFix(query: String, note: String, wrong: String?) {
        let run = kbq(["-e", query], scratch: scratch)
        #expect(run.status == 1)
        #expect(run.error.contains(note), "\(run.error)")
        if let wrong { #expect(!run.error.contains(wrong), "\(run.error)") }
    }

    @Test func aCancelledQuerySaysInterruptedWithNoCaret() throws {
        var csv = "id,text\n"
        for i in 0..<300_000 { csv += "r\(i),\(String(i * 7919 % 1_000_003, radix: 36)) words\n" }
        let path = try scratch.write("big.csv", csv)
        let kbq = try TerminalSession(["--kb", path], scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send("big sort by text desc, id aggregate count()\r")
        kbq.send("\u{03}", waitingForEditor: false)
        let shown = try kbq.expect("interrupted (Ctrl-C)", timeout: 30)
        #expect(!shown.contains("error:") && !shown.contains("<input>:"), "\(shown)")
        try kbq.expect("kbq> ")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }
}
