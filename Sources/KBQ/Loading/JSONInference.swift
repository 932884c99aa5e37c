/// Loads bare JSON data as a KB, as ``CSVInference`` does a bare CSV: rows exported by some
/// other tool, with no `"kbq": 1` header and no declared fields. Three shapes are read:
///
/// - an array of row objects (one collection, named after the file);
/// - `{"collections": {"NAME": [row objects], …}}` (the shape `../shared/bench/gen.py` writes);
/// - newline-delimited JSON, one row object per line (`.ndjson`, `.jsonl`), streamed: the
///   types come from the first ``sampleRows`` lines, as a CSV's do.
///
/// A field's type is what all its values could be: numbers, true/false, dates
/// (`"2024-06-19"`), hedge words (a field named `hedge` whose words are all on the standard
/// scale), lists of text or of numbers, else text (numbers and true/false among text are
/// kept as their text). A numeric `value` with a `qualifier` beside it is an interval
/// quantity, a text `id` is the key when no two rows share one. Bare data is lenient where
/// a KB file is strict: a missing field, or `""` where a number, date or hedge goes, is null.
enum JSONInference {
    static let sampleRows = CSVInference.sampleRows

    /// What one field's values could all be, from the rows seen so far.
    struct Candidates {
        var seen = false
        var number = true, bool = true, date = true, hedge = true
        var textList = true, numberList = true
        /// Where a value of no usable kind was seen (an object, a list of mixed items).
        var unusable: String?

        mutating func add(_ v: JSON, name: String, path: @autoclosure () -> String) {
            switch v {
            case .null: return
            case .string(let s) where s.isEmpty: return  // "" types nothing: null unless all are text
            default: break
            }
            seen = true
            switch v {
            case .number: bool = false; date = false; hedge = false; textList = false; numberList = false
            case .bool: number = false; date = false; hedge = false; textList = false; numberList = false
            case .string(let s):
                number = false; bool = false; textList = false; numberList = false
                if date { date = PartialDate.parse(s) != nil }
                if hedge { hedge = name == "hedge" && HedgeScale.standard.rank(of: s) != nil }
            case .array(let items):
                number = false; bool = false; date = false; hedge = false
                for item in items {
                    if case .string = item {} else { textList = false }
                    if case .number = item {} else { numberList = false }
                }
                if !textList && !numberList && !items.isEmpty && unusable == nil { unusable = path() }
            case .object:
                if unusable == nil { unusable = path() }
            case .null: break
            }
        }

        var type: FieldType {
            guard seen else { return .string }
            if number { return .number() }
            if bool { return .bool }
            if date { return .date }
            if hedge { return .hedge }
            if textList { return .list(.string) }
            if numberList { return .list(.number()) }
            return .string
        }
    }

    /// The fields of rows whose candidates were gathered, in the order first seen, with a
    /// problem added for each field that cannot be typed or named. `firstSeen` is where each
    /// field first appears (a row's path), so a bad name is shown where it can be found.
    static func fields(_ names: [String], _ candidates: [Candidates], firstSeen: [String], path: String, problems: inout ProblemList) -> [Field] {
        var fields: [Field] = []
        let hasQualifier = names.contains("qualifier")
        for (i, (name, c)) in zip(names, candidates).enumerated() {
            if !KBLoader.isIdentifier(name) {
                problems.add(.invalidName, "\(firstSeen[i]).\(name)", "field name '\(name)' is not an identifier (letters, digits, _); declare the data in a KB file to rename it")
            }
            if let at = c.unusable {
                problems.add(.cannotInfer, at, "field '\(name)' holds objects or lists of mixed values, which bare data cannot type; declare it in a KB file (docs/KB-FORMAT.md)")
            }
            fields.append(BareData.field(name, c.type, hasQualifier: hasQualifier))
        }
        // A collection of no fields would hold rows no query can see (and count as none).
        if fields.isEmpty && problems.isEmpty {
            problems.add(.cannotInfer, path, "no fields to load: the rows are all empty objects, or there are none")
        }
        return fields
    }

