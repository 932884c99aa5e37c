#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ

/// Subcommands that are programs of their own beside `kbq`, as git's are: `kbq mcp ARGS`
/// runs `kbq-mcp ARGS` from the folder `kbq` is in.
///
/// Why not in this binary: their dependencies (the MCP SDK with Foundation and swift-nio's
/// relatives, a database client) would be linked into the static `kbq` and loaded, relocated
/// and initialised by every `kbq -e QUERY`, whose start-up is held to sqlite3's
/// (docs/PERFORMANCE.md). A file named like a subcommand is still run as a script when
/// written as a path: `kbq ./mcp`.
enum ExternalCommand {
    /// The subcommand words and the program each runs.
    static let programs: [String: String] = ["mcp": "kbq-mcp"]

    /// When the first argument names a subcommand, replaces this process with its program
    /// (and does not return); when the program is missing, says where it was looked for and
    /// ends with the usage status. Returns when the arguments name no subcommand.
    static func runIfNamed(_ arguments: [String]) {
        guard let word = arguments.first, let program = programs[word] else { return }
        let path = ownDirectory() + "/" + program
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments.dropFirst()).map { strdup($0) }
        argv.append(nil)
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        Output.standardError.write("kbq: '\(word)' runs \(sanitizeForTerminal(path)), which could not be started (\(reason)); build it with `make \(word)` (or `swift build --product \(program)`) and keep it beside kbq\n")
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
