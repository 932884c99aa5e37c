// libFuzzer target: bytes as a KB file, through the JSON KB loader (whose rows, and bare
// JSON rows, go through JSONRowScanner, checked against the full parser) and, as further
// readings of the same bytes, the CSV and NDJSON readers with type inference (through a
// temporary file, as `kbq --kb data.csv` reads it), and as a compiled KB file (`kbq build`),
// opened with its checksums and without (so that mutations reach the bounds checks behind
// them), and from memory as the article KB in kbq's binary is (each collection's record read
// when first reached); a JSON KB that loads is also compiled and opened again. A KB that loads is queried a little, so that
// what the loader accepted is also something the engine can run on. scripts/fuzz.sh
// compiles this file together with Sources/KBQ into one module.

#if canImport(Glibc)
import Glibc
#endif

private let directory: String = {
    let dir = "/tmp/kbq-kbfuzzer-\(getpid())"
    mkdir(dir, 0o700)
    return dir
}()
private let csvPath = directory + "/fuzz.csv"
private let ndjsonPath = directory + "/fuzz.ndjson"
private let compiledPath = directory + "/fuzz.kbqdb"
private let recompiledPath = directory + "/again.kbqdb"

/// KB files whose rows are the fuzzed bytes, read as CSV and as NDJSON against declared
/// fields of every type.
private let declaredKBPaths: [String] = ["rows.csv", "rows.ndjson"].map { rows in
    let path = directory + "/" + rows + ".kb.json"
    let json = """
    {"kbq": 1, "hedges": ["confirmed", {"word": "likely", "aliases": ["may"]}, "unknown"], "collections": {
      "t": {"key": "id", "measure": "value", "fields": {"id": "string", "value": {"type": "number", "qualifier": "qualifier", "upper": "high"},
            "qualifier": "string", "high": "number", "share": "percent", "date": "date", "ok": "bool", "hedge": "hedge",
            "tags": {"list": "string"}, "other": {"ref": "t"}}, "file": "\(rows)"}}}
    """
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = json.withCString { write(fd, $0, strlen($0)) }
    close(fd)
    return path
}

private func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return false }
    var written = 0
    bytes.withUnsafeBytes { raw in
        while written < raw.count {
            let n = write(fd, raw.baseAddress! + written, raw.count - written)
            if n <= 0 { break }
            written += n
        }
    }
    close(fd)
    return written == bytes.count
}

private let probes = ["describe \"x\"", "search \"a\"", "conflicts"]

private func exercise(_ kb: KnowledgeBase) {
    var session = Session(kb: kb)
    let limits = Limits(maxRows: 1_000, maxSeconds: 1, maxWork: 1_000_000)
    var statements = probes
    for c in kb.collections.prefix(4) {
        statements.append(c.name)
        if let f = c.fields.first { statements.append("\(c.name) sort by `\(f.name)` desc limit 5") }
        if let m = c.measure { statements.append("\(c.name) group by `\(c.fields[0].name)` aggregate count(), max(`\(m)`)") }
        // The shapes a compiled file's indexes answer: a string of the collection's own (its
        // postings), a date window walked in date order, with and without a sort and limit.
        for f in c.fields.prefix(12) {
            switch f.type {
            case .string:
                guard c.count > 0, case .string(let text)? = c.value(row: c.count / 2, field: f.name, in: kb),
                      text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C && $0 < 0x7F }) else { continue }
                statements.append("\(c.name) where `\(f.name)` = \"\(text)\" limit 5")
            case .date:
                statements.append("\(c.name) where `\(f.name)` between 2024-01-01 and 2024-12-31 sort by `\(f.name)` limit 3")
                statements.append("\(c.name) where `\(f.name)` between 2024-06-01 and 2024-06-30")
            default:
                continue
            }
        }
    }
    for s in statements {
        _ = session.run(SourceText(s), limits: limits) { outcome in
            if case .result(let t) = outcome { for f in OutputFormat.allCases { _ = t.rendered(as: f, width: 80) } }
        }
    }
}

/// Fields of every kind the row scanner reads, for its check against the parser.
private let scannerFields: [Field] = [("id", FieldType.string), ("value", .number()), ("ok", .bool), ("date", .date), ("hedge", .hedge)]
    .map { Field(name: $0.0, type: $0.1, qualifierField: nil, upperField: nil) }

/// The row scanner (JSON rows read from bytes, no tree) must never take a row the full
/// parser refuses: its fast path would then load what the parser would have refused.
private func checkScanner(_ bytes: [UInt8]) {
    var scanner = JSONRowScanner(fields: scannerFields)
    bytes.withUnsafeBufferPointer { row in
        guard scanner.scan(row) else { return }
        guard case .object? = try? JSONParser.parse(row) else { fputs("the row scanner took a row the parser refuses\n", stderr); abort() }
        var builders = scannerFields.map { ColumnBuilder(field: $0, hedges: .standard, capacity: 0) }
        for lenient in [true, false] { _ = scanner.append(to: &builders, row: row, lenient: lenient) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func kbFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkScanner(bytes)
    do throws(KBLoadError) {
        let kb = try KnowledgeBase(json: bytes, name: "fuzz.kb.json")
        exercise(kb)
        if (try? kb.writeCompiled(to: recompiledPath)) != nil {
            do throws(KBLoadError) {
                exercise(try KnowledgeBase(contentsOfCompiledFile: recompiledPath))
            } catch {
                fputs("a KB compiled by writeCompiled does not open: \(error)\n", stderr)
                abort()
            }
        }
    } catch {
        let text = error.description
        if text.utf8.contains(0x1B) { fputs("raw ESC in a KB error\n", stderr); abort() }
        if error.problems.isEmpty { fputs("a KB refused with no problem listed\n", stderr); abort() }
    }
    // The same bytes as a bare CSV file and a bare NDJSON file (types inferred), and as the
    // rows file of a KB that declares its fields, in CSV and in NDJSON.
    for (data, kbPath) in [(csvPath, csvPath), (ndjsonPath, ndjsonPath), (directory + "/rows.csv", declaredKBPaths[0]),
                           (directory + "/rows.ndjson", declaredKBPaths[1])] {
        guard writeFile(data, bytes) else { continue }
        do throws(KBLoadError) {
            let kb = try KnowledgeBase(contentsOfFile: kbPath)
            exercise(kb)
        } catch {
            if error.description.utf8.contains(0x1B) { fputs("raw ESC in an error loading \(kbPath)\n", stderr); abort() }
            if error.problems.isEmpty { fputs("\(kbPath) refused with no problem listed\n", stderr); abort() }
        }
    }
    if writeFile(compiledPath, bytes) {
        for verifying in [true, false] {
            do throws(KBLoadError) {
                exercise(try KnowledgeBase(compiledFile: compiledPath, verifyingChecksums: verifying))
            } catch {
                if error.description.utf8.contains(0x1B) { fputs("raw ESC in an error opening a compiled KB\n", stderr); abort() }
                if error.problems.isEmpty { fputs("a compiled KB refused with no problem listed\n", stderr); abort() }
            }
        }
    }
    // As the article KB in kbq's binary is opened: from bytes in memory (on a 64-byte
    // boundary), each collection's record read when first reached.
    let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 64)
    defer { aligned.deallocate() }
    if let data { aligned.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    if let kb = try? KnowledgeBase(compiledBytes: UnsafeRawBufferPointer(rebasing: aligned[0..<size]), name: "fuzz", verifyingChecksums: false) {
        exercise(kb)
    }
    return 0
}
