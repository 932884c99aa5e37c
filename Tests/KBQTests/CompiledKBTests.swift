import Foundation
import Testing
@testable import KBQ
import KBQTestSupport

/// Compiled KB files (`kbq build`): what comes back from one answers as the KB it was
/// written from, and a file that is cut short, damaged or of another version is refused
/// with the place it went wrong, never read out of bounds.
@Suite struct CompiledKBTests {
    /// Every statement's result as text, or the diagnostics' kinds and messages.
    static func answers(_ statements: [String], kb: KnowledgeBase) -> [String] {
        statements.map { s in
            var session = Session(kb: kb)
            var out: [String] = []
            let diags = session.run(SourceText(s, name: "t.kbq")) { outcome in
                if case .result(let r) = outcome { out.append(r.rendered(as: .json, width: 200)) }
            }
            return diags.isEmpty ? out.joined(separator: "\n") : "error: " + diags.map { "\($0.kind): \($0.message)" }.joined(separator: "; ")
        }
    }

    /// Whole collections, and queries that use their dictionaries, references, hedges,
    /// qualifiers and lists.
    static func articleStatements(_ kb: KnowledgeBase) -> [String] {
        kb.collections.map(\.name) + [
            "estimates where topic = \"containers\" compare source",
            "estimates where hedge >= stated select topic, value, source.name",
            "conflicts", "describe \"Pyongyang\"", "search \"Kursk\"",
            "events where date >= 2024-06 sort by date",
            "claims where hedge in [\"reportedly\", \"likely\"] select source.name, text",
            "entities where aliases contains \"DPRK\"",
            "estimates group by topic aggregate count(), max(value)",
            "estimates where inferred contains \"source\"",
        ]
    }

    static func write(_ kb: KnowledgeBase, _ name: String) throws -> String {
        let path = temporaryDirectory(name) + "/kb.kbqdb"
        try kb.writeCompiled(to: path)
        return path
    }

