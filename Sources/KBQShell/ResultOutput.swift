#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine

/// The file that `.output FILE` or `.once FILE` sends results to. It is written as a temporary
/// file beside it and renamed over it only when complete, so FILE is never half written: a
/// failed statement (`.once`), a full disk or a killed kbq leave the old file, or none.
package final class ResultFile {
    package let path: String
    /// `.once`: only the results of the next statement (in a script, up to the next command).
    package let once: Bool
    private let temporary: String
    private var fd: Int32
    /// The first write error: the file is then not kept.
    private var failure: String?
    /// Results written so far, to put a blank line between them.
    package var results = 0

    /// Opens the temporary file, or returns why it cannot be made.
    package static func create(_ path: String, once: Bool) -> Result<ResultFile, ResultFileError> {
        let temporary = "\(path).\(getpid()).kbq-tmp"
        let fd = openFile(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .failure(ResultFileError(message: "cannot write '\(path)': \(errorText(kbq_errno()))")) }
        return .success(ResultFile(path: path, once: once, temporary: temporary, fd: fd))
    }

    private init(path: String, once: Bool, temporary: String, fd: Int32) {
        self.path = path
        self.once = once
        self.temporary = temporary
        self.fd = fd
    }

    deinit { discard() }

    package func write(_ text: String) {
        guard failure == nil, fd >= 0 else { return }
        if let code = Output(fd: fd).writeAll(text) { failure = errorText(code) }
    }

    /// Puts the file in place. Returns why it could not be, with nothing kept.
    package func commit() -> ResultFileError? {
        guard fd >= 0 else { return nil }
        if failure == nil, fsync(fd) != 0 { failure = errorText(kbq_errno()) }
        if close(fd) != 0, failure == nil { failure = errorText(kbq_errno()) }
        fd = -1
        if failure == nil, rename(temporary, path) != 0 { failure = errorText(kbq_errno()) }
        guard let failure else { return nil }
        unlink(temporary)
        return ResultFileError(message: "cannot write '\(path)': \(failure); it was left as it was")
    }

    /// Drops what was written; the file stays as it was.
    package func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
    }
}

package struct ResultFileError: Error {
    package let message: String
}

/// Results on the terminal: through the pager when taller than the screen, and in pieces, so
/// that Ctrl-C stops a long print as it stops a long computation.
package enum TerminalPrinter {
    /// `$PAGER`, else `less -SFX` (-F: a result that fits the screen is just printed; -S:
    /// long lines are not folded; -X: the result stays on the screen after quitting). An empty
    /// PAGER means none.
    package static func pagerCommand() -> String? {
        guard let p = environment("PAGER") else { return "less -SFX" }
        return p.trimmingSpaces.isEmpty ? nil : p
    }

    /// Prints `text` on `out`, a terminal: through the pager when `paging` and the text is
    /// taller than the screen. Returns false when Ctrl-C stopped it.
    package static func show(_ text: String, on out: Output, paging: Bool) -> Bool {
        if paging, let rows = Terminal.rows(out.fd), isTaller(text, than: rows - 1), let command = pagerCommand(),
           page(text, through: command) {
            _ = Interrupts.takePending()  // Ctrl-C in the pager was the pager's
            return true
        }
        // Whole lines at a time, about 16 KiB each, with a look at Ctrl-C between them.
        let utf8 = text.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            var end = utf8.index(start, offsetBy: 16384, limitedBy: utf8.endIndex) ?? utf8.endIndex
            if end < utf8.endIndex, let newline = utf8[end...].firstIndex(of: UInt8(ascii: "\n")) {
                end = utf8.index(after: newline)
            } else {
                end = utf8.endIndex
            }
            out.write(String(text[start..<end]))
            start = end
            if Interrupts.takePending() {
                // What the terminal has not shown yet is dropped too.
                kbq_discard_terminal_output(out.fd)
                return false
            }
        }
        return true
    }

    private static func isTaller(_ text: String, than rows: Int) -> Bool {
        var lines = 0
        for b in text.utf8 where b == UInt8(ascii: "\n") {
            lines += 1
            if lines > rows { return true }
        }
        return false
    }

    /// Runs the pager on `text`. False when it could not run (not installed: sh's status 127),
    /// so the caller prints the text itself.
    private static func page(_ text: String, through command: String) -> Bool {
        kbq_ignore_broken_pipes(1)
        defer { kbq_ignore_broken_pipes(0) }
        var input: Int32 = -1
        let pid = kbq_spawn_reader(command, &input)
        guard pid > 0 else { return false }
        Output(fd: input).write(text)
        close(input)
        return kbq_wait_for(pid) != 127
    }
}

extension String {
    /// Without spaces and tabs at either end.
    package var trimmingSpaces: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
