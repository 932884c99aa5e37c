/// Writes JSON without Foundation: one object per result with columns, rows (objects keyed
/// by column name), and what the clauses added, on one line: several results are NDJSON, one
/// object a line, which `json.loads` reads line by line (and a single result is plain JSON).
enum JSONRenderer {
    static func render(_ r: ResultTable) -> String {
        var out = "{\"columns\": ["
        out += r.columns.map { "{\"name\": \(quote($0.name)), \"type\": \(quote($0.type.description))}" }.joined(separator: ", ")
        out += "], \"rows\": ["
        // Text a JSON string holds as it is (printable ASCII, no quote or backslash) is
        // copied from where the KB keeps it.
        let keys = r.columns.map { Array((quote($0.name) + ": ").utf8) }
        let cells = CellGrid(r, unchanged: { isPrintableASCII($0, except: 0x22, 0x5C) }, enclosedIn: 0x22, measuring: false, text: value)
        var rows: [UInt8] = []
        for row in 0..<cells.rowCount {
            rows += row == 0 ? "{".utf8 : ", {".utf8
            for c in 0..<cells.columnCount {
                if c > 0 { rows += ", ".utf8 }
                rows += keys[c]
                cells.withCell(row, c) { rows.append(contentsOf: $0) }
            }
            rows.append(UInt8(ascii: "}"))
        }
        out += String(decoding: rows, as: UTF8.self)
        out += "]"
        if let t = r.title { out += ", \"title\": \(quote(t))" }
        if !r.notes.isEmpty { out += ", \"notes\": [" + r.notes.map(quote).joined(separator: ", ") + "]" }
        if !r.summaries.isEmpty {
            out += ", \"summaries\": [" + r.summaries.map { s in
                var o = "{"
                if let t = s.title { o += "\"title\": \(quote(t)), " }
                // Keys are named as columns are (relative_spread), not as the table's labels.
                o += s.items.map { "\(quote(key($0.label))): \(value($0.value))" }.joined(separator: ", ")
                if let v = s.verdict { o += ", \"verdict\": \(quote(v))" }
                return o + "}"
            }.joined(separator: ", ") + "]"
        }
        return out + "}\n"
    }

    /// A label as a JSON key: words joined by underscores, as column names are.
    static func key(_ label: String) -> String {
        label.split(separator: " ").joined(separator: "_")
    }

    static func value(_ v: Value) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .maybe: return "\"maybe\""
        case .number(let d), .percent(let d): return d.isFinite ? shortestDescription(d) : "null"
        case .quantity(let q):
            if q.isExact { return shortestDescription(q.value) }
            var o = "{\"value\": \(shortestDescription(q.value)), \"qualifier\": \(quote(q.qualifier))"
            o += ", \"low\": " + (q.lo.isFinite ? shortestDescription(q.lo) : "null")
            o += ", \"high\": " + (q.hi.isFinite ? shortestDescription(q.hi) : "null")
            // Whether a bound is itself excluded ("over 16,500" excludes 16,500), as the
            // library's Codable form says it; a program should not have to read the word.
            if q.loOpen { o += ", \"lowOpen\": true" }
            if q.hiOpen { o += ", \"highOpen\": true" }
            if q.isPercent { o += ", \"percent\": true" }
            return o + ", \"text\": \(quote(q.description))}"
        case .string(let s): return quote(s)
        case .date(let d): return quote(d.description)
        case .hedge(_, let w): return quote(w)
        case .list(let l): return "[" + l.map(value).joined(separator: ", ") + "]"
        case .ref(let r): return quote(r.display)
        }
    }

    static func quote(_ s: String) -> String { jsonQuote(s) }
}

extension JSON {
    /// A kbq value as a JSON tree of the same shape `JSONRenderer.value` writes (numbers as
    /// numbers, a quantity with its bounds and qualifier, a date, hedge or reference as its
    /// text), for programs that build JSON documents around values (the MCP server).
    /// RenderTests checks that the two agree.
    package init(_ v: Value) {
        func bound(_ d: Double) -> JSON { d.isFinite ? .number(d) : .null }
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .maybe: self = .string("maybe")
        case .number(let d), .percent(let d): self = bound(d)
        case .quantity(let q):
            if q.isExact { self = bound(q.value); return }
            var o: [(String, JSON)] = [("value", bound(q.value)), ("qualifier", .string(q.qualifier)),
                                       ("low", bound(q.lo)), ("high", bound(q.hi))]
            if q.loOpen { o.append(("lowOpen", .bool(true))) }
            if q.hiOpen { o.append(("highOpen", .bool(true))) }
            if q.isPercent { o.append(("percent", .bool(true))) }
            o.append(("text", .string(q.description)))
            self = .object(o)
        case .string(let s): self = .string(s)
        case .date(let d): self = .string(d.description)
        case .hedge(_, let w): self = .string(w)
        case .list(let l): self = .array(l.map(JSON.init))
        case .ref(let r): self = .string(r.display)
        }
    }
}

