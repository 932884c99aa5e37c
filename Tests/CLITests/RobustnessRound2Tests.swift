import CPseudoTerminal
import Foundation
import Testing

// The second round of hostile inputs (issue 20), as a person meets them: through the real
// kbq, under pipes, a shell's redirections and a pseudo-terminal.

/// Runs `script` with /bin/sh (so it can redirect or close kbq's streams and set limits);
/// `$KBQ` in it is the kbq under test.
private func shell(_ script: String, scratch: Scratch, timeout: Double = 60) -> Run {
    let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", script].map { s in s.withCString { strdup($0) } } + [nil]
    var env = scratch.environment()
    env["KBQ"] = kbqBinary
    let envp: [UnsafeMutablePointer<CChar>?] = env.map { kv in "\(kv.key)=\(kv.value)".withCString { strdup($0) } } + [nil]
    defer { for p in argv + envp { Foundation.free(p) } }
    var result = kbq_run_result()
    guard kbq_run("/bin/sh", argv, envp, scratch.path, nil, 0, Int32(timeout * 1000), &result) == 0 else {
        return Run(output: "", error: "could not start /bin/sh", status: -1, timedOut: false)
    }
    defer { kbq_run_result_free(&result) }
    return Run(output: String(decoding: UnsafeRawBufferPointer(start: result.output, count: result.output_length), as: UTF8.self),
               error: String(decoding: UnsafeRawBufferPointer(start: result.error, count: result.error_length), as: UTF8.self),
               status: result.status, timedOut: result.timed_out != 0)
}

