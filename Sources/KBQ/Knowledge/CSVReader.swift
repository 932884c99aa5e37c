/// Streams RFC 4180 CSV from a file in chunks, so a large file never sits in memory whole.
/// The first record is the header.
struct CSVReader: ~Copyable {
    let input: FileInput
    let name: String
    var buffer: [UInt8] = []
    var start = 0
    var eof = false
    var line = 1
    /// Scratch for fields with quotes, which need unescaping.
    var scratch: [UInt8] = []

    static let chunk = 1 << 20

    init(input: consuming FileInput, name: String) {
        self.input = input
        self.name = name
    }

    /// Refills the buffer so that it holds at least one full record from `start`, or all
    /// that is left of the file.
    mutating func fill() throws(KBLoadError) {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        if eof { return }
        if try input.read(into: &buffer, count: CSVReader.chunk) == 0 { eof = true }
    }

    /// Reads one record's field ranges (into `fields`, as ranges of `buffer` or of `scratch`
    /// marked by a negative start). Returns false at the end of the file.
    mutating func record(_ fields: inout [(Int, Int)]) throws(KBLoadError) -> Bool {
        var closed = false
        while true {
            fields.removeAll(keepingCapacity: true)
            scratch.removeAll(keepingCapacity: true)
            if let end = parse(&fields) { start = end; line += 1; return true }
            if eof {
                if start >= buffer.count { return false }
                if closed {
                    throw KBLoadError(file: name, problems: [KBProblem(path: "\(name):\(line)", message: "unterminated quoted field")])
                }
                // The last record has no line ending.
                buffer.append(0x0A)
                closed = true
                continue
            }
            try fill()
        }
    }

    /// Parses one record from `start`; nil when the buffer ends first.
    mutating func parse(_ fields: inout [(Int, Int)]) -> Int? {
        let n = buffer.count
        var i = start
        return buffer.withUnsafeBufferPointer { b -> Int? in
            while true {
                guard i < n else { return nil }
                if b[i] == UInt8(ascii: "\"") {
                    // Quoted field: copy into scratch without the doubled quotes.
                    let s0 = scratch.count
                    i += 1
                    while true {
                        guard i < n else { return nil }
                        if b[i] == UInt8(ascii: "\"") {
                            if i + 1 < n, b[i + 1] == UInt8(ascii: "\"") { scratch.append(0x22); i += 2; continue }
                            if i + 1 >= n && !eof { return nil }
                            i += 1
                            break
                        }
                        scratch.append(b[i])
                        i += 1
                    }
                    fields.append((-1 - s0, scratch.count - s0))
                } else {
                    let f0 = i
                    while i < n, b[i] != UInt8(ascii: ","), b[i] != 0x0A, b[i] != 0x0D { i += 1 }
                    guard i < n else { return nil }
                    fields.append((f0, i - f0))
                }
                guard i < n else { return nil }
                switch b[i] {
                case UInt8(ascii: ","): i += 1
                case 0x0D:
                    if i + 1 < n { return b[i + 1] == 0x0A ? i + 2 : i + 1 }
                    return eof ? i + 1 : nil
                case 0x0A: return i + 1
                default:
                    // Text after a closing quote is dropped up to the next separator.
                    while i < n, b[i] != UInt8(ascii: ","), b[i] != 0x0A, b[i] != 0x0D { i += 1 }
                    guard i < n else { return nil }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == 0x0A { return i + 1 }
                    if i + 1 < n { return b[i + 1] == 0x0A ? i + 2 : i + 1 }
                    return eof ? i + 1 : nil
                }
            }
        }
    }

