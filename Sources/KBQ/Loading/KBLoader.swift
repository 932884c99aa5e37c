#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a KB document (docs/KB-FORMAT.md) into a ``KnowledgeBase``, checking everything
/// and collecting every problem with its JSON path before deciding: a KB is either loaded
/// whole or refused whole.
struct KBLoader {
    /// The largest JSON KB document (docs/KB-FORMAT.md): what is not rows in it is built as a
    /// tree, so it is bounded; bulk rows belong in bare JSON, NDJSON or CSV files.
    static let maxJSONBytes = 1 << 30
    /// The largest bare JSON file of rows (an array of row objects, or `{"collections": …}`):
    /// it is mapped, never read whole, and its rows are scanned in place, so only the file
    /// system and the columns built bound it. 64 GiB keeps a wrong file from taking the
    /// address space's worth of row ranges (16 bytes a row).
    static let maxBareJSONBytes = 1 << 36

    struct Spec {
        let name: String
        let fields: [Field]
        let key: String?
        let measure: String?
        let path: String
        /// Fields whose declaration was wrong: already reported, so rows are not checked
        /// against them again.
        var ignored: Set<String> = []
    }

    var problems = ProblemList()
    let file: String
    let baseDirectory: String?
    /// The document being loaded, while `load(json:)` reads it: its collections' rows are
    /// left in it as bytes (``deferredRows``) and read row by row.
    private var source: UnsafeBufferPointer<UInt8>?
    /// By the place of each collection in `collections`: the byte ranges in ``source`` of
    /// its rows, when the document's reader left them unparsed.
    private var deferredRows: [Int: [Range<Int>]] = [:]
    /// Collections whose deferred rows were read.
    private var readRows: Set<Int> = []
    /// Set when a deferred row is not valid JSON: the document is then refused as the full
    /// parser refuses it, with its line and column.
    private var rowSyntaxError = false

    /// The largest KB document this loader reads: ``maxJSONBytes`` but in tests.
    let documentLimit: Int

    init(file: String, baseDirectory: String?, documentLimit: Int = KBLoader.maxJSONBytes) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.documentLimit = documentLimit
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, f == UInt8(ascii: "_") || (f | 0x20) >= UInt8(ascii: "a") && (f | 0x20) <= UInt8(ascii: "z") else { return false }
        return s.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isDigit($0) || (($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z")) }
    }

    mutating func load(json data: [UInt8], name defaultName: String) throws(KBLoadError) -> KnowledgeBase {
        try data.withUnsafeBufferPointer { (buf) throws(KBLoadError) -> KnowledgeBase in try load(json: buf, name: defaultName, release: { _ in }) }
    }

    /// Loads a KB document (or bare JSON data) from its bytes. `release` is told, as each
    /// pass over the bytes moves on, the offset below which that pass needs them no more
    /// (``FileInput/withBytes(limit:mappedLimit:_:)`` gives those pages back).
    mutating func load(json data: UnsafeBufferPointer<UInt8>, name defaultName: String, release: (Int) -> Void) throws(KBLoadError) -> KnowledgeBase {
        // Lines and columns are counted after a byte order mark, as an editor shows them.
        if let encoding = wideEncoding(UnsafeBufferPointer(rebasing: data.prefix(256))) {
            throw KBLoadError(file: file, problems: [KBProblem(.encoding, path: "$", message: notUTF8Message(encoding))])
        }
        let start = utf8BOMLength(data)
        let buf = UnsafeBufferPointer(rebasing: data[start...])
        // Bare data is read row by row, never as one tree (see JSONInference).
        if let kb = try JSONInference.load(bytes: buf, name: defaultName, file: file, release: { release(start + $0) }) { return kb }
        // A syntax error anywhere is said as the full parser says it (checked without
        // building the tree, so a file of any size says it in bounded memory).
        func syntaxError() -> KBLoadError? {
            do throws(JSONSyntaxError) {
                try JSONParser.validate(buf)
                return nil
            } catch {
                let (line, col) = KBLoader.lineColumn(buf, error.offset)
                return KBLoadError(file: file, problems: [KBProblem(error.kind, path: "$", message: "not valid JSON at line \(line), column \(col): \(error.message)")])
            }
        }
        func refusal() -> KBLoadError {
            syntaxError() ?? KBLoadError(file: file, problems: [KBProblem(.syntax, path: "$", message: "not valid JSON")])
        }
        // Not bare data, so a KB document, whose size is bounded: refused from its size alone
        // when it cannot be JSON of any shape, else after its syntax error if it has one.
        if data.count > documentLimit {
            let first = buf.first { !(0x09...0x0D).contains($0) && $0 != 0x20 }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "["), let error = syntaxError() { throw error }
            throw KBLoader.tooLarge(file: file, bytes: data.count, limit: documentLimit)
        }
        // The rows are read from the bytes by JSONRowScanner, not built as a tree.
        guard let (doc, deferred) = KBLoader.parseDeferringRows(buf) else { throw refusal() }
        source = buf
        deferredRows = deferred
        readRows = []
        rowSyntaxError = false
        var outcome: Result<KnowledgeBase, KBLoadError>
        do { outcome = .success(try load(document: doc, name: defaultName)) } catch { outcome = .failure(error) }
        let broken = rowSyntaxError || !unreadRowsAreValid()
        source = nil
        deferredRows = [:]
        if broken { throw refusal() }
        return try outcome.get()
    }

