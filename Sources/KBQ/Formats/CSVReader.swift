#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams RFC 4180 CSV from a file in chunks, so a large file never sits in memory whole.
/// The first record is the header. Fields are handed out as byte ranges of the chunk (or,
/// for a quoted field, of its unescaped copy): nothing is allocated per field.
struct CSVReader: ~Copyable {
    let input: FileInput
    let name: String
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Valid bytes in `buffer`.
    private var length = 0
    /// The first byte not yet parsed.
    private var start = 0
    /// The file offset of `buffer[0]`.
    private var bufferOffset = 0
    private var eof = false
    /// Whether a line ending was added after the last byte of the file.
    private var closed = false
    /// The line the next record starts on.
    private(set) var line = 1
    /// The line the last record read started on.
    private(set) var recordLine = 1
    /// Whether the start of the file was looked at for UTF-16 or UTF-32.
    private var checkedEncoding = false
    /// Unescaped bytes of the current record's quoted fields.
    private var scratch: [UInt8] = []

    static let chunk = 1 << 20
    /// The longest record read (a line, or several when quoted fields hold line breaks).
    static let maxRecordBytes = 1 << 26

    /// Whether the reader reads from its own offset (``init(input:name:at:)``).
    private let ranged: Bool

    init(input: consuming FileInput, name: String) {
        self.input = input
        self.name = name
        capacity = CSVReader.chunk
        buffer = .allocate(capacity: capacity + 1)
        ranged = false
    }

    /// A reader of the records from file offset `offset` on (where a record starts): one
    /// of the parts ``FileParts`` reads side by side, with no header of its own.
    init(input: consuming FileInput, name: String, at offset: Int) {
        self.input = input
        self.name = name
        capacity = CSVReader.chunk
        buffer = .allocate(capacity: capacity + 1)
        ranged = true
        bufferOffset = offset
        checkedEncoding = true
    }

    deinit { buffer.deallocate() }

    /// How far into the file reading has got, in bytes.
    var position: Int { bufferOffset + start }

    /// Moves what is left of the chunk to its front and reads more after it; grows the
    /// buffer when one record fills all of it.
    private mutating func fill() throws(KBLoadError) {
        if start > 0 {
            if length > start { memmove(buffer, buffer + start, length - start) }
            length -= start
            bufferOffset += start
            start = 0
        }
        if eof { return }
        if length == capacity {
            // One record fills the buffer. Past a bound, this is not a CSV file (or it is
            // /dev/zero): say so rather than grow until memory runs out.
            if capacity >= CSVReader.maxRecordBytes {
                throw KBLoadError(file: name, problems: [KBProblem(.limitExceeded, path: "\(name):\(line)", message: "a record longer than \(CSVReader.maxRecordBytes >> 20) MiB; is this a CSV file?")])
            }
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + 1)
            bigger.update(from: buffer, count: length)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        let got = ranged ? try input.read(into: buffer + length, count: capacity - length, at: bufferOffset + length)
            : try input.read(into: buffer + length, count: capacity - length)
        if got == 0 { eof = true } else { length += got }
    }

    /// Reads one record's field ranges into `fields` (see ``withField(_:_:)``). Returns false
    /// at the end of the file.
    mutating func record(_ fields: inout [(Int, Int)]) throws(KBLoadError) -> Bool {
        if !checkedEncoding {
            checkedEncoding = true
            while length < 256 && !eof { try fill() }
            if let encoding = wideEncoding(UnsafeBufferPointer(start: buffer, count: length)) {
                throw KBLoadError(file: name, problems: [KBProblem(.encoding, path: "\(name):1", message: notUTF8Message(encoding))])
            }
        }
        while true {
            fields.removeAll(keepingCapacity: true)
            scratch.removeAll(keepingCapacity: true)
            if let (end, newlines) = parse(&fields) {
                start = end
                recordLine = line
                line += 1 + newlines
                return true
            }
            if eof {
                if start >= length { return false }
                if closed {
                    throw KBLoadError(file: name, problems: [KBProblem(.syntax, path: "\(name):\(line)", message: "unterminated quoted field")])
                }
                // The last record has no line ending: give it one (the buffer keeps a byte spare).
                buffer[length] = 0x0A
                length += 1
                closed = true
                continue
            }
            try fill()
        }
    }