    @Test func theArticleKBComesBackWhole() throws {
        let kb = KnowledgeBase.article
        let path = try Self.write(kb, #function)
        let back = try KnowledgeBase(contentsOfFile: path)
        #expect(back.name == kb.name && back.title == kb.title && back.hedges == kb.hedges)
        #expect(back.collections.map(\.name) == kb.collections.map(\.name))
        for (a, b) in zip(kb.collections, back.collections) {
            #expect(a.fields == b.fields && a.key == b.key && a.measure == b.measure && a.count == b.count, "\(a.name)")
        }
        let statements = Self.articleStatements(kb)
        let expected = Self.answers(statements, kb: kb)
        #expect(!expected.contains { $0.hasPrefix("error:") }, "\(expected.filter { $0.hasPrefix("error:") })")
        #expect(Self.answers(statements, kb: back) == expected)
    }

    /// Strings of each pool kind (a key in order, repeated categories, near-unique text),
    /// numbers, dates, bools and nulls, from a CSV with its types inferred.
    @Test func aCSVKBComesBackWhole() throws {
        let dir = temporaryDirectory(#function)
        var csv = "id,topic,text,value,date,ok\n"
        for i in 0..<5_000 {
            let date = i % 7 == 0 ? "" : "2024-\(String(format: "%02d", i % 12 + 1))-\(String(format: "%02d", i % 28 + 1))"
            csv += "r\(String(format: "%05d", i)),t\(i * 7919 % 41),\"row \(i) says \(i % 3 == 0 ? "artillery" : "shells")\",\(i % 11 == 0 ? "" : String(Double(i) * 1.5)),\(date),\(i % 5 == 0 ? "" : i % 2 == 0 ? "true" : "false")\n"
        }
        writeFile(dir + "/rows.csv", csv)
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        let path = dir + "/rows.kbqdb"
        try kb.writeCompiled(to: path)
        let back = try KnowledgeBase(contentsOfCompiledFile: path)
        let statements = ["rows", "rows where topic = \"t7\" sort by id", "rows group by topic aggregate count() as n, avg(value) sort by n desc, topic",
                          "rows where text contains \"artillery\" aggregate count() as n",
                          "rows where date between 2024-06-01 and 2024-10-31 and ok = true sort by date, id limit 20",
                          "rows where value is null aggregate count()", "rows where id = \"r04321\""]
        let expected = Self.answers(statements, kb: kb)
        #expect(!expected.contains { $0.hasPrefix("error:") }, "\(expected.filter { $0.hasPrefix("error:") })")
        #expect(Self.answers(statements, kb: back) == expected)
        // And from the compiled file again, written from what was opened.
        try back.writeCompiled(to: dir + "/again.kbqdb")
        #expect(Self.answers(statements, kb: try KnowledgeBase(contentsOfFile: dir + "/again.kbqdb")) == expected)
    }

    /// Every section's first and last byte, as places to cut a file.
    static func boundaries(_ path: String) throws -> [Int] {
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        var cuts = [0, 1, 8, 63, 64, file.bytes.count - 1]
        for c in schema.collections {
            for layout in c.columns {
                var sections: [SectionRef] = []
                switch layout {
                case .string(_, let b, let o, let t, let ids): sections = [b, o, t] + (ids.map { [$0] } ?? [])
                case .number(let s), .date(let s), .bool(let s), .hedge(let s), .ref(let s), .list(let s): sections = [s]
                }
                for s in sections { cuts += [s.offset, s.offset + s.length] }
            }
            for index in c.indexes {
                for s in index.sections { cuts += [s.offset, s.offset + s.length] }
            }
        }
        return Array(Set(cuts)).sorted()
    }

    @Test func aFileCutAtAnySectionBoundaryIsRefusedAtOpen() throws {
        let path = try Self.write(.article, #function)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cuts = try Self.boundaries(path)
        #expect(cuts.count > 50)
        let cut = path + ".cut"
        for n in cuts where n < bytes.count {
            try bytes.prefix(n).write(to: URL(fileURLWithPath: cut))
            do throws(KBLoadError) {
                _ = try KnowledgeBase(contentsOfCompiledFile: cut)
                Issue.record("a file cut at \(n) of \(bytes.count) bytes was opened")
            } catch {
                let text = error.description
                #expect(text.contains(cut) && (text.contains("truncated") || text.contains("empty") || n < 64), "\(n): \(text)")
            }
        }
    }

    /// A byte changed anywhere is refused at open (header, schema), or by the first statement
    /// that reads its column when it makes a value out of bounds, or else reads as another
    /// in-bounds value (columns are not checksummed when read): then `kbq build --verify`
    /// finds it. A change in the padding between sections changes nothing.
    @Test func aChangedByteIsRefusedOrHarmless() throws {
        let path = try Self.write(.article, #function)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let statements = Self.articleStatements(.article)
        let expected = Self.answers(statements, kb: .article)
        var rng = SplitMix(seed: 21)
        let damaged = path + ".flip"
        var refusedAtOpen = 0, refusedLater = 0, changedValue = 0
        for _ in 0..<120 {
            var bytes = original
            let at = Int(rng.next() % UInt64(bytes.count))
            bytes[at] ^= UInt8(1 << (rng.next() % 8))
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            let kb: KnowledgeBase
            do throws(KBLoadError) {
                kb = try KnowledgeBase(contentsOfCompiledFile: damaged)
            } catch {
                #expect(!error.problems.isEmpty && error.description.contains(damaged))
                refusedAtOpen += 1
                continue
            }
            let got = Self.answers(statements, kb: kb)
            if got != expected {
                if got.contains(where: { $0.contains("invalidKB") && $0.contains("is damaged") }) { refusedLater += 1 } else { changedValue += 1 }
                #expect(throws: KBLoadError.self, "byte \(at): answers changed and verifying found nothing") {
                    try KnowledgeBase.verifyCompiledFile(damaged)
                }
            }
        }
        #expect(refusedAtOpen > 0 && refusedLater > 0 && changedValue > 0)
    }

    /// With checksums off (as the fuzz target opens files), a changed byte in a column must
    /// still be caught by the bounds checks behind them, or be a value like any other.
    @Test func withoutChecksumsDamageStaysInBounds() throws {
        let path = try Self.write(.article, #function)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let statements = Self.articleStatements(.article)
        var rng = SplitMix(seed: 7)
        let damaged = path + ".flip"
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<3 {
                let at = 64 + Int(rng.next() % UInt64(bytes.count - 64))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            guard let kb = try? KnowledgeBase(compiledFile: damaged, verifyingChecksums: false) else { continue }
            _ = Self.answers(statements, kb: kb)
        }
    }

    @Test func anotherFormatVersionIsRefusedWithARequestToRebuild() throws {
        let path = try Self.write(.article, #function)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // A file of version 1 (before the indexes), with a well-formed header: refused for its
        // version, not as damaged.
        bytes[8] = 1
        let sum = bytes.withUnsafeBytes { CompiledFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<56])) }
        withUnsafeBytes(of: sum.littleEndian) { for i in 0..<8 { bytes[56 + i] = $0[i] } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: KBLoadError.self) { try KnowledgeBase(contentsOfCompiledFile: path) }
        do throws(KBLoadError) {
            _ = try KnowledgeBase(contentsOfCompiledFile: path)
        } catch {
            #expect(error.problems.first?.kind == .unsupportedVersion)
            // Saying what to do about it is the behaviour here.
            #expect(error.problems.first?.message.contains("rebuild it") == true)
            #expect(error.problems.first?.message.contains("format version 1, and this kbq reads version \(CompiledFormat.version)") == true)
        }
    }

    @Test func aDamagedColumnFailsTheStatementThatReadsIt() throws {
        let path = try Self.write(.article, #function)
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        guard let estimates = schema.collections.first(where: { $0.name == "estimates" }),
              let s = estimates.fields.firstIndex(where: { $0.name == "source" }),
              case .ref(let section) = estimates.columns[s] else { Issue.record("no estimates.source"); return }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // The first row's source: a reference far past the sources' rows.
        bytes[section.offset + 2] = 0x7F
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let kb = try KnowledgeBase(contentsOfCompiledFile: path)
        // Other collections answer; the one with the damaged column does not.
        #expect(diagnostics("sources limit 1", kb: kb).isEmpty)
        let d = diagnostics("estimates where source.name = \"x\"", kb: kb)
        #expect(d.first?.kind == .invalidKB && d.first?.problem == .damaged)
        #expect(d.first?.message.contains("estimates.source (bytes \(section.offset)..<\(section.offset + section.length)): a reference is past") == true)
        // The prepared-query path says so too.
        #expect(throws: Diagnostics.self) { try PreparedQuery("estimates limit 1", kb: kb).run() }
    }

    /// A changed number is still a number: read as it is, and found by verifying the file.
    @Test func aChangedValueInBoundsIsFoundByVerifying() throws {
        let path = try Self.write(.article, #function)
        try KnowledgeBase.verifyCompiledFile(path)
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        guard let estimates = schema.collections.first(where: { $0.name == "estimates" }),
              let v = estimates.fields.firstIndex(where: { $0.name == "value" }),
              case .number(let section) = estimates.columns[v] else { Issue.record("no estimates.value"); return }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[section.offset + 8 * 3 + 6] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let kb = try KnowledgeBase(contentsOfCompiledFile: path)
        #expect(diagnostics("estimates where value > 1000", kb: kb).isEmpty)
        do throws(KBLoadError) {
            try KnowledgeBase.verifyCompiledFile(path)
            Issue.record("verifying did not find the changed value")
        } catch {
            #expect(error.description.contains("estimates.value (bytes \(section.offset)..<\(section.offset + section.length)): checksum mismatch"))
        }
    }

    @Test func writingWhereNothingCanBeWrittenLeavesNothing() throws {
        let dir = temporaryDirectory(#function)
        #expect(throws: KBWriteError.self) { try KnowledgeBase.article.writeCompiled(to: dir + "/no/such/folder/kb.kbqdb") }
        // A folder in the way: the file is written, the rename refused, the temporary removed.
        mkdir(dir + "/taken.kbqdb", 0o755)
        #expect(throws: KBWriteError.self) { try KnowledgeBase.article.writeCompiled(to: dir + "/taken.kbqdb") }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(left == ["taken.kbqdb"])
    }

    @Test func notACompiledFileSaysSo() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/x.kbqdb", "id,value\n1,2\n")
        do throws(KBLoadError) {
            _ = try KnowledgeBase(contentsOfFile: dir + "/x.kbqdb")
            Issue.record("a CSV named .kbqdb was opened")
        } catch {
            #expect(error.description.contains("not a compiled KB file"))
        }
    }

    /// Text over a megabyte is read in place; its checksum is taken a chunk at a time, and
    /// verifying still finds a byte changed in a later chunk.
    @Test func longTextIsReadInPlaceAndCheckedByChunks() throws {
        let dir = temporaryDirectory(#function)
        var csv = "id,text\n"
        for i in 0..<40_000 { csv += "r\(i),\"row \(i): \(i % 97 == 0 ? "artillery" : "shells") moved by rail across the border\"\n" }
        writeFile(dir + "/rows.csv", csv)
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        let path = dir + "/rows.kbqdb"
        try kb.writeCompiled(to: path)
        let statements = ["rows where text contains \"ARTILLERY\" aggregate count() as n", "rows where id = \"r39999\" select text"]
        let expected = Self.answers(statements, kb: kb)
        #expect(Self.answers(statements, kb: try KnowledgeBase(contentsOfCompiledFile: path)) == expected)
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        guard case .string(_, let text, _, _, _)? = schema.collections.first?.columns.last else { Issue.record("no text column"); return }
        #expect(text.length > CompiledFormat.checksumChunk)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[text.offset + CompiledFormat.checksumChunk + 10] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(Self.answers(statements, kb: try KnowledgeBase(contentsOfCompiledFile: path)) == expected)
        #expect(throws: KBLoadError.self) { try KnowledgeBase.verifyCompiledFile(path) }
    }

    /// Rows for the indexed paths: topics repeated in no order (postings), dates with ties,
    /// partial dates (a month, a year), relative and open spans, and nulls.
    static func indexedCSV() -> String {
        var csv = "id,topic,unit,date,ok\n"
        for i in 0..<6_000 {
            let day = i % 5 == 0 ? "" : i % 13 == 0 ? "2024-06" : i % 17 == 0 ? "2024" : "2024-\(String(format: "%02d", i % 12 + 1))-\(String(format: "%02d", i % 9 + 1))"
            csv += "r\(String(format: "%05d", (i * 4099) % 6_000)),t\(i * 7919 % 41),\(i % 3 == 0 ? "containers" : i % 7 == 0 ? "" : "shells"),\(day),\(i % 4 == 0 ? "true" : "false")\n"
        }
        return csv
    }

    static let indexedStatements = [
        "rows where topic = \"t7\" sort by id", "rows where topic = \"t7\"", "rows where topic = \"nope\"", "rows where topic = \"t7\" and ok = true",
        "rows where ok = true and topic = \"t12\" sort by date, id limit 9",
        "rows where date between 2024-06-01 and 2024-10-31 and unit = \"containers\" sort by date, id limit 20",
        "rows where date between 2024-06-01 and 2024-10-31 sort by date limit 20",
        "rows where date between 2024-06-01 and 2024-06-30 sort by date limit 7 offset 3",
        "rows where date between 2024-01-01 and 2024-12-31 sort by date limit 50000",
        "rows where date between 2024-03-02 and 2024-03-04 and unit = \"shells\" sort by date, id limit 100",
        "rows where date between 2030-01-01 and 2030-12-31 sort by date limit 5",
        "rows where date between 2024-06-03 and 2024-06-05", "rows where date between 2024-06-01 and 2024-06-30",
        "rows where date between 2024-01-01 and 2024-12-31 sort by date desc limit 5",
        "rows where date between 2024-06-01 and 2024-10-31 sort by date limit 0",
        "rows where date between 2024-06-01 and 2024-10-31 and topic = \"t3\" sort by date, id limit 4",
        "rows where date between 2023-01-01 and 2025-12-31 sort by date, id limit 3",
        "rows where not (date between 2024-06-01 and 2024-10-31) sort by date limit 5",
        "rows where date between 2024-06-01 and 2024-10-31 or topic = \"t1\" sort by date limit 5",
        "rows where maybe date between 2024-06-01 and 2024-06-30 sort by date limit 5",
    ]

    /// The answers from a compiled file's indexes (the rows of one topic, a walk of the date
    /// order from a window's start) are the answers from the CSV, byte for byte: empty
    /// windows, limits over the matches, ties on a date, partial and null dates, a topic the
    /// index does not have.
    @Test func theIndexesAnswerAsTheColumnsDo() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/rows.csv", Self.indexedCSV())
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        let path = dir + "/rows.kbqdb"
        try kb.writeCompiled(to: path)
        let back = try KnowledgeBase(contentsOfCompiledFile: path)
        #expect(back.collections.first?.indexes?.postings(1) != nil && back.collections.first?.indexes?.dateOrder(3) != nil)
        let expected = Self.answers(Self.indexedStatements, kb: kb)
        #expect(!expected.contains { $0.hasPrefix("error:") }, "\(expected.filter { $0.hasPrefix("error:") })")
        let got = Self.answers(Self.indexedStatements, kb: back)
        for (i, s) in Self.indexedStatements.enumerated() { #expect(got[i] == expected[i], "\(s)") }
        // The walk is the plan for a window with a sort by date and a limit.
        let plan = Self.answers(["explain rows where date between 2024-06-01 and 2024-10-31 and unit = \"containers\" sort by date, id limit 20"], kb: back)
        #expect(plan.first?.contains("walks the stored date order from the window's start, up to the 20 rows the sort and limit keep") == true)
        // Written again from the compiled file, the indexes come out the same.
        try back.writeCompiled(to: dir + "/again.kbqdb")
        #expect(Self.answers(Self.indexedStatements, kb: try KnowledgeBase(contentsOfFile: dir + "/again.kbqdb")) == expected)
    }

    /// An index damaged out of bounds fails the statement that reads it, naming the index;
    /// `kbq build --verify` names it by its checksum.
    @Test func aDamagedIndexFailsTheStatementThatReadsIt() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/rows.csv", Self.indexedCSV())
        let path = dir + "/rows.kbqdb"
        try KnowledgeBase(contentsOfFile: dir + "/rows.csv").writeCompiled(to: path)
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        var starts: SectionRef?, order: SectionRef?
        for index in schema.collections[0].indexes {
            switch index {
            case .postings(1, let s, _): starts = s
            case .dateOrder(3, let r): order = r
            default: break
            }
        }
        guard let starts, let order else { Issue.record("no topic postings or date order"); return }
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for (section, statement) in [(starts, "rows where topic = \"t0\""),
                                     (order, "rows where date between 2024-01-01 and 2024-12-31 sort by date limit 3")] {
            var bytes = original
            // Every entry past the rows: whichever the query reads first is out of bounds.
            for i in section.offset..<(section.offset + section.length) where (i - section.offset) % 4 == 3 { bytes[i] = 0x7F }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let d = diagnostics(statement, kb: try KnowledgeBase(contentsOfCompiledFile: path))
            #expect(d.first?.kind == .invalidKB && d.first?.problem == .damaged, "\(statement)")
            #expect(d.first?.message.contains("index (bytes \(section.offset)") == true, "\(d.first?.message ?? "")")
            do throws(KBLoadError) {
                try KnowledgeBase.verifyCompiledFile(path)
                Issue.record("verifying did not find the changed index")
            } catch {
                #expect(error.description.contains("index (bytes \(section.offset)..<\(section.offset + section.length)): checksum mismatch"))
            }
        }
    }

    /// Reading a few rows of a compiled file checks only the values read: a damaged id far
    /// from the rows printed does not stop them, and one among them fails the statement.
    @Test func rowsAreCheckedAsTheyAreRead() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/rows.csv", Self.indexedCSV())
        let path = dir + "/rows.kbqdb"
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        try kb.writeCompiled(to: path)
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        guard case .string(_, _, _, _, let ids?) = schema.collections[0].columns[2] else { Issue.record("no unit ids"); return }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // The last row's unit: an id past the pool.
        bytes[ids.offset + ids.length - 2] = 0x7F
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let damaged = try KnowledgeBase(contentsOfCompiledFile: path)
        #expect(Self.answers(["rows limit 3"], kb: damaged) == Self.answers(["rows limit 3"], kb: kb))
        let d = diagnostics("rows sort by id desc limit 6000", kb: damaged)
        #expect(d.first?.kind == .invalidKB && d.first?.message.contains("rows.unit (bytes \(ids.offset)..<\(ids.offset + ids.length)): a string id is past the pool") == true,
                "\(d.first?.message ?? "")")
    }
}
