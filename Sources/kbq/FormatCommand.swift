#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ
import KBQShell

/// `kbq fmt [--check] [--width N] [FILE…]`: lays scripts out the one canonical way
/// (``Formatter``). Files are rewritten in place (only when their layout changes); with no
/// file, or `-`, standard input is formatted to standard output. With `--check` nothing is
/// written: the files whose layout would change are named, and the status is 1 if any.
enum FormatCommand {
    static let usage = "usage: kbq fmt [--check] [--width N] [FILE…]   (no FILE or '-': standard input to standard output)\n"

    static func run(_ arguments: [String]) -> ExitStatus {
        let out = Output.standardOutput, err = Output.standardError
        var check = false
        var width = Formatter.defaultWidth
        var files: [String] = []
        var i = 0
        var onlyFiles = false
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            if onlyFiles || a == "-" || !a.hasPrefix("-") { files.append(a); continue }
            switch a {
            case "--": onlyFiles = true
            case "--check": check = true
            case "-h", "--help": out.write(usage); return .ok
            case "--width":
                guard i < arguments.count, let n = Int(arguments[i]), n >= 20, n <= 10_000 else {
                    err.write("kbq fmt: --width needs a number of columns from 20 to 10000\n" + usage)
                    return .usage
                }
                width = n
                i += 1
            default:
                err.write("kbq fmt: unknown option '\(sanitizeForTerminal(a))'\n" + usage)
                return .usage
            }
        }
        if files.isEmpty { files = ["-"] }
        var status = ExitStatus.ok
        for path in files {
            let name = path == "-" ? "<stdin>" : path
            let text: String
            do {
                text = try Files.readText(path)
            } catch {
                err.write("kbq fmt: \(sanitizeForTerminal(error.description))\n")
                status = max(status, .usage)
                continue
            }
            let formatted: String
            do throws(Diagnostics) {
                formatted = try Formatter.format(text, width: width)
            } catch {
                // A script that does not parse is left alone: its errors say why.
                let source = SourceText(text, name: name)
                for d in error.items { err.write(source.render(d)) }
                status = max(status, .queryError)
                continue
            }
            if check {
                if formatted != text {
                    out.write("\(sanitizeForTerminal(name)): not formatted\n")
                    status = max(status, .queryError)
                }
            } else if path == "-" {
                out.write(formatted)
            } else if formatted != text {
                if let problem = replace(path, with: formatted) {
                    err.write("kbq fmt: cannot write '\(sanitizeForTerminal(path))': \(problem)\n")
                    status = max(status, .usage)
                }
            }
        }
        return status
    }

    /// Writes `text` to a new file beside `path` and renames it over `path`, so that a
    /// failure halfway leaves the script as it was. Returns why it failed, if it did.
    static func replace(_ path: String, with text: String) -> String? {
        var info = stat()
        let mode = stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
        let temporary = path + ".kbq-fmt-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { return String(cString: strerror(kbq_errno())) }
        var ok = true
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes = bytes.dropFirst(n) } else if n < 0 && kbq_errno() == EINTR { continue } else { ok = false; break }
        }
        let problem = ok ? nil : String(cString: strerror(kbq_errno()))
        close(fd)
        if !ok { unlink(temporary); return problem }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(kbq_errno()))
            unlink(temporary)
            return why
        }
        return nil
    }
}