    /// Parses one record from `start`: where it ends and how many line breaks its quoted
    /// fields hold; nil when the buffer ends first.
    private mutating func parse(_ fields: inout [(Int, Int)]) -> (Int, Int)? {
        let b = buffer, n = length
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
        var i = start
        var newlines = 0
        while true {
            guard i < n else { return nil }
            if b[i] == quote {
                // Quoted field: copied into scratch without the doubled quotes.
                let s0 = scratch.count
                i += 1
                while true {
                    guard i < n else { return nil }
                    let c = b[i]
                    if c == quote {
                        if i + 1 < n {
                            if b[i + 1] == quote { scratch.append(quote); i += 2; continue }
                        } else if !eof {
                            return nil
                        }
                        i += 1
                        break
                    }
                    if c == lf { newlines += 1 }
                    scratch.append(c)
                    i += 1
                }
                fields.append((-1 - s0, scratch.count - s0))
            } else {
                let f0 = i
                // Eight bytes at a time to the first separator, then byte by byte.
                let raw = UnsafeRawPointer(b)
                while i + 8 <= n {
                    let m = separatorBits(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    if m != 0 { i += m.trailingZeroBitCount >> 3; break }
                    i += 8
                }
                while i < n {
                    let c = b[i]
                    if c == comma || c == lf || c == cr { break }
                    i += 1
                }
                guard i < n else { return nil }
                fields.append((f0, i - f0))
            }
            guard i < n else { return nil }
            switch b[i] {
            case comma:
                i += 1
            case lf:
                return (i + 1, newlines)
            case cr:
                if i + 1 < n { return (b[i + 1] == lf ? i + 2 : i + 1, newlines) }
                return eof ? (i + 1, newlines) : nil
            default:
                // Text after a closing quote (`"x"tail`, `"he said "hi" and bye"`) is kept
                // as it stands, as Python's csv module and DuckDB keep it: the field reads
                // `xtail`. Only a quoted field gets here, so its bytes end the scratch.
                let (s0, _) = fields[fields.count - 1]
                while i < n, b[i] != comma, b[i] != lf, b[i] != cr { scratch.append(b[i]); i += 1 }
                fields[fields.count - 1] = (s0, scratch.count - (-1 - s0))
                guard i < n else { return nil }
                if b[i] == comma { i += 1; continue }
                if b[i] == lf { return (i + 1, newlines) }
                if i + 1 < n { return (b[i + 1] == lf ? i + 2 : i + 1, newlines) }
                return eof ? (i + 1, newlines) : nil
            }
        }
    }

    /// Calls `body` with the bytes of a field of the last record read.
    func withField<R>(_ f: (Int, Int), _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if f.0 >= 0 { return body(UnsafeBufferPointer(start: buffer + f.0, count: f.1)) }
        let s = -1 - f.0
        return scratch.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[s..<(s + f.1)])) }
    }

    func text(_ f: (Int, Int)) -> String { withField(f) { String(decoding: $0, as: UTF8.self) } }

    /// How many rows are read before sizing the columns for the whole file.
    static let settleAfter = 20_000

    /// Reads the header and every record into builders for the declared fields; a large
    /// file in parts side by side (``FileParts``, parts of at least `partBytes`).
    mutating func read(fields: [Field], into builders: inout [ColumnBuilder], problems: inout ProblemList,
                       partBytes: Int = FileParts.partBytes, whenIdle: Bool = true) throws(KBLoadError) {
        var rec: [(Int, Int)] = []
        guard try record(&rec) else {
            problems.add(.missing, name, "empty CSV file: expected a header row naming the fields")
            return
        }
        var header = rec.map { text($0) }
        if let first = header.first, first.hasPrefix("\u{FEFF}") { header[0] = String(first.dropFirst()) }
        var map = [Int](repeating: -1, count: header.count)
        // By name through a dictionary: a header of 100,000 columns matched field by field
        // took minutes.
        var fieldIndex: [String: Int] = [:]
        for (fi, f) in fields.enumerated() where fieldIndex[f.name] == nil { fieldIndex[f.name] = fi }
        var mapped = [Bool](repeating: false, count: fields.count)
        for (ci, h) in header.enumerated() {
            if let fi = fieldIndex[h] { map[ci] = fi; mapped[fi] = true } else {
                problems.add(.unknownField, "\(name):1", "column '\(excerpt(h))' is not a field of the collection" + (suggest(h, from: fields.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""))
            }
        }
        for (fi, f) in fields.enumerated() where !mapped[fi] {
            problems.add(.missing, "\(name):1", "no column for field '\(f.name)'")
        }
        guard problems.isEmpty else { return }
        let template = builders, path = input.path, name = self.name, start = position, columns = header.count
        if let parts = FileParts.read(path: path, partBytes: partBytes, whenIdle: whenIdle, makeBuilders: { template }, { (_, part, end, b, p) throws(KBLoadError) -> Bool in
            // The first part reads on from the header; each part must end where the next begins.
            var reader = CSVReader(input: try FileInput(path: path, regularFileOnly: true), name: name, at: part.lowerBound == 0 ? start : part.lowerBound)
            return try reader.readRecords(columns: columns, map: map, fields: fields, into: &b, problems: &p, stop: part.upperBound, end: end)
        }) {
            builders = parts
            return
        }
        _ = try readRecords(columns: header.count, map: map, fields: fields, into: &builders, problems: &problems, stop: .max, end: input.size)
    }

    /// Reads records into the builders (`map`: each column's field, -1 for none) until the
    /// file ends or a record would start at or after `stop`; the columns are sized for the
    /// records up to file offset `end`. Whether the last record read
    /// ended exactly at `stop` (or the file ended): false when a record runs across it, as
    /// when the part was split at a line feed inside a quoted field.
    mutating func readRecords(columns: Int, map: [Int], fields: [Field], into builders: inout [ColumnBuilder],
                              problems: inout ProblemList, stop: Int, end: Int?) throws(KBLoadError) -> Bool {
        var rec: [(Int, Int)] = []
        let dataStart = position
        var rows = 0
        while true {
            if position >= stop { return position == stop }
            guard try record(&rec) else { return true }
            if rec.count == 1 && rec[0].1 == 0 { continue }  // blank line
            let lineNo = recordLine
            if rec.count != columns {
                problems.add(.fieldCount, "\(name):\(lineNo)", "expected \(columns) fields, found \(rec.count)")
                if problems.omitted > 0 { return true }
                continue
            }
            for ci in 0..<rec.count {
                let fi = map[ci]
                if fi < 0 { continue }
                let f = rec[ci]
                if f.0 >= 0 {
                    builders[fi].append(csv: UnsafeBufferPointer(start: buffer + f.0, count: f.1),
                                        path: "\(name):\(lineNo): \(fields[fi].name)", problems: &problems)
                } else {
                    let s = -1 - f.0
                    scratch.withUnsafeBufferPointer { sc in
                        builders[fi].append(csv: UnsafeBufferPointer(rebasing: sc[s..<(s + f.1)]),
                                            path: "\(name):\(lineNo): \(fields[fi].name)", problems: &problems)
                    }
                }
            }
            rows += 1
            if rows == CSVReader.settleAfter, let end, position > dataStart, end > position {
                // Size every column for the rows up to `end` from the rows so far.
                let perRow = Double(position - dataStart) / Double(rows)
                let expected = Int(Double(end - dataStart) / perRow * 1.05) + 1024
                ColumnBuilder.settle(&builders, expectedRows: expected)
            }
            if problems.omitted > 0 { return true }
        }
    }
}

