import CPseudoTerminal
import Foundation
import Testing

/// The kbq binary under test: `KBQ_BINARY` if set, else the `kbq` built beside this test
/// bundle (SwiftPM puts both in the same build folder, whatever `--scratch-path` says).
let kbqBinary: String = {
    if let p = ProcessInfo.processInfo.environment["KBQ_BINARY"], !p.isEmpty { return p }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // On Linux the tests run from `<build>/debug/<package>PackageTests.xctest`.
    if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
    return dir.appendingPathComponent("kbq").path
}()

/// The package's root folder, for Examples/ and fixtures.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A folder of its own for one test, removed when the test ends: HOME and the history file
/// live here, so tests never touch the real home.
final class Scratch {
    let path: String

    init() throws {
        var template = Array("\(NSTemporaryDirectory())/kbq-cli-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
        return file(name)
    }

    /// The environment a child gets: only what kbq reads, pointed into this folder. A `nil`
    /// in `extra` leaves that variable out.
    func environment(_ extra: [String: String?] = [:]) -> [String: String] {
        var env = ["PATH": "/usr/bin:/bin", "HOME": path, "KBQ_HISTORY": file("history"), "TERM": "xterm"]
        for (k, v) in extra { env[k] = v }
        return env
    }
}

/// What one run of kbq printed and how it ended.
struct Run {
    var output: String
    var error: String
    var status: Int32
    var timedOut: Bool
}

/// A C array of C strings, freed by `deallocate`.
private func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
    strings.map { strdup($0) } + [nil]
}

private func free(_ strings: [UnsafeMutablePointer<CChar>?]) {
    for s in strings { Foundation.free(s) }
}

/// Runs kbq with pipes for its standard streams (so it is the script runner), feeding it
/// `input`. The run is killed after `timeout` seconds.
func kbq(_ arguments: [String], input: String = "", scratch: Scratch, environment: [String: String?] = [:],
         directory: String? = nil, timeout: Double = 60, binary kbqBinary: String = kbqBinary) -> Run {
    let argv = cStrings([kbqBinary] + arguments)
    let envp = cStrings(scratch.environment(environment).map { "\($0.key)=\($0.value)" })
    defer { free(argv); free(envp) }
    var result = kbq_run_result()
    let bytes = Array(input.utf8)
    let rc = bytes.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            kbq_run(kbqBinary, argv, envp, directory, chars.baseAddress, chars.count, Int32(timeout * 1000), &result)
        }
    }
    guard rc == 0 else { return Run(output: "", error: "could not start \(kbqBinary): \(String(cString: strerror(errno)))", status: -1, timedOut: false) }
    defer { kbq_run_result_free(&result) }
    let out = String(decoding: UnsafeRawBufferPointer(start: result.output, count: result.output_length), as: UTF8.self)
    let err = String(decoding: UnsafeRawBufferPointer(start: result.error, count: result.error_length), as: UTF8.self)
    return Run(output: out, error: err, status: result.status, timedOut: result.timed_out != 0)
}

/// A failure to see expected output on the terminal in time.
struct TerminalTimeout: Error, CustomStringConvertible {
    let expected: String
    let screen: String
    var description: String { "did not see \(expected.debugDescription) in time; the terminal showed:\n\(screen)" }
}

/// kbq running under a new pseudo-terminal, as a person would run it: keys go in through
/// the master side, and everything kbq draws is collected. Every wait has a deadline, so a
/// test can fail but never hang.
final class TerminalSession {
    let pid: pid_t
    private let master: Int32
    /// Everything read from the terminal, escape sequences removed.
    private(set) var text = ""
    /// Everything read from the terminal, as it came.
    private(set) var raw = ""
    /// Where the next `expect` starts looking.
    private var mark: String.Index
    private var exitStatus: Int32?

