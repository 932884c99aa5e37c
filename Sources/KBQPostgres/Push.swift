import KBQ

/// `kbq push URL`: the KB's tables, rows, indexes and metadata, in one transaction, so that
/// the database holds all of the KB or, after any failure, what it held before.
package enum Push {
    /// Rows per COPY chunk: bounds the memory a big collection takes on its way out.
    package static let chunkRows = 20_000

    package static func run(kb: KnowledgeBase, into connection: Connection) throws(DatabaseError) -> (tables: Int, rows: Int) {
        let layout: SQLLayout
        do { layout = try SQLLayout(kb) } catch { throw DatabaseError(message: error.message) }
        try connection.execute("BEGIN")
        do {
            // The tables of the KB pushed before go too, so a KB that lost a collection
            // leaves no stale table that `kbq_meta` no longer describes.
            var previous: [String] = []
            let exists = try connection.query("SELECT to_regclass($1) IS NOT NULL", parameters: [SQLLayout.metaTable])
            if exists.first?.first == "t" {
                let rows = try connection.query("SELECT value FROM \(SQLDialect.postgres.quoted(SQLLayout.metaTable)) WHERE key = 'tables'")
                previous = rows.first?.first??.split(separator: "\n").map(String.init) ?? []
            }
            for statement in layout.createStatements(.postgres, dropping: previous) { try connection.execute(statement) }
            for (key, value) in layout.metadata {
                _ = try connection.query("INSERT INTO \(SQLDialect.postgres.quoted(SQLLayout.metaTable)) VALUES ($1, $2)", parameters: [key, value])
            }
            var rows = 0
            for table in layout.tables {
                var next = 0
                try connection.copyIn(layout.copyStatement(table)) {
                    let chunk = layout.copyRows(of: table, from: next, count: chunkRows)
                    next += chunkRows
                    return chunk.isEmpty ? nil : chunk
                }
                rows += layout.rowCount(of: table)
            }
            for statement in layout.indexStatements(.postgres) { try connection.execute(statement) }
            try connection.execute("ANALYZE")
            try connection.execute("COMMIT")
            return (layout.tables.count, rows)
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
