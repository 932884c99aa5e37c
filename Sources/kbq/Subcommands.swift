#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ
import KBQShell

/// Subcommands that are programs of their own beside `kbq`, as git's are: `kbq mcp ARGS`
/// runs `kbq-mcp ARGS` from the folder `kbq` is in, and `kbq push …`, `kbq --db …` and
/// `kbq --sql …` run `kbq-db` with the whole command line (``DatabaseCommands``).
///
/// Why not in this binary: their dependencies (the MCP SDK with Foundation and swift-nio's
/// relatives, a database client) would be linked into the static `kbq` and loaded, relocated
/// and initialised by every `kbq -e QUERY`, whose start-up is held to sqlite3's
/// (docs/PERFORMANCE.md). A file named like a subcommand is still run as a script when
/// written as a path: `kbq ./mcp`.
enum ExternalCommand {
    /// When the arguments ask for a subcommand, replaces this process with its program (and
    /// does not return); when the program is missing, says where it was looked for and ends
    /// with the usage status. Returns when the arguments ask for none.
    static func runIfNamed(_ arguments: [String]) {
        if arguments.first == "mcp" {
            run("kbq-mcp", Array(arguments.dropFirst()), asked: "'mcp'", build: "make mcp")
        }
        if DatabaseCommands.asked(arguments) {
            run("kbq-db", arguments, asked: "this", build: "make release")
        }
    }

    static func run(_ program: String, _ arguments: [String], asked: String, build: String) -> Never {
        let path = ownDirectory() + "/" + program
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        Output.standardError.write("kbq: \(asked) runs \(sanitizeForTerminal(path)), which could not be started (\(reason)); build it with `\(build)` (or `swift build --product \(program)`) and keep it beside kbq\n")
        terminate(.usage)
    }

    /// The folder of the running executable (from /proc/self/exe, so a symlink to kbq on
    /// PATH finds the real one's neighbours); "." when it cannot be read.
    static func ownDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "." }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
