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
/// these two atomics, the only globals of kbq: the handler must not allocate or lock.
private let pendingInterrupts = Atomic<Int>(0)
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

enum Interrupts {
    /// Ctrl-C stops being fatal: it makes a blocked read fail with EINTR (no SA_RESTART), so
    /// el_gets returns and the REPL drops the line, and it cancels a running query.
    static func install() {
        _ = kbq_set_signal_handler(SIGINT, onInterrupt, 0)
    }

    /// Ctrl-C until ``endCancellable()`` cancels `token`.
    static func beginCancellable(_ token: CancellationToken) {
        runningQuery.store(UInt(bitPattern: Unmanaged.passUnretained(token).toOpaque()), ordering: .releasing)
    }

    static func endCancellable() {
        runningQuery.store(0, ordering: .releasing)
    }

    /// Whether Ctrl-C was pressed since the last call.
    static func takePending() -> Bool {
        pendingInterrupts.exchange(0, ordering: .relaxed) > 0
    }
}
