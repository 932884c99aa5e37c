import Foundation
import Testing
@testable import KBQ

private let packageRoot = URL(fileURLWithPath: repositoryRoot)

/// The syntax trees of a script's statements without their ranges (dot-command lines
/// blanked), or nil when it does not parse.
private func shapes(_ text: String) -> [String]? {
    let (statements, errors) = Parser.parse(ScriptPiece.queryText(text, pieces: ScriptPiece.split(text)))
    return errors.isEmpty ? statements.map(\.shape) : nil
}

/// Formats `text` and checks the three promises: the output parses to the same statements,
/// formatting it again changes nothing, and the dot-command lines are kept in order.
@discardableResult
private func formatted(_ text: String, name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let before = shapes(text)
    do throws(Diagnostics) {
        let out = try Formatter.format(text)
        #expect(before != nil, "\(name): formatted though it does not parse", sourceLocation: sourceLocation)
        #expect(shapes(out) == before, "\(name): formatting changed the statements:\n\(out)", sourceLocation: sourceLocation)
        #expect((try? Formatter.format(out)) == out, "\(name): formatting is not idempotent:\n\(out)", sourceLocation: sourceLocation)
        func dots(_ t: String) -> [String] {
            ScriptPiece.split(t).filter { $0.kind == .dotCommand }.map { p in
                String(decoding: Array(t.utf8)[p.range.start..<p.range.end], as: UTF8.self).trimmingSpaces.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        #expect(dots(out) == dots(text), "\(name): dot-command lines changed", sourceLocation: sourceLocation)
        return out
    } catch {
        // Only a script that does not parse may be refused.
        #expect(before == nil, "\(name): refused though it parses: \(error.items.map(\.message))", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite("formatter") struct FormatterTests {
    @Test func examplesAreInTheCanonicalLayout() throws {
        let dir = packageRoot.appendingPathComponent("Examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".kbq") }.sorted()
        #expect(names.count >= 20)
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            let out = formatted(text, name: name)
            #expect(out == text, "\(name) is not in the canonical layout (kbq fmt Examples/\(name))")
        }
    }

    /// Every seed of the query fuzzer (Grammar/ examples, README and docs code blocks, the
    /// Examples line by line, hostile shapes), as scripts/fuzz.sh writes them.
    @Test func fuzzSeedsFormatWithoutChangingMeaning() throws {
        let seeds = packageRoot.appendingPathComponent("fuzz-corpus/query/seeds")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [packageRoot.appendingPathComponent("scripts/fuzz.sh").path, "corpus"]
        p.currentDirectoryURL = packageRoot
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: seeds.path)
        #expect(names.count > 100, "expected the fuzz seeds in \(seeds.path)")
        var formattedCount = 0
        for name in names {
            let data = try Data(contentsOf: seeds.appendingPathComponent(name))
            let text = String(decoding: data, as: UTF8.self)
            if formatted(text, name: "seed \(name): \(text.prefix(80))") != nil { formattedCount += 1 }
        }
        // Many seeds are single lines of a statement written over several (`  select …`).
        #expect(formattedCount > 150, "\(formattedCount) of \(names.count) seeds parse")
    }

    @Test func spacingKeywordsAndOperatorsAreCanonical() throws {
        let out = try Formatter.format("estimates   WHERE topic==\"containers\"|compare source ;claims limit 2\n")
        #expect(out == "estimates where topic = \"containers\" compare source\nclaims limit 2\n")
        #expect(try Formatter.format("estimates where value>-5 and not(topic in[\"a\",\"b\"])select lower( topic ),value*2") ==
                "estimates where value > -5 and not (topic in [\"a\", \"b\"]) select lower(topic), value * 2\n")
        #expect(try Formatter.format("claims where source.name<>'x' select `limit`, 16_500, 76.6%, 2024-06, $p") ==
                "claims where source.name != 'x' select `limit`, 16_500, 76.6%, 2024-06, $p\n")
    }

    @Test func commentsStayWhereTheyAre() throws {
        let text = """


        # header

        # about the query
        let x = estimates where value > 5   # trailing
        x
          # before select
          select topic
             sort by topic # last


        # end
        """
        let out = try #require(formatted(text, name: "comments"))
        #expect(out == """
        # header

        # about the query
        let x = estimates where value > 5  # trailing
        x
          # before select
          select topic
          sort by topic  # last

        # end

        """)
    }

    @Test func longStatementsTakeAClausePerLineAndWrapAfterCommas() throws {
        let long = "estimates where topic = \"containers\" select topic, value, source, hedge, sentence, id, unit, subject, qualifier sort by value desc"
        let out = try #require(formatted(long, name: "long"))
        #expect(out == """
        estimates where topic = "containers"
          select topic, value, source, hedge, sentence, id, unit, subject, qualifier
          sort by value desc

        """)
        let wide = try Formatter.format(long, width: 40)
        for line in wide.split(separator: "\n") { #expect(line.count <= 40 || !line.contains(","), "\(line)") }
        #expect(shapes(wide) == shapes(long))
        // `between … and …` never breaks at its `and`: that line break would end the statement.
        let between = "estimates where value between 1000000000 and 2000000000 and topic = \"a very long topic name indeed\" and value != 3"
        #expect(shapes(try Formatter.format(between, width: 30)) == shapes(between))
    }

    @Test func aStatementWrittenOverLinesStaysOverLines() throws {
        let text = "claims where source != \"the article\"\n  select source, hedge, text\n  sort by source, hedge desc\n"
        #expect(try Formatter.format(text) == text)
        #expect(try Formatter.format("claims where hedge < stated\nselect id") == "claims where hedge < stated\n  select id\n")
    }

    @Test func dotCommandLinesAreKept() throws {
        let text = ".format json\n  estimates  limit 1\n\n\n.rows 5\nclaims limit 1\n"
        #expect(try Formatter.format(text) == ".format json\nestimates limit 1\n\n.rows 5\nclaims limit 1\n")
    }

    @Test func scriptsThatDoNotParseAreRefusedWithTheirErrors() {
        #expect(throws: Diagnostics.self) { try Formatter.format("estimates where (value > 1") }
        do throws(Diagnostics) {
            _ = try Formatter.format("estimates where topic = \"x\"\nclaims where")
            Issue.record("formatted a script that does not parse")
        } catch {
            #expect(error.items.first?.kind == .syntax)
            #expect(error.items.first?.range?.start == "estimates where topic = \"x\"\nclaims where".utf8.count)
        }
    }

    @Test func crlfAndAByteOrderMarkAreNormalised() throws {
        #expect(try Formatter.format("\u{FEFF}estimates  limit 1\r\n# c\r\nclaims limit 1\r\n") == "estimates limit 1\n# c\nclaims limit 1\n")
    }

    @Test func rangeFormattingTouchesOnlyTheStatementsInRange() throws {
        let text = "estimates  limit 1\nclaims   limit 2\nevents  limit 3\n"
        let start = "estimates  limit 1\n".utf8.count
        let (range, replacement) = try #require(try Formatter.format(text, range: SourceRange(start + 2, start + 3)))
        #expect(range == SourceRange(start, start + "claims   limit 2".utf8.count))
        #expect(replacement == "claims limit 2")
    }
}
