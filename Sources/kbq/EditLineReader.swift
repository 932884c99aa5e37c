#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine

/// Finds completions: given the text of the entry so far and the cursor (a UTF-8 byte
/// offset), the offset where the word being completed starts and its replacements.
typealias Completer = (_ text: String, _ cursor: Int) -> (replaceFrom: Int, candidates: [String])

/// Reads lines from a terminal through libedit's native API: line editing, history, TAB
/// completion. libedit's callbacks find this object through EL_CLIENTDATA, so there is no
/// global state.
final class EditLineReader: LineReader {
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
    init?(historyFile: HistoryFile?, completer: @escaping Completer) {
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

    var isInteractive: Bool { true }

    func readLine(pending: String) -> LineInput {
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

    func entered(_ entry: String) {
        guard !entry.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }) else { return }
        _ = kbq_history_enter(api, history, entry)
        historyFile?.save(adding: entry, else: history, api: api)
    }

    /// Whether more input is already waiting: the rest of a paste, not a person's next key.
    /// A few milliseconds' grace, so that a paste arriving in pieces is still one paste.
    var inputWaiting: Bool { kbq_input_waiting(0, 10) != 0 }

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
        let shown = candidates.prefix(200)
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
final class HistoryFile {
    let path: String
    /// A history that cannot be saved is said once, not after every entry.
    private var warned = false

    init(path: String) {
        self.path = path
    }

    /// $KBQ_HISTORY (empty: no history file), else $XDG_STATE_HOME/kbq/history, else
    /// ~/.local/state/kbq/history.
    static func standard() -> HistoryFile? {
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

    func load(into history: OpaquePointer, api: UnsafePointer<kbq_editline>) {
        _ = kbq_history_load(api, history, path)
    }

    /// Writes the file as it is on disk now with `entry` after it; or, if no history can be
    /// made for that, the session's own `history`.
    func save(adding entry: String, else history: OpaquePointer, api: UnsafePointer<kbq_editline>) {
        guard let merged = kbq_history_init(api) else { return save(history, api: api) }
        defer { kbq_history_end(api, merged) }
        _ = kbq_history_set_size(api, merged, 1000)
        _ = kbq_history_set_unique(api, merged, 1)
        _ = kbq_history_load(api, merged, path)  // none yet: the entry alone
        _ = kbq_history_enter(api, merged, entry)
        save(merged, api: api)
    }

    func save(_ history: OpaquePointer, api: UnsafePointer<kbq_editline>) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty { _ = Files.makeDirectories(directory) }
        let temporary = "\(path).\(getpid()).tmp"
        if kbq_history_save(api, history, temporary) >= 0, rename(temporary, path) == 0 { return }
        let reason = errorText(kbq_errno())
        unlink(temporary)
        guard !warned else { return }
        warned = true
        Output.standardError.write("kbq: cannot save the history to '\(path)': \(reason)\n")
    }
}
