import Testing
@testable import KBQ
import KBQTestSupport

// JSON rows read straight from their bytes (JSONRowScanner): the scanner must never take a
// row the full parser refuses, must read what it takes exactly as the parser does, and must
// leave every unusual row (escapes, nesting, repeated or unknown fields, bad UTF-8 …) to
// the parser, whose errors keep their words, lines and paths. And the same rows give the
// same answers whatever shape they come in: CSV, NDJSON, a JSON array, gen.py's
// {"collections": …}, a KB file's rows, a KB's NDJSON rows file.

private let fields = [
    Field(name: "id", type: .string, qualifierField: nil, upperField: nil),
    Field(name: "value", type: .number(), qualifierField: nil, upperField: nil),
    Field(name: "ok", type: .bool, qualifierField: nil, upperField: nil),
]

/// What the scanner makes of `text`: nil when it leaves the row to the parser, else each
/// field's value as the parser would give it.
private func scanned(_ text: String) -> [String: JSON]? {
    var scanner = JSONRowScanner(fields: fields)
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { row -> [String: JSON]? in
        guard scanner.scan(row) else { return nil }
        var builders = fields.map { ColumnBuilder(field: $0, hedges: .standard, capacity: 0) }
        guard scanner.append(to: &builders, row: row, lenient: true) else { return [:] }
        var out: [String: JSON] = [:]
        for (f, b) in zip(fields, builders) {
            switch b.storage {
            case .string(let ids, let pool): out[f.name] = ids[0] == StringPool.null ? .null : .string(pool[ids[0]])
            case .number(let d): out[f.name] = d[0].isNaN ? .null : .number(d[0])
            case .bool(let s): out[f.name] = s[0] == 2 ? .null : .bool(s[0] == 1)
            default: out[f.name] = .null
            }
        }
        return out
    }
}

/// The parser's reading of `text` as a row, for comparison: nil when it refuses it.
private func parsed(_ text: String) -> [String: JSON]? {
    guard case .object(let members)? = try? JSONParser.parse(Array(text.utf8)) else { return nil }
    var out: [String: JSON] = [:]
    for f in fields { out[f.name] = .null }
    for (k, v) in members { out[k] = v }
    return out
}

private func same(_ a: JSON?, _ b: JSON?) -> Bool {
    switch (a, b) {
    case (.null?, .null?), (nil, nil): return true
    case (.string(let x)?, .string(let y)?): return x == y
    case (.number(let x)?, .number(let y)?): return x == y
    case (.bool(let x)?, .bool(let y)?): return x == y
    default: return false
    }
}

private func load(_ path: String) -> Result<KnowledgeBase, KBLoadError> {
    do throws(KBLoadError) { return .success(try KnowledgeBase(contentsOfFile: path)) } catch { return .failure(error) }
}

