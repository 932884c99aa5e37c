import Foundation
import Testing

// The script runner, driven through the real binary with pipes on its standard streams:
// what it prints on stdout and stderr, and its exit status (0 ok, 1 query error, 2 usage or
// KB error).

@Suite("script runner") struct ScriptRunnerTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func queryWithDashE() {
        let r = kbq(["-e", #"estimates where topic = "containers" compare source"#], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("South Korea        1       13,000"))
        #expect(r.output.contains("spread 3,500"))
        #expect(r.error.isEmpty)
    }

    @Test func noColourThroughAPipe() {
        let r = kbq(["-e", #"estimates where topic = "containers" compare source"#], scratch: scratch, environment: ["TERM": "xterm-256color"])
        #expect(r.status == 0)
        #expect(!r.output.contains("\u{1B}"))
    }

    @Test func repeatedDashERunInOrderInOneSession() {
        let r = kbq(["-e", #"let c = estimates where topic = "containers""#, "-e", "c select value"], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("13,000"))
    }

    @Test func errorOnLineSevenPointsAtItWithACaret() throws {
        let script = """
            # A script whose seventh line has a typo.
            estimates where topic = "containers"

            sources select name

            # the typo is below
            estimates where topc = "containers"
            """
        let path = try scratch.write("seven.kbq", script)
        let r = kbq([path], scratch: scratch)
        #expect(r.status == 1)
        #expect(r.error.contains("\(path):7:17: error: unknown field 'topc' in estimates"), "\(r.error)")
        #expect(r.error.contains(" 7 | estimates where topc = \"containers\""))
        #expect(r.error.contains("   |                 ^~~~"))
        #expect(r.error.contains("did you mean 'topic'?"))
        // The script is checked whole before it runs: nothing was printed.
        #expect(r.output.isEmpty)
    }

    @Test func anUnfinishedQueryIsReportedWhereItEnds() {
        let r = kbq(["-e", "estimates where"], scratch: scratch)
        #expect(r.status == 1)
        #expect(r.error.hasPrefix("-e:1:16: error: "), "\(r.error)")
    }

    @Test func keepGoingRunsTheStatementsThatChecked() throws {
        let path = try scratch.write("mixed.kbq", """
            estimates where topic = "containers" select value
            estimates where nosuchfield = 1
            sources where name contains "Zelensky" select name
            """)
        let stopped = kbq([path], scratch: scratch)
        #expect(stopped.status == 1)
        #expect(stopped.output.isEmpty)
        let going = kbq(["--keep-going", path], scratch: scratch)
        #expect(going.status == 1)
        #expect(going.output.contains("13,000"))
        #expect(going.output.contains("Volodymyr Zelensky"))
        #expect(going.error.contains(":2:17: error: unknown field 'nosuchfield'"), "\(going.error)")
    }

    @Test func statementsOnStandardInput() {
        let r = kbq([], input: "estimates where topic = \"containers\" select value\nsources limit 1 select name\n", scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("13,000"))
        #expect(r.output.contains("(1 row)"))
        let bad = kbq([], input: "sources\nestimates where value > \"x\" and\n", scratch: scratch)
        #expect(bad.status == 1)
        #expect(bad.error.contains("<stdin>:"), "\(bad.error)")
    }

    @Test func dashReadsStandardInputAmongFiles() throws {
        let path = try scratch.write("first.kbq", "let c = estimates where topic = \"containers\"\n")
        let r = kbq([path, "-"], input: "c select value\n", scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("16,500"))
    }

    @Test func jsonFormat() throws {
        let r = kbq(["--format", "json", "-e", #"estimates where topic = "containers" select topic, value"#], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        let object = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
        let rows = object?["rows"] as? [[String: Any]]
        #expect(rows?.count == 2)
        #expect(rows?.first?["topic"] as? String == "containers")
    }

    @Test func csvFormat() {
        let r = kbq(["-f", "csv", "-e", #"estimates where topic = "containers" select source, value sort by value"#], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        let lines = r.output.split(whereSeparator: \.isNewline)
        #expect(lines.first == "source,value")
        #expect(lines.count == 3)
        #expect(r.output.contains("South Korea,13000"))
    }

    @Test func parameters() {
        let query = "estimates where topic = $topic and value > $least select value"
        let r = kbq(["--param", "topic=containers", "-p", "least=14000", "-e", query], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("16,500"))
        #expect(!r.output.contains("13,000"))
        let missing = kbq(["-e", query], scratch: scratch)
        #expect(missing.status == 1)
        #expect(missing.error.contains("$topic"))
        let malformed = kbq(["--param", "topic", "-e", query], scratch: scratch)
        #expect(malformed.status == 2)
        #expect(malformed.error.contains("name=value"), "\(malformed.error)")
    }

    @Test func listParameters() {
        // `in $list` is documented; the command line once had no way to give a list, and a
        // string there matched nothing without a word.
        let query = "estimates where topic in $topics select id"
        let r = kbq(["-p", #"topics=["containers", "troops"]"#, "-e", query], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output == "id\n──\ne1\ne3\ne5\n(3 rows)\n")
        let numbers = kbq(["-p", "v=[13000, -1, 76.6%]", "-e", "estimates where value in $v select id"], scratch: scratch)
        #expect(numbers.output.contains("e4") && numbers.output.contains("e5"), "\(numbers.error)")
        let notAList = kbq(["-p", "topics=containers", "-e", query], scratch: scratch)
        #expect(notAList.status == 1)
        #expect(notAList.error.contains("-e:1:26: error: parameter $topics follows 'in' and needs a list, but was given a string containers"), "\(notAList.error)")
        #expect(notAList.error.contains(#"--param topics='["a", "b"]'"#))
    }

    @Test func missingScriptIsAUsageError() {
        let r = kbq(["no-such-script.kbq"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error == "kbq: cannot read 'no-such-script.kbq': No such file or directory\n")
        #expect(r.output.isEmpty)
    }

    @Test func badKBFileIsAKBError() throws {
        let path = try scratch.write("bad.json", #"{"collections": {"things": {"fields": {"id": "strin"}, "rows": [{"id": 1, "extra": true}]}}}"#)
        let r = kbq(["--kb", path, "-e", "things"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("\(path): error: $."), "\(r.error)")
        #expect(r.output.isEmpty)
        let missing = kbq(["--kb", scratch.file("none.json"), "-e", "things"], scratch: scratch)
        #expect(missing.status == 2)
        #expect(!missing.error.isEmpty)
    }

    @Test func anotherKB() throws {
        let path = try scratch.write("tiny.json", """
            {"kbq": 1, "collections": {"things": {"key": "id", "fields": {"id": "string", "size": "number"},
              "rows": [{"id": "a", "size": 1}, {"id": "b", "size": 2}]}}}
            """)
        let r = kbq(["--kb", path, "-e", "things where size > 1 select id"], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("b"))
        #expect(r.output.contains("(1 row)"))
    }

    @Test func usageErrors() {
        let unknown = kbq(["--fromat", "json"], scratch: scratch)
        #expect(unknown.status == 2)
        #expect(unknown.error.contains("Did you mean '--format'?"), "\(unknown.error)")
        let format = kbq(["--format", "xml", "-e", "sources"], scratch: scratch)
        #expect(format.status == 2)
        #expect(format.error.contains("'xml'"))
        let noValue = kbq(["-e"], scratch: scratch)
        #expect(noValue.status == 2)
    }

    @Test func helpVersionAndCompletionScripts() {
        let help = kbq(["--help"], scratch: scratch)
        #expect(help.status == 0)
        #expect(help.output.contains("USAGE: kbq"))
        #expect(help.output.contains("--keep-going"))
        let version = kbq(["--version"], scratch: scratch)
        #expect(version.status == 0)
        #expect(version.output.hasPrefix("kbq 0."))
        for shell in ["bash", "zsh", "fish"] {
            let script = kbq(["--generate-completion-script", shell], scratch: scratch)
            #expect(script.status == 0)
            #expect(script.output.contains("kbq"))
            #expect(script.output.contains("format"))
        }
    }

    @Test func dotCommandsInScripts() throws {
        let included = try scratch.write("included.kbq", "sources where name contains \"Zelensky\" select name\n")
        let path = try scratch.write("dots.kbq", """
            .format csv
            estimates where topic = "containers" select value sort by value
            .read \(included)
            .schema estimates
            .timer on
            .quit
            sources
            """)
        let r = kbq([path], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("value\r\n13000\r\n"))
        #expect(r.output.contains("Volodymyr Zelensky"))
        #expect(r.output.contains("value,quantity,measure"))
        // .quit stops the script: `sources` never ran.
        #expect(!r.output.contains("Ukrainian intelligence"))
    }

    @Test func scriptsThatReadEachOtherStopAtTheCycle() throws {
        let a = scratch.file("a.kbq"), b = scratch.file("b.kbq")
        try scratch.write("a.kbq", ".read \(b)\n")
        try scratch.write("b.kbq", "sources where name contains \"Zelensky\" select name\n.read \(a)\n")
        let r = kbq([a], scratch: scratch)
        #expect(r.status == 2)
        // b's statement ran once: the cycle is refused when it closes, not 16 levels later.
        #expect(r.output.components(separatedBy: "Volodymyr Zelensky").count == 2, "\(r.output)")
        #expect(r.error == "\(b):2: error: '\(a)' is already being read (\(a) → \(b) → \(a))\n")
        // The same file under another name is the same file.
        try scratch.write("self.kbq", ".read ./self.kbq\n")
        let own = kbq(["self.kbq"], scratch: scratch, directory: scratch.path)
        #expect(own.error == "self.kbq:1: error: './self.kbq' is already being read (self.kbq → ./self.kbq)\n")
    }

    @Test func quitWithAWordAfterItIsAnErrorAndDoesNotQuit() throws {
        let path = try scratch.write("quit-now.kbq", ".quit now\nsources limit 1 select name\n")
        let r = kbq(["--keep-going", path], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("\(path):1: error: usage: .quit (it takes no arguments)"), "\(r.error)")
        #expect(r.output.contains("name"))  // the script went on
    }

    @Test func schemaCountsRowsAsTablesDo() throws {
        let csv = try scratch.write("many.csv", "id\n" + (1...1_001).map { "r\($0)\n" }.joined())
        let r = kbq(["--kb", csv, "-e", ".schema many"], scratch: scratch)
        #expect(r.output.hasPrefix("many: 1,001 rows"), "\(r.output)")
    }

    @Test func aParameterGivenTwiceIsRefused() {
        let r = kbq(["-p", "t=containers", "-p", "t=shells", "-e", "estimates where topic = $t"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("--param t is given twice ('containers' and 'shells')"), "\(r.error)")
        #expect(r.output.isEmpty)
    }

    @Test func unknownDotCommandSuggestsOne() throws {
        let path = try scratch.write("typo.kbq", "sources limit 1\n.fromat json\nsources limit 2\n")
        let r = kbq([path], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("\(path):2: error: unknown command '.fromat'"), "\(r.error)")
        #expect(r.error.contains("did you mean '.format'?"))
        // The statement before the bad command ran; the one after did not.
        #expect(r.output.contains("(1 row)"))
        #expect(!r.output.contains("(2 rows)"))
    }

    @Test func badLoadInAScriptStopsIt() throws {
        let bad = try scratch.write("bad.json", "{ not json")
        let r = kbq(["-e", ".load \(bad)", "-e", "sources limit 1"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("\(bad): error:"), "\(r.error)")
        #expect(r.output.isEmpty)
    }

    @Test func examplesRunAsRecorded() throws {
        let directory = packageRoot.appendingPathComponent("Examples").path
        let scripts = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".kbq") }.sorted()
        #expect(!scripts.isEmpty)
        for script in scripts {
            let stem = String(script.dropLast(4))
            let r = kbq(["Examples/\(script)"], scratch: scratch, directory: packageRoot.path)
            let expectedOut = (try? String(contentsOfFile: "\(directory)/\(stem).out", encoding: .utf8)) ?? ""
            let expectedErr = (try? String(contentsOfFile: "\(directory)/\(stem).err", encoding: .utf8)) ?? ""
            #expect(r.output == expectedOut, "Examples/\(script): stdout differs, \(difference(expectedOut, r.output))")
            #expect(r.error == expectedErr, "Examples/\(script): stderr differs, \(difference(expectedErr, r.error))")
            // Warnings alone (a literal that matches nothing) leave the status 0.
            #expect(r.status == (expectedErr.contains(": error: ") ? 1 : 0), "Examples/\(script)")
        }
        // All at once, as `kbq Examples/*.kbq` (keep going past the examples of errors).
        let all = kbq(["--keep-going"] + scripts.map { "Examples/\($0)" }, scratch: scratch, directory: packageRoot.path)
        #expect(all.status == 1)
        #expect(!all.timedOut)
    }

    @Test func helpOnWhereGivesTheHedgeScaleOfTheKBInUse() throws {
        // It once listed a fixed scale without "by some estimates", the article KB's own word.
        let article = kbq(["-e", ".help where"], scratch: scratch)
        // The text is wrapped to the width (100 off a terminal); read it as one line.
        #expect(article.output.split(separator: "\n").allSatisfy { $0.count <= 100 })
        // The syntax line too, broken only between its forms (two spaces apart).
        let expressions = kbq(["-e", ".help expressions"], scratch: scratch)
        #expect(expressions.output.hasPrefix("= != < <= > >=  and or not  [not] in [..]"), "\(expressions.output)")
        #expect(expressions.output.split(separator: "\n").allSatisfy { $0.count <= 100 })
        let oneLine = { (s: String) in s.replacingOccurrences(of: "\n", with: " ") }
        #expect(oneLine(article.output).contains("strongest first: confirmed > stated > reportedly > by some estimates > likely > claimed > unknown."))
        let path = try scratch.write("scale.json", #"{"kbq": 1, "hedges": ["sure", "unsure"], "collections": {"t": {"fields": {"h": "hedge"}, "rows": [{"h": "sure"}]}}}"#)
        let own = kbq(["--kb", path, "-e", ".help where"], scratch: scratch)
        #expect(oneLine(own.output).contains("strongest first: sure > unsure."), "\(own.output)\(own.error)")
    }

    @Test func helpExamplesRun() {
        let overview = kbq(["-e", ".help"], scratch: scratch)
        #expect(overview.status == 0)
        // The list is wrapped to the width like the rest of the help.
        #expect(overview.output.split(separator: "\n").allSatisfy { $0.count <= 100 })
        let text = overview.output.replacingOccurrences(of: "\n", with: " ")
        guard let open = text.range(of: "(topics: "), let close = text[open.upperBound...].range(of: ").") else {
            Issue.record("no topic list in .help:\n\(overview.output)")
            return
        }
        let topics = text[open.upperBound..<close.lowerBound].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(topics.count >= 10)
        #expect(topics.contains("hedges"))
        for topic in topics {
            let help = kbq(["-e", ".help \(topic)"], scratch: scratch)
            #expect(help.status == 0, "\(help.error)")
            let examples = help.output.split(separator: "\n").compactMap { line -> String? in
                guard let r = line.range(of: "example: ") else { return nil }
                return String(line[r.upperBound...])
            }
            #expect(!examples.isEmpty, ".help \(topic) has no example")
            for e in examples {
                let run = kbq(["-e", e], scratch: scratch)
                #expect(run.status == 0, ".help \(topic): \(e)\n\(run.error)")
            }
        }
    }
}
