import Foundation
import Testing

// The REPL under a real pseudo-terminal: kbq runs in a new session whose controlling
// terminal is the pty (so Ctrl-C is a real SIGINT from the line discipline), keys are written
// to the master side, and the tests read what kbq draws, escape sequences removed. HOME and
// KBQ_HISTORY point into a scratch folder. Every read has a deadline.

private let containers = #"estimates where topic = "containers" compare source"#
/// Printed only by the result of `containers`, never echoed from the typed line.
private let containersResult = "relative spread 21%"

@Suite("REPL under a pseudo-terminal") struct ReplTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func tabCompletesFieldsAndValues() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        // `t` fits `topic` and `text`; `text` is running prose, so TAB completes `topic`.
        kbq.send("estimates where t\t")
        try kbq.expect("estimates where topic ")
        // An open string after `topic =` completes to a quoted topic.
        kbq.send("= \"c\t")
        try kbq.expect("\"containers\" ")
        kbq.send("compare source\r")
        try kbq.expect(containersResult)
        try kbq.expect("kbq> ")
        // Statement start: collection names; after a reference field and a dot, its fields.
        kbq.send("estimates where source.n\t")
        try kbq.expect("source.name ")
        kbq.send("contains \"South\" select topic\r")
        try kbq.expect("(1 row)")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func tabCompletesDotCommandsAndTheirArguments() throws {
        try scratch.write("count-sources.kbq", "sources aggregate count()\n")
        try FileManager.default.createDirectory(atPath: scratch.file("kbs"), withIntermediateDirectories: true)
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        // The command's name, then what it takes: a collection, a format.
        kbq.send(".sch\t")
        try kbq.expect(".schema ")
        kbq.send("ev\t")
        try kbq.expect("events ")
        kbq.send("\r")
        try kbq.expect("events: ")
        kbq.send(".format j\t")
        try kbq.expect(".format json ")
        kbq.send("\r")
        // File names after .read and .load: a folder ends with `/` and completes on.
        kbq.send(".read \(scratch.path)/co\t")
        try kbq.expect("count-sources.kbq ")
        kbq.send("\r")
        try kbq.expect("{\"count\": 13}")
        kbq.send(".load \(scratch.path)/kb\t")
        try kbq.expect("\(scratch.path)/kbs/")
        kbq.send("\u{03}")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func historyIsRecalledAfterARestart() throws {
        let history = scratch.file("state/kbq-history")
        do {
            let first = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
            try first.expect("kbq> ")
            first.send(containers + "\r")
            try first.expect(containersResult)
            try first.expect("kbq> ")
            // Written after every entry, before anything else happens: kill without a goodbye.
            let saved = try String(contentsOfFile: history, encoding: .utf8)
            #expect(saved.contains("containers"))
            kill(first.pid, SIGKILL)
            #expect(first.waitForExit() == 128 + SIGKILL)
        }
        let second = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try second.expect("kbq> ")
        second.send("\u{1B}[A")
        try second.expect("compare source")
        second.send("\r")
        try second.expect(containersResult)
        second.send(".quit\r")
        #expect(second.waitForExit() == 0)
    }

    @Test func historyFileLocation() throws {
        /// Runs one statement in a REPL with `environment` and leaves.
        func session(_ environment: [String: String?]) throws {
            let kbq = try TerminalSession(scratch: scratch, environment: environment)
            try kbq.expect("kbq> ")
            kbq.send("sources limit 1\r")
            try kbq.expect("(1 row)")
            kbq.send("\u{04}")
            #expect(kbq.waitForExit() == 0)
        }
        let xdg = scratch.file("xdg/kbq/history"), home = scratch.file(".local/state/kbq/history")
        // An empty KBQ_HISTORY keeps no history at all.
        try session(["KBQ_HISTORY": "", "XDG_STATE_HOME": scratch.file("xdg")])
        #expect(!FileManager.default.fileExists(atPath: xdg))
        #expect(!FileManager.default.fileExists(atPath: home))
        // Without KBQ_HISTORY: under XDG_STATE_HOME, else under the home folder.
        try session(["KBQ_HISTORY": nil, "XDG_STATE_HOME": scratch.file("xdg")])
        #expect(FileManager.default.fileExists(atPath: xdg))
        try session(["KBQ_HISTORY": nil])
        #expect(FileManager.default.fileExists(atPath: home))
        let mode = try FileManager.default.attributesOfItem(atPath: home)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func twoLineQueryShowsTheContinuationPrompt() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send("estimates where topic =\r")
        try kbq.expect("...> ")
        // Completion on the second line knows the first: values of `topic`.
        kbq.send("\"c\t")
        try kbq.expect("\"containers\" ")
        kbq.send("compare source\r")
        try kbq.expect(containersResult)
        try kbq.expect("kbq> ")
        // History keeps the two lines as one entry: Up recalls and reruns the whole query.
        kbq.send("\u{1B}[A")
        try kbq.expect("compare source")
        kbq.send("\r")
        try kbq.expect(containersResult)
        try kbq.expect("kbq> ")
        // An open bracket continues too.
        kbq.send("estimates where topic in [\"containers\",\r")
        try kbq.expect("...[> ")
        kbq.send("\"troops\"] select topic\r")
        try kbq.expect("(3 rows)")
        try kbq.expect("kbq> ")
        // So does a backslash at the end of a line.
        kbq.send("sources \\\r")
        try kbq.expect("...> ")
        kbq.send("limit 1 select name\r")
        try kbq.expect("(1 row)")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func ctrlCDropsTheInputAndTheSessionGoesOn() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        // Drop an unfinished multi-line statement…
        kbq.send("estimates where topic =\r")
        try kbq.expect("...> ")
        kbq.send("\u{03}")
        try kbq.expect("kbq> ")
        // …and a half-typed line.
        kbq.send("sources where")
        kbq.send("\u{03}")
        try kbq.expect("kbq> ")
        // What was dropped does not join the next statement.
        kbq.send("sources limit 2 select name\r")
        let out = try kbq.expect("(2 rows)")
        #expect(!out.contains("error"))
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func ctrlZAndFgGiveTheLineEditorBack() throws {
        // A job-control shell, as a person has: Ctrl-Z stops kbq and the shell takes the
        // terminal back in its own line mode; `fg` continues kbq, which must take it again.
        let shell = try TerminalSession(["--norc", "--noprofile", "-i"], scratch: scratch,
                                        environment: ["PS1": "shell$ "], program: "/bin/bash")
        try shell.expect("shell$ ")
        shell.send("exec 2>&1; \(kbqBinary)\r")
        try shell.expect("kbq> ")
        shell.send("sources lim")
        shell.send("\u{1A}")
        try shell.expect("shell$ ")
        shell.send("fg\r")
        try shell.expect("kbq> sources lim")
        var editing = false
        for _ in 0..<300 where !editing {
            shell.readMore(timeout: 0.01)
            editing = shell.isInEditingMode
        }
        #expect(editing, "after fg the terminal stayed in the shell's line mode: keys are not edited")
        // Ctrl-A is a key, not a character: the line is edited, then run.
        shell.send("it 1\u{01}\u{04}s\r")
        try shell.expect("(1 row)")
        // A resized window is taken into account (SIGWINCH), and the session goes on.
        shell.resize(columns: 60)
        shell.send("sources limit 1 select name\r")
        try shell.expect("(1 row)")
        shell.send("\u{04}")
        try shell.expect("shell$ ")
        shell.send("exit\r")
        #expect(shell.waitForExit() == 0)
    }

    @Test func ctrlDLeavesWithStatusZero() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func anErrorInALongLineIsShownWithinTheTerminalWidth() throws {
        let kbq = try TerminalSession(scratch: scratch, columns: 60)
        try kbq.expect("kbq> ")
        kbq.send(#"estimates where topic = "containers" and source.name contains "intelligence" select topic, value, hedx"# + "\r")
        try kbq.expect("error: unknown field 'hedx'")
        let shown = try kbq.expect("= help")
        // A source line wider than the terminal would wrap, and the caret would point at
        // another word: the line is cut to a window around the error.
        let lines = shown.split(separator: "\n").map(String.init)
        let source = try #require(lines.first { $0.hasPrefix(" 1 | ") }, "\(shown)")
        let carets = try #require(lines.first { $0.contains("^~~~") }, "\(shown)")
        #expect(source.count <= 60, "\(source)")
        let word = try #require(source.range(of: "hedx"))
        #expect(source.distance(from: source.startIndex, to: word.lowerBound) == carets.distance(from: carets.startIndex, to: carets.firstIndex(of: "^")!))
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func badLoadKeepsTheCurrentKB() throws {
        let bad = try scratch.write("bad.json", #"{"collections": {"things": {"fields": {"id": "nope"}, "rows": []}}}"#)
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send(".load \(bad)\r")
        try kbq.expect("\(bad): error: $.")
        try kbq.expect("kept the current KB (article)")
        kbq.send(".load \(scratch.file("missing.json"))\r")
        try kbq.expect("kept the current KB (article)")
        kbq.send(containers + "\r")
        try kbq.expect(containersResult)
        kbq.send(".quit\r")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func utf8InputEditsByCharacter() throws {
        // No LANG or LC_ALL: kbq still edits UTF-8 (it falls back to C.UTF-8).
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        // Backspace must remove the whole `ö` (two bytes), leaving "Pyongyang".
        kbq.send("describe \"Pyongyangö")
        kbq.send("\u{7F}")
        kbq.send("\"\r")
        try kbq.expect("North Korea (country)")
        // A non-ASCII word reaches the engine intact.
        kbq.send("describe \"Pyöngyang\"\r")
        try kbq.expect("no entity or source is called 'Pyöngyang'")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func dotCommandsAtThePrompt() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send(".schema sources\r")
        try kbq.expect("sources: 13 rows, key id")
        kbq.send(".help compare\r")
        try kbq.expect("example: estimates where topic")
        kbq.send(".fromat json\r")
        try kbq.expect("did you mean '.format'?")
        kbq.send(".format csv\r")
        kbq.send("sources where name contains \"Zelensky\" select name\r")
        try kbq.expect("name\nVolodymyr Zelensky")
        kbq.send(".rows 3\r")
        kbq.send(".format table\r")
        kbq.send("sentences select id\r")
        try kbq.expect("showing 3 of 57 rows")
        kbq.send(".timer on\r")
        kbq.send("sources limit 1\r")
        try kbq.expect("time: ")
        kbq.send(".exit\r")
        #expect(kbq.waitForExit() == 0)
    }

    @Test(arguments: [("xterm", nil, true), ("xterm", "1", false), ("xterm", "", false), ("dumb", nil, false)] as [(String, String?, Bool)])
    func colourOnlyOnATerminalWithoutNoColor(term: String, noColor: String?, coloured: Bool) throws {
        let kbq = try TerminalSession(scratch: scratch, environment: ["TERM": term, "NO_COLOR": noColor])
        try kbq.expect("kbq> ")
        kbq.send(containers + "\r")
        try kbq.expect(containersResult)
        try kbq.expect("kbq> ")
        // The chart's bars are drawn in cyan when there is colour.
        #expect(kbq.raw.contains("\u{1B}[36m") == coloured, "TERM=\(term) NO_COLOR=\(noColor ?? "(unset)")")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }
}
