#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ

/// The interactive shell: everything libedit needs is set up here and only here, so the
/// script runner never pays for it.
package enum Repl {
    package static func run(_ shell: Shell) -> ExitStatus {
        useUTF8Locale()
        Interrupts.install()
        let completer: Completer = { [unowned shell] text, cursor in
            DotCompletion.candidates(for: text, cursor: cursor, shell: shell)
                ?? shell.engine.completions(for: text, cursor: cursor)
        }
        let kb = shell.engine.kb
        let place = shell.engine.location.map { " on \(sanitizeForTerminal($0))" } ?? ""
        let banner = "kbq \(kbqVersion) · \(sanitizeForTerminal(kb.name)) KB\(place), \(kb.collections.count) collections · .help for help, Ctrl-D to leave"
        // The banner goes with the prompts: to the terminal, even when results go to a file.
        let screen = shell.screen
        screen.write((screen.isTerminal && shell.outColor ? shell.dim(banner) : banner) + "\n")
        if let reader = EditLineReader(historyFile: HistoryFile.standard(), completer: completer) {
            InputLoop.run(reader, shell: shell, name: InputLoop.terminalName)
        } else {
            // libedit could not start (no terminal description, say): plain lines still work.
            InputLoop.run(PromptingLineReader(), shell: shell, name: InputLoop.terminalName)
        }
        return .ok
    }

    /// libedit reads multibyte input through the C locale: without a UTF-8 LC_CTYPE it drops
    /// every non-ASCII character. Only LC_CTYPE is set, not LC_ALL, so that number
    /// formatting anywhere in the process stays the C locale's whatever LANG says.
    package static func useUTF8Locale() {
        if setlocale(LC_CTYPE, "") != nil, let codeset = kbq_locale_codeset(), isUTF8(String(cString: codeset)) { return }
        if setlocale(LC_CTYPE, "C.UTF-8") == nil { _ = setlocale(LC_CTYPE, "C.utf8") }
    }

    private static func isUTF8(_ codeset: String) -> Bool {
        let c = codeset.lowercased()
        return c == "utf-8" || c == "utf8"
    }
}

/// Lines from a terminal without libedit: the prompt, then Swift's readLine.
package final class PromptingLineReader: LineReader {
    package func readLine(pending: String) -> LineInput {
        Output.standardOutput.write(InputLoop.prompt(pending: pending))
        guard let line = Swift.readLine(strippingNewline: true) else {
            if Interrupts.takePending() {
                clearerr(kbq_stdin())  // Otherwise every later read fails at once.
                Output.standardOutput.write("\n")
                return .interrupted
            }
            return .end
        }
        return .line(line)
    }

    package func entered(_ entry: String) {}
    package var isInteractive: Bool { true }
}
