#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ

/// Finds completions: given the text of the entry so far and the cursor (a UTF-8 byte
/// offset), the offset where the word being completed starts and its replacements.
package typealias Completer = (_ text: String, _ cursor: Int) -> (replaceFrom: Int, candidates: [String])

/// Reads lines from a terminal through libedit's native API: line editing, history, TAB
/// completion. libedit's callbacks find this object through EL_CLIENTDATA, so there is no
/// global state.
package final class EditLineReader: LineReader {
    /// libedit's functions, opened when the REPL starts.
    private let api: UnsafeMutablePointer<kbq_editline>
    private let editor: OpaquePointer
    private let history: OpaquePointer
    private let historyFile: HistoryFile?
    private let output: UnsafeMutablePointer<FILE>
    private let outputFD: Int32
    /// libedit keeps the pointer the prompt function returns, so the prompt lives as long
    /// as the editor; it is rewritten before each line (`kbq> `, `...> `, `..."> `).
    fileprivate let prompt: UnsafeMutablePointer<CChar>
    private static let promptCapacity = 16
    /// The lines of the unfinished statement above the cursor's line: completion context.
    private var pending = ""
    private let completer: Completer

    /// Sets up libedit on standard input, or returns `nil` when it cannot.
    package init?(historyFile: HistoryFile?, completer: @escaping Completer) {
        let api = UnsafeMutablePointer<kbq_editline>.allocate(capacity: 1)
        api.initialize(to: kbq_editline())
        // Prompts and editing go where a person sees them: standard error when standard
        // output is redirected to a file.
        let outputIsTerminal = isatty(1) == 1 || isatty(2) != 1
        guard kbq_editline_open(api) == 0, let output = outputIsTerminal ? kbq_stdout() : kbq_stderr(),
              let editor = kbq_el_init(api, "kbq", kbq_stdin(), output, kbq_stderr()) else {
            api.deallocate()
            return nil
        }
        guard let history = kbq_history_init(api) else {
            kbq_el_end(api, editor)
            api.deallocate()
            return nil
        }
        self.api = api
        self.editor = editor
        self.history = history
        self.output = output
        self.outputFD = outputIsTerminal ? 1 : 2
        self.historyFile = historyFile
        self.completer = completer
        self.prompt = UnsafeMutablePointer<CChar>.allocate(capacity: EditLineReader.promptCapacity)
        self.prompt.initialize(repeating: 0, count: EditLineReader.promptCapacity)

        _ = kbq_history_set_size(api, history, 1000)
        _ = kbq_history_set_unique(api, history, 1)
        historyFile?.load(into: history, api: api)

        _ = kbq_el_set_client_data(api, editor, Unmanaged.passUnretained(self).toOpaque())
        _ = kbq_el_set_editor(api, editor, "emacs")
        // Not libedit's own signal handlers: they run its screen code inside the handler and
        // crashed on resize (see Interrupts.installTerminalHandlers). kbq's handlers set flags
        // and ``readCharacter()`` resizes and redraws between keys.
        _ = kbq_el_set_signal_handling(api, editor, 0)
        Interrupts.installTerminalHandlers()
        _ = kbq_el_set_read_function(api, editor, readFunction)
        _ = kbq_el_set_prompt(api, editor, promptFunction)
        _ = kbq_el_set_history(api, editor, history)
        _ = kbq_el_add_function(api, editor, "kbq-complete", "Complete the word at the cursor", completeFunction)
        _ = kbq_el_bind(api, editor, "^I", "kbq-complete")
        // The user's ~/.editrc comes last, so it can change any of the above.
        _ = kbq_el_source(api, editor, nil)
    }

    deinit {
        kbq_el_end(api, editor)
        kbq_history_end(api, history)
        api.deallocate()
        prompt.deallocate()
    }

    package var isInteractive: Bool { true }

    package func readLine(pending: String) -> LineInput {
        self.pending = pending
        let promptText = Array(InputLoop.prompt(pending: pending).utf8CString.prefix(EditLineReader.promptCapacity - 1))
        for (i, c) in promptText.enumerated() { prompt[i] = c }
        prompt[promptText.count] = 0
        _ = Interrupts.takePending()
        var count: Int32 = 0
        guard let line = kbq_el_gets(api, editor, &count) else {
            let interrupted = count < 0 && kbq_errno() == EINTR
            if interrupted || Interrupts.takePending() {
                // el_reset empties libedit's line buffer and restores the terminal.
                kbq_el_reset(api, editor)
                writeOutput("\n")
                return .interrupted
            }
            writeOutput("\n")  // Ctrl-D leaves the cursor after the prompt.
            return .end
        }
        var text = String(cString: line)
        if text.hasSuffix("\n") { text.removeLast() }
        return .line(text)
    }

    package func entered(_ entry: String) {
        guard !entry.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }) else { return }
        _ = kbq_history_enter(api, history, entry)
        historyFile?.save(adding: entry)
    }

    /// Whether more input is already waiting: the rest of a paste, not a person's next key.
    /// A few milliseconds' grace, so that a paste arriving in pieces is still one paste.
    package var inputWaiting: Bool { kbq_input_waiting(0, 10) != 0 }

    /// libedit's read function: one character from standard input, decoded from UTF-8.
    /// Between keys it does what a signal asked for, in the ordinary flow of the program:
    /// a resized window resizes libedit's buffers and redraws the line (which also puts
    /// libedit's cursor back inside them); a continued job takes the terminal back. Ctrl-C
    /// ends the read (-1, errno EINTR), so el_gets returns and the line is dropped.
    fileprivate func readCharacter(_ character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        var bytes: [UInt8] = []
        var expected = 1
        while true {
            var byte: UInt8 = 0
            let n = read(0, &byte, 1)
            if n == 1 {
                if bytes.isEmpty {
                    expected = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                } else if byte & 0xC0 != 0x80 {
                    // A broken sequence: what came so far is one replacement character, and
                    // this byte is lost like libedit's own reader loses it.
                    character.pointee = 0xFFFD
                    return 1
                }
                bytes.append(byte)
                guard bytes.count == expected else { continue }
                let scalar = String(decoding: bytes, as: UTF8.self).unicodeScalars.first?.value ?? 0xFFFD
                character.pointee = wchar_t(bitPattern: scalar)
                return 1
            }
            if n == 0 { return 0 }
            guard kbq_errno() == EINTR else { return -1 }
            if Interrupts.interruptPending { return -1 }
            if Interrupts.takeContinue() {
                kbq_el_prepare_terminal(api, editor, 0)
                kbq_el_prepare_terminal(api, editor, 1)
                _ = kbq_el_refresh(api, editor)
            }
            if Interrupts.takeResize() {
                kbq_el_resize(api, editor)
                _ = kbq_el_refresh(api, editor)
            }
        }
    }

    private func writeOutput(_ text: String) {
        _ = fputs(text, output)
        _ = fflush(output)
    }

    // MARK: - Completion

    /// TAB: one candidate replaces the word; several extend it to their common prefix, or
    /// are listed when they share no more than what is typed.
    fileprivate func completeAtCursor() -> UInt8 {
        guard let info = kbq_el_line(api, editor)?.pointee, let buffer = info.buffer, let cursorPointer = info.cursor,
              let last = info.lastchar else { return UInt8(CC_ERROR) }
        let lineBytes = UnsafeRawBufferPointer(start: buffer, count: max(0, last - buffer)).bindMemory(to: UInt8.self)
        let cursor = min(max(0, cursorPointer - buffer), lineBytes.count)
        // The lines above, joined to this one as the statement will be.
        let context = pending.isEmpty ? "" : pending + "\n"
        let line = String(decoding: lineBytes, as: UTF8.self)
        let offset = context.utf8.count
        let (from, candidates) = completer(context + line, offset + cursor)
        let start = from - offset
        guard start >= 0, start <= cursor, !candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        let typed = String(decoding: lineBytes[start..<cursor], as: UTF8.self)

        // A name holding a control or a bidirectional character (a file `x\e]0;…\a.json`,
        // an entity with `\e[2J`) is listed escaped, never put raw into the line.
        if candidates.contains(where: { sanitizeForTerminal($0) != $0 }) {
            list(candidates)
            return UInt8(CC_REDISPLAY)
        }
        if candidates.count == 1, let only = candidates.first {
            // A path, a call or a list goes on; so does a folder, into its files.
            let closesWord = !(only.hasSuffix(".") || only.hasSuffix("(") || only.hasSuffix("[") || only.hasSuffix("/"))
            replace(typed, with: closesWord ? only + " " : only)
            return UInt8(CC_REFRESH)
        }
        let common = commonPrefix(candidates)
        if common.utf8.count > typed.utf8.count {
            replace(typed, with: common)
            return UInt8(CC_REFRESH)
        }
        list(candidates)
        return UInt8(CC_REDISPLAY)
    }

    private func replace(_ typed: String, with text: String) {
        if !typed.isEmpty { kbq_el_deletestr(api, editor, Int32(typed.unicodeScalars.count)) }
        _ = kbq_el_insertstr(api, editor, text)
    }

    private func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first.map(Array.init) else { return "" }
        for w in words.dropFirst() {
            let chars = Array(w)
            var n = 0
            while n < prefix.count, n < chars.count, prefix[n] == chars[n] { n += 1 }
            prefix.removeLast(prefix.count - n)
        }
        return String(prefix)
    }

    /// Prints candidates in columns under the line; libedit then redraws the prompt.
    private func list(_ candidates: [String]) {
        let shown = candidates.prefix(200).map(sanitizeForTerminal)
        let width = (shown.map(\.count).max() ?? 0) + 2
        let columns = max(1, (Terminal.columns(outputFD) ?? 80) / max(1, width))
        var text = "\n"
        for (i, c) in shown.enumerated() {
            let last = i % columns == columns - 1 || i == shown.count - 1
            text += last ? c + "\n" : c + String(repeating: " ", count: width - c.count)
        }
        if candidates.count > shown.count { text += "… and \(candidates.count - shown.count) more\n" }
        writeOutput(text)
    }
}

