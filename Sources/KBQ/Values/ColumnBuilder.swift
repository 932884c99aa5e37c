/// Collects problems while loading, keeping the first ``KBLoadError/maxProblems``.
struct ProblemList {
    var items: [KBProblem] = []
    var omitted = 0
    mutating func add(_ kind: KBProblem.Kind, _ path: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        if items.count < KBLoadError.maxProblems { items.append(KBProblem(kind, path: path(), message: message())) } else { omitted += 1 }
    }
    var isEmpty: Bool { items.isEmpty && omitted == 0 }
}

/// Builds one column while rows are read, checking each value against the field's type.
///
/// Each kind of column appends to its own unboxed array (no enum to unpack per value), so
/// a million-row CSV streams in without per-value allocation.
struct ColumnBuilder {
    /// The column as the loader's checks see it once reading is done.
    enum Storage {
        case string(StringIDs, StringPool)
        case number([Double])
        case date([PartialDate])
        case bool([UInt8])
        case hedge([UInt8])
        /// Keys of the referenced rows, resolved once every collection is loaded.
        case ref(StringIDs, StringPool)
        case list([[Value]?])
    }

    enum Kind { case string, number, date, bool, hedge, ref, list }

    let field: Field
    let hedges: HedgeScale
    let kind: Kind
    private var ids = StringIDs.Builder()
    private var pool = StringPool()
    private var numbers: [Double] = []
    private var dates: [PartialDate] = []
    /// Bools (0 false, 1 true, 2 null) and hedge ranks (255 null).
    private var small: [UInt8] = []
    private var lists: [[Value]?] = []
    /// Hedge words met in CSV text, by their bytes, and the rank of each (-1: unknown).
    private var hedgeWords = StringPool(expectedCount: 16)
    private var hedgeRanks: [Int16] = []
    /// Whether the column may stop deduplicating its strings once they prove near-unique
    /// (never for a key or a reference, whose strings are looked up).
    var mayDropIndex = false
    /// Rows appended.
    private(set) var count = 0

    init(field: Field, hedges: HedgeScale, capacity: Int) {
        self.field = field
        self.hedges = hedges
        switch field.type {
        case .string: kind = .string
        case .number, .percent, .null: kind = .number
        case .date: kind = .date
        case .bool: kind = .bool
        case .hedge: kind = .hedge
        case .ref: kind = .ref
        case .list: kind = .list
        }
        if capacity > 0 { reserve(rows: capacity, bytes: 0) }
    }

    var storage: Storage {
        switch kind {
        case .string: return .string(ids.built, pool)
        case .ref: return .ref(ids.built, pool)
        case .number: return .number(numbers)
        case .date: return .date(dates)
        case .bool: return .bool(small)
        case .hedge: return .hedge(small)
        case .list: return .list(lists)
        }
    }

    /// Reserves room for `rows` rows and, for text, `bytes` bytes of it. Room reserved and
    /// never used costs address space only.
    mutating func reserve(rows: Int, bytes: Int) {
        switch kind {
        case .string, .ref:
            ids.reserveCapacity(rows)
            pool.reserve(count: min(rows, 1 << 16), bytes: bytes)
        case .number: numbers.reserveCapacity(rows)
        case .date: dates.reserveCapacity(rows)
        case .bool, .hedge: small.reserveCapacity(rows)
        case .list: break
        }
    }

    /// After the first rows of a large file: reserves room for `expectedRows` rows, so that
    /// no array is copied to grow (a copy holds two arrays at once), and stops deduplicating
    /// a column whose strings are nearly all different (text, ids) when it may: its index
    /// would cost memory and time for nothing.
    mutating func settle(expectedRows: Int) {
        if (kind == .string || kind == .ref) && count > 0 {
            let nearUnique = count >= 1000 && pool.count * 2 > count
            if nearUnique && mayDropIndex { pool.dropIndex() }
            let perRow = Double(pool.byteCount) / Double(count)
            pool.reserve(count: nearUnique ? expectedRows : 0, bytes: Int(perRow * Double(expectedRows) * 1.08) + 4096)
        }
        reserve(rows: expectedRows, bytes: 0)
    }