@Suite struct JSONRowScannerTests {
    @Test func whatTheScannerTakesItReadsAsTheParserDoes() {
        let rows = [
            #"{"id": "a", "value": 1, "ok": true}"#,
            #"  {"value":-0.5e+3,"id":"b","ok":false}  "#,
            #"{"id": "c", "value": 1E2}"#,
            #"{"id": "d", "value": 12345678901234567890.5, "ok": null}"#,
            #"{"id": "e\"q\\\/\b\f\n\r\t", "value": 0}"#,
            #"{"id": "\u00e9\u4e2d\ud83d\ude00", "value": 0.1}"#,
            "{\"id\": \"caf\u{E9} \u{1F600}\", \"value\": 2}",
            #"{}"#,
            "{\t\"id\"\r\n:\n\"x\"\t}",
        ]
        for row in rows {
            let s = scanned(row)
            #expect(s != nil, "\(row)")
            guard let s, let p = parsed(row) else { Issue.record("parser refused \(row)"); continue }
            for f in fields { #expect(same(s[f.name], p[f.name]), "\(row): \(f.name) \(String(describing: s[f.name])) vs \(String(describing: p[f.name]))") }
        }
    }

    @Test func everyRowTheParserRefusesOrThatNeedsWordsIsLeftToIt() {
        let rows = [
            // Not JSON.
            #"{"id": "a", "value": 01}"#, #"{"id": "a", "value": 1.}"#, #"{"id": "a", "value": 1e}"#, #"{"id": "a", "value": -}"#,
            #"{"id": "a", "value": 1e400}"#, #"{"id": "a", "value": .5}"#, #"{"id": "a", "value": +1}"#,
            #"{"id": "a\x"}"#, #"{"id": "\ud800"}"#, #"{"id": "\udc00\ud800"}"#, #"{"id": "\ud83d\u0041"}"#, #"{"id": "\u12G4"}"#,
            "{\"id\": \"a\u{0}b\"}", "{\"id\": \"a\nb\"}", "{\"id\": \"a\"}\u{0}", "{\"id\"\u{0}: \"a\"}",
            #"{"id": "a""#, #"{"id": "a","#, #"{"id": "a"} x"#, #"{"id": tru}"#, #"{"id": nul}"#, #"{"id": "a",}"#,
            #"{"id" "a"}"#, #"{id: "a"}"#, #"["a"]"#, #""a""#, "", "{",
            // Valid, but not the scanner's: nesting, repeated, unknown or escaped names.
            #"{"id": ["a"]}"#, #"{"id": {"x": 1}}"#, #"{"id": "a", "id": "b"}"#, #"{"colour": "red"}"#, #"{"\u0069d": "a"}"#,
        ]
        for row in rows { #expect(scanned(row) == nil, "\(row)") }
        // Bytes that are not UTF-8, in a value or a name.
        for bad: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            for row in [Array(#"{"id": ""#.utf8) + bad + Array(#""}"#.utf8), Array(#"{""#.utf8) + bad + Array(#"": 1}"#.utf8),
                        Array(#"{"id": "a long string before it: "#.utf8) + bad + Array(#" and after it"}"#.utf8)] {
                var scanner = JSONRowScanner(fields: fields)
                #expect(!row.withUnsafeBufferPointer { scanner.scan($0) }, "\(bad)")
                #expect((try? JSONParser.parse(row)) == nil)
            }
        }
        // Values of another kind than the field's: the value-by-value append says so.
        #expect(scanned(#"{"id": 7}"#)?.isEmpty == true)
        #expect(scanned(#"{"value": "7"}"#)?.isEmpty == true)
        #expect(scanned(#"{"ok": 1}"#)?.isEmpty == true)
    }

    /// Random rows, many of them broken by a byte changed, dropped or doubled: whatever the
    /// scanner takes, the parser takes and reads alike.
    @Test func scannerNeverTakesWhatTheParserRefuses() {
        var rng = SplitMix(seed: 21)
        let pieces = [#"{"#, #"}"#, #"""#, #"id"#, #"value"#, #"ok"#, #":"#, #","#, " ", "\n", #"\"#, #"u00e9"#, #"ud83d"#, "1", "0",
                      "-", ".", "e", "+", "true", "false", "null", "[", "]", "\u{E9}", "\u{0}", "\u{7F}"]
        var taken = 0
        for _ in 0..<20_000 {
            var row = #"{"id": "x", "value": 1.5, "ok": true}"#
            if rng.next() % 4 != 0 {
                var bytes = Array(row.utf8)
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let at = Int(rng.next() % UInt64(bytes.count + 1))
                    switch rng.next() % 3 {
                    case 0: bytes.insert(contentsOf: Array(pieces[Int(rng.next() % UInt64(pieces.count))].utf8), at: at)
                    case 1: if at < bytes.count { bytes.remove(at: at) }
                    default: if at < bytes.count { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
                    }
                }
                row = String(decoding: bytes, as: UTF8.self)
            }
            guard let s = scanned(row) else { continue }
            guard let p = parsed(row) else { Issue.record("scanner took a row the parser refuses: \(row.debugDescription)"); continue }
            if s.isEmpty { continue }  // taken by the scanner, then handed back by the builders
            taken += 1
            for f in fields { #expect(same(s[f.name], p[f.name]), "\(row.debugDescription): \(f.name)") }
        }
        #expect(taken > 4_000)
    }

    @Test func problemsInRowsKeepTheirWordsAndPaths() {
        let dir = temporaryDirectory()
        // A KB file's rows: a syntax error anywhere is the document's, with line and column.
        writeFile(dir + "/kb.json", """
            {"kbq": 1, "collections": {"t": {"key": "id", "fields": {"id": "string", "value": "number"}, "rows": [
            {"id": "a", "value": 1},
            {"id": "b", "value": 01}
            ]}}}
            """)
        #expect(load(dir + "/kb.json").failureProblems == ["$: not valid JSON at line 3, column 22: numbers may not start with 0"])
        // … even in a collection declared twice, whose rows are never read.
        writeFile(dir + "/kb.json", """
            {"kbq": 1, "collections": {"t": {"fields": {"id": "string"}, "rows": []},
             "t": {"fields": {"id": "string"}, "rows": [{"id": "\\q"}]}}}
            """)
        #expect(load(dir + "/kb.json").failureProblems == [#"$: not valid JSON at line 2, column 55: invalid escape '\q'"#])
        // Nesting is bounded as deep in a row as in the whole document.
        let deep = String(repeating: "[", count: 252) + String(repeating: "]", count: 252)
        writeFile(dir + "/kb.json", #"{"kbq": 1, "collections": {"t": {"fields": {"id": "string"}, "rows": [{"id": \#(deep)}]}}}"#)
        #expect(load(dir + "/kb.json").failureProblems.first?.hasSuffix("nesting deeper than 256 levels") == true)
        // Each row's own problems, in order, with their paths.
        writeFile(dir + "/kb.json", """
            {"kbq": 1, "collections": {"t": {"key": "id", "fields": {"id": "string", "value": "number", "hedge": "hedge", "when": "date"}, "rows": [
            {"id": "a", "value": 1, "hedge": "likely", "when": "2024-06"},
            {"id": "b", "value": "2", "hedge": "likely", "when": "2024-06"},
            {"id": "c", "value": 3, "hedge": "sure-ish", "when": "2024-06"},
            {"id": "d", "value": 4, "hedge": "likely", "when": "June"},
            {"id": "e", "value": 5, "hedge": "likely"},
            {"id": "f", "value": 6, "hedge": "likely", "when": "2024", "id": "g"},
            {"id": "h", "value": 7, "hedge": "likely", "when": "2024", "colour": "red"},
            {"id": "i\\u00e9", "value": 8e1, "hedge": "LIKELY", "when": {"from": "2024", "to": "2025"}}
            ]}}}
            """)
        #expect(load(dir + "/kb.json").failureProblems == [
            "$.collections.t.rows[1].value: expected number, found string \"2\"",
            "$.collections.t.rows[2].hedge: unknown hedge word 'sure-ish'; the KB's hedge words are: \(ColumnBuilder.listing(.standard))",
            "$.collections.t.rows[3].when: expected a date (\"2024\", \"2024-06\" or \"2024-06-19\"), found string \"June\"",
            "$.collections.t.rows[4]: missing field 'when' (give null for no value)",
            "$.collections.t.rows[5].id: field given twice",
            "$.collections.t.rows[6].colour: unknown field 'colour' in 't'",
        ])
    }

    @Test func theSameRowsGiveTheSameAnswersInEveryShape() throws {
        // More rows than the type sample and the point where columns are sized for the file.
        let dir = temporaryDirectory()
        var rng = SplitMix(seed: 7)
        let hedges = ["likely", "stated", "by some estimates", "claimed"]
        let quals = ["", "over", "about", "up to"]
        var csv = "id,topic,source,value,qualifier,date,hedge,text\n"
        var ndjson = "", declaredRows: [String] = []
        for r in 0..<25_000 {
            let topic = "topic-\(rng.next() % 40)", source = "source-\(rng.next() % 9)"
            let value = Double(rng.next() % 100_000) / 10
            let qualifier = quals[Int(rng.next() % 4)], hedge = hedges[Int(rng.next() % 4)]
            let date = "20\(10 + rng.next() % 15)-0\(1 + rng.next() % 9)-1\(rng.next() % 9)"
            // Some text needs quoting in CSV and escapes in JSON.
            let text = r % 97 == 0 ? "said \"\(r)\", é\\" : "report \(r) on \(topic)"
            let csvText = "\"" + String(text.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] }) + "\""
            csv += "e\(r),\(topic),\(source),\(shortestDescription(value)),\(qualifier),\(date),\(hedge),\(csvText)\n"
            let jsonText = jsonQuote(text)
            func row(_ q: String) -> String {
                #"{"id":"e\#(r)","topic":"\#(topic)","source":"\#(source)","value":\#(shortestDescription(value)),"qualifier":\#(q),"date":"\#(date)","hedge":"\#(hedge)","text":\#(jsonText)}"#
            }
            ndjson += row("\"\(qualifier)\"") + "\n"
            declaredRows.append(row(qualifier.isEmpty ? "null" : "\"\(qualifier)\""))
        }
        let lines = ndjson.split(separator: "\n").map(String.init)
        writeFile(dir + "/estimates.csv", csv)
        writeFile(dir + "/estimates.ndjson", ndjson)
        writeFile(dir + "/estimates.json", "[\n" + lines.joined(separator: ",\n") + "\n]\n")
        writeFile(dir + "/kb.json", "{\"collections\": {\"estimates\": [\n" + lines.joined(separator: ",\n") + "\n]}}\n")
        let declared = #""key": "id", "measure": "value", "fields": {"id": "string", "topic": "string", "source": "string", "value": {"type": "number", "qualifier": "qualifier"}, "qualifier": "string", "date": "date", "hedge": "hedge", "text": "string"}"#
        writeFile(dir + "/declared.json", #"{"kbq": 1, "collections": {"estimates": {\#(declared), "rows": ["# + "\n" + declaredRows.joined(separator: ",\n") + "\n]}}}\n")
        writeFile(dir + "/file.json", #"{"kbq": 1, "collections": {"estimates": {\#(declared), "file": "declared.ndjson"}}}"#)
        writeFile(dir + "/declared.ndjson", declaredRows.joined(separator: "\n"))
        let queries = [
            #"estimates where topic = "topic-3" compare source"#,
            #"estimates where topic = "topic-3" select id, value, date, hedge, text sort by id"#,
            "estimates group by topic aggregate count() as n, sum(value) as s sort by n desc, topic limit 10",
            #"estimates where text contains "said" select id, text sort by id"#,
            "estimates where hedge >= likely and date >= 2020-01 select id, value sort by value desc, id limit 20",
        ]
        let csvKB = try load(dir + "/estimates.csv").get()
        for file in ["estimates.ndjson", "estimates.json", "kb.json", "declared.json", "file.json"] {
            let kb = try load(dir + "/" + file).get()
            #expect(kb.collection("estimates")?.fields.map { "\($0.name): \($0.type)" } == csvKB.collection("estimates")?.fields.map { "\($0.name): \($0.type)" }, "\(file)")
            for q in queries {
                let want = query(q, kb: csvKB), got = query(q, kb: kb)
                #expect(!want.rows.isEmpty, "\(q)")
                #expect(got.rows.map { $0.map(\.plainText) } == want.rows.map { $0.map(\.plainText) }, "\(file): \(q)")
                #expect("\(got.summaries)" == "\(want.summaries)", "\(file): \(q)")
            }
        }
    }

    /// Columns read in parts side by side (FileParts) are the columns one pass reads: split
    /// at many places, through every kind of column (text, number, percent, date, bool,
    /// hedge, reference, and in NDJSON a list), ids in order until the last row breaks the
    /// order (as "e10000000" does after "e9999999"), repeated words, near-unique text,
    /// nulls, and — in CSV — line feeds inside quoted fields, where a part may not start.
    /// The join moves each later part's column into the first part's and gives its pages
    /// back as it goes: what is moved must arrive whole.
    @Test func partsReadSideBySideJoinAsOnePassReads() throws {
        #expect(ParallelWork.width > 1, "this test needs two cores to read parts side by side")
        let dir = temporaryDirectory()
        let csvFields: [Field] = [("id", FieldType.string), ("topic", .string), ("value", .number()), ("share", .percent), ("ok", .bool),
                                  ("date", .date), ("hedge", .hedge), ("other", .ref("others")), ("text", .string)]
            .map { Field(name: $0.0, type: $0.1, qualifierField: nil, upperField: nil) }
        let ndjsonFields = csvFields + [Field(name: "tags", type: .list(.string), qualifierField: nil, upperField: nil)]
        var rng = SplitMix(seed: 3)
        var csv = "id,topic,value,share,ok,date,hedge,other,text\n", ndjson = ""
        let rows = 3_000
        for r in 0..<rows {
            let id = r == rows - 1 ? "q-last" : "r\(String(repeating: "0", count: 5 - String(r).count))\(r)"
            let topic = "t\(rng.below(30))", value = rng.below(10) == 0 ? "" : "\(rng.below(1000))"
            let share = rng.below(7) == 0 ? "" : "\(rng.below(1000)).\(rng.below(10))"
            let ok = ["true", "false", ""][rng.below(3)]
            let date = ["", "2024", "2023-06", "20\(10 + rng.below(15))-0\(1 + rng.below(9))-1\(rng.below(10))"][rng.below(4)]
            let hedge = ["", "likely", "reportedly", "by some estimates", "confirmed"][rng.below(5)]
            let other = rng.below(6) == 0 ? "" : "o\(rng.below(5_000))"
            let text = rng.below(5) == 0 ? "line one\nline \"two\" of \(r)" : "text \(r)"
            let tags = (0..<rng.below(3)).map { _ in jsonQuote("g\(rng.below(8))") }.joined(separator: ",")
            csv += "\(id),\(topic),\(value),\(share)\(share.isEmpty ? "" : "%"),\(ok),\(date),\(hedge),\(other),\"\(String(text.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] }))\"\n"
            func string(_ v: String) -> String { v.isEmpty ? "null" : jsonQuote(v) }
            ndjson += #"{"id":"\#(id)","topic":"\#(topic)","value":\#(value.isEmpty ? "null" : value),"share":\#(share.isEmpty ? "null" : share),"ok":\#(ok.isEmpty ? "null" : ok),"date":\#(string(date)),"hedge":\#(string(hedge)),"other":\#(string(other)),"text":\#(jsonQuote(text)),"tags":[\#(tags)]}"# + "\n"
        }
        writeFile(dir + "/rows.csv", csv)
        writeFile(dir + "/rows.ndjson", ndjson)
        func columns(_ builders: [ColumnBuilder]) -> [[String]] {
            builders.map { b in
                switch b.storage {
                case .string(let ids, let pool), .ref(let ids, let pool): return ids.map { $0 == StringPool.null ? "∅" : pool[$0] }
                case .number(let d): return d.map { $0.isNaN ? "∅" : "\($0)" }
                case .date(let d): return d.map { $0 == ColumnData.nullDate ? "∅" : "\($0)" }
                case .bool(let s), .hedge(let s): return s.map { "\($0)" }
                case .list(let l): return l.map { $0.map { "\($0)" } ?? "∅" }
                }
            }
        }
        func read(_ file: String, partBytes: Int) throws -> [[String]] {
            let fields = file.hasSuffix(".csv") ? csvFields : ndjsonFields
            var builders = fields.map { ColumnBuilder(field: $0, hedges: .standard, capacity: 0) }
            for i in builders.indices where fields[i].name == "text" { builders[i].mayDropIndex = true }
            var problems = ProblemList()
            let path = dir + "/" + file
            if file.hasSuffix(".csv") {
                var reader = CSVReader(input: try FileInput(path: path), name: file)
                try reader.read(fields: fields, into: &builders, problems: &problems, partBytes: partBytes, whenIdle: false)
            } else {
                try NDJSONReader.read(try FileInput(path: path), fields: fields, into: &builders, problems: &problems, name: file, path: path,
                                      partBytes: partBytes, whenIdle: false)
            }
            #expect(problems.isEmpty, "\(problems.items.prefix(3))")
            return columns(builders)
        }
        // The files are read in parts, not in one pass under another name.
        #expect(FileParts.read(path: dir + "/rows.ndjson", partBytes: 10_000, whenIdle: false, makeBuilders: { [] }, { _, _, _, _, _ in true }) != nil)
        for file in ["rows.csv", "rows.ndjson"] {
            let whole = try read(file, partBytes: .max)
            #expect(whole.map(\.count) == Array(repeating: rows, count: file.hasSuffix(".csv") ? csvFields.count : ndjsonFields.count))
            #expect(whole[0].last == "q-last" && whole[5].contains("2024"))
            if file.hasSuffix(".ndjson") { #expect(whole.last?.contains(where: { $0.contains("g7") }) == true) }
            for partBytes in [1_000, 4_093, 10_000, 33_333, 60_000, 150_000] {
                #expect(try read(file, partBytes: partBytes) == whole, "\(file), parts of \(partBytes) bytes")
            }
        }
    }

    @Test func partsAreChosenByWhatRunsNowNotByTheLastMinute() {
        // /proc/loadavg's fourth field counts the threads running now, the reader among them.
        #expect(FileParts.runningField(Array("0.50 1.41 1.51 2/345 12345\n".utf8)) == 2)
        #expect(FileParts.runningField(Array("7.90 6.00 3.95 11/1200 99".utf8)) == 11)
        #expect(FileParts.runningField(Array("0.50 1.41 1.51 x/345 1".utf8)) == nil)
        #expect(FileParts.runningField(Array("0.50 1.41".utf8)) == nil)
        #expect(FileParts.runningField(Array("0.50 1.41 1.51 /345 1".utf8)) == nil)
        // This process's own thread is running while it reads the file, so the count is
        // known here (Linux) and never negative.
        #expect((FileParts.othersRunnable() ?? -1) >= 0)
    }

    @Test func aMovedColumnOfTextArrivesWholeWhileItsSourceIsGivenBack() {
        // Two parts of a text column are joined by moving the second's bytes, giving its
        // pages back as they are copied: more than one chunk (8 MiB), an odd length, and a
        // target that already holds bytes, so that page edges fall anywhere.
        let n = 20_000_003
        func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: i &* 7 &+ i >> 13) }
        var source = [UInt8](unsafeUninitializedCapacity: n) { b, count in
            for i in 0..<n { b[i] = byte(i) }
            count = n
        }
        var target: [UInt8] = Array("head".utf8)
        moveReleasing(&source, to: &target)
        #expect(source.isEmpty)
        #expect(target.count == n + 4)
        #expect(Array(target.prefix(4)) == Array("head".utf8))
        var wrong = 0
        for i in 0..<n where target[i + 4] != byte(i) { wrong += 1 }
        #expect(wrong == 0)
    }
}

private extension Result where Failure == KBLoadError {
    /// The problems of a failed load, as "PATH: MESSAGE"; empty when it loaded.
    var failureProblems: [String] {
        guard case .failure(let e) = self else { return [] }
        return e.problems.map { "\($0.path): \($0.message)" }
    }
}
