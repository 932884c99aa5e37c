#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Giving memory back to the system while a large file loads: the peak of a load is what
// decides whether a file fits, so memory the loader is done with leaves the process at
// once rather than when (or whether) the allocator would give it back.

/// Appends `source` to `target` and empties `source`, giving the pages of `source` already
/// copied back to the system as the copy goes (they would be freed at the end anyway), so the
/// two are never both resident whole.
func moveReleasing<T: BitwiseCopyable>(_ source: inout [T], to target: inout [T]) {
    target.reserveCapacity(target.count + source.count)
    drainReleasing(&source) { target.append(contentsOf: $0) }
}

/// Calls `body` with the elements of `source` a chunk at a time and empties it, giving each
/// chunk's whole pages back to the system once `body` has read them: a column that a join
/// copies elsewhere is then never resident twice, and its pages leave the process whether
/// or not the allocator would keep the freed block (a worker thread's malloc arena keeps it).
func drainReleasing<T: BitwiseCopyable>(_ source: inout [T], _ body: (UnsafeBufferPointer<T>) -> Void) {
    let chunk = max(1, releaseChunkBytes / max(1, MemoryLayout<T>.stride))
    source.withUnsafeMutableBufferPointer { src in
        guard let base = src.baseAddress else { return }
        var done = PageReleaser(src)
        var from = 0
        while from < src.count {
            let n = min(chunk, src.count - from)
            body(UnsafeBufferPointer(start: base + from, count: n))
            from += n
            done.release(below: from, atLeast: releaseChunkBytes / 4)
        }
        // The rest too: a block freed by a worker thread stays resident in its arena.
        done.release(below: src.count, atLeast: 0)
    }
    source = []
}

/// Gives back to the system the whole pages of a buffer that a pass over it has left behind
/// (they read as zeros if touched again). Only pages wholly inside the buffer: the
/// allocator's own words lie outside it.
struct PageReleaser<T> {
    private let start: Int
    private let page: Int
    private var released: Int

    init(_ buffer: UnsafeMutableBufferPointer<T>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        self.page = max(1, page)
        start = buffer.baseAddress.map { Int(bitPattern: $0) } ?? 0
        // Nothing to give back without a buffer or a page size.
        released = start != 0 && page > 0 ? (start + page - 1) / page * page : Int.max
    }

    /// The elements below `index` will not be read again: their whole pages are given back
    /// once there are `atLeast` bytes of them (fewer system calls).
    mutating func release(below index: Int, atLeast: Int = releaseChunkBytes / 4) {
        guard released != Int.max else { return }
        let end = (start + index * MemoryLayout<T>.stride) / page * page
        if end > released, end - released >= atLeast, let p = UnsafeMutableRawPointer(bitPattern: released) {
            _ = madvise(p, end - released, MADV_DONTNEED)
            released = end
        }
    }
}

/// How much ``drainReleasing(_:_:)`` reads before giving pages back: what a join holds twice
/// at most.
let releaseChunkBytes = 1 << 20

/// Gives the allocator's free memory back to the system: the pages of blocks freed and
/// kept for reuse, in every thread's arena (glibc keeps a worker thread's freed blocks
/// resident, and a small array outgrown while the first rows of a file are read stays
/// there beside the columns). A few microseconds when little is free.
func releaseFreeMemory() {
    #if canImport(Glibc)
    _ = kbqMallocTrim(0)
    #endif
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (malloc.h is not part of Swift's Glibc module).
@_silgen_name("malloc_trim")
private func kbqMallocTrim(_ pad: Int) -> Int32
#endif