    /// Settles every column of a row (``settle(expectedRows:)``), then gives back the
    /// memory of the arrays they outgrew: freed, it stayed resident beside the columns
    /// through the rest of the load (once per part of a file read side by side).
    static func settle(_ builders: inout [ColumnBuilder], expectedRows: Int) {
        for i in builders.indices { builders[i].settle(expectedRows: expectedRows) }
        releaseFreeMemory()
    }

    /// The scale's words for a message: the first dozen of a long scale.
    static func listing(_ hedges: HedgeScale) -> String {
        hedges.words.prefix(12).joined(separator: ", ") + (hedges.words.count > 12 ? " … (\(hedges.words.count) words)" : "")
    }

    /// Appends a JSON value; on a type error appends null and records the problem.
    mutating func append(_ v: JSON, path: @autoclosure () -> String, problems: inout ProblemList) {
        func wrong(_ expected: String) {
            problems.add(.typeMismatch, path(), "expected \(expected), found \(v.preview)")
            appendNull()
        }
        if case .null = v { appendNull(); return }
        switch kind {
        case .string:
            guard case .string(let s) = v else { return wrong("string") }
            appendID(pool.intern(s))
        case .number:
            guard case .number(let d) = v else { return wrong(field.type == .percent ? "number (the percent, e.g. 76.6)" : "number") }
            numbers.append(d)
            count += 1
        case .date:
            guard let d = ColumnBuilder.date(from: v, path: path(), problems: &problems) else { appendNull(); return }
            dates.append(d)
            count += 1
        case .bool:
            guard case .bool(let b) = v else { return wrong("true or false") }
            small.append(b ? 1 : 0)
            count += 1
        case .hedge:
            guard case .string(let s) = v else { return wrong("a hedge word") }
            guard let r = hedges.rank(of: s), r < HedgeScale.maxWords else {
                let hint = suggest(s, from: hedges.words).map { " (did you mean '\($0)'?)" } ?? ""
                problems.add(.unknownHedge, path(), "unknown hedge word '\(excerpt(s))'\(hint); the KB's hedge words are: \(ColumnBuilder.listing(hedges))")
                appendNull()
                return
            }
            small.append(UInt8(r))
            count += 1
        case .ref:
            guard case .string(let key) = v else {
                if case .ref(let target) = field.type { return wrong("the key (a string) of a row of '\(target)'") }
                return wrong("string")
            }
            appendID(pool.intern(key))
        case .list:
            guard case .list(let elem) = field.type else { return wrong("\(field.type)") }
            guard case .array(let items) = v else { return wrong("array") }
            var out: [Value] = []
            for (i, item) in items.enumerated() {
                switch (item, elem) {
                case (.string(let s), .string?), (.string(let s), nil): out.append(.string(s))
                case (.number(let d), .number?), (.number(let d), nil): out.append(.number(d))
                case (.bool(let b), .bool?), (.bool(let b), nil): out.append(.bool(b))
                case (.null, _): out.append(.null)
                default:
                    problems.add(.typeMismatch, path() + "[\(i)]", "expected \(elem.map { "\($0)" } ?? "string, number or bool"), found \(item.preview)")
                }
            }
            lists.append(out)
            count += 1
        }
    }

    @inline(__always)
    private mutating func appendID(_ id: UInt32) {
        ids.append(id)
        count += 1
    }

    mutating func appendNull() {
        switch kind {
        case .string, .ref: ids.append(StringPool.null)
        case .number: numbers.append(.nan)
        case .date: dates.append(ColumnData.nullDate)
        case .bool: small.append(2)
        case .hedge: small.append(255)
        case .list: lists.append(nil)
        }
        count += 1
    }

