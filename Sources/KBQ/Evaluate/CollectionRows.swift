/// The rows of `collections`, one collection after another, as `columns` name them: the
/// collection's name, then the shared fields.
func unionRows(_ collections: [KBCollection], columns: [ResultColumn], _ env: Env) throws(Diagnostic) -> Rows {
    var out: [[Value]] = []
    for c in collections {
        try env.tick(c.count)
        let fields = columns.dropFirst().map { c.fieldIndex[$0.name] }
        for r in 0..<c.count {
            var row: [Value] = [.string(c.name)]
            row.reserveCapacity(columns.count)
            for f in fields { row.append(f.map { c.value(row: r, column: $0, kb: env.kb) } ?? .null) }
            out.append(row)
        }
    }
    return .table(Table(columns: columns, rows: out))
}
