#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ
import Synchronization

/// Ctrl-C in the REPL. A signal handler gets no context pointer, so the little it needs is in
/// these atomics, the only globals of kbq: a handler must not allocate or lock.
private let pendingInterrupts = Atomic<Int>(0)
/// A resized window (SIGWINCH) and a continued job (SIGCONT, after Ctrl-Z and `fg`) that the
/// line reader has not redrawn for yet.
private let pendingResize = Atomic<Bool>(false)
private let pendingContinue = Atomic<Bool>(false)
/// The token of the query running now (an unretained pointer's bits), or 0.
private let runningQuery = Atomic<UInt>(0)

private let onInterrupt: @convention(c) (Int32) -> Void = { _ in
    pendingInterrupts.add(1, ordering: .relaxed)
    let bits = runningQuery.load(ordering: .acquiring)
    if let pointer = UnsafeRawPointer(bitPattern: bits) {
        // The REPL keeps the token alive until it clears `runningQuery`; cancel() is one
        // atomic store.
        Unmanaged<CancellationToken>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.cancel() }
    }
}

private let onResize: @convention(c) (Int32) -> Void = { _ in
    pendingResize.store(true, ordering: .relaxed)
}

private let onContinue: @convention(c) (Int32) -> Void = { _ in
    pendingContinue.store(true, ordering: .relaxed)
}

package enum Interrupts {
    /// Ctrl-C stops being fatal: it makes a blocked read fail with EINTR (no SA_RESTART), so
    /// el_gets returns and the REPL drops the line, and it cancels a running query.
    package static func install() {
        _ = kbq_set_signal_handler(SIGINT, onInterrupt, 0)
    }

    /// The terminal's own signals while the line editor may run. Why not libedit's handlers
    /// (EL_SIGNAL): they resize libedit's screen buffers inside the signal handler, freeing and
    /// allocating while the interrupted code may be using them or be inside malloc, and they
    /// leave libedit's cursor past the end of the narrower buffers, so the next key typed at
    /// the end of a long line wrote past them: "double free or corruption" at the next resize
    /// (issue 16). These handlers only set a flag; the line reader resizes and redraws between
    /// two keys (``EditLineReader``). No SA_RESTART, so a blocked read returns at once and the
    /// redraw happens on resize, not at the next key.
    package static func installTerminalHandlers() {
        _ = kbq_set_signal_handler(SIGWINCH, onResize, 0)
        _ = kbq_set_signal_handler(SIGCONT, onContinue, 0)
        _ = kbq_handle_terminal_stop()
    }

    /// Whether Ctrl-C was pressed and not yet taken.
    package static var interruptPending: Bool { pendingInterrupts.load(ordering: .relaxed) > 0 }

    /// Whether the window was resized since the last call.
    package static func takeResize() -> Bool { pendingResize.exchange(false, ordering: .relaxed) }

    /// Whether kbq was continued after a stop since the last call.
    package static func takeContinue() -> Bool { pendingContinue.exchange(false, ordering: .relaxed) }

    /// Ctrl-C until ``endCancellable()`` cancels `token`.
    package static func beginCancellable(_ token: CancellationToken) {
        runningQuery.store(UInt(bitPattern: Unmanaged.passUnretained(token).toOpaque()), ordering: .releasing)
    }

    package static func endCancellable() {
        runningQuery.store(0, ordering: .releasing)
    }

    /// Whether Ctrl-C was pressed since the last call.
    package static func takePending() -> Bool {
        pendingInterrupts.exchange(0, ordering: .relaxed) > 0
    }
}
