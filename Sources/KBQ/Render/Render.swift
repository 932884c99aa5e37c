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
    public func rendered(as format: OutputFormat, width: Int? = nil, color: Bool = false, forTerminal: Bool = false) -> String {
        switch format {
        case .table: return TableRenderer(result: self, width: width, color: color).render()
        case .json: return JSONRenderer.render(self)
        case .csv: return CSVRenderer.render(self, escapingControls: forTerminal)
        case .markdown: return MarkdownRenderer.render(self)
        }
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
