import KBQ
import Testing
@testable import kbq
import KBQShell

// kbq reads its common flags without swift-argument-parser (start-up time), and hands
// everything else to it. Both must read a command line the same way.

@Suite("command line") struct OptionsTests {
    static let lines: [[String]] = [
        [],
        ["-e", "sources"],
        ["--execute", "sources", "-e", "events"],
        ["--execute=sources"],
        ["--kb", "x.json", "-e", "things"],
        ["--kb=x.json", "a.kbq"],
        ["-f", "json", "a.kbq", "b.kbq"],
        ["--format", "csv", "-"],
        ["--format=markdown", "-e", "q"],
        ["-p", "a=1", "--param", "$b=two words", "--param=c=3", "-e", "q"],
        ["-k", "a.kbq"],
        ["--keep-going", "--", "-odd-name.kbq"],
    ]

    @Test(arguments: lines) func fastParserAgreesWithArgumentParser(_ line: [String]) throws {
        guard case .run(let fast) = FastOptionParser.parse(line) else {
            Issue.record("the fast parser handed \(line) over")
            return
        }
        let command = try #require(try KBQCommand.parseAsRoot(line) as? KBQCommand)
        #expect(fast == command.options(arguments: line), "\(line)")
    }

    /// Lines only swift-argument-parser reads keep the order of scripts and queries too: the
    /// order is the order they run in.
    @Test(arguments: [
        (["-ke", "q1", "a.kbq", "-e", "q2"], [.expression("q1", index: 1), .file("a.kbq"), .expression("q2", index: 2)]),
        (["-kf", "json", "a.kbq", "-e=q1", "b.kbq"], [.file("a.kbq"), .expression("q1", index: 1), .file("b.kbq")]),
        (["-e", "q1", "-kp", "t=x", "a.kbq", "--execute=q2", "--", "-e"],
         [.expression("q1", index: 1), .file("a.kbq"), .expression("q2", index: 2), .file("-e")]),
    ] as [([String], [ScriptInput])])
    func argumentParserKeepsTheOrderOfScriptsAndQueries(_ line: [String], _ inputs: [ScriptInput]) throws {
        guard case .delegate = FastOptionParser.parse(line) else {
            Issue.record("the fast parser read \(line): this test is for the other parser")
            return
        }
        let command = try #require(try KBQCommand.parseAsRoot(line) as? KBQCommand)
        #expect(command.options(arguments: line).inputs == inputs)
    }

    @Test(arguments: [["--help"], ["-h"], ["--generate-completion-script", "bash"], ["--fromat", "json"],
                      ["-e"], ["--format", "xml"], ["-p", "novalue"], ["-ke", "q"]])
    func unusualLinesGoToArgumentParser(_ line: [String]) {
        guard case .delegate = FastOptionParser.parse(line) else {
            Issue.record("the fast parser accepted \(line)")
            return
        }
    }

    @Test func parameterNames() {
        func pair(_ text: String) -> [String]? { FastOptionParser.parameter(text).map { [$0.name, $0.value] } }
        #expect(pair("topic=containers") == ["topic", "containers"])
        #expect(pair("$x=a=b") == ["x", "a=b"])
        #expect(pair("x=") == ["x", ""])
        #expect(FastOptionParser.parameter("=1") == nil)
        #expect(FastOptionParser.parameter("1x=1") == nil)
        #expect(FastOptionParser.parameter("a-b=1") == nil)
    }

    @Test func scriptLinesSplitOnNewlines() {
        let reader = TextLineReader("a\r\nb\n\nc")
        var lines: [String] = []
        while case .line(let l) = reader.readLine(pending: "") { lines.append(l) }
        #expect(lines == ["a", "b", "", "c"])
    }

    @Test func dotCommandWords() {
        #expect(DotCommand.words(".load \"my file.json\"") == [".load", "my file.json"])
        #expect(DotCommand.words("  .timer   on ") == [".timer", "on"])
        #expect(DotCommand.words(".read ''") == [".read", ""])
        #expect(InputLoop.isDotCommand("  .schema"))
        #expect(!InputLoop.isDotCommand(".5 and value > 1"))
        #expect(!InputLoop.isDotCommand("estimates"))
    }
}
