#if canImport(Glibc)
import Glibc
#endif
import KBQ
import KBQPostgres

// kbq-db: the database side of kbq, kept out of the static kbq so that its start-up never
// loads a database client. kbq runs it from beside itself for `kbq push …` (and, when the SQL
// backend is in, `--db` and `--sql`); it can be run directly with the same arguments.
//
//   kbq push postgresql://… [--kb FILE]    the KB's tables, rows, indexes and metadata,
//                                          in one transaction
//   kbq --db postgresql://… [-e Q | FILE…]  scripts run as SQL on the pushed KB
//   kbq --sql [--dialect D] [-e Q | FILE…]  the SQL each query runs, printed
//   kbq export DIR [--kb FILE] [--dialect D] the KB's tables as CSV files and their
//                                          CREATE TABLE statements, for another engine

/// How a run ended: 0 ok, 1 a query error, 2 usage, KB, I/O or database error.
enum Status: Int32 { case ok = 0, queryError = 1, usage = 2 }

func fail(_ message: String, _ status: Status = .usage) -> Never {
    writeError("kbq: \(message)\n")
    exit(status.rawValue)
}

/// Writes to standard error (fd 2) directly: C's `stderr` is shared mutable state to Swift 6.
func writeError(_ text: String) {
    var text = text
    text.withUTF8 { b in
        var rest = UnsafeRawBufferPointer(b)
        while !rest.isEmpty {
            let n = write(2, rest.baseAddress, rest.count)
            if n <= 0 { return }
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    fail("usage: kbq push DATABASE-URL [--kb FILE]")
}

switch command {
case "push":
    var url: String?
    var kbPath: String?
    var i = 1
    while i < arguments.count {
        let a = arguments[i]
        if a == "--kb" || a.hasPrefix("--kb=") {
            let value: String
            if a == "--kb" {
                guard i + 1 < arguments.count else { fail("--kb needs a file") }
                i += 1
                value = arguments[i]
            } else {
                value = String(a.dropFirst(5))
            }
            if kbPath != nil { fail("push takes one --kb") }
            kbPath = value
        } else if a.hasPrefix("-") {
            fail("push does not know the option '\(a)'; usage: kbq push DATABASE-URL [--kb FILE]")
        } else if url == nil {
            url = a
        } else {
            fail("push takes one database URL; got '\(url ?? "")' and '\(a)'")
        }
        i += 1
    }
    guard let url else { fail("usage: kbq push DATABASE-URL [--kb FILE] (a libpq URL or connection string, e.g. postgresql://user@host/db)") }
    let kb: KnowledgeBase
    if let kbPath {
        do { kb = try KnowledgeBase(contentsOfFile: kbPath) } catch { fail(String(describing: error)) }
    } else {
        kb = .article
    }
    do {
        let (tables, rows) = try PostgresKB.push(kb, to: url)
        print("pushed \(kb.name): \(tables) collection\(tables == 1 ? "" : "s"), \(rows) row\(rows == 1 ? "" : "s") to \(masked(url))")
    } catch {
        fail(error.message)
    }
case "export":
    Export.run(Array(arguments.dropFirst()))
default:
    exit(DatabaseRunner.parse(arguments).run().rawValue)
}
