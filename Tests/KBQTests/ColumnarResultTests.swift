import Foundation
import Testing
@testable import KBQ

/// A result of stored rows keeps its text by column (``ColumnarRows``) and is drawn from the
/// KB's bytes: every format must read exactly as it does from the values, and damage found
/// while gathering must fail the statement, not go unseen until the table is drawn.
@Suite struct ColumnarResultTests {
    /// Text of every kind a renderer treats apart: plain, empty, null, a backslash and a
    /// written `\n`, a tab, a line break, an escape, accents and wide characters, text too
    /// long for a column, a leading `=` or `-` (CSV guards those), commas and quotes.
    static func csv() -> String {
        let texts = ["plain words", "", "back\\slash", "written \\n break", "tab\there", "line\nbreak", "esc\u{1B}[31m",
                     "café Pyŏngyang", "朝鮮 民主主義", String(repeating: "long-worded text ", count: 12), "=SUM(A1)", "-dash",
                     "comma, inside", "quote \"inside\"", "crlf\r\nhere", "x"]
        var out = "id,topic,n,day,text\n"
        for i in 0..<75 {
            let text = texts[i % texts.count]
            let quoted = "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            out += "r\(String(format: "%03d", (i * 37) % 75)),\(i % 4 == 0 ? "" : "t\(i % 5)"),\(i % 6 == 0 ? "" : String(i * 250)),2024-0\(i % 9 + 1)-1\(i % 10),\(i % 7 == 3 ? "" : quoted)\n"
        }
        return out
    }

    /// The same result with its rows made as values: how every result was kept before.
    static func made(_ r: ResultTable) -> ResultTable {
        ResultTable(columns: r.columns, rows: r.rows, title: r.title, notes: r.notes, summaries: r.summaries, chart: r.chart)
    }

    static func results(_ statement: String, kb: KnowledgeBase) -> [ResultTable] {
        var session = Session(kb: kb)
        var out: [ResultTable] = []
        let d = session.run(SourceText(statement, name: "t.kbq")) { if case .result(let r) = $0 { out.append(r) } }
        #expect(d.isEmpty, "\(statement): \(d.map(\.message))")
        return out
    }