/// The high bit of each byte of `w` that is a comma, LF or CR. Exact for the lowest such
/// byte (bits above it may be spurious), which is the only one the reader uses.
@inline(__always)
private func separatorBits(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
    return zeroBytes(w ^ (ones &* 0x2C)) | zeroBytes(w ^ (ones &* 0x0A)) | zeroBytes(w ^ (ones &* 0x0D))
}

/// Reads newline-delimited JSON: one row object per line.
enum NDJSONReader {
    /// How much is read from the file at a time (the buffer doubles while one line fills it).
    static let chunk = 1 << 20

    /// Reads the rows of a KB's NDJSON rows file strictly (``KBLoader/append(_:fields:index:to:path:problems:unknown:)``).
    /// With the file's `path`, a large file is read in parts side by side.
    static func read(_ input: borrowing FileInput, fields: [Field], into builders: inout [ColumnBuilder],
                     problems: inout ProblemList, name: String, path: String? = nil, partBytes: Int = FileParts.partBytes,
                     whenIdle: Bool = true) throws(KBLoadError) {
        var index: [String: Int] = [:]
        for (i, f) in fields.enumerated() { index[f.name] = i }
        func read(_ input: borrowing FileInput, _ part: Range<Int>?, _ end: Int?, _ builders: inout [ColumnBuilder], _ problems: inout ProblemList) throws(KBLoadError) {
            var scanner = JSONRowScanner(fields: fields)
            var settle = Settling(end: end)
            try forEachLine(input, name: name, problems: &problems, part: part) { line, lineNo, position, problems in
                settle.row(position: position, &builders)
                if scanner.scan(line), scanner.append(to: &builders, row: line, lenient: false) { return true }
                let path = "\(name):\(lineNo)"
                guard let members = parseRow(line, path: path, problems: &problems) else { return true }
                KBLoader.append(members, fields: fields, index: index, to: &builders, path: path, problems: &problems) { "unknown field '\(excerpt($0))'" }
                return problems.omitted == 0
            }
        }
        let template = builders
        if let path, let parts = FileParts.read(path: path, partBytes: partBytes, whenIdle: whenIdle, makeBuilders: { template }, { (input, part, end, b, p) throws(KBLoadError) -> Bool in
            try read(input, part, end, &b, &p)
            return true
        }) {
            builders = parts
            return
        }
        try read(input, nil, input.size, &builders, &problems)
    }

