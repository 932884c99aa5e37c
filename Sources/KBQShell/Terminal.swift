#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine

/// A file descriptor written to with write(2) directly: kbq prints whole results at once, so
/// stdio's buffering would only add a copy, and Swift 6 rejects the `stdout` global anyway.
package struct Output {
    package let fd: Int32

    package static let standardOutput = Output(fd: 1)
    package static let standardError = Output(fd: 2)

    /// The error of the first write to standard output that failed (a full disk, a closed
    /// descriptor), or 0. Once set, nothing more is written there, and kbq ends with exit
    /// status 2 saying so (``terminate(_:)``), as sqlite3 and jq do: a result that never
    /// reached its file is a failure, not a success.
    package nonisolated(unsafe) static var standardOutputFailure: Int32 = 0

    package func write(_ text: String) {
        if fd == 1 && Output.standardOutputFailure != 0 { return }
        // A closed descriptor or a full disk: nothing more can be shown.
        if let code = writeAll(text), fd == 1 { Output.standardOutputFailure = code }
    }

    /// Writes all of `text`; the errno that stopped it (ENOSPC for a write of nothing), or nil.
    package func writeAll(_ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { buffer -> Int32? in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let n = systemWrite(fd, base + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0, kbq_errno() == EINTR {
                    continue
                } else {
                    return n < 0 ? kbq_errno() : ENOSPC
                }
            }
            return nil
        }
    }

    /// Keeps descriptors 1 and 2 taken when kbq was started with one closed (`>&-`): a file
    /// kbq opens later (a KB, the history) would otherwise get the number, and results
    /// would be written into it. /dev/null opened for reading refuses every write, which
    /// ``write(_:)`` reports.
    package static func reserveStandardDescriptors() {
        for fd: Int32 in [1, 2] where fcntl(fd, F_GETFD) < 0 && kbq_errno() == EBADF {
            let null = open("/dev/null", O_RDONLY)
            if null >= 0 && null != fd {
                _ = dup2(null, fd)
                close(null)
            }
        }
    }

    /// Whether this descriptor is a terminal.
    package var isTerminal: Bool { isatty(fd) == 1 }
}

/// What kbq knows about the terminal it runs in, read from the environment on demand.
package enum Terminal {
    /// Colour is for people: only on a terminal, never with NO_COLOR set (whatever its value,
    /// so an empty NO_COLOR= is also honoured), never on a dumb or unknown terminal.
    package static func wantsColor(_ stream: Output) -> Bool {
        guard stream.isTerminal, getenv("NO_COLOR") == nil else { return false }
        guard let term = environment("TERM"), !term.isEmpty, term != "dumb" else { return false }
        return true
    }

    /// The width of the terminal behind `fd`, or `nil` when it is not a terminal.
    package static func columns(_ fd: Int32) -> Int? {
        let c = Int(kbq_terminal_columns(fd))
        return c > 0 ? c : nil
    }

    /// The height of the terminal behind `fd`, or `nil` when it is not a terminal.
    package static func rows(_ fd: Int32) -> Int? {
        let r = Int(kbq_terminal_rows(fd))
        return r > 0 ? r : nil
    }
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(fd, bytes, count)
}

/// The value of an environment variable, if it is set.
package func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// The text of an errno value ("No such file or directory").
package func errorText(_ code: Int32) -> String {
    strerror(code).map { String(cString: $0) } ?? "error \(code)"
}