/// The reader a libedit callback is for, found through EL_CLIENTDATA.
private func reader(_ editor: OpaquePointer?) -> EditLineReader? {
    guard let editor, let data = kbq_el_get_client_data(editor) else { return nil }
    return Unmanaged<EditLineReader>.fromOpaque(data).takeUnretainedValue()
}

private let promptFunction: @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>? = { editor in
    guard let r = reader(editor) else { return nil }
    return r.prompt
}

private let readFunction: @convention(c) (OpaquePointer?, UnsafeMutablePointer<wchar_t>?) -> Int32 = { editor, character in
    guard let character, let r = reader(editor) else { return -1 }
    return r.readCharacter(character)
}

private let completeFunction: @convention(c) (OpaquePointer?, Int32) -> UInt8 = { editor, _ in
    reader(editor)?.completeAtCursor() ?? UInt8(CC_ERROR)
}

/// The history file: read at start, written whole after every entry (to a temporary file,
/// then renamed over the old one), so a crash or a kill loses nothing and never leaves a
/// half-written file. Each write is the file as it is now plus the new entry, so sessions
/// open side by side keep each other's entries (the last to write does not win).
///
/// kbq reads and writes the file itself rather than through libedit's history_save, which
/// ignores write errors: on a full disk it renamed a torn file over the good one. Here
/// every write, the fsync and the close are checked, and on any failure the old file stays
/// as it was. The file is libedit's format (a `_HiStOrY_V2_` line, then one entry a line,
/// spaces and line breaks written as octal escapes); a file of plain lines (another tool's,
/// or one written by hand, CRLF or LF) is read line by line, and none of its entries is
/// dropped. A history file that is a symbolic link is written through to its target.
package final class HistoryFile {
    package let path: String
    /// A history that cannot be saved is said once, not after every entry.
    private var warned = false
    /// The most entries kept.
    package static let maxEntries = 1000
    package static let header = "_HiStOrY_V2_"

    package init(path: String) {
        self.path = path
    }

    /// $KBQ_HISTORY (empty: no history file), else $XDG_STATE_HOME/kbq/history, else
    /// ~/.local/state/kbq/history.
    package static func standard() -> HistoryFile? {
        if let p = environment("KBQ_HISTORY") { return p.isEmpty ? nil : HistoryFile(path: p) }
        // The XDG base directory spec says to ignore a relative XDG_STATE_HOME.
        if let state = environment("XDG_STATE_HOME"), state.hasPrefix("/") {
            return HistoryFile(path: state + "/kbq/history")
        }
        var home = environment("HOME") ?? ""
        if home.isEmpty, let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { home = String(cString: dir) }
        guard !home.isEmpty else { return nil }
        return HistoryFile(path: home + "/.local/state/kbq/history")
    }

    package func load(into history: OpaquePointer, api: UnsafePointer<kbq_editline>) {
        guard case .success(let entries) = read() else { return }
        for e in entries { _ = kbq_history_enter(api, history, e) }
    }

    /// Writes the file as it is on disk now with `entry` after it. When the file is there
    /// but cannot be read, it is left alone: writing only this session's entries over it
    /// would lose the rest.
    package func save(adding entry: String) {
        switch read() {
        case .failure(let error):
            warn(error.reason)
        case .success(var entries):
            if entries.last != entry { entries.append(entry) }
            if entries.count > HistoryFile.maxEntries { entries.removeFirst(entries.count - HistoryFile.maxEntries) }
            if let reason = write(entries) { warn(reason) }
        }
    }

    private func warn(_ reason: String) {
        guard !warned else { return }
        warned = true
        Output.standardError.write("kbq: cannot save the history to '\(sanitizeForTerminal(path))': \(reason)\n")
    }

    /// The entries on disk, oldest first (none when there is no file yet), or why they
    /// cannot be read.
    package func read() -> Result<[String], HistoryError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = kbq_errno()
            return e == ENOENT ? .success([]) : .failure(HistoryError(errorText(e)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes += chunk[0..<n]
                // A history is a thousand short lines; a file this large is not one.
                if bytes.count > 64 << 20 { return .failure(HistoryError("the file is larger than 64 MiB; is it a history file?")) }
            } else if n == 0 {
                break
            } else if kbq_errno() != EINTR {
                return .failure(HistoryError(errorText(kbq_errno())))
            }
        }
        return .success(HistoryFile.entries(of: bytes))
    }

    /// The entries of a history file's bytes: libedit's format, or plain lines.
    package static func entries(of bytes: [UInt8]) -> [String] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == header else {
            return lines.filter { !$0.isEmpty }.map { String(decoding: $0, as: UTF8.self) }
        }
        lines.removeFirst()
        return lines.filter { !$0.isEmpty }.map { String(decoding: unvis($0), as: UTF8.self) }
    }

    /// The bytes of the file for `entries`: each entry on a line, with backslashes, spaces,
    /// tabs, line breaks and other control characters as octal escapes, which libedit's
    /// strunvis reads back.
    package static func contents(of entries: [String]) -> [UInt8] {
        var out = Array((header + "\n").utf8)
        for e in entries {
            for b in e.utf8 {
                if b == UInt8(ascii: "\\") {
                    out += [b, b]
                } else if b <= 0x20 || b == 0x7F {
                    out += [UInt8(ascii: "\\"), 0x30 + (b >> 6), 0x30 + ((b >> 3) & 7), 0x30 + (b & 7)]
                } else {
                    out.append(b)
                }
            }
            out.append(0x0A)
        }
        return out
    }

    /// Decodes a line libedit wrote with strvis: `\\`, octal `\040`, `\^C`, `\M-x`, `\M^x`
    /// and the C escapes (`\n`, `\t`, `\s` …).
    package static func unvis(_ line: some Collection<UInt8>) -> [UInt8] {
        let s = Array(line)
        var out: [UInt8] = []
        var i = 0
        func isOctal(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x37 }
        while i < s.count {
            let c = s[i]
            i += 1
            guard c == UInt8(ascii: "\\"), i < s.count else { out.append(c); continue }
            let e = s[i]
            i += 1
            switch e {
            case 0x30...0x37:
                var v = Int(e - 0x30), n = 1
                while n < 3, i < s.count, isOctal(s[i]) { v = v * 8 + Int(s[i] - 0x30); i += 1; n += 1 }
                out.append(UInt8(truncatingIfNeeded: v))
            case UInt8(ascii: "M"):
                guard i + 1 < s.count else { out.append(e); continue }
                if s[i] == UInt8(ascii: "-") { out.append(s[i + 1] | 0x80); i += 2 }
                else if s[i] == UInt8(ascii: "^") { out.append((s[i + 1] == UInt8(ascii: "?") ? 0x7F : s[i + 1] & 0x1F) | 0x80); i += 2 }
                else { out.append(e) }
            case UInt8(ascii: "^"):
                guard i < s.count else { out.append(e); continue }
                out.append(s[i] == UInt8(ascii: "?") ? 0x7F : s[i] & 0x1F)
                i += 1
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "s"): out.append(0x20)
            case UInt8(ascii: "E"): out.append(0x1B)
            case UInt8(ascii: "$"): break  // strvis's marker of a hidden character
            default: out.append(e)
            }
        }
        return out
    }

    /// Writes `entries` to a temporary file beside the history's target and renames it
    /// over the target; nil when that worked, else why not (and the old file is as it was).
    package func write(_ entries: [String]) -> String? {
        let target = HistoryFile.target(of: path)
        let directory = target.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty { _ = Files.makeDirectories(directory) }
        let temporary = "\(target).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return errorText(kbq_errno()) }
        func fail(_ code: Int32) -> String {
            close(fd)
            unlink(temporary)
            return errorText(code)
        }
        // The old file's permissions carry over.
        var info = stat()
        if stat(target, &info) == 0 { _ = fchmod(fd, info.st_mode & 0o7777) }
        let bytes = HistoryFile.contents(of: entries)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBufferPointer { b in b.baseAddress.map { Glibc.write(fd, $0 + offset, b.count - offset) } ?? 0 }
            if n > 0 { offset += n } else if n < 0 && kbq_errno() == EINTR { continue } else { return fail(n < 0 ? kbq_errno() : ENOSPC) }
        }
        // A full disk may show only when the data reaches it.
        if fsync(fd) != 0 { return fail(kbq_errno()) }
        if close(fd) != 0 {
            let e = kbq_errno()
            unlink(temporary)
            return errorText(e)
        }
        if rename(temporary, target) != 0 {
            let e = kbq_errno()
            unlink(temporary)
            return errorText(e)
        }
        return nil
    }

    /// Where a chain of symbolic links from `path` ends: the history is written through a
    /// link, as shells write theirs, not over it.
    package static func target(of path: String) -> String {
        var p = path
        for _ in 0..<40 {
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = readlink(p, &buffer, 4096)
            guard n > 0 else { return p }
            let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("/") {
                p = link
            } else {
                let dir = p.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                p = dir.isEmpty && !p.hasPrefix("/") ? link : dir + "/" + link
            }
        }
        return p
    }
}

/// Why the history file cannot be read.
package struct HistoryError: Error {
    package let reason: String
    package init(_ reason: String) { self.reason = reason }
}