/// RFC 4180 CSV: a header row, then one line per row; numbers without grouping.
enum CSVRenderer {
    /// `escapingControls`: the CSV is shown on a terminal, so control characters in fields
    /// become visible escapes; otherwise every field is written as it is.
    static func render(_ r: ResultTable, escapingControls: Bool = false, display: DisplayOptions = DisplayOptions()) -> String {
        func cell(_ s: String) -> String { field(escapingControls ? sanitizeForTerminal(s) : s) }
        let out = display.headers ? r.columns.map { cell($0.name) }.joined(separator: ",") + "\r\n" : ""
        // Text a field holds as it is (printable ASCII, no comma or quote, not starting as a
        // formula would) is copied from where the KB keeps it.
        let cells = CellGrid(r, unchanged: { b in
            guard let f = b.first, f != UInt8(ascii: "="), f != UInt8(ascii: "+"), f != UInt8(ascii: "@"), f != UInt8(ascii: "-") else { return b.isEmpty }
            return isPrintableASCII(b, except: UInt8(ascii: ","), UInt8(ascii: "\""))
        }, measuring: false) { cell(display.text($0, \.plainText)) }
        var rows: [UInt8] = []
        for row in 0..<cells.rowCount {
            for c in 0..<cells.columnCount {
                if c > 0 { rows.append(UInt8(ascii: ",")) }
                cells.withCell(row, c) { rows.append(contentsOf: $0) }
            }
            rows += "\r\n".utf8
        }
        return out + String(decoding: rows, as: UTF8.self)
    }

    static func field(_ s: String) -> String {
        // On the bytes: a Character-wise test would also miss a "\r\n" inside a field (one
        // Character, neither "\r" nor "\n").
        var s = s
        let (formula, quoted) = s.withUTF8 { u -> (Bool, Bool) in
            guard let f = u.first else { return (false, false) }
            // A leading = + - @ would be run as a formula by spreadsheets: quote it with a
            // tick. A negative number or percent (-5, -5%) is data, not a formula.
            let formula = f == UInt8(ascii: "=") || f == UInt8(ascii: "+") || f == UInt8(ascii: "@") || f == UInt8(ascii: "-")
            return (formula, u.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D })
        }
        if formula && (s.utf8.first != UInt8(ascii: "-") || parseDouble(s.hasSuffix("%") ? String(s.dropLast()) : s) == nil) { s = "'" + s }
        return quoted ? "\"" + s.replacingOccurrences("\"", "\"\"") + "\"" : s
    }
}

/// GitHub-flavoured Markdown tables, with notes and figures as plain lines after them.
enum MarkdownRenderer {
    static func render(_ r: ResultTable, display: DisplayOptions = DisplayOptions()) -> String {
        var out = ""
        if let t = r.title { out += "**\(cell(t))**\n\n" }
        guard !r.columns.isEmpty else { return out + r.notes.map { "*\(cell($0))*\n" }.joined() }
        out += "| " + r.columns.map { cell($0.name) }.joined(separator: " | ") + " |\n"
        let numeric = r.columns.indices.map { i in r.rows.contains { $0[i].isNumeric } && r.rows.allSatisfy { $0[i].isNumeric || $0[i].isNull } }
        out += "|" + numeric.map { $0 ? " ---: |" : " --- |" }.joined() + "\n"
        for row in r.rows { out += "| " + row.map { cell(display.text($0, \.text)) }.joined(separator: " | ") + " |\n" }
        for s in r.summaries {
            out += "\n" + (s.title.map { "**\(cell($0))**: " } ?? "") + s.items.map { "\($0.label) \(cell($0.value.text))" }.joined(separator: " · ") + "\n"
            if let v = s.verdict { out += "\n*\(cell(v))*\n" }
        }
        for n in r.notes { out += "\n*\(cell(n))*\n" }
        return out
    }

    static func cell(_ s: String) -> String {
        sanitizeForTerminal(s).replacingOccurrences("\\", "\\\\").replacingOccurrences("|", "\\|").replacingOccurrences("\n", " ")
    }
}

extension Value {
    /// The value as kbq's JSON output writes it (`--format json`): numbers as numbers, a
    /// quantity that is not exact as an object with its bounds, qualifier and text, a date,
    /// hedge or reference as its text. For hosts that write their own JSON around results.
    public var jsonText: String { JSONRenderer.value(self) }
}

extension String {
    /// The text as a JSON string, quoted and escaped as kbq's JSON output writes strings.
    public var jsonQuoted: String { JSONRenderer.quote(self) }
}