    /// Sizes the columns for the whole file once its first rows show how long a row is, as
    /// ``CSVReader`` does: no column array is then copied to grow (a copy holds two at once).
    struct Settling {
        /// Where the rows being read end in the file, if known.
        let end: Int?
        var rows = 0
        var start = -1

        mutating func row(position: Int, _ builders: inout [ColumnBuilder]) {
            if start < 0 { start = position }
            rows += 1
            guard rows == CSVReader.settleAfter, let end, position > start, end > position else { return }
            let perRow = Double(position - start) / Double(rows - 1)
            let expected = Int(Double(end - start) / perRow * 1.05) + 1024
            ColumnBuilder.settle(&builders, expectedRows: expected)
        }
    }

    /// Calls `body` with each line's row object and its path (`FILE:LINE`) until it returns
    /// false; a line that is not a JSON object is a problem, and is skipped.
    static func forEachRow(_ input: borrowing FileInput, name: String, problems: inout ProblemList,
                           _ body: ([(String, JSON)], String, inout ProblemList) -> Bool) throws(KBLoadError) {
        try forEachLine(input, name: name, problems: &problems) { line, lineNo, _, problems in
            let path = "\(name):\(lineNo)"
            guard let members = parseRow(line, path: path, problems: &problems) else { return true }
            return body(members, path, &problems)
        }
    }

