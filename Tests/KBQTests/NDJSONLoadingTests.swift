import Testing
@testable import KBQ
#if canImport(Glibc)
import Glibc
#endif

// Collections whose rows come from an NDJSON file (`"file": "rows.ndjson"`, one row object
// per line): every kind of line ending, errors with their line, lines that cross the
// reader's 1 MiB chunks, and a file of many lines read in time linear in its size.

private let rowFields = #"{"id": "string", "value": "number", "tags": {"list": "string"}, "ok": "bool"}"#

/// Writes `bytes` to `path`.
private func writeBytes(_ path: String, _ bytes: [UInt8]) {
    let f = fopen(path, "w")
    bytes.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

/// Loads a KB whose one collection `t` reads its rows from `file`, holding `rows`.
private func load(rows: [UInt8], file: String = "rows.ndjson", fields: String = rowFields, directory: String) -> Result<KnowledgeBase, KBLoadError> {
    writeBytes(directory + "/" + file, rows)
    writeFile(directory + "/kb.json", #"{"kbq": 1, "collections": {"t": {"key": "id", "fields": \#(fields), "file": "\#(file)"}}}"#)
    do throws(KBLoadError) {
        return .success(try KnowledgeBase(contentsOfFile: directory + "/kb.json"))
    } catch {
        return .failure(error)
    }
}

private func load(_ text: String, file: String = "rows.ndjson", directory: String) -> Result<KnowledgeBase, KBLoadError> {
    load(rows: Array(text.utf8), file: file, directory: directory)
}

/// Every row of `text` run on `kb`, each cell as text.
private func cells(_ kb: KnowledgeBase, _ text: String) -> [[String]] {
    query(text, kb: kb).rows.map { $0.map(\.plainText) }
}

@Suite struct NDJSONLoadingTests {
    @Test func everyLineEndingBlankLinesAndNoFinalNewline() throws {
        let text = "{\"id\": \"a\", \"value\": 1, \"tags\": [\"x\"], \"ok\": true}\n"
            + "\n   \t\n"
            + "{\"id\": \"b\", \"value\": 2.5, \"tags\": [], \"ok\": false}\r\n"
            + "\r\n"
            + "{\"ok\": null, \"tags\": null, \"value\": null, \"id\": \"c\"}"
        let dir = temporaryDirectory()
        for file in ["rows.ndjson", "rows.jsonl", "ROWS.NDJSON"] {
            let kb = try load(text, file: file, directory: dir).get()
            #expect(cells(kb, "t select id, value, tags, ok") == [["a", "1", "x", "true"], ["b", "2.5", "", "false"], ["c", "", "", ""]], "\(file)")
        }
        // An empty file and a file of blank lines are collections without rows.
        for empty in ["", "\n", "\r\n\n  \n"] {
            let kb = try load(empty, directory: dir).get()
            #expect(cells(kb, "t aggregate count() as n") == [["0"]], "\(empty.debugDescription)")
        }
    }

    @Test func problemsAreListedWithTheirLine() {
        let text = """
            {"id": "a", "value": 1, "tags": [], "ok": true}
            {"id": "b", "value": 2,
            [1, 2]
            {"id": "d", "value": 4, "tags": []}
            {"id": "e", "value": 5, "tags": [], "ok": true, "colour": "red"}
            {"id": "f", "value": "six", "tags": [], "ok": true}

            {"id": "h", "value": 8, "tags": [], "ok": true}
            """
        switch load(text, directory: temporaryDirectory()) {
        case .success: Issue.record("loaded an NDJSON file with bad lines")
        case .failure(let error):
            #expect(error.problems.map(\.path) == ["rows.ndjson:2", "rows.ndjson:3", "rows.ndjson:4", "rows.ndjson:5.colour", "rows.ndjson:6.value"])
            // A syntax error names its column as well as its line.
            #expect(error.problems[0].message == "not valid JSON at column 24: unexpected end of file inside an object", "\(error.problems)")
            #expect(error.problems.map(\.kind) == [.syntax, .typeMismatch, .missing, .unknownField, .typeMismatch])
        }
    }

    @Test func aFieldGivenTwiceOnALineIsRefusedAsInAKBFile() {
        // Rows inside a KB file refuse it; a rows file kept the first value unsaid.
        let text = #"{"id": "a", "value": 1, "value": 2, "tags": [], "ok": true}"# + "\n"
        guard case .failure(let e) = load(text, directory: temporaryDirectory()) else { Issue.record("loaded"); return }
        #expect(e.problems.map(\.path) == ["rows.ndjson:1.value"], "\(e.problems)")
        #expect(e.problems.first?.kind == .duplicateName)
    }

    @Test func linesAcrossChunkBoundariesAndLongerThanAChunk() throws {
        // The reader takes the file 1 MiB at a time: lines of every length fall across the
        // chunk boundaries, and one line (2.5 MiB) is longer than a chunk.
        var bytes: [UInt8] = []
        var expectedSum = 0
        var expectedLength = 0
        for i in 0..<3_000 {
            let pad = i == 1_234 ? 5 << 19 : (i * 37) % 2_000
            let line = "{\"id\": \"r\(i)\", \"value\": \(i), \"note\": \"\(String(repeating: "p", count: pad))\", \"ok\": \(i % 2 == 0)}"
            bytes += Array(line.utf8)
            bytes += i % 3 == 0 ? [0x0D, 0x0A] : [0x0A]
            expectedSum += i
            if i == 1_234 { expectedLength = pad }
        }
        #expect(bytes.count > 5 << 20)
        let noted = #"{"id": "string", "value": "number", "note": "string", "ok": "bool"}"#
        let kb = try load(rows: bytes, fields: noted, directory: temporaryDirectory()).get()
        #expect(cells(kb, "t aggregate count() as n, sum(value) as s") == [["3000", String(expectedSum)]])
        #expect(cells(kb, "t where id = \"r1234\" select len(note) as n") == [[String(expectedLength)]])
        #expect(cells(kb, "t where id = \"r2999\" select value, ok") == [["2999", "false"]])
        unlink(temporaryDirectory() + "/rows.ndjson")
    }

    @Test func aFileOfManyLinesLoadsInLinearTime() throws {
        // Each line used to be removed from the front of the read buffer, moving the rest
        // of its 1 MiB chunk: about 100 GB of copying for this 11 MB file.
        let lines = 200_000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines * 56)
        for i in 0..<lines {
            bytes += Array("{\"id\": \"r\(i)\", \"value\": \(i % 1000), \"tags\": [], \"ok\": true}\n".utf8)
        }
        let dir = temporaryDirectory()
        var result: Result<KnowledgeBase, KBLoadError>?
        let elapsed = threadCPUSeconds { result = load(rows: bytes, directory: dir) }
        let kb = try #require(try result?.get())
        #expect(cells(kb, "t aggregate count() as n, sum(value) as s") == [[String(lines), String(lines / 1000 * 499_500)]])
        #expect(cells(kb, "t where id = \"r199999\" select value") == [["999"]])
        unlink(dir + "/rows.ndjson")
        // A debug build loads it in about a second; the old reader took over ten.
        #expect(elapsed < 5, "\(elapsed) s of CPU time")
    }
}
