extension ResultTable {
    /// The result as text in `format`. `width` bounds table output (long text wraps or is
    /// cut with an ellipsis; `nil` is unbounded); `color` adds ANSI styling to tables.
    ///
    /// Tables, Markdown and JSON always show control characters from the data as visible
    /// escapes (`\e`, `\u{7}`; `\u001b` in JSON). CSV is data for other programs and keeps
    /// them byte for byte, unless `forTerminal` says the text is going to be shown on a
    /// terminal, where an escape sequence in a cell would drive the terminal: CSV fields then
    /// show control characters (line breaks in a field too) the way ``sanitizeForTerminal(_:)``
    /// does.
    ///
    /// `display` holds a shell's settings for people (header line, null text, one record at
    /// a time); JSON, being for programs, ignores them.
    public func rendered(as format: OutputFormat, width: Int? = nil, color: Bool = false, forTerminal: Bool = false,
                         display: DisplayOptions = DisplayOptions()) -> String {
        switch format {
        case .table: return TableRenderer(result: self, width: width, color: color, display: display).render()
        case .json: return JSONRenderer.render(self)
        case .csv: return CSVRenderer.render(self, escapingControls: forTerminal, display: display)
        case .markdown: return MarkdownRenderer.render(self, display: display)
        }
    }
}

/// How a shell shows results to people, as sqlite3's `.headers` and `.nullvalue` and psql's
/// `\x` set it. The defaults are kbq's own output.
public struct DisplayOptions: Sendable, Equatable {
    /// When a table is shown one record at a time (`name  value` lines) instead of in columns.
    public enum Expanded: String, Sendable, CaseIterable {
        /// Only when the columns cannot fit the width without breaking words.
        case auto
        /// Always.
        case on
        /// Never: columns are squeezed, and long words broken, to fit.
        case off
    }

    /// Whether tables and CSV start with the column names (Markdown always does: its syntax
    /// needs them).
    public var headers: Bool
    /// What a null shows as in tables, CSV and Markdown (JSON keeps `null`).
    public var nullText: String
    public var expanded: Expanded

    public init(headers: Bool = true, nullText: String = "", expanded: Expanded = .auto) {
        self.headers = headers
        self.nullText = nullText
        self.expanded = expanded
    }

    /// The text of `value` in a people's format: `text` unless it is null.
    func text(_ value: Value, _ text: (Value) -> String) -> String {
        if value.isNull { return nullText }
        return text(value)
    }
}

extension Value {
    /// Whether a table shows the value right-aligned.
    var isNumeric: Bool {
        switch self {
        case .number, .percent, .quantity: return true
        default: return false
        }
    }

    /// The value for machines: the words a table shows, numbers without grouping ("over
    /// 16500", "76.6%", "any value"), text as is.
    var plainText: String {
        switch self {
        case .number(let v): return shortestDescription(v)
        case .percent(let v): return shortestDescription(v) + "%"
        case .quantity(let q): return q.written { shortestDescription($0) + (q.isPercent ? "%" : "") }
        case .list(let l): return l.map(\.plainText).joined(separator: "; ")
        default: return text
        }
    }
}
