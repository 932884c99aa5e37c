extension ResultTable {
    /// The result as text in `format`. `width` bounds table output (long text wraps or is
    /// cut with an ellipsis; `nil` is unbounded); `color` adds ANSI styling to tables.
    public func rendered(as format: OutputFormat, width: Int? = nil, color: Bool = false) -> String {
        switch format {
        case .table: return TableRenderer(result: self, width: width, color: color).render()
        case .json: return JSONRenderer.render(self)
        case .csv: return CSVRenderer.render(self)
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

    /// The value for machines: numbers without grouping (16500), text as is.
    var plainText: String {
        switch self {
        case .number(let v): return shortestDescription(v)
        case .percent(let v): return shortestDescription(v)
        case .quantity(let q):
            if q.isExact { return shortestDescription(q.value) }
            if q.qualifier == "between" { return "between \(shortestDescription(q.value)) and \(shortestDescription(q.hi))" }
            return "\(q.qualifier) \(shortestDescription(q.value))"
        case .list(let l): return l.map(\.plainText).joined(separator: "; ")
        default: return text
        }
    }
}