    /// What the rows read so far say about their fields: the names in the order first
    /// seen, what each could be, and the row each first appears in.
    struct Survey {
        var names: [String] = []
        var index: [String: Int] = [:]
        var candidates: [Candidates] = []
        var firstSeen: [String] = []
        /// Rows surveyed.
        var rows = 0

        /// Gathers each field's candidates from one row object.
        mutating func add(_ members: [(String, JSON)], path: String) {
            rows += 1
            for (k, v) in members {
                let i: Int
                if let known = index[k] { i = known } else {
                    i = names.count
                    index[k] = i
                    names.append(k)
                    candidates.append(Candidates())
                    firstSeen.append(path)
                }
                candidates[i].add(v, name: k, path: "\(path).\(k)")
            }
        }

        func fields(path: String, problems: inout ProblemList) -> [Field] {
            JSONInference.fields(names, candidates, firstSeen: firstSeen, path: path, problems: &problems)
        }
    }

    /// Appends one row object to the builders, leniently: a missing field or `""` outside
    /// a text field is null, and a number or true/false in a text field is its text.
    static func append(_ members: [(String, JSON)], fields: [Field], index: [String: Int], to builders: inout [ColumnBuilder],
                       path: String, problems: inout ProblemList) {
        var given = [Bool](repeating: false, count: fields.count)
        for (j, (k, v)) in members.enumerated() {
            // Rows written by a program list their fields in one order: comparing the name
            // at the same place is cheaper than hashing it (a tenth of loading a big file).
            guard let i = j < fields.count && fields[j].name == k ? j : index[k] else {
                // Only past the first rows, which `load` then types again from every row.
                problems.add(.unknownField, "\(path).\(excerpt(k))", "field '\(excerpt(k))' was not among the rows the types were inferred from")
                continue
            }
            // JSON leaves a repeated name to the reader (some keep the first, some the
            // last): keeping either would drop a value without a word, as a KB file refuses.
            if given[i] { problems.add(.duplicateName, "\(path).\(excerpt(k))", "field '\(excerpt(k))' is given twice in this row"); continue }
            given[i] = true
            switch (fields[i].type, v) {
            case (.string, .number(let d)):
                builders[i].append(.string(shortestDescription(d)), path: "\(path).\(k)", problems: &problems)
            case (.string, .bool(let b)):
                builders[i].append(.string(b ? "true" : "false"), path: "\(path).\(k)", problems: &problems)
            case (.string, _):
                builders[i].append(v, path: "\(path).\(k)", problems: &problems)
            case (_, .string(let s)) where s.isEmpty:
                builders[i].appendNull()
            default:
                builders[i].append(v, path: "\(path).\(k)", problems: &problems)
            }
        }
        for i in fields.indices where !given[i] { builders[i].appendNull() }
    }

    /// One collection's rows in a bare document: where they are, and how to read row `r`.
    struct Group {
        let name: String
        let path: String
        let count: Int
        let row: (Int) throws(JSONSyntaxError) -> JSON
        /// The bytes of row `r`, when the rows are at hand as bytes (for ``JSONRowScanner``).
        var bytes: ((Int) -> UnsafeBufferPointer<UInt8>)? = nil
        /// Where row `r` starts in the document, for giving back the bytes before it.
        var offset: ((Int) -> Int)? = nil
        /// The line and column of a byte offset in the document.
        let lineColumn: (Int) -> (Int, Int)
    }