    /// The refusal of a JSON KB document over `limit` bytes.
    static func tooLarge(file: String, bytes: Int, limit: Int) -> KBLoadError {
        KBLoadError(file: file, problems: [KBProblem(.limitExceeded, path: "$", message: "file is \(bytes) bytes; the limit for one JSON KB document is \(limit) bytes (put large collections in bare JSON, NDJSON or CSV files)")])
    }

    /// Whether the rows of collections that were not read (declared twice, or with a bad
    /// declaration) are valid JSON, as they were checked to be when the tree was built.
    private func unreadRowsAreValid() -> Bool {
        guard let source else { return true }
        for (c, ranges) in deferredRows where !readRows.contains(c) {
            for r in ranges where (try? JSONParser.parse(UnsafeBufferPointer(rebasing: source[r]), depth: KBLoader.rowDepth)) == nil { return false }
        }
        return true
    }

    /// How deep a row object stands in a KB document (top, collections, the collection, rows).
    static let rowDepth = 4

    /// Parses a KB document as ``JSONParser`` does, except for each collection's (first)
    /// `rows` array, which is left as an empty array: its rows' byte ranges are given by the
    /// collection's place in `collections`. Nil when the document is not valid JSON as far
    /// as was read (the full parser then says where).
    static func parseDeferringRows(_ buf: UnsafeBufferPointer<UInt8>) -> (JSON, [Int: [Range<Int>]])? {
        var deferred: [Int: [Range<Int>]] = [:]
        var p = JSONParser(buf)
        do throws(JSONSyntaxError) {
            p.skipSpace()
            let doc: JSON
            if p.pos < buf.count, buf[p.pos] == UInt8(ascii: "{") {
                var seenCollections = false
                doc = try p.object { (p: inout JSONParser, key: String) throws(JSONSyntaxError) -> JSON in
                    guard key == "collections", !seenCollections, p.pos < buf.count, buf[p.pos] == UInt8(ascii: "{") else { return try p.value() }
                    seenCollections = true
                    var c = -1
                    return try p.object { (p: inout JSONParser, _: String) throws(JSONSyntaxError) -> JSON in
                        c += 1
                        guard p.pos < buf.count, buf[p.pos] == UInt8(ascii: "{") else { return try p.value() }
                        let collection = c
                        return try p.object { (p: inout JSONParser, key: String) throws(JSONSyntaxError) -> JSON in
                            guard key == "rows", deferred[collection] == nil, p.pos < buf.count, buf[p.pos] == UInt8(ascii: "["),
                                  let (rows, end) = BareJSONScanner.rows(buf, at: p.pos) else { return try p.value() }
                            deferred[collection] = rows
                            p.pos = end
                            return .array([])
                        }
                    }
                }
            } else {
                doc = try p.value()
            }
            p.skipSpace()
            guard p.pos == buf.count else { return nil }
            return (doc, deferred)
        } catch {
            return nil
        }
    }

