import Foundation
import Testing

// What sqlite3 and psql users type first: their commands either work or say the kbq way.

@Suite("sqlite3 and psql habits") struct ShellHabitTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func outputAndOnceWriteWholeFilesOrNone() throws {
        let all = scratch.file("all.txt"), once = scratch.file("once.csv"), kept = try scratch.write("kept.txt", "old\n")
        let script = """
            .output \(all)
            sources where name contains "Zelensky" select name
            sources where name contains "Ukrainian" select name
            .output
            .format csv
            .once \(once)
            sources limit 2 select name
            .once \(kept)
            sources where nmae = 1
            .format csv
            sources limit 1 select name
            """
        let run = kbq(["-k"], input: script, scratch: scratch)
        // Results went to the files, not to standard output, except the last statement's.
        #expect(run.output == "name\r\nVolodymyr Zelensky\r\n", "\(run.output)")
        let text = try String(contentsOfFile: all, encoding: .utf8)
        #expect(text.contains("Volodymyr Zelensky") && text.contains("Ukrainian intelligence") && text.contains("(1 row)\n\nname"), "\(text)")
        #expect(try String(contentsOfFile: once, encoding: .utf8) == "name\r\nVolodymyr Zelensky\r\nUkrainian intelligence\r\n")
        // The statement after `.once` failed: the file keeps what it had, and it says so.
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "old\n")
        #expect(run.error.contains("nothing was written to '\(kept)': the statement failed"), "\(run.error)")
        // No temporary file is left beside them.
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains("tmp") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func outputToAFileThatCannotBeWritten() {
        let run = kbq(["-e", ".output /nonexistent/dir/out.txt"], scratch: scratch)
        #expect(run.status == 2)
        #expect(run.error.contains("cannot write '/nonexistent/dir/out.txt'"), "\(run.error)")
    }

    @Test func displaySettings() {
        let script = """
            .headers off
            .nullvalue NULL
            .format csv
            estimates where value is null limit 1 select id, value
            .headers on
            .mode table
            .expanded on
            sources limit 1 select id, name
            .expanded off
            .mode markdown
            sources limit 1 select id
            .mode line
            .show
            """
        let run = kbq([], input: script, scratch: scratch)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.hasPrefix("e"), "\(run.output)")
        #expect(run.output.contains(",NULL\r\n"), "\(run.output)")
        #expect(run.output.contains("─[ row 1 ]"), "\(run.output)")
        #expect(run.output.contains("| id |"), "\(run.output)")
        #expect(run.output.contains("headers: on\nnullvalue: \"NULL\"\nexpanded: on"), "\(run.output)")
    }

    @Test(arguments: [
        (".tables", "sources", nil),
        ("\\d sources", "sources: 13 rows, key id", nil),
        ("\\x", "expanded: on", nil),
        ("help", "Commands:", nil),
        (".mode html", nil, "kbq has no 'html' mode"),
        (".width 10 20", nil, "kbq has no .width"),
        ("\\pset border 2", nil, "psql's \\d is .schema"),
    ] as [(String, String?, String?)])
    func foreignCommandsWorkOrSayWhatToUse(line: String, output: String?, error: String?) {
        let run = kbq(["-e", line], scratch: scratch)
        if let output { #expect(run.output.contains(output) && run.status == 0, "\(run.output)\(run.error)") }
        if let error { #expect(run.error.contains(error) && run.status == 2, "\(run.error)") }
    }

    @Test func leavingAsOtherShellsDo() {
        for word in ["quit", "exit", "\\q", "exit;"] {
            let run = kbq([], input: "\(word)\nsources limit 1 select name\n", scratch: scratch)
            #expect(run.status == 0 && run.output.isEmpty, "\(word): \(run.output)\(run.error)")
        }
        let status = kbq([], input: ".exit 3\nsources\n", scratch: scratch)
        #expect(status.status == 3 && status.output.isEmpty)
        let bad = kbq([], input: ".exit now\n", scratch: scratch)
        #expect(bad.status == 2 && bad.error.contains("usage: .exit [STATUS]"))
    }

    @Test func formatShorthandsAndAnyCase() {
        let query = "sources limit 1 select name"
        for (flags, first) in [(["--json"], "{"), (["-json"], "{"), (["--csv"], "name\r\n"), (["-f", "CSV"], "name\r\n"),
                               (["--format=Markdown"], "| name |"), (["-kf", "JSON"], "{"), (["--csv", "--json"], "{"),
                               (["-f", "csv", "--markdown"], "| name |")] {
            let run = kbq(flags + ["-e", query], scratch: scratch)
            #expect(run.status == 0 && run.output.hasPrefix(first), "\(flags): \(run.output)\(run.error)")
        }
    }

    @Test func aQueryWhereAFileGoesSuggestsE() {
        let run = kbq(["claims limit 1"], scratch: scratch)
        #expect(run.status == 2)
        #expect(run.error.contains("help: to run it as a query: kbq -e 'claims limit 1'"), "\(run.error)")
        // A missing file that looks like a file name gets no such hint.
        let file = kbq(["missing.kbq"], scratch: scratch)
        #expect(!file.error.contains("-e"), "\(file.error)")
    }

    @Test func jsonOfSeveralStatementsIsNDJSONKeyedByColumnNames() throws {
        let run = kbq(["--json", "-e", #"estimates where topic = "containers" compare source"#, "-e", "sources limit 2 select name"],
                      scratch: scratch)
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.count == 2, "\(run.output)")
        var keys: Set<String> = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for s in object["summaries"] as? [[String: Any]] ?? [] { keys.formUnion(s.keys) }
        }
        #expect(keys.contains("relative_spread"), "\(keys)")
        #expect(!keys.contains { $0.contains(" ") }, "\(keys)")
        // python3's json module reads it line by line too.
        let path = try scratch.write("out.ndjson", run.output)
        let python = kbqRunProgram("/usr/bin/python3", ["-c", "import json,sys; print(len([json.loads(l) for l in open(sys.argv[1])]))", path])
        #expect(python.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(python)")
    }

    @Test func countsAreGrouped() throws {
        var csv = "id,n\n"
        for i in 0..<1500 { csv += "r\(i),\(i)\n" }
        let path = try scratch.write("big.csv", csv)
        let run = kbq(["--kb", path, "-e", "big"], scratch: scratch)
        #expect(run.output.contains("(1,500 rows)"), "\(run.output.suffix(200))")
        let shell = try TerminalSession(["--kb", path], scratch: scratch)
        try shell.expect("kbq> ")
        shell.send("big\r")
        try shell.expect("showing 200 of 1,500 rows")
        shell.send("\u{04}")
        #expect(shell.waitForExit() == 0)
    }
}

/// Runs a program (not kbq) and returns its standard output.
func kbqRunProgram(_ program: String, _ arguments: [String]) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { return "could not run \(program): \(error)" }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
