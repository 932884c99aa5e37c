#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `kbq push …`, `kbq export …`, `kbq --db …` and `kbq --sql …` are served by kbq-db, the program beside
/// kbq that links PostgreSQL's client. kbq itself stays one static executable that loads no
/// database client: its start-up on the article KB is not charged for a feature it does not
/// use, and this check costs a comparison per argument.
enum DatabaseCommands {
    /// Whether the command line asks for the database side.
    static func asked(_ arguments: [String]) -> Bool {
        if arguments.first == "push" || arguments.first == "export" { return true }
        for a in arguments {
            if a == "--" { return false }
            if a == "--db" || a.hasPrefix("--db=") || a == "--sql" || a == "--dialect" || a.hasPrefix("--dialect=") { return true }
        }
        return false
    }

    /// Replaces this process with kbq-db from kbq's own folder, with the same arguments.
    /// Returns only when it cannot (then the caller reports and exits 2).
    static func exec(_ arguments: [String]) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var folder = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        if let slash = folder.lastIndex(of: "/") { folder = String(folder[..<slash]) } else { folder = "." }
        let program = folder + "/kbq-db"
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        execv(program, argv)
        let reason = String(cString: strerror(errno))
        return "this needs kbq-db beside kbq (\(program): \(reason)); build it with `swift build --product kbq-db` or `make release`"
    }
}
