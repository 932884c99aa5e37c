import Foundation
import Testing

/// `kbq mcp` is a program of its own beside kbq (Sources/kbq/Subcommands.swift); the MCP
/// protocol itself is tested end to end by Tests/Agents with the official Python client.
@Suite("subcommands") struct SubcommandTests {
    @Test func mcpRunsTheProgramBesideKbq() throws {
        let scratch = try Scratch()
        let help = kbq(["mcp", "--help"], scratch: scratch)
        #expect(help.status == 0)
        #expect(help.output.contains("A Model Context Protocol server on standard input and output"))
        let wrong = kbq(["mcp", "--nonsense"], scratch: scratch)
        #expect(wrong.status == 2)
        #expect(wrong.error.contains("unknown argument '--nonsense'"))
        let badKB = kbq(["mcp", "--kb", scratch.file("missing.json")], scratch: scratch)
        #expect(badKB.status == 2)
        #expect(badKB.error.contains("missing.json"))
    }

    @Test func aMissingProgramIsAUsageErrorThatSaysHowToBuildIt() throws {
        let scratch = try Scratch()
        let copy = scratch.file("kbq")
        // A hard link where it can be (a copy still open for writing in a child that another
        // test forked cannot be run: ETXTBSY); its /proc/self/exe is the link's own path.
        if (try? FileManager.default.linkItem(atPath: kbqBinary, toPath: copy)) == nil {
            try FileManager.default.copyItem(atPath: kbqBinary, toPath: copy)
        }
        var run = kbq(["mcp"], scratch: scratch, binary: copy)
        for _ in 0..<50 where run.status == -1 && run.error.contains("busy") {
            usleep(100_000)
            run = kbq(["mcp"], scratch: scratch, binary: copy)
        }
        #expect(run.status == 2)
        #expect(run.error.contains("kbq-cli-") && run.error.contains("/kbq-mcp, which could not be started"))
        #expect(run.error.contains("make mcp"))
        // A script named like a subcommand still runs when written as a path.
        _ = try scratch.write("mcp", "estimates where topic = \"containers\" select source\n")
        let script = kbq(["./mcp"], scratch: scratch, directory: scratch.path)
        #expect(script.status == 0)
        #expect(script.output.contains("U.S. intelligence") && script.output.contains("South Korea"))
    }
}