    /// Checks and builds an already parsed KB document: what `load(json:)` reads, and what
    /// ``KnowledgeBase/Builder`` assembles in code, so both share every check.
    mutating func load(document doc: JSON, name defaultName: String) throws(KBLoadError) -> KnowledgeBase {
        guard case .object(let top) = doc else {
            throw KBLoadError(file: file, problems: [KBProblem(.typeMismatch, path: "$", message: "expected an object with \"kbq\" and \"collections\", found \(doc.preview)")])
        }
        refuseRepeatedMembers(top, path: "$")
        let knownTop: Set<String> = ["kbq", "name", "title", "hedges", "collections", "description", "source"]
        for (k, _) in top where !knownTop.contains(k) {
            problems.add(.unknownMember, "$.\(excerpt(k))", "unknown member (expected kbq, name, title, hedges, collections)" + (suggest(k, from: knownTop).map { "; did you mean '\($0)'?" } ?? ""))
        }
        switch doc["kbq"] {
        case .number(1)?: break
        case nil: problems.add(.missing, "$", "missing \"kbq\": 1 (the format version)")
        case let v?: problems.add(.unsupportedVersion, "$.kbq", "unsupported format version \(v.preview); this kbq reads version 1")
        }
        var name = defaultName
        if let n = doc["name"] { if case .string(let s) = n { name = s } else { problems.add(.typeMismatch, "$.name", "expected string, found \(n.preview)") } }
        var title: String?
        if let t = doc["title"] { if case .string(let s) = t { title = s } else if case .null = t {} else { problems.add(.typeMismatch, "$.title", "expected string, found \(t.preview)") } }
        let hedges = parseHedges(doc["hedges"])
        guard case .object(let colls)? = doc["collections"] else {
            problems.add(doc["collections"] == nil ? .missing : .typeMismatch, "$.collections", doc["collections"] == nil ? "missing \"collections\"" : "expected an object of collections, found \(doc["collections"]!.preview)")
            throw KBLoadError(file: file, problems: problems.items, omitted: problems.omitted)
        }
        var seen = Set<String>()
        var specs: [(Spec, JSON, Int)] = []
        for (c, (cname, cdef)) in colls.enumerated() {
            let path = "$.collections.\(cname)"
            if !seen.insert(cname).inserted { problems.add(.duplicateName, path, "collection '\(cname)' is declared twice"); continue }
            if !KBLoader.isIdentifier(cname) { problems.add(.invalidName, path, "collection name '\(cname)' is not an identifier (letters, digits, _)") }
            if let spec = parseSpec(cname, cdef, path: path) { specs.append((spec, cdef, c)) }
        }
        // References may only point at declared collections.
        let names = Set(specs.map { $0.0.name })
        for (spec, _, _) in specs {
            for f in spec.fields {
                if case .ref(let target) = f.type, !names.contains(target) {
                    problems.add(.unknownCollection, "\(spec.path).fields.\(f.name)", "reference to unknown collection '\(target)'" + (suggest(target, from: names).map { "; did you mean '\($0)'?" } ?? ""))
                }
            }
        }
        var built: [(Spec, [ColumnBuilder])] = []
        for (spec, cdef, c) in specs {
            built.append((spec, rows(for: spec, cdef, hedges: hedges, collection: c)))
            if rowSyntaxError { throw KBLoadError(file: file, problems: []) }  // said by load(json:)
        }
        return try finish(name: name, title: title, hedges: hedges, built: built)
    }

    func lineColumn(_ data: [UInt8], _ offset: Int) -> (Int, Int) { KBLoader.lineColumn(data, offset) }

    /// The 1-based line and column (in characters) of byte `offset`.
    static func lineColumn(_ data: some Collection<UInt8>, _ offset: Int) -> (Int, Int) {
        var line = 1, col = 1
        for b in data.prefix(offset) { if b == 0x0A { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 } }
        return (line, col)
    }

    /// A member given twice (`"rows"`, `"collections"` …) is refused with its path: a JSON
    /// parser may keep either value, and keeping one would drop the other unsaid. (Rows
    /// and fields declared twice are said where they are read.)
    mutating func refuseRepeatedMembers(_ members: [(String, JSON)], path: String) {
        guard members.count > 1 else { return }
        var seen = Set<String>()
        var said = Set<String>()
        for (k, _) in members where !seen.insert(k).inserted && said.insert(k).inserted {
            problems.add(.duplicateName, "\(path).\(excerpt(k))", "\"\(excerpt(k))\" is given twice; give it once")
        }
    }

