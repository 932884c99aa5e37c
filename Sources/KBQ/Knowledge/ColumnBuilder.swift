/// Collects problems while loading, keeping the first ``KBLoadError/maxProblems``.
struct ProblemList {
    var items: [KBProblem] = []
    var omitted = 0
    mutating func add(_ path: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        if items.count < KBLoadError.maxProblems { items.append(KBProblem(path: path(), message: message())) } else { omitted += 1 }
    }
    var isEmpty: Bool { items.isEmpty && omitted == 0 }
}

/// Builds one column while rows are read, checking each value against the field's type.
struct ColumnBuilder {
    enum Storage {
        case string([UInt32], StringPool)
        case number([Double])
        case date([PartialDate])
        case bool([UInt8])
        case hedge([UInt8])
        /// Keys of the referenced rows, resolved once every collection is loaded.
        case ref([UInt32], StringPool)
        case list([[Value]?])
    }

    let field: Field
    var storage: Storage
    let hedges: HedgeScale

    init(field: Field, hedges: HedgeScale, capacity: Int) {
        self.field = field
        self.hedges = hedges
        switch field.type {
        case .string: var a = [UInt32](); a.reserveCapacity(capacity); storage = .string(a, StringPool())
        case .number, .percent, .null: var a = [Double](); a.reserveCapacity(capacity); storage = .number(a)
        case .date: var a = [PartialDate](); a.reserveCapacity(capacity); storage = .date(a)
        case .bool: storage = .bool([])
        case .hedge: var a = [UInt8](); a.reserveCapacity(capacity); storage = .hedge(a)
        case .ref: var a = [UInt32](); a.reserveCapacity(capacity); storage = .ref(a, StringPool())
        case .list: storage = .list([])
        }
    }

    /// Appends a JSON value; on a type error appends null and records the problem.
    mutating func append(_ v: JSON, path: @autoclosure () -> String, problems: inout ProblemList) {
        func wrong(_ expected: String) {
            problems.add(path(), "expected \(expected), found \(v.preview)")
            appendNull()
        }
        if case .null = v { appendNull(); return }
        switch (storage, field.type) {
        case (.string(var ids, var pool), _):
            guard case .string(let s) = v else { return wrong("string") }
            storage = .number([])  // drop the reference so the arrays are uniquely owned
            ids.append(pool.intern(s))
            storage = .string(ids, pool)
        case (.number(var a), _):
            guard case .number(let d) = v else { return wrong(field.type == .percent ? "number (the percent, e.g. 76.6)" : "number") }
            storage = .date([])
            a.append(d)
            storage = .number(a)
        case (.date(var a), _):
            guard let d = ColumnBuilder.date(from: v, path: path(), problems: &problems) else { appendNull(); return }
            storage = .number([])
            a.append(d)
            storage = .date(a)
        case (.bool(var a), _):
            guard case .bool(let b) = v else { return wrong("true or false") }
            storage = .number([])
            a.append(b ? 1 : 0)
            storage = .bool(a)
        case (.hedge(var a), _):
            guard case .string(let s) = v else { return wrong("a hedge word") }
            guard let r = hedges.rank(of: s) else {
                let hint = suggest(s, from: hedges.words).map { " (did you mean '\($0)'?)" } ?? ""
                problems.add(path(), "unknown hedge word '\(s)'\(hint); the KB's hedge words are: \(hedges.words.joined(separator: ", "))")
                appendNull()
                return
            }
            storage = .number([])
            a.append(UInt8(r))
            storage = .hedge(a)
        case (.ref(var ids, var pool), .ref(let target)):
            guard case .string(let key) = v else { return wrong("the key (a string) of a row of '\(target)'") }
            storage = .number([])
            ids.append(pool.intern(key))
            storage = .ref(ids, pool)
        case (.list(var a), .list(let elem)):
            guard case .array(let items) = v else { return wrong("array") }
            var out: [Value] = []
            for (i, item) in items.enumerated() {
                switch (item, elem) {
                case (.string(let s), .string?), (.string(let s), nil): out.append(.string(s))
                case (.number(let d), .number?), (.number(let d), nil): out.append(.number(d))
                case (.bool(let b), .bool?), (.bool(let b), nil): out.append(.bool(b))
                case (.null, _): out.append(.null)
                default:
                    problems.add(path() + "[\(i)]", "expected \(elem.map { "\($0)" } ?? "string, number or bool"), found \(item.preview)")
                }
            }
            storage = .number([])
            a.append(out)
            storage = .list(a)
        default:
            wrong("\(field.type)")
        }
    }

    mutating func appendNull() {
        switch storage {
        case .string(var ids, let pool): storage = .number([]); ids.append(StringPool.null); storage = .string(ids, pool)
        case .number(var a): storage = .date([]); a.append(.nan); storage = .number(a)
        case .date(var a): storage = .number([]); a.append(ColumnData.nullDate); storage = .date(a)
        case .bool(var a): storage = .number([]); a.append(2); storage = .bool(a)
        case .hedge(var a): storage = .number([]); a.append(255); storage = .hedge(a)
        case .ref(var ids, let pool): storage = .number([]); ids.append(StringPool.null); storage = .ref(ids, pool)
        case .list(var a): storage = .number([]); a.append(nil); storage = .list(a)
        }
    }