    /// The bytes of a bare JSON document as a KB, without building the document's tree: the
    /// rows are found by a scan that only matches brackets and quotes, and each is parsed
    /// when it is read (twice: for the types, then into the columns). A million rows in one
    /// big array take the file's bytes and the columns, not a tree of ten million values.
    /// Nil when the bytes are not a bare document (or not valid JSON: the full parser then
    /// says where).
    static func load(bytes buf: UnsafeBufferPointer<UInt8>, name: String, file: String, release: (Int) -> Void) throws(KBLoadError) -> KnowledgeBase? {
        guard let found = BareJSONScanner.scan(buf, release: release) else { return nil }
        release(buf.count)
        let groups = found.map { g in
            Group(name: g.name ?? BareData.collectionName(fromFile: name), path: g.name.map { "$.collections.\($0)" } ?? "$", count: g.rows.count,
                  row: { (r: Int) throws(JSONSyntaxError) -> JSON in
                      do throws(JSONSyntaxError) { return try JSONParser.parse(UnsafeBufferPointer(rebasing: buf[g.rows[r]])) } catch {
                          throw JSONSyntaxError(message: error.message, offset: g.rows[r].lowerBound + error.offset, kind: error.kind)
                      }
                  },
                  bytes: { UnsafeBufferPointer(rebasing: buf[g.rows[$0]]) },
                  offset: { g.rows[$0].lowerBound },
                  lineColumn: { KBLoader.lineColumn(buf, $0) })
        }
        return try load(groups, name: name, file: file, release: release)
    }

    /// Builders for inferred fields: text other than an `id` is never looked up by value,
    /// so a text column may stop deduplicating once its strings prove nearly all different
    /// (as a bare CSV's do).
    static func newBuilders(_ fields: [Field], capacity: Int = 0) -> [ColumnBuilder] {
        fields.map { f in
            var b = ColumnBuilder(field: f, hedges: .standard, capacity: capacity)
            b.mayDropIndex = f.type == .string && f.name != "id"
            return b
        }
    }

    static func load(_ groups: [Group], name: String, file: String, release: (Int) -> Void = { _ in }) throws(KBLoadError) -> KnowledgeBase {
        var problems = ProblemList()
        var built: [(name: String, fields: [Field], builders: [ColumnBuilder])] = []
        var seen = Set<String>()
        for g in groups {
            if !KBLoader.isIdentifier(g.name) { problems.add(.invalidName, g.path, "collection name '\(excerpt(g.name))' is not an identifier (letters, digits, _)") }
            if !seen.insert(g.name).inserted { problems.add(.duplicateName, g.path, "collection '\(excerpt(g.name))' is given twice") }
            // The row at `r`, or nil with the problem said.
            func row(_ r: Int, _ problems: inout ProblemList) -> [(String, JSON)]? {
                let path = "\(g.path)[\(r)]"
                do {
                    guard case .object(let members) = try g.row(r) else {
                        problems.add(.typeMismatch, path, "expected a row object, found \((try? g.row(r))?.preview ?? "?")")
                        return nil
                    }
                    return members
                } catch {
                    let (line, column) = g.lineColumn(error.offset)
                    problems.add(error.kind, path, "not valid JSON at line \(line), column \(column): \(error.message)")
                    return nil
                }
            }
            var survey = Survey()
            for r in 0..<min(g.count, sampleRows) {
                if let members = row(r, &problems) { survey.add(members, path: "\(g.path)[\(r)]") }
            }
            let before = problems
            var fields = survey.fields(path: g.path, problems: &problems)
            guard problems.isEmpty else { continue }
            func fill() -> [ColumnBuilder] {
                var builders = newBuilders(fields, capacity: g.count)
                var scanner = JSONRowScanner(fields: fields)
                for r in 0..<g.count {
                    if r == CSVReader.settleAfter { ColumnBuilder.settle(&builders, expectedRows: g.count) }
                    if r & 0xFFFF == 0, let offset = g.offset { release(offset(r)) }
                    if let bytes = g.bytes?(r), scanner.scan(bytes), scanner.append(to: &builders, row: bytes, lenient: true) { continue }
                    guard let members = row(r, &problems) else {
                        for i in builders.indices { builders[i].appendNull() }
                        continue
                    }
                    append(members, fields: fields, index: survey.index, to: &builders, path: "\(g.path)[\(r)]", problems: &problems)
                    if problems.omitted > 0 { break }
                }
                return builders
            }
            var builders = fill()
            if !problems.isEmpty && g.count > sampleRows {
                // A field first met, or a value of another kind, past the rows the types came
                // from: the whole document is at hand, so the types are inferred again from
                // every row rather than the data refused. Only data that surprises pays this.
                problems = before
                var unsaid = ProblemList()  // a bad row is said by `fill`, once
                for r in sampleRows..<g.count {
                    if let members = row(r, &unsaid) { survey.add(members, path: "\(g.path)[\(r)]") }
                }
                fields = survey.fields(path: g.path, problems: &problems)
                guard problems.isEmpty else { continue }
                builders = fill()
            }
            built.append((g.name, fields, builders))
        }
        if !problems.isEmpty { throw KBLoadError(file: file, problems: problems.items, omitted: problems.omitted) }
        return try BareData.finish(file: file, name: name, collections: built)
    }

