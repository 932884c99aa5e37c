import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits large scans across the machine's cores. Only worth it for hundreds of thousands
/// of rows: below that, waking the threads costs more than it saves.
enum ParallelWork {
    /// How many parts a large scan is split into: the number of active cores, at most 8.
    static let width: Int = min(8, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    /// The fewest rows a part should have for the split to pay.
    static let minimumRowsPerPart = 1 << 17

    /// How many parts to split `rows` rows into.
    static func parts(forRows rows: Int) -> Int {
        // Small inputs never ask how many cores there are (that reads a /sys file).
        if rows < 2 * minimumRowsPerPart { return 1 }
        return min(width, rows / minimumRowsPerPart)
    }

    /// Runs `body(0) … body(parts - 1)`, in parallel when `parts > 1`; returns when all ended.
    static func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        // The parts write to disjoint ranges the caller set up; the caller waits for all of
        // them before reading, so handing `body` to other threads is safe.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: parts) { work($0) }
        }
    }
}
