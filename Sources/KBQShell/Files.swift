#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ

/// A script that could not be read, or that is too large to run.
package struct FileError: Error {
    /// What went wrong, naming the file: `cannot read 'x.kbq': No such file or directory`.
    package let description: String

    package init(path: String, reason: String) {
        description = "cannot read '\(path)': \(reason)"
    }

    /// A script over ``Files/maxScriptBytes``: `bytes` is its size, or `nil` when it is a
    /// stream that was read only as far as the limit.
    package init(path: String, tooLarge bytes: Int?) {
        let size = bytes.map { "\($0) bytes" } ?? "more than \(Files.maxScriptBytes) bytes"
        description = "'\(path)' is \(size); the limit for a script is \(Files.maxScriptBytes) bytes"
    }
}

/// Reads scripts with plain read(2): scripts are small, and Foundation would cost start-up time.
package enum Files {
    /// The largest script read: the most query text the engine takes in one run. A larger
    /// script could never run (the engine would refuse it after every script before it had
    /// been read), so it is refused as it is read, from its size when the size is known; a
    /// mistaken `kbq /dev/zero` ends there too. The input loop never hands the engine more
    /// than the script holds (dot-command lines become blank ones), so a script within this
    /// bound is within the engine's.
    package static let maxScriptBytes = Lexer.maxSourceBytes

    /// The whole text of the file at `path` (`-` is standard input).
    package static func readText(_ path: String) throws(FileError) -> String {
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
    package static func readAll(fd: Int32, path: String) throws(FileError) -> String {
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            // Standard input may be a file read part of the way already.
            let left = Int(info.st_size) - max(0, Int(lseek(fd, 0, SEEK_CUR)))
            if left > maxScriptBytes { throw FileError(path: path, tooLarge: left) }
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
                if bytes.count > maxScriptBytes {
                    // A pipe or a device: its size is not known, and it may never end.
                    throw FileError(path: path, tooLarge: nil)
                }
            } else if n == 0 {
                break
            } else if kbq_errno() != EINTR {
                throw FileError(path: path, reason: errorText(kbq_errno()))
            }
        }
        return try decode(bytes, path: path)
    }

    /// The script's text. A script that is not UTF-8 is refused, saying where: decoded
    /// anyway, a UTF-16 file would be an "unexpected character" at every other byte, and a
    /// Latin-1 é in a string literal would silently become U+FFFD and match nothing.
    package static func decode(_ bytes: [UInt8], path: String) throws(FileError) -> String {
        if let encoding = bytes.withUnsafeBufferPointer(wideEncoding) {
            throw FileError(path: path, reason: notUTF8Message(encoding))
        }
        var line = 1, lineStart = 0, i = 0
        var decoder = UTF8()
        var it = bytes.makeIterator()
        while true {
            let before = i
            switch decoder.decode(&it) {
            case .scalarValue(let u):
                i += UTF8.width(u)
                if u == "\n" { line += 1; lineStart = i }
            case .emptyInput:
                return String(decoding: bytes, as: UTF8.self)
            case .error:
                let hex = "0x" + String(bytes[before], radix: 16, uppercase: true)
                throw FileError(path: path, reason: "it is not UTF-8: line \(line), column \(before - lineStart + 1) has the byte \(hex), which UTF-8 does not allow there (save the file as UTF-8)")
            }
        }
    }

    /// Which file `path` is, whatever name leads to it (`./a.kbq`, a link), or `nil` when it
    /// cannot be found.
    package static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Creates `path` and its missing parents, private to the user (for the history file).
    package static func makeDirectories(_ path: String) -> Bool {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o700) != 0, kbq_errno() != EEXIST { return false }
        }
        return true
    }
}

/// A file as the file system knows it: two paths to one file have the same identity.
package struct FileIdentity: Equatable {
    package let device: UInt64
    package let inode: UInt64
}