    /// Starts kbq, or `program` (a shell that will start kbq) when given.
    init(_ arguments: [String] = [], scratch: Scratch, environment: [String: String?] = [:], columns: UInt16 = 100,
         program: String = kbqBinary) throws {
        let argv = cStrings([program] + arguments)
        let envp = cStrings(scratch.environment(environment).map { "\($0.key)=\($0.value)" })
        defer { free(argv); free(envp) }
        var fd: Int32 = -1
        let pid = kbq_pty_spawn(program, argv, envp, 30, columns, &fd)
        guard pid > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        self.pid = pid
        self.master = fd
        self.mark = text.startIndex
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = kbq_wait_timeout(pid, 5000, &status)
        }
        close(master)
    }

    /// Types `keys` (control characters included: "\u{03}" is Ctrl-C, "\r" is Return), once
    /// the line editor has the terminal.
    func send(_ keys: String) {
        waitForEditor()
        var bytes = Array(keys.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { b in b.baseAddress.map { write(master, $0 + offset, b.count - offset) } ?? -1 }
            if n <= 0 { break }
            offset += n
        }
        // Give the line editor a moment between chunks, as typing would.
        usleep(30_000)
    }

    /// Waits (up to `timeout` seconds) until libedit has put the terminal in its editing mode
    /// (ICANON off). libedit draws the prompt first and switches modes after, and a key that
    /// arrives in between meets the kernel's line editing instead: Ctrl-D there becomes a
    /// NUL that libedit ignores. A person never types that fast; a test does.
    func waitForEditor(timeout: Double = 10) {
        let deadline = Date().addingTimeInterval(timeout)
        var mode = termios()
        while Date() < deadline {
            guard tcgetattr(master, &mode) == 0 else { return }
            if mode.c_lflag & tcflag_t(ICANON) == 0 { return }
            readMore(timeout: 0.005)
        }
    }

    /// Whether the terminal is in a line editor's mode (ICANON off) rather than the kernel's.
    var isInEditingMode: Bool {
        var mode = termios()
        return tcgetattr(master, &mode) == 0 && mode.c_lflag & tcflag_t(ICANON) == 0
    }

    /// Puts the terminal back in the kernel's line mode, as a shell does when it takes the
    /// terminal back from a stopped job.
    func restoreCookedMode() {
        var mode = termios()
        guard tcgetattr(master, &mode) == 0 else { return }
        mode.c_lflag |= tcflag_t(ICANON | ECHO)
        _ = tcsetattr(master, TCSANOW, &mode)
    }

    /// Changes the terminal's size, as a person dragging the window does (the kernel sends
    /// SIGWINCH).
    func resize(columns: UInt16, rows: UInt16 = 30) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// Waits until `expected` appears after what earlier expectations matched, and returns
    /// the text from the mark up to it.
    @discardableResult
    func expect(_ expected: String, timeout: Double = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let r = text.range(of: expected, range: mark..<text.endIndex) {
                let seen = String(text[mark..<r.upperBound])
                mark = r.upperBound
                return seen
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, readMore(timeout: left) else {
                throw TerminalTimeout(expected: expected, screen: String(text[mark...]))
            }
        }
    }

    /// Types `line` and Return, and waits for `output` and then the next prompt.
    func enter(_ line: String, expecting output: String) throws {
        send(line + "\r")
        try expect(output)
        try expect("kbq> ")
    }

    /// Reads what arrives within `timeout` seconds; false at the end of the output.
    @discardableResult
    func readMore(timeout: Double) -> Bool {
        var buffer = [CChar](repeating: 0, count: 65536)
        let n = kbq_read_timeout(master, &buffer, buffer.count, Int32(max(1, timeout * 1000)))
        if n == -2 { return true }
        guard n > 0 else { return false }
        let chunk = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        raw += chunk
        text += TerminalSession.stripEscapes(chunk)
        return true
    }

    /// Waits for kbq to end and returns its exit status (nil if it did not end in time, with
    /// what the terminal showed and where the process was recorded as an issue).
    func waitForExit(timeout: Double = 20, sourceLocation: SourceLocation = #_sourceLocation) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            // Keep draining the terminal so kbq never blocks writing to it.
            readMore(timeout: 0.05)
            if kbq_wait_timeout(pid, 10, &status) == 1 {
                exitStatus = status
                return status
            }
        }
        let state = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
            .split(separator: "\n").filter { $0.hasPrefix("State") || $0.hasPrefix("Sig") }.joined(separator: "; ") ?? "?"
        let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
        Issue.record("kbq did not exit within \(timeout) s (\(state); waiting in \(wchan)); the terminal showed:\n\(text)",
                     sourceLocation: sourceLocation)
        return nil
    }

    /// Removes terminal control sequences (CSI, OSC, two-byte escapes), carriage returns and
    /// bells, leaving the text a person would read.
    static func stripEscapes(_ s: String) -> String {
        var out = ""
        var it = s.unicodeScalars.makeIterator()
        while let c = it.next() {
            switch c {
            case "\u{1B}":
                guard let next = it.next() else { break }
                if next == "[" {
                    while let x = it.next(), !(0x40...0x7E).contains(x.value) {}
                } else if next == "]" {
                    while let x = it.next(), x != "\u{07}" && x != "\u{1B}" {}
                }
            case "\r", "\u{07}", "\u{08}":
                continue
            default:
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// Where two texts first differ, for a failure message.
func difference(_ expected: String, _ actual: String) -> String {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var i = 0
    while i < e.count, i < a.count, e[i] == a[i] { i += 1 }
    let shown = { (lines: [Substring]) in i < lines.count ? "|\(lines[i])|" : "(ends before this line)" }
    return "first difference at line \(i + 1) of \(e.count) expected, \(a.count) actual:\n  expected: \(shown(e))\n  actual:   \(shown(a))"
}