    /// Appends a field read from CSV: empty text is null; other text is read by the field's type.
    mutating func append(csv s: UnsafeBufferPointer<UInt8>, path: @autoclosure () -> String, problems: inout ProblemList) {
        if s.isEmpty { appendNull(); return }
        switch storage {
        case .string(var ids, var pool):
            storage = .number([])
            ids.append(pool.intern(s))
            storage = .string(ids, pool)
        case .number(var a):
            var text = s
            var percent = false
            if field.type == .percent, let last = s.last, last == UInt8(ascii: "%") {
                text = UnsafeBufferPointer(rebasing: s[0..<(s.count - 1)]); percent = true
            }
            _ = percent
            guard let d = parseDouble(text), d.isFinite else {
                problems.add(path(), "expected a number, found \"\(String(decoding: s.prefix(40), as: UTF8.self))\"")
                appendNull()
                return
            }
            storage = .date([])
            a.append(d)
            storage = .number(a)
        case .date(var a):
            guard let d = ColumnBuilder.parseDateBytes(s) else {
                problems.add(path(), "expected a date (2024, 2024-06 or 2024-06-19), found \"\(String(decoding: s.prefix(40), as: UTF8.self))\"")
                appendNull()
                return
            }
            storage = .number([])
            a.append(d)
            storage = .date(a)
        case .bool:
            let t = String(decoding: s, as: UTF8.self).lowercased()
            if t == "true" || t == "false" { append(.bool(t == "true"), path: path(), problems: &problems) } else {
                problems.add(path(), "expected true or false, found \"\(String(t.prefix(40)))\"")
                appendNull()
            }
        case .hedge, .list:
            append(.string(String(decoding: s, as: UTF8.self)), path: path(), problems: &problems)
        case .ref(var ids, var pool):
            storage = .number([])
            ids.append(pool.intern(s))
            storage = .ref(ids, pool)
        }
    }

    /// Reads `YYYY`, `YYYY-MM` or `YYYY-MM-DD` straight from bytes.
    static func parseDateBytes(_ s: UnsafeBufferPointer<UInt8>) -> PartialDate? {
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard isDigit(s[i]) else { return nil }; v = v * 10 + Int(s[i] - 0x30) }
            return v
        }
        switch s.count {
        case 4:
            guard let y = num(0..<4), y >= 1 else { return nil }
            return PartialDate(year: y)
        case 7:
            guard s[4] == UInt8(ascii: "-"), let y = num(0..<4), let m = num(5..<7), y >= 1, (1...12).contains(m) else { return nil }
            return PartialDate(year: y, month: m)
        case 10:
            guard s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"), let y = num(0..<4), let m = num(5..<7), let d = num(8..<10),
                  y >= 1, (1...12).contains(m), d >= 1, d <= daysIn(y, m) else { return nil }
            return PartialDate(year: y, month: m, day: d)
        default:
            return nil
        }
    }

    static func date(from v: JSON, path: String, problems: inout ProblemList) -> PartialDate? {
        switch v {
        case .string(let s):
            if let d = PartialDate.parse(s) { return d }
            problems.add(path, "expected a date (\"2024\", \"2024-06\" or \"2024-06-19\"), found \(v.preview)")
            return nil
        case .object(let members):
            let known: Set<String> = ["from", "to", "after", "before", "by"]
            for (k, _) in members where !known.contains(k) {
                problems.add(path + "." + k, "unknown member of a date object (use from/to, or after/before with by)")
                return nil
            }
            func sub(_ k: String) -> PartialDate?? {
                guard let j = v[k] else { return .some(nil) }
                if case .null = j { return .some(nil) }
                guard case .string(let s) = j, let d = PartialDate.parse(s) else {
                    problems.add(path + "." + k, "expected a date (\"2024\", \"2024-06\" or \"2024-06-19\"), found \(j.preview)")
                    return nil
                }
                return .some(d)
            }
            if v["from"] != nil {
                guard let from = sub("from"), let to = sub("to") else { return nil }
                guard let f = from else { problems.add(path + ".from", "a span needs a start date"); return nil }
                if let t = to, t.hi < f.lo { problems.add(path + ".to", "the span ends before it starts"); return nil }
                return PartialDate(from: f, to: to)
            }
            let after = v["after"] != nil
            guard after || v["before"] != nil else {
                problems.add(path, "a date object needs \"from\" (a span) or \"after\"/\"before\" (a relative date)")
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
                    problems.add(path + ".by", "expected \"days\", \"weeks\", \"months\" or \"years\", found \(by.preview)")
                    return nil
                }
            }
            return PartialDate(relativeTo: anchor, after: after, by: unit)
        default:
            problems.add(path, "expected a date (\"2024\", \"2024-06\", \"2024-06-19\" or a date object), found \(v.preview)")
            return nil
        }
    }

    var count: Int {
        switch storage {
        case .string(let a, _), .ref(let a, _): return a.count
        case .number(let a): return a.count
        case .date(let a): return a.count
        case .bool(let a), .hedge(let a): return a.count
        case .list(let a): return a.count
        }
    }
}