    /// Appends the rows of another builder of the same field (a later part of the same file,
    /// read side by side with this one), taking them: `other` is left empty, its pages given
    /// back to the system as they are copied (``drainReleasing(_:_:)``), so that the join
    /// never holds a column twice and nothing of `other` stays resident in the allocator of
    /// the thread that read it. False, with nothing appended, when the text of the two would
    /// not fit one column.
    mutating func append(taking other: inout ColumnBuilder) -> Bool {
        switch kind {
        case .string, .ref:
            guard let (base, map) = pool.absorb(taking: &other.pool) else { return false }
            ids.append(taking: &other.ids, base: base, map: map)
        case .number: moveReleasing(&other.numbers, to: &numbers)
        case .date: moveReleasing(&other.dates, to: &dates)
        case .bool, .hedge: moveReleasing(&other.small, to: &small)
        case .list:
            lists.append(contentsOf: other.lists)
            other.lists = []
        }
        count += other.count
        return true
    }

    /// Appends a field read from CSV: empty text is null; other text is read by the field's type.
    mutating func append(csv s: UnsafeBufferPointer<UInt8>, path: @autoclosure () -> String, problems: inout ProblemList) {
        if s.isEmpty { appendNull(); return }
        switch kind {
        case .string, .ref:
            if pool.byteCount + s.count > StringPool.maxBytes {
                problems.add(.limitExceeded, path(), "the column '\(field.name)' holds more than \(StringPool.maxBytes) bytes of text, the most one column can hold")
                appendNull()
                return
            }
            // Text must be UTF-8, as in a JSON KB; each distinct string is checked once.
            let known = pool.count
            let id = pool.intern(s)
            if pool.count > known, !ColumnBuilder.isUTF8(s) {
                problems.add(.encoding, path(), "text is not valid UTF-8 (save the file as UTF-8)")
                appendNull()
                return
            }
            appendID(id)
        case .number:
            var text = s
            if field.type == .percent, let last = s.last, last == UInt8(ascii: "%") {
                text = UnsafeBufferPointer(rebasing: s[0..<(s.count - 1)])
            }
            guard let d = parseDouble(text), d.isFinite else {
                problems.add(.typeMismatch, path(), "expected a number, found \"\(excerpt(String(decoding: s.prefix(200), as: UTF8.self)))\"")
                appendNull()
                return
            }
            numbers.append(d)
            count += 1
        case .date:
            guard let d = PartialDate.parse(utf8: s) else {
                problems.add(.invalidDate, path(), "expected a date (2024, 2024-06 or 2024-06-19), found \"\(excerpt(String(decoding: s.prefix(200), as: UTF8.self)))\"")
                appendNull()
                return
            }
            dates.append(d)
            count += 1
        case .bool:
            let t = String(decoding: s, as: UTF8.self).lowercased()
            if t == "true" || t == "false" { append(.bool(t == "true"), path: path(), problems: &problems) } else {
                problems.add(.typeMismatch, path(), "expected true or false, found \"\(excerpt(t))\"")
                appendNull()
            }
        case .hedge:
            // A handful of words repeated a million times: rank each distinct word once.
            let w = Int(hedgeWords.intern(s))
            if w == hedgeRanks.count {
                let rank = hedges.rank(of: String(decoding: s, as: UTF8.self)) ?? -1
                hedgeRanks.append(Int16(rank < HedgeScale.maxWords ? rank : -1))
            }
            let r = hedgeRanks[w]
            if r >= 0 {
                small.append(UInt8(r))
                count += 1
            } else {
                append(.string(String(decoding: s, as: UTF8.self)), path: path(), problems: &problems)
            }
        case .list:
            append(.string(String(decoding: s, as: UTF8.self)), path: path(), problems: &problems)
        }
    }