private func contents(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

/// The entries of a history file kbq wrote (libedit's format: spaces as `\040`).
private func entries(_ path: String) -> [String] {
    String(decoding: contents(path) ?? [], as: UTF8.self).split(separator: "\n").dropFirst()
        .map { $0.replacingOccurrences(of: "\\040", with: " ") }
}

@Suite("hostile input, round 2, through the command") struct RobustnessRound2Tests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    // MARK: crash

    @Test func aKBWithMoreHedgeWordsThanARankHoldsIsAKBErrorNotACrash() throws {
        let words = (0..<257).map { "\"h\($0)\"" }.joined(separator: ",")
        let kb = try scratch.write("h.json", #"{"kbq": 1, "hedges": [\#(words)], "collections": {"t": {"fields": {"h": "hedge"}, "rows": [{"h": "h256"}]}}}"#)
        let r = kbq(["--kb", kb, "-e", "t"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("error: $.hedges: 257 hedge words; at most 250\n"))
        #expect(r.output.isEmpty)
    }

    // MARK: write errors

    @Test func aFullDiskOnStandardOutputIsAnErrorWithStatus2() throws {
        let r = shell(#""$KBQ" -f csv -e sentences >/dev/full"#, scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error == "kbq: cannot write to standard output: No space left on device\n")
        // Also when the output is small enough to go in one write, and for --version.
        let v = shell(#""$KBQ" --version >/dev/full"#, scratch: scratch)
        #expect(v.status == 2 && v.error.contains("No space left on device"))
    }

    @Test func aClosedStandardOutputIsAnErrorWithStatus2() throws {
        let r = shell(#""$KBQ" -e 'sources limit 1' >&-"#, scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error == "kbq: cannot write to standard output: Bad file descriptor\n")
        // A run that prints nothing has nothing to fail.
        let quiet = shell(#""$KBQ" -e 'let x = sources' >&-"#, scratch: scratch)
        #expect(quiet.status == 0 && quiet.error.isEmpty)
        // A KB opened while descriptor 1 is closed never receives the results.
        let kb = try scratch.write("rows.csv", "id,n\na,1\n")
        let k = shell(#""$KBQ" --kb rows.csv -e rows >&-; cat rows.csv"#, scratch: scratch)
        #expect(k.output == "id,n\na,1\n")
        _ = kb
    }

    // MARK: what is shown on a terminal

    @Test func usageErrorsShowWhatWasTypedEscaped() throws {
        let p = kbq(["-p", "t=\u{1B}]0;X\u{07}", "-p", "t=1", "-e", "estimates"], scratch: scratch)
        #expect(p.status == 2)
        #expect(!p.error.utf8.contains(0x1B) && !p.error.utf8.contains(0x07))
        #expect(p.error.contains("\\e]0;X\\u{7}"))
        // swift-argument-parser's own message quotes the unknown option.
        let o = kbq(["--x\u{1B}[2J"], scratch: scratch)
        #expect(o.status == 2)
        #expect(!o.error.utf8.contains(0x1B))
        #expect(o.error.contains("--x\\e[2J"))
    }

    @Test func bidirectionalControlsInKBTextAndQueriesAreShownEscaped() throws {
        let kb = try scratch.write("kb.json", #"{"kbq": 1, "collections": {"s": {"fields": {"name": "string"}, "rows": [{"name": "Reuters\u202e (retracted)"}, {"name": "zero\u200bwidth\ufeff"}]}}}"#)
        for format in ["table", "markdown", "json"] {
            let r = kbq(["--kb", kb, "-f", format, "-e", "s"], scratch: scratch)
            #expect(r.status == 0)
            for c in ["\u{202E}", "\u{200B}", "\u{FEFF}"] { #expect(!r.output.contains(c), "\(format)") }
        }
        let d = kbq(["--kb", kb, "-e", "s where name = \"\u{2066}x\" +"], scratch: scratch)
        #expect(d.status == 1)
        #expect(!d.error.contains("\u{2066}") && d.error.contains("\\u{2066}"))
    }

    @Test func aLookalikeLetterIsNamedWithItsCodePoint() {
        let r = kbq(["-e", "еstimates"], scratch: scratch)
        #expect(r.status == 1)
        #expect(r.error.contains("error: unexpected character 'е' (U+0435 CYRILLIC SMALL LETTER IE)"))
        #expect(r.error.contains("note: it looks like the Latin letter 'e' but is not one; type 'e' instead"))
    }

    @Test func aUTF16CSVSaysItIsNotUTF8() throws {
        let path = scratch.file("u16.csv")
        let bytes: [UInt8] = [0xFF, 0xFE] + Array("id,n\na,1\n".utf8).flatMap { [$0, 0] as [UInt8] }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let r = kbq(["--kb", path, "-e", "u16"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("the file is not UTF-8: it looks like UTF-16 (little-endian) (save it as UTF-8)"), "\(r.error)")
    }

    @Test func aScriptThatIsNotUTF8IsRefusedSayingWhere() throws {
        // UTF-16 without a byte order mark (as some editors save it), run as a file, from
        // standard input and through .read: one error naming the encoding, not an
        // "unexpected character" per byte.
        let u16 = scratch.file("u16.kbq")
        let bytes = Array("estimates limit 1\n".utf8).flatMap { [$0, 0] as [UInt8] }
        #expect(FileManager.default.createFile(atPath: u16, contents: Data(bytes)))
        for args in [[u16], ["-e", ".read \(u16)"]] {
            let r = kbq(args, scratch: scratch)
            #expect(r.status == 2, "\(args)")
            #expect(r.error.contains("'\(u16)': the file is not UTF-8: it looks like UTF-16 (little-endian) (save it as UTF-8)"), "\(r.error)")
            #expect(!r.error.contains("unexpected character"))
        }
        // Latin-1: the é of a comment on line 2 is named by line, column and byte.
        let latin1 = scratch.file("latin1.kbq")
        #expect(FileManager.default.createFile(atPath: latin1, contents: Data(Array("estimates limit 1\n-- caf".utf8) + [0xE9, 0x0A])))
        let r = kbq([latin1], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.output.isEmpty, "nothing of a script that cannot be read is run")
        #expect(r.error.contains("it is not UTF-8: line 2, column 7 has the byte 0xE9"), "\(r.error)")
    }

    @Test func completionListsHostileFileNamesEscaped() throws {
        try scratch.write("x\u{1B}]0;PWNED\u{07}.json", "{}")
        try scratch.write("x\u{202E}b.json", "{}")
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send(".load \(scratch.path)/x\t")
        _ = try kbq.expect("PWNED")
        #expect(!kbq.raw.contains("\u{1B}]0;"))
        #expect(!kbq.raw.contains("\u{202E}"))
        #expect(kbq.raw.contains("x\\e]0;PWNED\\u{7}.json"))
        kbq.send("\u{03}")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    // MARK: the history file

    @Test func aHistoryThatCannotBeWrittenWholeKeepsTheOldFile() throws {
        let history = scratch.file("history")
        // 38 KB of history, then a limit of 30 KB on the size of files kbq writes: the new
        // file cannot be written whole (as on a full disk).
        let old = "_HiStOrY_V2_\n" + (1...1000).map { "sentences\\040where\\040id\\040=\\040\($0)\\040limit\\0401\n" }.joined()
        try scratch.write("history", old)
        #expect(old.utf8.count > 38_000)
        let kbq = try TerminalSession(["-c", "ulimit -f 60; trap '' XFSZ; exec \"$KBQ\""], scratch: scratch,
                                      environment: ["KBQ_HISTORY": history, "KBQ": kbqBinary], program: "/bin/sh")
        try kbq.expect("kbq> ")
        try kbq.enter("sources limit 1", expecting: "(1 row)")
        // Said once, before or after the result (the entry is saved as it is run).
        #expect(kbq.text.contains("kbq: cannot save the history to '\(history)': File too large"), "\(kbq.text)")
        #expect(contents(history) == Array(old.utf8))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty)
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func aHistoryOfPlainLinesKeepsEveryEntry() throws {
        let history = scratch.file("history")
        try scratch.write("history", "sources limit 1\r\nsources limit 2\r\n\r\nevents limit 1\n")
        let kbq = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try kbq.expect("kbq> ")
        // The last plain line is recalled with the up arrow.
        kbq.send("\u{1B}[A\r")
        try kbq.expect("(1 row, shown one by one")
        try kbq.enter("sources limit 3 select id", expecting: "(3 rows)")
        #expect(entries(history) == ["sources limit 1", "sources limit 2", "events limit 1", "sources limit 3 select id"])
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func aHistoryFileThatIsALinkIsWrittenThrough() throws {
        let target = scratch.file("real-history")
        try scratch.write("real-history", "_HiStOrY_V2_\nsources\\040limit\\0401\n")
        let link = scratch.file("history")
        #expect(symlink("real-history", link) == 0)
        let kbq = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": link])
        try kbq.expect("kbq> ")
        try kbq.enter("sources limit 2 select id", expecting: "(2 rows)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "real-history")
        #expect(entries(target) == ["sources limit 1", "sources limit 2 select id"])
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func historyEntriesWithBackslashesAndLineBreaksComeBackAsTyped() throws {
        let history = scratch.file("history")
        let kbq = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try kbq.expect("kbq> ")
        try kbq.enter("sources where name contains \"\\\\\" limit 1", expecting: "row")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
        let second = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try second.expect("kbq> ")
        second.send("\u{1B}[A")
        _ = try second.expect("contains \"\\\\\" limit 1")
        second.send("\u{03}")
        second.send("\u{04}")
        #expect(second.waitForExit() == 0)
    }
}
