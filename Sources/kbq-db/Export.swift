#if canImport(Glibc)
import Glibc
#endif
import KBQ
import KBQPostgres

/// `kbq export DIR`: the KB's tables as the SQL backend lays them out, for an engine kbq
/// does not connect to (DuckDB, Spark, SQLite): `schema.sql` (CREATE TABLE statements in the
/// dialect) and one `TABLE.csv` per collection (a header row, RFC 4180, `\N` for NULL).
enum Export {
    static let usage = "usage: kbq export DIR [--kb FILE] [--dialect postgres|spark|duckdb|sqlite]"

    static func run(_ arguments: [String]) -> Never {
        var dir: String?, kbPath: String?, dialect = SQLDialect.duckdb
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--kb" || a == "--dialect" {
                guard i + 1 < arguments.count else { fail("\(a) needs a value\n\(usage)") }
                i += 1
                if a == "--kb" { kbPath = arguments[i] } else {
                    guard let d = SQLDialect(rawValue: arguments[i]) else {
                        fail("--dialect takes one of " + SQLDialect.allCases.map(\.rawValue).joined(separator: ", ") + "; got '\(arguments[i])'")
                    }
                    dialect = d
                }
            } else if a.hasPrefix("-") || dir != nil {
                fail(usage)
            } else {
                dir = a
            }
            i += 1
        }
        guard let dir else { fail(usage) }
        var kb = KnowledgeBase.article
        if let kbPath {
            do { kb = try KnowledgeBase(contentsOfFile: kbPath) } catch { fail(String(describing: error)) }
        }
        let layout: SQLLayout
        do { layout = try SQLLayout(kb) } catch { fail(error.message) }
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { fail("cannot make \(dir): \(String(cString: strerror(errno)))") }
        write(dir + "/schema.sql", Array((layout.createStatements(dialect).joined(separator: ";\n") + ";\n").utf8))
        var rows = 0
        for t in layout.tables {
            let path = dir + "/" + t.name + ".csv"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
            put(fd, layout.csvHeader(of: t), path)
            var next = 0
            while true {
                let chunk = layout.copyRows(of: t, from: next, count: Push.chunkRows, format: .csv)
                if chunk.isEmpty { break }
                put(fd, chunk, path)
                next += Push.chunkRows
            }
            close(fd)
            rows += layout.rowCount(of: t)
        }
        print("exported \(kb.name): \(layout.tables.count) collection\(layout.tables.count == 1 ? "" : "s"), \(rows) row\(rows == 1 ? "" : "s") to \(dir)")
        exit(0)
    }

    private static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
        put(fd, bytes, path)
        close(fd)
    }

    private static func put(_ fd: Int32, _ bytes: [UInt8], _ path: String) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
            rest = rest.dropFirst(n)
        }
    }
}
