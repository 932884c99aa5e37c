import Foundation
import KBQ
import Testing

// Inputs the CLI must refuse before running anything: scripts larger than the engine reads,
// and KB files whose rows come from something that is not a file (a FIFO, a device). Each
// is one clear error and exit status 2, never a hang or a half-done run.

@Suite("input limits of the CLI") struct InputLimitTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    /// A script of exactly `bytes` bytes: one query, then a comment filling the rest.
    private func script(_ name: String, bytes: Int) throws -> String {
        let query = "sources limit 1 select id\n# "
        return try scratch.write(name, query + String(repeating: "x", count: bytes - query.utf8.count))
    }

    @Test func aScriptAsLargeAsTheEngineAcceptsRuns() throws {
        let path = try script("full.kbq", bytes: Lexer.maxSourceBytes)
        let r = kbq([path], scratch: scratch)
        #expect(r.status == 0, "\(r.error.prefix(300))")
        #expect(r.output.contains("(1 row)"))
        // A dot-command splits a script into runs; each is no larger than the script.
        let head = ".format csv\nsources limit 1 select id\n# "
        let withCommand = try scratch.write("dots.kbq", head + String(repeating: "x", count: Lexer.maxSourceBytes - head.utf8.count))
        let d = kbq([withCommand], scratch: scratch)
        #expect(d.status == 0, "\(d.error.prefix(300))")
        #expect(d.output == "id\r\nzelensky\r\n")
    }

    @Test func aScriptOverTheEngineLimitIsOneErrorBeforeAnythingRuns() throws {
        let first = try scratch.write("first.kbq", "sources limit 1\n")
        let big = try script("big.kbq", bytes: Lexer.maxSourceBytes + 1)
        let r = kbq([first, big], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error == "kbq: '\(big)' is \(Lexer.maxSourceBytes + 1) bytes; the limit for a script is \(Lexer.maxSourceBytes) bytes\n")
        // Every script is read before any runs: first.kbq did not run either.
        #expect(r.output.isEmpty)
    }

    @Test func standardInputAndDevicesOverTheLimitAreRefusedWithoutReadingOn() throws {
        let text = "sources limit 1\n# " + String(repeating: "x", count: Lexer.maxSourceBytes)
        let piped = kbq([], input: text, scratch: scratch)
        #expect(piped.status == 2)
        #expect(piped.error == "kbq: '<stdin>' is more than \(Lexer.maxSourceBytes) bytes; the limit for a script is \(Lexer.maxSourceBytes) bytes\n")
        #expect(piped.output.isEmpty)
        // /dev/zero never ends: reading stops at the limit.
        let zero = kbq(["/dev/zero"], scratch: scratch, timeout: 20)
        #expect(!zero.timedOut)
        #expect(zero.status == 2)
        #expect(zero.error == "kbq: '/dev/zero' is more than \(Lexer.maxSourceBytes) bytes; the limit for a script is \(Lexer.maxSourceBytes) bytes\n")
    }

    @Test func readingAScriptOverTheLimitIsAnErrorAtTheCommand() throws {
        let big = try script("big.kbq", bytes: Lexer.maxSourceBytes + 10)
        let main = try scratch.write("main.kbq", "sources limit 1\n.read \(big)\nsources limit 2\n")
        let r = kbq([main], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error == "\(main):2: error: '\(big)' is \(Lexer.maxSourceBytes + 10) bytes; the limit for a script is \(Lexer.maxSourceBytes) bytes\n")
        #expect(r.output.contains("(1 row)"))
        #expect(!r.output.contains("(2 rows)"))
    }

    // MARK: rows files that are not files

    /// A KB whose collection `t` takes its rows from `file`.
    private func kb(rows file: String) throws -> String {
        try scratch.write("kb-\(abs(file.hashValue)).json", #"{"kbq": 1, "collections": {"t": {"fields": {"a": "string"}, "file": "\#(file)"}}}"#)
    }

    @Test func aRowsFileThatIsAFIFOIsRefusedNotWaitedOn() throws {
        for name in ["rows.csv", "rows.ndjson"] {
            let fifo = scratch.file("fifo-" + name)
            #expect(mkfifo(fifo, 0o600) == 0)
            // Nothing ever writes to the FIFO: opening it to read would wait forever.
            let r = kbq(["--kb", try kb(rows: "fifo-" + name), "-e", "t"], scratch: scratch, timeout: 10)
            #expect(!r.timedOut, "\(name): kbq waited on the FIFO")
            #expect(r.status == 2)
            #expect(r.error.contains("error: $.collections.t.file: \(fifo) is a FIFO (named pipe), not a regular file\n"), "\(r.error)")
            #expect(r.output.isEmpty)
        }
    }

    @Test func aRowsFileThatIsADeviceIsRefused() throws {
        for device in ["/dev/zero", "/dev/stdin", "/dev/null"] {
            let r = kbq(["--kb", try kb(rows: device), "-e", "t"], input: "a\nx\n", scratch: scratch, timeout: 20)
            #expect(!r.timedOut, "\(device)")
            #expect(r.status == 2, "\(device): \(r.error)")
            // Outside the KB's folder, so never opened (a link to one in the folder is
            // refused as leading out of it: HostileInputTests).
            #expect(r.error.contains("error: $.collections.t.file: '\(device)' is an absolute path; a KB reads its rows files from its own folder only\n"), "\(r.error)")
        }
    }
}
