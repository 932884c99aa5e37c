extension ResultTable {
    /// The table, or a `too-many-rows` diagnostic when its text (a number or a date counts
    /// as 8 bytes) is past
    /// `limits.maxResultBytes`: rendering costs what the text does.
    consuming func bounded(by limits: Limits, at range: SourceRange) throws(Diagnostic) -> ResultTable {
        guard limits.maxResultBytes < Int.max else { return self }
        var bytes = 0
        func size(_ v: Value) -> Int {
            switch v {
            case .string(let s): return s.utf8.count
            case .hedge(_, let w): return w.utf8.count
            case .list(let items): return items.reduce(2) { $0 + size($1) + 2 }
            default: return 8
            }
        }
        // Cell by cell: a result kept by column is not made into rows to be measured.
        for r in 0..<rowCount {
            for c in columns.indices { bytes &+= size(value(row: r, column: c)) }
            if bytes > limits.maxResultBytes {
                throw Diagnostic(.tooManyRows, "the result holds more than \(limits.maxResultBytes) bytes of text, the limit for this run",
                                 at: range, notes: ["add 'limit N', or select fewer columns"])
            }
        }
        return self
    }
}