    /// Whether a scalar read by ``JSONRowScanner`` (its string's bytes in `bytes`) goes into
    /// this column as it stands, with nothing to say: true also readies it (a date parsed,
    /// a hedge word ranked) for ``append(scanned:bytes:)``. False for anything the
    /// value-by-value ``append(_:path:problems:)`` (or the lenient bare-data append) would
    /// say something about or convert, so that the row takes that path instead.
    mutating func ready(_ v: inout ScannedJSON, bytes: UnsafeBufferPointer<UInt8>, lenient: Bool) -> Bool {
        if v.kind == .null { return true }
        // Bare data: "" outside a text field is null.
        if lenient && v.kind == .string && v.count == 0 && kind != .string { v.kind = .null; return true }
        switch kind {
        case .string, .ref:
            return v.kind == .string && pool.byteCount + bytes.count <= StringPool.maxBytes
        case .number:
            return v.kind == .number
        case .bool:
            return v.kind == .bool
        case .date:
            guard v.kind == .string, let d = PartialDate.parse(utf8: bytes) else { return false }
            v.date = d
            return true
        case .hedge:
            guard v.kind == .string else { return false }
            let w = Int(hedgeWords.intern(bytes))
            if w == hedgeRanks.count {
                let rank = hedges.rank(of: String(decoding: bytes, as: UTF8.self)) ?? -1
                hedgeRanks.append(Int16(rank < HedgeScale.maxWords ? rank : -1))
            }
            let r = hedgeRanks[w]
            v.number = Double(r)
            return r >= 0
        case .list:
            return false
        }
    }

    /// Appends a scalar that ``ready(_:bytes:lenient:)`` took.
    mutating func append(scanned v: ScannedJSON, bytes: UnsafeBufferPointer<UInt8>) {
        if v.kind == .null { appendNull(); return }
        switch kind {
        case .string, .ref: appendID(pool.intern(bytes)); return
        case .number: numbers.append(v.number)
        case .bool, .hedge: small.append(UInt8(v.number))
        case .date: dates.append(v.date)
        case .list: lists.append(nil)
        }
        count += 1
    }

    static func isUTF8(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt8 = 0
        for b in s { high |= b }
        return high < 0x80 || String(validating: s, as: UTF8.self) != nil
    }

    static func date(from v: JSON, path: String, problems: inout ProblemList) -> PartialDate? {
        switch v {
        case .string(let s):
            if let d = PartialDate.parse(s) { return d }
            problems.add(.invalidDate, path, "expected a date (\"2024\", \"2024-06\" or \"2024-06-19\"), found \(v.preview)")
            return nil
        case .object(let members):
            let known: Set<String> = ["from", "to", "after", "before", "by"]
            for (k, _) in members where !known.contains(k) {
                problems.add(.unknownMember, path + "." + k, "unknown member of a date object (use from/to, or after/before with by)")
                return nil
            }
            func sub(_ k: String) -> PartialDate?? {
                guard let j = v[k] else { return .some(nil) }
                if case .null = j { return .some(nil) }
                guard case .string(let s) = j, let d = PartialDate.parse(s) else {
                    problems.add(.invalidDate, path + "." + k, "expected a date (\"2024\", \"2024-06\" or \"2024-06-19\"), found \(j.preview)")
                    return nil
                }
                return .some(d)
            }
            if v["from"] != nil {
                guard let from = sub("from"), let to = sub("to") else { return nil }
                guard let f = from else { problems.add(.invalidDate, path + ".from", "a span needs a start date"); return nil }
                if let t = to, t.hi < f.lo { problems.add(.invalidDate, path + ".to", "the span ends before it starts"); return nil }
                return PartialDate(from: f, to: to)
            }
            let after = v["after"] != nil
            guard after || v["before"] != nil else {
                problems.add(.invalidDate, path, "a date object needs \"from\" (a span) or \"after\"/\"before\" (a relative date)")
                return nil
            }
            guard let a = sub(after ? "after" : "before"), let anchor = a else { return nil }
            var unit = PartialDate.Unit.days
            if let by = v["by"] {
                switch by {
                case .string("days"): unit = .days
                case .string("weeks"): unit = .weeks
                case .string("months"): unit = .months
                case .string("years"): unit = .years
                default:
                    problems.add(.invalidDate, path + ".by", "expected \"days\", \"weeks\", \"months\" or \"years\", found \(by.preview)")
                    return nil
                }
            }
            return PartialDate(relativeTo: anchor, after: after, by: unit)
        default:
            problems.add(.invalidDate, path, "expected a date (\"2024\", \"2024-06\", \"2024-06-19\" or a date object), found \(v.preview)")
            return nil
        }
    }
}
