import Foundation
import Testing

// `kbq build -o FILE.kbqdb` through the real binary: the compiled file answers as the KB it
// was built from, through `--kb` and `.attach`; what cannot be built or opened exits 2 with
// what and where, and leaves nothing half written.

@Suite("kbq build") struct BuildCommandTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    static let queries = [#"estimates where topic = "containers" compare source"#, "conflicts", #"describe "Pyongyang""#,
                          "claims where hedge >= stated select id, source.name, text"]

    @Test func theArticleKBBuiltAnswersAsTheBuiltIn() throws {
        let file = scratch.file("article.kbqdb")
        let b = kbq(["build", "-o", file], scratch: scratch)
        #expect(b.status == 0, "\(b.error)")
        #expect(b.output.contains("wrote \(file): 9 collections"))
        for q in Self.queries {
            let builtIn = kbq(["-e", q], scratch: scratch)
            let compiled = kbq(["--kb", file, "-e", q], scratch: scratch)
            #expect(builtIn.status == 0 && compiled.status == 0, "\(compiled.error)")
            #expect(compiled.output == builtIn.output, "\(q)")
        }
    }

    @Test func aCSVBuiltAnswersAsTheCSVAndAttaches() throws {
        var csv = "id,topic,value,date\n"
        for i in 0..<2_000 { csv += "s\(i),t\(i % 13),\(i * 3),2024-\(String(format: "%02d", i % 12 + 1))-0\(i % 9 + 1)\n" }
        let rows = try scratch.write("shipments.csv", csv)
        let file = scratch.file("shipments.kbqdb")
        #expect(kbq(["build", "--kb", rows, "-o", file], scratch: scratch).status == 0)
        let q = "shipments where topic = \"t4\" and date >= 2024-06 group by topic aggregate count() as n, max(value)"
        let fromCSV = kbq(["--kb", rows, "-e", q, "--json"], scratch: scratch)
        let fromFile = kbq(["--kb", file, "-e", q, "--json"], scratch: scratch)
        #expect(fromCSV.status == 0 && fromFile.output == fromCSV.output, "\(fromFile.error)")
        let script = try scratch.write("a.kbq", ".attach \(file) as mine\nmine where topic = \"t4\" aggregate count() as n\n")
        let attached = kbq([script], scratch: scratch)
        #expect(attached.status == 0, "\(attached.error)")
        #expect(attached.output.contains("154"))
    }

    @Test func anUnwritablePlaceExits2AndLeavesNothing() throws {
        let missing = kbq(["build", "-o", scratch.file("no/such/folder/kb.kbqdb")], scratch: scratch)
        #expect(missing.status == 2)
        #expect(missing.error.contains("kbq build: cannot write \(scratch.file("no/such/folder/kb.kbqdb")): No such file or directory"))
        try FileManager.default.createDirectory(atPath: scratch.file("taken.kbqdb"), withIntermediateDirectories: false)
        let taken = kbq(["build", "-o", scratch.file("taken.kbqdb")], scratch: scratch)
        #expect(taken.status == 2)
        #expect(taken.error.contains("cannot write"))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains("kbqdb") }
        #expect(left == ["taken.kbqdb"])
        // And a KB that cannot be loaded builds nothing.
        let bad = kbq(["build", "--kb", scratch.file("none.csv"), "-o", scratch.file("x.kbqdb")], scratch: scratch)
        #expect(bad.status == 2 && !FileManager.default.fileExists(atPath: scratch.file("x.kbqdb")))
        let usage = kbq(["build"], scratch: scratch)
        #expect(usage.status == 2 && usage.error.contains("-o FILE.kbqdb"))
    }

    @Test func aTruncatedOrDamagedFileExits2SayingWhere() throws {
        let file = scratch.file("kb.kbqdb")
        #expect(kbq(["build", "-o", file], scratch: scratch).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let cut = scratch.file("cut.kbqdb")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        let t = kbq(["--kb", cut, "-e", "sources"], scratch: scratch)
        #expect(t.status == 2)
        #expect(t.error.contains("\(cut): error: header (bytes 24..<32): truncated: the file is \(bytes.count / 2) bytes, and was written with \(bytes.count)"))
        // Bytes changed in the middle of the sections: those that make a value out of bounds
        // are found when a statement reads their column; every one by `kbq build --verify`.
        var damaged = [UInt8](bytes)
        for i in stride(from: 4096, to: damaged.count / 2, by: 512) { damaged[i] ^= 0x5A }
        let bad = scratch.file("bad.kbqdb")
        try Data(damaged).write(to: URL(fileURLWithPath: bad))
        let all = "sentences\nentities\nsources\nevents\nestimates\nclaims\nrelations\nrecommendations\n"
        let d = kbq(["--kb", bad], input: all, scratch: scratch)
        #expect(d.status == 2)
        #expect(d.error.contains("\(bad) is damaged:") && d.error.contains("rebuild it from its source"))
        let v = kbq(["build", "--verify", bad], scratch: scratch)
        #expect(v.status == 2 && v.error.contains("\(bad): error: ") && v.error.contains("checksum mismatch"))
        let whole = kbq(["build", "--verify", file], scratch: scratch)
        #expect(whole.status == 0 && whole.output.contains("every section has the checksum it was written with"))
    }

    /// A compiled file cut short by another process while kbq has it open: the next column
    /// read past the new end is a SIGBUS, which kbq turns into a message and exit 2.
    @Test func aFileTruncatedWhileOpenEndsKbqWithAMessage() throws {
        let file = scratch.file("open.kbqdb")
        #expect(kbq(["build", "-o", file], scratch: scratch).status == 0)
        let session = try TerminalSession(["--kb", file], scratch: scratch)
        try session.enter("sources select id limit 1", expecting: "1 row")
        #expect(truncate(file, 4096) == 0)
        session.send("estimates select id, value limit 1\r")
        _ = try session.expect("was truncated or replaced in place while kbq read it")
        #expect(session.waitForExit() == 2)
    }

    /// The commands README shows for compiled files, run as written (in a folder with a
    /// shipments.csv), each exiting 0.
    @Test func theREADMEExamplesRun() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("A KB queried by many scripts") })
        var commands: [[String]] = []
        // The indented block after that paragraph.
        for line in lines[start...].drop(while: { !$0.hasPrefix("    kbq ") }) {
            guard line.hasPrefix("    kbq ") else { break }
            // The command before its comment, split into words; 'single quotes' keep spaces.
            let text = line.components(separatedBy: "  #")[0].trimmingCharacters(in: .whitespaces)
            var words: [String] = [], word = "", quoted = false, inWord = false
            for c in text {
                if c == "'" { quoted.toggle(); inWord = true } else if c == " " && !quoted {
                    if inWord { words.append(word) }
                    word = ""; inWord = false
                } else { word.append(c); inWord = true }
            }
            if inWord { words.append(word) }
            commands.append(Array(words.dropFirst()))
        }
        #expect(commands.count == 4)
        _ = try scratch.write("shipments.csv", "id,topic,count,unit\ns1,containers,12000,containers\ns2,artillery shells,2000000,shells\n")
        var last = ""
        for c in commands {
            let r = kbq(c, scratch: scratch, directory: scratch.path)
            #expect(r.status == 0, "\(c): \(r.error)")
            last = r.output
        }
        #expect(FileManager.default.fileExists(atPath: scratch.file("article.kbqdb")))
        #expect(last.contains("2"))
    }
}