    /// One line's row object, or nil with the problem said.
    static func parseRow(_ line: UnsafeBufferPointer<UInt8>, path: @autoclosure () -> String, problems: inout ProblemList) -> [(String, JSON)]? {
        let row: JSON
        do { row = try JSONParser.parse(line) } catch {
            problems.add(error.kind, path(), "not valid JSON at column \(KBLoader.lineColumn(line, error.offset).1): \(error.message)")
            return nil
        }
        guard case .object(let members) = row else { problems.add(.typeMismatch, path(), "expected a row object, found \(row.preview)"); return nil }
        return members
    }

    /// Calls `body` with the bytes of each line that is not blank (a byte order mark
    /// dropped), its number, and the file offset where it starts, until it returns false.
    /// With `part` (from ``FileParts``: it starts where a line starts), only the lines that
    /// start within it are read, their numbers counted from the part's first line.
    static func forEachLine(_ input: borrowing FileInput, name: String, problems: inout ProblemList, part: Range<Int>? = nil,
                            _ body: (UnsafeBufferPointer<UInt8>, Int, Int, inout ProblemList) -> Bool) throws(KBLoadError) {
        var capacity = chunk
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        // Valid bytes in `buffer`; where the next line starts. Lines are consumed by moving
        // `start` and parsed in place; the consumed bytes are dropped only before the next
        // read, so each byte is moved at most once per chunk instead of once per line after
        // it (removing each line from the front made a big file quadratic).
        var length = 0, start = 0
        // The file offset of `buffer[0]`.
        var bufferOffset = part?.lowerBound ?? 0
        let stop = part?.upperBound ?? .max
        // Bytes before this are known to hold no line ending after `start`: a long line that
        // takes several reads is searched once.
        var scanned = 0
        var lineNo = 0
        var eof = false
        while true {
            let end: Int
            if scanned < length, let newline = memchr(buffer + scanned, 0x0A, length - scanned) {
                end = newline - UnsafeMutableRawPointer(buffer)
            } else if !eof {
                if start > 0 {
                    if length > start { memmove(buffer, buffer + start, length - start) }
                    length -= start
                    bufferOffset += start
                    start = 0
                }
                scanned = length
                if length == capacity {
                    // One line fills the buffer. Past a bound this is not NDJSON: say so
                    // rather than grow until memory runs out.
                    if capacity >= CSVReader.maxRecordBytes {
                        throw KBLoadError(file: name, problems: [KBProblem(.limitExceeded, path: "\(name):\(lineNo + 1)", message: "a line longer than \(CSVReader.maxRecordBytes >> 20) MiB; is this an NDJSON file?")])
                    }
                    let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                    bigger.update(from: buffer, count: length)
                    buffer.deallocate()
                    buffer = bigger
                    capacity *= 2
                }
                let got = part == nil ? try input.read(into: buffer + length, count: capacity - length)
                    : try input.read(into: buffer + length, count: capacity - length, at: bufferOffset + length)
                if got == 0 { eof = true } else { length += got }
                continue
            } else if start < length {
                end = length  // the last line has no line ending
            } else {
                return
            }
            var line = UnsafeBufferPointer(start: buffer + start, count: end - start)
            let position = bufferOffset + start
            start = min(length, end + 1)
            scanned = start
            if position >= stop { return }
            lineNo += 1
            if position == 0 {
                if let encoding = wideEncoding(UnsafeBufferPointer(start: buffer, count: length)) {
                    throw KBLoadError(file: name, problems: [KBProblem(.encoding, path: "\(name):1", message: notUTF8Message(encoding))])
                }
                line = UnsafeBufferPointer(rebasing: line[utf8BOMLength(line)...])
            }
            if isBlank(line) { continue }
            if !body(line, lineNo, position, &problems) { return }
        }
    }

    /// Whether a line holds only spaces, tabs and a carriage return.
    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for b in line where b != 0x20 && b != 0x09 && b != 0x0D { return false }
        return true
    }
}