    /// A bare NDJSON file as a one-collection KB, streamed twice: the first lines for the
    /// types, then every line into the columns (and, only when a later line brings a new
    /// field or another kind of value, once more to type them from every line).
    static func loadNDJSON(path: String) throws(KBLoadError) -> KnowledgeBase {
        let name = BareData.collectionName(fromFile: path)
        var problems = ProblemList()
        var survey = Survey()
        try NDJSONReader.forEachRow(try FileInput(path: path), name: path, problems: &problems) { members, at, _ in
            survey.add(members, path: at)
            return survey.rows < sampleRows
        }
        var fields = survey.fields(path: path, problems: &problems)
        if !problems.isEmpty { throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted) }
        func fill() throws(KBLoadError) -> [ColumnBuilder] {
            let index = survey.index
            func read(_ input: borrowing FileInput, _ part: Range<Int>?, _ end: Int?, _ builders: inout [ColumnBuilder], _ problems: inout ProblemList) throws(KBLoadError) {
                var scanner = JSONRowScanner(fields: fields)
                var settle = NDJSONReader.Settling(end: end)
                try NDJSONReader.forEachLine(input, name: path, problems: &problems, part: part) { line, lineNo, position, problems in
                    settle.row(position: position, &builders)
                    if scanner.scan(line), scanner.append(to: &builders, row: line, lenient: true) { return true }
                    let at = "\(path):\(lineNo)"
                    guard let members = NDJSONReader.parseRow(line, path: at, problems: &problems) else { return true }
                    append(members, fields: fields, index: index, to: &builders, path: at, problems: &problems)
                    return problems.omitted == 0
                }
            }
            if let parts = FileParts.read(path: path, makeBuilders: { newBuilders(fields) }, { (input, part, end, b, p) throws(KBLoadError) -> Bool in
                try read(input, part, end, &b, &p)
                return true
            }) {
                return parts
            }
            var builders = newBuilders(fields)
            let input = try FileInput(path: path)
            try read(input, nil, input.size, &builders, &problems)
            return builders
        }
        var builders = try fill()
        if !problems.isEmpty && survey.rows >= sampleRows {
            // As for a JSON array: type again from every line rather than refuse the file.
            problems = ProblemList()
            let sampled = survey.rows
            var seenRows = 0
            var unsaid = ProblemList()  // a bad line is said by `fill`, once
            try NDJSONReader.forEachRow(try FileInput(path: path), name: path, problems: &unsaid) { members, at, _ in
                seenRows += 1
                if seenRows > sampled { survey.add(members, path: at) }
                return true
            }
            fields = survey.fields(path: path, problems: &problems)
            if !problems.isEmpty { throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted) }
            builders = try fill()
        }
        if !problems.isEmpty { throw KBLoadError(file: path, problems: problems.items, omitted: problems.omitted) }
        return try BareData.finish(file: path, name: name, collections: [(name, fields, builders)])
    }
}

/// Finds the rows of a bare JSON document by matching brackets and quotes only: no value is
/// decoded, and anything unexpected gives up (nil) for the full parser to report.
struct BareJSONScanner {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    /// Bytes scanned before those behind are given back (``FileInput/withBytes(limit:mappedLimit:_:)``).
    private static let releaseEvery = 16 << 20
    /// Told, as the scan moves on, the offset below which it needs the bytes no more.
    private var release: ((Int) -> Void)? = nil
    private var released = 0