    mutating func parseHedges(_ j: JSON?) -> HedgeScale {
        guard let j else { return .standard }
        guard case .array(let items) = j, !items.isEmpty else {
            problems.add(.invalidSchema, "$.hedges", "expected a non-empty array of hedge words, strongest first")
            return .standard
        }
        var words: [String] = [], aliases: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            switch item {
            case .string(let w): words.append(w)
            case .object:
                guard case .string(let w)? = item["word"] else { problems.add(.invalidSchema, "$.hedges[\(i)]", "expected {\"word\": …, \"aliases\": […]}"); continue }
                words.append(w)
                if case .array(let al)? = item["aliases"] {
                    for (k, a) in al.enumerated() {
                        if case .string(let s) = a { aliases[s] = words.count - 1 } else { problems.add(.typeMismatch, "$.hedges[\(i)].aliases[\(k)]", "expected string, found \(a.preview)") }
                    }
                }
            default: problems.add(.invalidSchema, "$.hedges[\(i)]", "expected a hedge word, found \(item.preview)")
            }
        }
        if Set(words.map { $0.lowercased() }).count != words.count { problems.add(.duplicateName, "$.hedges", "a hedge word is listed twice") }
        if words.count > HedgeScale.maxWords {
            // A rank is one byte: the rows are checked against the first words only, so a
            // word past the bound is an unknown hedge word, never a rank that does not fit.
            problems.add(.limitExceeded, "$.hedges", "\(words.count) hedge words; at most \(HedgeScale.maxWords)")
            return HedgeScale(words: Array(words.prefix(HedgeScale.maxWords)), aliases: aliases.filter { $0.value < HedgeScale.maxWords })
        }
        return HedgeScale(words: words, aliases: aliases)
    }

    mutating func parseType(_ j: JSON, path: String) -> (FieldType, String?, String?)? {
        func simple(_ s: String) -> FieldType? {
            switch s {
            case "string", "text": return .string
            case "number": return .number()
            case "percent": return .percent
            case "date": return .date
            case "bool", "boolean": return .bool
            case "hedge": return .hedge
            case "list": return .list(nil)
            default: return nil
            }
        }
        let names = ["string", "number", "percent", "date", "bool", "hedge", "list", "{\"ref\": C}", "{\"list\": T}"]
        switch j {
        case .string(let s):
            if let t = simple(s) { return (t, nil, nil) }
            problems.add(.unknownType, path, "unknown type '\(excerpt(s))'" + (suggest(s, from: names).map { "; did you mean '\($0)'?" } ?? "") + " (types: \(names.joined(separator: ", ")))")
            return nil
        case .object(let members):
            refuseRepeatedMembers(members, path: path)
            if case .string(let target)? = j["ref"] {
                if members.count != 1 { problems.add(.invalidSchema, path, "a reference type is {\"ref\": \"collection\"} alone") }
                return (.ref(target), nil, nil)
            }
            if let l = j["list"] {
                guard case .string(let e) = l, let et = simple(e), et != .list(nil) else {
                    problems.add(.invalidSchema, path + ".list", "expected an element type (string, number, bool), found \(l.preview)")
                    return nil
                }
                return (.list(et), nil, nil)
            }
            guard case .string(let base)? = j["type"], let t = simple(base) else {
                problems.add(.invalidSchema, path, "expected a type name, {\"ref\": …}, {\"list\": …} or {\"type\": …}")
                return nil
            }
            for (k, _) in members where !["type", "qualifier", "upper"].contains(k) {
                problems.add(.unknownMember, path + "." + k, "unknown member of a field type (type, qualifier, upper)")
            }
            var q: String?, u: String?
            if let qj = j["qualifier"] { if case .string(let s) = qj { q = s } else { problems.add(.invalidSchema, path + ".qualifier", "expected a field name") } }
            if let uj = j["upper"] { if case .string(let s) = uj { u = s } else { problems.add(.invalidSchema, path + ".upper", "expected a field name") } }
            if (q != nil || u != nil) && t != .number() { problems.add(.invalidSchema, path, "only a number field can have a qualifier") }
            return (q != nil || u != nil ? .number(qualified: true) : t, q, u)
        default:
            problems.add(.invalidSchema, path, "expected a type, found \(j.preview)")
            return nil
        }
    }

    mutating func parseSpec(_ name: String, _ def: JSON, path: String) -> Spec? {
        guard case .object(let members) = def else { problems.add(.typeMismatch, path, "expected a collection object, found \(def.preview)"); return nil }
        refuseRepeatedMembers(members, path: path)
        let known: Set<String> = ["fields", "key", "measure", "rows", "file", "description", "display"]
        for (k, _) in members where !known.contains(k) {
            problems.add(.unknownMember, "\(path).\(excerpt(k))", "unknown member of a collection" + (suggest(k, from: known).map { "; did you mean '\($0)'?" } ?? " (fields, key, measure, rows, file)"))
        }
        guard case .object(let fdefs)? = def["fields"], !fdefs.isEmpty else {
            problems.add(.missing, "\(path).fields", "a collection needs a non-empty \"fields\" object")
            return nil
        }
        var fields: [Field] = []
        var seen = Set<String>()
        var ignored = Set<String>()
        for (fname, fdef) in fdefs {
            let fpath = "\(path).fields.\(fname)"
            if !seen.insert(fname).inserted { problems.add(.duplicateName, fpath, "field '\(fname)' is declared twice"); continue }
            if !KBLoader.isIdentifier(fname) { problems.add(.invalidName, fpath, "field name '\(fname)' is not an identifier (letters, digits, _)") }
            guard let (t, q, u) = parseType(fdef, path: fpath) else { ignored.insert(fname); continue }
            fields.append(Field(name: fname, type: t, qualifierField: q, upperField: u))
        }
        func fieldNamed(_ n: String) -> Field? { fields.first { $0.name == n } }
        for f in fields {
            if let q = f.qualifierField {
                if let qf = fieldNamed(q) { if qf.type != .string { problems.add(.invalidSchema, "\(path).fields.\(f.name).qualifier", "qualifier field '\(q)' must be a string field") } }
                else { problems.add(.unknownField, "\(path).fields.\(f.name).qualifier", "no field '\(q)' in '\(name)'") }
            }
            if let u = f.upperField {
                if let uf = fieldNamed(u) { if !uf.type.isNumeric { problems.add(.invalidSchema, "\(path).fields.\(f.name).upper", "upper field '\(u)' must be a number field") } }
                else { problems.add(.unknownField, "\(path).fields.\(f.name).upper", "no field '\(u)' in '\(name)'") }
            }
        }
        var key: String?
        if let k = def["key"] {
            if case .string(let s) = k, let f = fieldNamed(s) {
                if f.type != .string { problems.add(.invalidSchema, "\(path).key", "the key field '\(s)' must be a string field") }
                key = s
            } else if case .null = k {
            } else {
                problems.add(.invalidSchema, "\(path).key", "expected the name of a field of '\(name)', found \(k.preview)")
            }
        }
        var measure: String?
        if let m = def["measure"] {
            if case .string(let s) = m, let f = fieldNamed(s) {
                if !f.type.isNumeric { problems.add(.invalidSchema, "\(path).measure", "the measure '\(s)' must be a number or percent field, not \(f.type)") }
                measure = s
            } else if case .null = m {
            } else {
                problems.add(.invalidSchema, "\(path).measure", "expected the name of a number field of '\(name)', found \(m.preview)")
            }
        }
        if def["rows"] == nil && def["file"] == nil { problems.add(.missing, path, "a collection needs \"rows\" or \"file\"") }
        if def["rows"] != nil && def["file"] != nil { problems.add(.invalidSchema, path, "give \"rows\" or \"file\", not both") }
        return Spec(name: name, fields: fields, key: key, measure: measure, path: path, ignored: ignored)
    }

    mutating func rows(for spec: Spec, _ def: JSON, hedges: HedgeScale, collection: Int) -> [ColumnBuilder] {
        if case .string(let f)? = def["file"] {
            // KB bytes handed over by a program have no folder of their own: reading a path
            // relative to the process's working folder, or any absolute path, is not what
            // the program asked for (KnowledgeBase(json:) documents this).
            guard let baseDirectory else {
                problems.add(.fileOutsideFolder, "\(spec.path).file", "this KB was given as bytes, with no folder to read files from")
                return spec.fields.map { ColumnBuilder(field: $0, hedges: hedges, capacity: 0) }
            }
            let path: String
            switch confined(f, in: baseDirectory) {
            case .success(let p): path = p
            case .failure(let refusal):
                problems.add(.fileOutsideFolder, "\(spec.path).file", refusal.message)
                return spec.fields.map { ColumnBuilder(field: $0, hedges: hedges, capacity: 0) }
            }
            do {
                let input = try FileInput(path: path, regularFileOnly: true)
                let lower = f.lowercased()
                var builders = spec.fields.map { ColumnBuilder(field: $0, hedges: hedges, capacity: 0) }
                if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") {
                    try NDJSONReader.read(input, fields: spec.fields, into: &builders, problems: &problems, name: f, path: path)
                } else {
                    var reader = CSVReader(input: input, name: f)
                    try reader.read(fields: spec.fields, into: &builders, problems: &problems)
                }
                return builders
            } catch {
                // A problem inside the file keeps its line (`rows.csv:7`).
                for p in error.problems { problems.add(p.kind, "\(spec.path).file", p.path == "$" ? p.message : "\(p.path): \(p.message)") }
                return spec.fields.map { ColumnBuilder(field: $0, hedges: hedges, capacity: 0) }
            }
        }
        if let f = def["file"] { problems.add(.typeMismatch, "\(spec.path).file", "expected a file name, found \(f.preview)") }
        guard case .array(let rows)? = def["rows"] else {
            if let r = def["rows"] { problems.add(.typeMismatch, "\(spec.path).rows", "expected an array of row objects, found \(r.preview)") }
            return spec.fields.map { ColumnBuilder(field: $0, hedges: hedges, capacity: 0) }
        }
        let deferred = source != nil ? deferredRows[collection] : nil
        var builders = spec.fields.map { ColumnBuilder(field: $0, hedges: hedges, capacity: deferred?.count ?? rows.count) }
        var index: [String: Int] = [:]
        for (i, f) in spec.fields.enumerated() { index[f.name] = i }
        func add(_ row: JSON, _ r: Int) {
            let rpath = "\(spec.path).rows[\(r)]"
            guard case .object(let members) = row else {
                problems.add(.typeMismatch, rpath, "expected a row object, found \(row.preview)")
                for i in builders.indices { builders[i].appendNull() }
                return
            }
            KBLoader.append(members, fields: spec.fields, index: index, to: &builders, path: rpath, problems: &problems) { k in
                spec.ignored.contains(k) ? nil
                    : "unknown field '\(k)' in '\(spec.name)'" + (suggest(k, from: spec.fields.map(\.name)).map { "; did you mean '\($0)'?" } ?? "")
            }
        }
        if let deferred, let source {
            readRows.insert(collection)
            var scanner = JSONRowScanner(fields: spec.fields)
            for (r, range) in deferred.enumerated() {
                let bytes = UnsafeBufferPointer(rebasing: source[range])
                if scanner.scan(bytes), scanner.append(to: &builders, row: bytes, lenient: false) { continue }
                guard let row = try? JSONParser.parse(bytes, depth: KBLoader.rowDepth) else {
                    rowSyntaxError = true
                    return builders
                }
                add(row, r)
            }
        } else {
            for (r, row) in rows.enumerated() { add(row, r) }
        }
        return builders
    }

    /// Appends one row object of a KB file's rows (or of its NDJSON rows file) strictly:
    /// every field given once, none unknown (`unknown` says what to tell of a name that is
    /// no field, nil to pass over it), a missing one null and said.
    static func append(_ members: [(String, JSON)], fields: [Field], index: [String: Int], to builders: inout [ColumnBuilder],
                       path: String, problems: inout ProblemList, unknown: (String) -> String?) {
        var given = [Bool](repeating: false, count: fields.count)
        for (k, v) in members {
            guard let i = index[k] else {
                if let message = unknown(k) { problems.add(.unknownField, "\(path).\(k)", message) }
                continue
            }
            // Keeping one of two values would drop the other unsaid.
            if given[i] { problems.add(.duplicateName, "\(path).\(k)", "field given twice"); continue }
            given[i] = true
            builders[i].append(v, path: "\(path).\(k)", problems: &problems)
        }
        for i in fields.indices where !given[i] {
            problems.add(.missing, path, "missing field '\(fields[i].name)' (give null for no value)")
            builders[i].appendNull()
        }
    }

    mutating func finish(name: String, title: String?, hedges: HedgeScale, built: [(Spec, [ColumnBuilder])]) throws(KBLoadError) -> KnowledgeBase {
        // Keys: unique and present.
        var keyPools: [String: (ids: StringIDs, pool: StringPool)] = [:]
        for (spec, builders) in built {
            guard let key = spec.key, let ki = spec.fields.firstIndex(where: { $0.name == key }),
                  case .string(let ids, let pool) = builders[ki].storage else { continue }
            // Each row its own string, in order (a distinct pool gives equal keys one id): no
            // key is null or repeated, and a million-row check needs no table.
            if ids.isIdentity && pool.isDistinct { keyPools[spec.name] = (ids, pool); continue }
            var firstRow = [Int32](repeating: -1, count: pool.count)
            for (r, id) in ids.enumerated() {
                if id == StringPool.null { problems.add(.missing, KBLoader.rowPath(spec, r, key), "the key '\(key)' is null"); continue }
                if firstRow[Int(id)] >= 0 {
                    problems.add(.duplicateKey, KBLoader.rowPath(spec, r, key), "duplicate key '\(excerpt(pool[id]))' (also in row \(firstRow[Int(id)]))")
                } else {
                    firstRow[Int(id)] = Int32(r)
                }
            }
            keyPools[spec.name] = (ids, pool)
        }
        checkProvenance(built, keys: keyPools)
        // Qualifier words must be known.
        for (spec, builders) in built {
            for f in spec.fields {
                guard let q = f.qualifierField, let qi = spec.fields.firstIndex(where: { $0.name == q }),
                      case .string(let ids, let pool) = builders[qi].storage else { continue }
                var bad = [Bool](repeating: false, count: pool.count)
                for id in 0..<pool.count where Quantity.kind(of: pool[UInt32(id)].lowercased().trimmingSpaces) == nil { bad[id] = true }
                for (r, id) in ids.enumerated() where id != StringPool.null && bad[Int(id)] {
                    let word = pool[id]
                    problems.add(.unknownQualifier, KBLoader.rowPath(spec, r, q), "unknown qualifier '\(excerpt(word))'" + (suggest(word, from: Quantity.words.keys.filter { !$0.isEmpty }).map { "; did you mean '\($0)'?" } ?? "") + " (qualifiers: over, at least, under, up to, about, between …)")
                }
                // "between" needs its upper bound, at or above the value: without one the row
                // would read back as an exact number under a "between" label.
                guard let vi = spec.fields.firstIndex(where: { $0.name == f.name }),
                      case .number(let values) = builders[vi].storage else { continue }
                var uppers: [Double]?
                if let u = f.upperField, let ui = spec.fields.firstIndex(where: { $0.name == u }),
                   case .number(let us) = builders[ui].storage { uppers = us }
                // Decided once per distinct word, not per row: a million rows share a handful.
                let isBetween = (0..<pool.count).map { Quantity.kind(of: pool[UInt32($0)].lowercased().trimmingSpaces) == .between }
                guard isBetween.contains(true) else { continue }
                for (r, id) in ids.enumerated() where id != StringPool.null && !bad[Int(id)] && !values[r].isNaN {
                    guard isBetween[Int(id)] else { continue }
                    guard let u = f.upperField else {
                        problems.add(.invalidInterval, KBLoader.rowPath(spec, r, q), "'between' needs an upper bound: declare \"upper\" in the type of '\(f.name)'")
                        continue
                    }
                    let upper = uppers?[r] ?? .nan
                    if upper.isNaN {
                        problems.add(.invalidInterval, KBLoader.rowPath(spec, r, u), "'between' needs an upper bound in '\(u)', found null")
                    } else if upper < values[r] {
                        problems.add(.invalidInterval, KBLoader.rowPath(spec, r, u), "the upper bound \(formatNumber(upper)) is below the value \(formatNumber(values[r])) of '\(f.name)'")
                    }
                }
            }
        }
        // Resolve references to row indexes.
        var resolvedColumns: [[ColumnData]] = []
        for (spec, builders) in built {
            var cols: [ColumnData] = []
            for (fi, b) in builders.enumerated() {
                switch b.storage {
                case .string(let ids, var pool): pool.seal(); cols.append(.string(ids: ids, pool: pool))
                case .number(let a): cols.append(.number(Stored(a)))
                case .date(let a): cols.append(.date(Stored(a)))
                case .bool(let a): cols.append(.bool(Stored(a)))
                case .hedge(let a): cols.append(.hedge(Stored(a)))
                case .list(let a): cols.append(.list(a))
                case .ref(let ids, let pool):
                    guard case .ref(let target) = spec.fields[fi].type, let tk = keyPools[target] else {
                        if case .ref(let target) = spec.fields[fi].type, built.contains(where: { $0.0.name == target }) {
                            problems.add(.invalidSchema, "\(spec.path).fields.\(spec.fields[fi].name)", "collection '\(target)' has no \"key\", so it cannot be referenced")
                        }
                        cols.append(.ref(Stored([Int32](repeating: -1, count: ids.count))))
                        continue
                    }
                    var map = [Int32](repeating: -1, count: pool.count)
                    for id in 0..<pool.count {
                        if let t = tk.pool.lookup(pool[UInt32(id)]), Int(t) < tk.ids.count { map[id] = Int32(t) }
                    }
                    var rows = [Int32](repeating: -1, count: ids.count)
                    for (r, id) in ids.enumerated() where id != StringPool.null {
                        let t = map[Int(id)]
                        if t < 0 {
                            let key = pool[id]
                            let candidates = (0..<min(tk.pool.count, 5000)).map { tk.pool[UInt32($0)] }
                            problems.add(.danglingReference, KBLoader.rowPath(spec, r, spec.fields[fi].name), "dangling reference: no row of '\(target)' has key '\(key)'" + (suggest(key, from: candidates).map { "; did you mean '\($0)'?" } ?? ""))
                        }
                        rows[r] = t
                    }
                    cols.append(.ref(Stored(rows)))
                }
            }
            resolvedColumns.append(cols)
        }
        if !problems.isEmpty { throw KBLoadError(file: file, problems: problems.items, omitted: problems.omitted) }
        var collections: [KBCollection] = []
        for ((spec, builders), cols) in zip(built, resolvedColumns) {
            collections.append(KBCollection(name: spec.name, fields: spec.fields, columns: cols, count: builders.first?.count ?? 0,
                                          key: spec.key, measure: spec.measure, hedges: hedges))
        }
        return KnowledgeBase(name: name, title: title, collections: collections, hedges: hedges)
    }

    static func rowPath(_ spec: Spec, _ r: Int, _ field: String) -> String {
        "\(spec.path).rows[\(r)].\(field)"
    }
}

