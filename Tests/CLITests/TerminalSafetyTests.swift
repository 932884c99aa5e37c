import Foundation
import Testing

// Text from a KB file or a query may hold control characters: ESC sequences that clear the
// screen or set the window title, BEL, C1 controls. On a terminal kbq shows them as visible
// escapes in every format; into a pipe or a file CSV is data and goes out byte for byte.

/// A KB whose name and one row hold escape sequences, BEL and a C1 control (U+009B, CSI).
private let hostileKB = #"""
    {"kbq": 1, "name": "evil\u001b]0;pwned\u0007", "collections": {"t": {"fields": {"id": "string", "note": "string"},
      "rows": [{"id": "a", "note": "red \u001b[31mRED\u001b[0m bell \u0007 csi \u009b2J end"}]}}}
    """#

/// A query whose string literal holds an OSC title sequence, typed raw.
private let hostileQuery = "t select id, note, \"q\u{1B}]0;title\u{07}x\" as q"

/// Whether `text` holds a control character other than the line endings a terminal needs.
private func rawControls(_ text: String) -> [UInt32] {
    text.unicodeScalars.map(\.value).filter { ($0 < 0x20 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F || (0x80..<0xA0).contains($0) }
}

@Suite("control characters and the terminal") struct TerminalSafetyTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func csvOnATerminalShowsControlCharactersEscaped() throws {
        let kb = try scratch.write("evil.json", hostileKB)
        let kbq = try TerminalSession(["--kb", kb, "--format", "csv", "-e", hostileQuery], scratch: scratch)
        try kbq.expect("x\n")
        #expect(kbq.waitForExit() == 0)
        // Nothing but line endings: no ESC, no BEL, no C1 byte reached the terminal.
        #expect(rawControls(kbq.raw) == [], "\(kbq.raw.debugDescription)")
        // The data is all there, each control as a visible escape.
        #expect(kbq.text.contains("id,note,q\na,red \\e[31mRED\\e[0m bell \\u{7} csi \\u{9b}2J end,q\\e]0;title\\u{7}x\n"),
                "\(kbq.text.debugDescription)")
    }

    @Test func csvThroughAPipeIsTheDataByteForByte() throws {
        let kb = try scratch.write("evil.json", hostileKB)
        let r = kbq(["--kb", kb, "--format", "csv", "-e", hostileQuery], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        // Exactly RFC 4180: CRLF after each record and nothing after the last.
        #expect(r.output == "id,note,q\r\na,red \u{1B}[31mRED\u{1B}[0m bell \u{07} csi \u{9B}2J end,q\u{1B}]0;title\u{07}x\r\n",
                "\(r.output.debugDescription)")
        // The other formats escape whatever the output is.
        for format in ["table", "json", "markdown"] {
            let other = kbq(["--kb", kb, "--format", format, "-e", hostileQuery], scratch: scratch)
            #expect(other.status == 0)
            #expect(!other.output.contains("\u{1B}") && !other.output.contains("\u{07}"), "\(format): \(other.output.debugDescription)")
        }
    }

    @Test func aHostileKBNameNeverReachesTheREPLRaw() throws {
        let kb = try scratch.write("evil.json", hostileKB)
        let kbq = try TerminalSession(["--kb", kb], scratch: scratch, environment: ["NO_COLOR": "1"])
        // The banner names the KB.
        try kbq.expect("evil\\e]0;pwned\\u{7} KB")
        try kbq.expect("kbq> ")
        kbq.send(".format csv\r")
        kbq.send("t select note\r")
        try kbq.expect("red \\e[31mRED")
        try kbq.expect("kbq> ")
        // `.load` confirms the KB by its name.
        kbq.send(".load \(kb)\r")
        try kbq.expect("loaded evil\\e]0;pwned\\u{7}: 1 collection, 1 row\n")
        try kbq.expect("kbq> ")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
        // libedit draws with escape sequences of its own: look for the KB's.
        #expect(!kbq.raw.contains("\u{1B}]0;pwned"))
        #expect(!kbq.raw.contains("\u{1B}[31mRED"))
        #expect(!kbq.raw.contains("\u{9B}"))
    }
}