    /// Each collection's name (nil for a top-level array) and its rows' byte ranges.
    static func scan(_ b: UnsafeBufferPointer<UInt8>, release: (Int) -> Void = { _ in }) -> [(name: String?, rows: [Range<Int>])]? {
        withoutActuallyEscaping(release) { release in
            var s = BareJSONScanner(b: b, release: release)
            return s.document()
        }
    }

    private mutating func document() -> [(name: String?, rows: [Range<Int>])]? {
        space()
        var out: [(name: String?, rows: [Range<Int>])] = []
        if i < b.count, b[i] == 0x5B {
            guard let rows = array() else { return nil }
            out = [(nil, rows)]
        } else {
            guard byte(0x7B), key() == "collections", byte(0x7B) else { return nil }
            repeat {
                guard let name = key(), let rows = array() else { return nil }
                out.append((name, rows))
            } while byte(0x2C)
            guard byte(0x7D), byte(0x7D) else { return nil }
        }
        space()
        return i == b.count && !out.isEmpty ? out : nil
    }

    /// The rows of the array at `start` and where it ends; nil when the brackets do not match.
    static func rows(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> (rows: [Range<Int>], end: Int)? {
        var s = BareJSONScanner(b: b, i: start)
        guard let rows = s.array() else { return nil }
        return (rows, s.i)
    }

    mutating func space() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }

    mutating func byte(_ c: UInt8) -> Bool {
        space()
        guard i < b.count, b[i] == c else { return false }
        i += 1
        return true
    }

    /// A string's bytes (after its opening quote) up to the closing one.
    func stringEnd() -> Int? {
        var j = i
        // Eight bytes at a time to the first quote or backslash.
        if let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            while j + 8 <= b.count {
                let m = quoteOrBackslashBits(raw.loadUnaligned(fromByteOffset: j, as: UInt64.self))
                if m != 0 { j += m.trailingZeroBitCount >> 3; break }
                j += 8
            }
        }
        while j < b.count {
            if b[j] == 0x5C { j += 2; continue }
            if b[j] == 0x22 { return j + 1 }
            j += 1
        }
        return nil
    }

    mutating func key() -> String? {
        space()
        guard i < b.count, b[i] == 0x22 else { return nil }
        let start = i
        i += 1
        guard let end = stringEnd() else { return nil }
        i = end
        guard case .string(let s)? = try? JSONParser.parse(UnsafeBufferPointer(rebasing: b[start..<end])) else { return nil }
        return byte(0x3A) ? s : nil
    }

    /// One value, whatever it holds: its range.
    mutating func value() -> Range<Int>? {
        space()
        let start = i
        var depth = 0
        while i < b.count {
            switch b[i] {
            case 0x22:
                i += 1
                guard let end = stringEnd() else { return nil }
                i = end
                if depth == 0 { return start..<i }
                continue
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D:
                if depth == 0 { return start < i ? start..<i : nil }
                depth -= 1
                if depth == 0 { i += 1; return start..<i }
            case 0x2C, 0x20, 0x0A, 0x0D, 0x09:
                if depth == 0 { return start < i ? start..<i : nil }
            default: break
            }
            i += 1
        }
        return depth == 0 && start < i ? start..<i : nil
    }

    mutating func array() -> [Range<Int>]? {
        guard byte(0x5B) else { return nil }
        var rows: [Range<Int>] = []
        if byte(0x5D) { return rows }
        repeat {
            guard let r = value() else { return nil }
            rows.append(r)
            if let release, i - released >= BareJSONScanner.releaseEvery {
                release(i)
                released = i
            }
        } while byte(0x2C)
        return byte(0x5D) ? rows : nil
    }
}

/// The high bit of each byte of `w` that is a quote or a backslash; exact for the lowest.
@inline(__always)
private func quoteOrBackslashBits(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
    return zeroBytes(w ^ (ones &* 0x22)) | zeroBytes(w ^ (ones &* 0x5C))
}