    @Test func storedRowsDrawAsTheirValuesDo() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/rows.csv", Self.csv())
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        try kb.writeCompiled(to: dir + "/rows.kbqdb")
        let compiled = try KnowledgeBase(contentsOfCompiledFile: dir + "/rows.kbqdb")
        let displays = [DisplayOptions(), DisplayOptions(headers: false, nullText: "NULL", expanded: .on), DisplayOptions(expanded: .off)]
        for source in [kb, compiled] {
            for statement in ["rows", "rows sort by id", "rows where topic != \"t1\" sort by text, id"] {
                for r in Self.results(statement, kb: source) {
                    // The path under test is taken (else this test could not fail).
                    #expect(r.columnar != nil && r.rowCount >= Rows.gatheredFrom, "\(statement)")
                    let m = Self.made(r)
                    #expect(m.columnar == nil && m.rows == r.rows)
                    for width in [nil, 40, 100, 400] as [Int?] {
                        for display in displays {
                            #expect(r.rendered(as: .table, width: width, color: width == 100, display: display)
                                    == m.rendered(as: .table, width: width, color: width == 100, display: display), "\(statement) \(String(describing: width))")
                        }
                    }
                    for terminal in [false, true] {
                        #expect(r.rendered(as: .csv, forTerminal: terminal) == m.rendered(as: .csv, forTerminal: terminal), "\(statement)")
                    }
                    #expect(r.rendered(as: .json) == m.rendered(as: .json))
                    #expect(r.rendered(as: .markdown) == m.rendered(as: .markdown))
                    // Encoded alike.
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    #expect(try encoder.encode(r) == (try encoder.encode(m)))
                    #expect(r.column("text") == m.column("text"))
                }
            }
        }
        // Cut to its first rows (a shell showing a long result) without making them.
        for source in [kb, compiled] {
            var r = try #require(Self.results("rows sort by id", kb: source).first)
            let m = Self.made(r)
            r.keepFirstRows(40)
            #expect(r.columnar != nil && r.rowCount == 40 && r.rows == Array(m.rows.prefix(40)) && r.originRow(39) != nil && r.originRow(40) == nil)
            var n = m
            n.keepFirstRows(40)
            #expect(n.rendered(as: .table, width: 100) == r.rendered(as: .table, width: 100))
        }
        // A known cell, read through the column.
        let r = try #require(Self.results("rows sort by id", kb: compiled).first)
        let i = try #require(r.columnIndex("id"))
        #expect(r.value(row: 0, column: i) == .string("r000"))
    }

    /// A few rows over a large text column of a compiled file: their strings are copied from
    /// the file (not read through the mapping) and read exactly as the CSV's.
    @Test func scatteredTextIsCopiedFromTheFile() throws {
        let dir = temporaryDirectory(#function)
        var csv = "id,topic,text\n"
        for i in 0..<2_000 {
            let text = i % 11 == 0 ? "" : "\"row \(i): " + String(repeating: i % 3 == 0 ? "Pyŏngyang, \"\"quoted\"\" " : "plain words ", count: 30) + "\""
            csv += "r\(String(format: "%04d", i)),t\(i * 7919 % 41),\(text)\n"
        }
        writeFile(dir + "/rows.csv", csv)
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        try kb.writeCompiled(to: dir + "/rows.kbqdb")
        let compiled = try KnowledgeBase(contentsOfCompiledFile: dir + "/rows.kbqdb")
        let statement = "rows where topic = \"t7\" sort by id"
        let r = try #require(Self.results(statement, kb: compiled).first)
        let fromCSV = try #require(Self.results(statement, kb: kb).first)
        let t = try #require(r.columnIndex("text"))
        guard case .copied(let ids, _, _)? = r.columnar?.columns[t] else { Issue.record("the text was not copied"); return }
        #expect(ids.count == r.rowCount && r.rowCount >= Rows.gatheredFrom && ids.contains(StringPool.null))
        #expect(r.rows == fromCSV.rows)
        for format in [OutputFormat.table, .csv, .json, .markdown] {
            #expect(r.rendered(as: format, width: 100) == fromCSV.rendered(as: format, width: 100), "\(format)")
            #expect(r.rendered(as: format, width: 100) == Self.made(r).rendered(as: format, width: 100), "\(format)")
        }
    }

    /// CSV guards a field a spreadsheet would run as a formula and quotes one that holds a
    /// line break, a "\r\n" too (one Character, neither "\r" nor "\n").
    @Test func csvFieldsAreGuardedAndQuoted() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/rows.csv", Self.csv())
        let kb = try KnowledgeBase(contentsOfFile: dir + "/rows.csv")
        let csv = try #require(Self.results("rows", kb: kb).first).rendered(as: .csv)
        #expect(csv.contains(",'=SUM(A1)\r\n") && csv.contains(",'-dash\r\n") && csv.contains(",\"crlf\r\nhere\"\r\n"))
        #expect(csv.contains(",\"comma, inside\"\r\n") && csv.contains(",\"quote \"\"inside\"\"\"\r\n"))
        #expect(CSVRenderer.field("-5%") == "-5%" && CSVRenderer.field("-5x") == "'-5x" && CSVRenderer.field("+1") == "'+1")
    }

    /// A string whose offsets a damaged file puts out of bounds, among many rows gathered by
    /// column: the statement that gathers them fails, naming the column.
    @Test func damagedTextAmongGatheredRowsFailsTheStatement() throws {
        let dir = temporaryDirectory(#function)
        writeFile(dir + "/rows.csv", Self.csv())
        let path = dir + "/rows.kbqdb"
        try KnowledgeBase(contentsOfFile: dir + "/rows.csv").writeCompiled(to: path)
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        guard let t = schema.collections[0].fields.firstIndex(where: { $0.name == "text" }),
              case .string(_, _, let offsets, _, _) = schema.collections[0].columns[t] else { Issue.record("no text column"); return }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // The second string's end: far past the strings' bytes.
        bytes[offsets.offset + 4 + 3] = 0x7F
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let damaged = try KnowledgeBase(contentsOfCompiledFile: path)
        let d = diagnostics("rows sort by id", kb: damaged)
        #expect(d.first?.kind == .invalidKB && d.first?.problem == .damaged, "\(d.map(\.message))")
        #expect(d.first?.message.contains("rows.text") == true, "\(d.first?.message ?? "")")
    }
}