struct FileRefusal: Error {
    let message: String
}

/// The path of a KB's rows file `name`, read from the KB's folder `base` and nowhere else:
/// no absolute path, no `..`, and no link that leads out of the folder (a KB from
/// elsewhere must not read the user's other files, `/proc/self/environ` among them).
func confined(_ name: String, in base: String) -> Result<String, FileRefusal> {
    if name.hasPrefix("/") {
        return .failure(FileRefusal(message: "'\(excerpt(name))' is an absolute path; a KB reads its rows files from its own folder only"))
    }
    if name.split(separator: "/").contains("..") {
        return .failure(FileRefusal(message: "'\(excerpt(name))' reaches out of the KB's folder with '..'; a KB reads its rows files from its own folder only"))
    }
    let path = resolvePath(name, relativeTo: base)
    // Links are followed to where they lead, which must still be inside the folder. A file
    // that is not there is left to the open, which says so.
    guard let real = realPath(path) else { return .success(path) }
    guard let folder = realPath(base.isEmpty ? "." : base) else { return .success(path) }
    let inside = folder == "/" ? real.hasPrefix("/") : real.hasPrefix(folder + "/")
    if !inside {
        return .failure(FileRefusal(message: "'\(excerpt(name))' is a link to a file outside the KB's folder; a KB reads its rows files from its own folder only"))
    }
    return .success(path)
}

/// The absolute path with every link resolved, or nil when it does not exist.
private func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
