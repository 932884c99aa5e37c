#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine

/// A file that could not be read, with the system's reason.
struct FileError: Error {
    let path: String
    let reason: String

    var description: String { "cannot read '\(path)': \(reason)" }
}

/// Reads scripts with plain read(2): scripts are small, and Foundation would cost start-up time.
enum Files {
    /// The largest script read, so a mistaken `kbq /dev/zero` ends with an error.
    static let maxScriptBytes = 64 << 20

    /// The whole text of the file at `path` (`-` is standard input).
    static func readText(_ path: String) throws(FileError) -> String {
        if path == "-" { return try readAll(fd: 0, path: "<stdin>") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, reason: errorText(kbq_errno())) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileError(path: path, reason: "it is a directory")
        }
        return try readAll(fd: fd, path: path)
    }

    /// Everything left on `fd`, decoded as UTF-8 (invalid bytes become U+FFFD).
    static func readAll(fd: Int32, path: String) throws(FileError) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
                if bytes.count > maxScriptBytes {
                    throw FileError(path: path, reason: "it is larger than \(maxScriptBytes >> 20) MiB")
                }
            } else if n == 0 {
                break
            } else if kbq_errno() != EINTR {
                throw FileError(path: path, reason: errorText(kbq_errno()))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Creates `path` and its missing parents, private to the user (for the history file).
    static func makeDirectories(_ path: String) -> Bool {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o700) != 0, kbq_errno() != EEXIST { return false }
        }
        return true
    }
}