    func withField<R>(_ f: (Int, Int), _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if f.0 >= 0 {
            return buffer.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[f.0..<(f.0 + f.1)])) }
        }
        let s = -1 - f.0
        return scratch.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[s..<(s + f.1)])) }
    }

    func text(_ f: (Int, Int)) -> String { withField(f) { String(decoding: $0, as: UTF8.self) } }

    /// Reads the header and every record into builders for the declared fields.
    mutating func read(fields: [Field], into builders: inout [ColumnBuilder], problems: inout ProblemList) throws(KBLoadError) {
        var rec: [(Int, Int)] = []
        guard try record(&rec) else {
            problems.add(name, "empty CSV file: expected a header row naming the fields")
            return
        }
        var header = rec.map { text($0) }
        if let first = header.first, first.hasPrefix("\u{FEFF}") { header[0] = String(first.dropFirst()) }
        var map = [Int?](repeating: nil, count: header.count)
        for (ci, h) in header.enumerated() {
            if let fi = fields.firstIndex(where: { $0.name == h }) { map[ci] = fi } else {
                problems.add("\(name):1", "column '\(h)' is not a field of the collection" + (suggest(h, from: fields.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""))
            }
        }
        for (fi, f) in fields.enumerated() where !map.contains(fi) {
            problems.add("\(name):1", "no column for field '\(f.name)'")
        }
        guard problems.isEmpty else { return }
        if let size = input.size, let avg = Optional(max(16, buffer.count > 0 ? 64 : 64)) {
            let estimate = size / avg
            for i in builders.indices { builders[i].reserve(estimate) }
        }
        while try record(&rec) {
            let lineNo = line - 1
            if rec.count == 1 && rec[0].1 == 0 { continue }  // blank line
            if rec.count != header.count {
                problems.add("\(name):\(lineNo)", "expected \(header.count) fields, found \(rec.count)")
                if problems.omitted > 0 { return }
                continue
            }
            for (ci, f) in rec.enumerated() {
                guard let fi = map[ci] else { continue }
                withField(f) { bytes in
                    builders[fi].append(csv: bytes, path: "\(name):\(lineNo): \(fields[fi].name)", problems: &problems)
                }
            }
            if problems.omitted > 0 { return }
        }
    }
}

extension ColumnBuilder {
    mutating func reserve(_ n: Int) {
        switch storage {
        case .string(var a, let p): storage = .number([]); a.reserveCapacity(n); storage = .string(a, p)
        case .ref(var a, let p): storage = .number([]); a.reserveCapacity(n); storage = .ref(a, p)
        case .number(var a): storage = .date([]); a.reserveCapacity(n); storage = .number(a)
        case .date(var a): storage = .number([]); a.reserveCapacity(n); storage = .date(a)
        case .hedge(var a): storage = .number([]); a.reserveCapacity(n); storage = .hedge(a)
        case .bool(var a): storage = .number([]); a.reserveCapacity(n); storage = .bool(a)
        case .list: break
        }
    }
}

/// Reads newline-delimited JSON: one row object per line.
enum NDJSONReader {
    static func read(_ input: borrowing FileInput, fields: [Field], into builders: inout [ColumnBuilder],
                     problems: inout ProblemList, name: String) throws(KBLoadError) {
        var index: [String: Int] = [:]
        for (i, f) in fields.enumerated() { index[f.name] = i }
        var buffer: [UInt8] = []
        var lineNo = 0
        var eof = false
        while !eof || !buffer.isEmpty {
            if !eof, !buffer.contains(0x0A) {
                if try input.read(into: &buffer, count: 1 << 20) == 0 { eof = true }
                continue
            }
            let end = buffer.firstIndex(of: 0x0A) ?? buffer.count
            let lineBytes = Array(buffer[0..<end])
            buffer.removeFirst(min(buffer.count, end + 1))
            lineNo += 1
            if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let path = "\(name):\(lineNo)"
            let row: JSON
            do { row = try JSONParser.parse(lineBytes) } catch {
                problems.add(path, "not valid JSON: \(error.message)")
                continue
            }
            guard case .object(let members) = row else { problems.add(path, "expected a row object, found \(row.preview)"); continue }
            var given = [Bool](repeating: false, count: fields.count)
            for (k, v) in members {
                guard let i = index[k] else { problems.add("\(path).\(k)", "unknown field '\(k)'"); continue }
                if given[i] { continue }
                given[i] = true
                builders[i].append(v, path: "\(path).\(k)", problems: &problems)
            }
            for i in fields.indices where !given[i] {
                problems.add(path, "missing field '\(fields[i].name)' (give null for no value)")
                builders[i].appendNull()
            }
            if problems.omitted > 0 { return }
        }
    }
}
