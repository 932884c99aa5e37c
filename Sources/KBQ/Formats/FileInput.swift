#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads files in chunks with plain system calls, so loading needs no Foundation and a
/// large file never has to sit in memory whole.
struct FileInput: ~Copyable {
    let fd: Int32
    let path: String

    /// Opens `path` for reading, or says why it cannot.
    ///
    /// With `regularFileOnly`, anything but a regular file (or a link to one) is refused
    /// before it is opened: a KB's rows file comes from whoever wrote the KB, and a FIFO
    /// would block the open until a writer came, `/dev/zero` never ends, `/dev/tty` waits
    /// for a person.
    init(path: String, regularFileOnly: Bool = false) throws(KBLoadError) {
        self.path = path
        func refusal(_ message: String) -> KBLoadError {
            KBLoadError(file: path, problems: [KBProblem(.cannotRead, path: "$", message: message)])
        }
        if regularFileOnly {
            var st = stat()
            guard stat(path, &st) == 0 else { throw refusal("cannot open \(path): \(String(cString: strerror(errno)))") }
            if let kind = FileInput.kind(ofNonRegular: st.st_mode) { throw refusal("\(path) is \(kind), not a regular file") }
        }
        // Non-blocking, in case the path became a FIFO since it was looked at: the open then
        // returns at once and the check below refuses it. Reads of a regular file never block.
        let fd = open(path, O_RDONLY | O_CLOEXEC | (regularFileOnly ? O_NONBLOCK : 0))
        guard fd >= 0 else { throw refusal("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) == 0 {
            if regularFileOnly, let kind = FileInput.kind(ofNonRegular: st.st_mode) {
                close(fd)
                throw refusal("\(path) is \(kind), not a regular file")
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw refusal("\(path) is a folder, not a KB file")
            }
        }
        self.fd = fd
    }

    /// What a file of `mode` is, said for a person, when it is not a regular file.
    static func kind(ofNonRegular mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    deinit { close(fd) }

    /// The file's size in bytes, if known.
    var size: Int? {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Reads up to `count` bytes into `target`; returns how many were read (0 at the end).
    func read(into target: UnsafeMutablePointer<UInt8>, count: Int) throws(KBLoadError) -> Int {
        while true {
            let n = Glibc.read(fd, target, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            let failure = errno
            throw KBLoadError(file: path, problems: [KBProblem(.cannotRead, path: "$", message: "cannot read \(path): \(String(cString: strerror(failure)))")])
        }
    }

    /// Reads up to `count` bytes from file offset `offset` (the file position is left as it
    /// is, so that parts of one file can be read side by side); 0 at the end.
    func read(into target: UnsafeMutablePointer<UInt8>, count: Int, at offset: Int) throws(KBLoadError) -> Int {
        while true {
            let n = pread(fd, target, count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            let failure = errno
            throw KBLoadError(file: path, problems: [KBProblem(.cannotRead, path: "$", message: "cannot read \(path): \(String(cString: strerror(failure)))")])
        }
    }

    /// Reads up to `count` bytes, appending them to `buffer`; returns how many were read.
    func append(to buffer: inout [UInt8], count: Int) throws(KBLoadError) -> Int {
        // An Array cannot grow by bytes it has not initialized: read into a chunk of its own
        // and copy that (one memcpy; zero-filling the buffer's new end element by element
        // cost more than the read in debug builds).
        var failure: KBLoadError?
        let chunk = [UInt8](unsafeUninitializedCapacity: count) { b, initialized in
            guard let base = b.baseAddress else { return }  // count is 0: nothing to read
            do throws(KBLoadError) {
                initialized = try read(into: base, count: count)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        // Doubling, so a file read in many chunks is not copied once per chunk.
        if buffer.capacity < buffer.count + chunk.count { buffer.reserveCapacity(max(buffer.count + chunk.count, buffer.capacity * 2)) }
        buffer.append(contentsOf: chunk)
        return chunk.count
    }

    /// Calls `body` with the whole file's bytes, mapped rather than read when it is a large
    /// regular file, and a function that gives back the pages below an offset once a pass
    /// over them is done (they are read in again if touched again): a bare JSON array of a
    /// million rows then never holds its 250 MiB in memory beside its columns. Smaller files
    /// and anything that cannot be mapped are read whole (``readAll(limit:)``, refused past
    /// `limit` bytes), and giving back does nothing. A mapped file may be as large as
    /// `mappedLimit` (at least `limit`): its pages are the page cache's, not the process's,
    /// and `body` bounds what it builds from them.
    func withBytes<R>(limit: Int, mappedLimit: Int? = nil, _ body: (UnsafeBufferPointer<UInt8>, (Int) -> Void) throws(KBLoadError) -> R) throws(KBLoadError) -> R {
        var st = stat()
        let mappedLimit = max(limit, mappedLimit ?? limit)
        let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        let size = Int(st.st_size)
        if regular, size > mappedLimit {
            throw KBLoadError(file: path, problems: [KBProblem(.limitExceeded, path: "$", message: "file is \(size) bytes; the limit for one JSON file is \(mappedLimit) bytes (put large collections in CSV or NDJSON files)")])
        }
        if regular, size >= FileInput.mapAtLeast, let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED {
            defer { munmap(p, size) }
            _ = madvise(p, size, MADV_SEQUENTIAL)
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let release = { (offset: Int) in
                let end = min(size, offset) / page * page
                if end > 0 { _ = madvise(p, end, MADV_DONTNEED) }
            }
            return try body(UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: size), release)
        }
        let data = try readAll(limit: limit)
        return try data.withUnsafeBufferPointer { (buf) throws(KBLoadError) -> R in try body(buf, { _ in }) }
    }

    /// Files smaller than this are read rather than mapped: mapping costs system calls and
    /// page faults that a small read does not.
    static let mapAtLeast = 16 << 20

    /// Reads the whole file, refusing one larger than `limit` bytes.
    func readAll(limit: Int) throws(KBLoadError) -> [UInt8] {
        var out: [UInt8] = []
        if let s = size, s > limit {
            throw KBLoadError(file: path, problems: [KBProblem(.limitExceeded, path: "$", message: "file is \(s) bytes; the limit for one JSON file read whole (not mapped: a pipe, a device) is \(limit) bytes (put large collections in CSV or NDJSON files)")])
        }
        out.reserveCapacity((size ?? 0) + 1)
        while try append(to: &out, count: 1 << 20) > 0 {
            if out.count > limit {
                throw KBLoadError(file: path, problems: [KBProblem(.limitExceeded, path: "$", message: "file is larger than the limit of \(limit) bytes")])
            }
        }
        return out
    }
}

/// The folder part of a path ("" for a bare file name).
func directoryOf(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
}

/// Joins a relative path onto a folder.
func resolvePath(_ p: String, relativeTo dir: String) -> String {
    if p.hasPrefix("/") || dir.isEmpty { return p }
    return dir + "/" + p
}

/// The encoding a file starting with `bytes` looks like when it is UTF-16 or UTF-32 rather
/// than UTF-8 (by its byte order mark, or by the zero bytes ASCII text has in them), for
/// an error that says so: read as UTF-8 it would be a column named `��i\u{0}d\u{0}`.
package func wideEncoding(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    let n = bytes.count
    func starts(_ p: [UInt8]) -> Bool { n >= p.count && p.indices.allSatisfy { bytes[$0] == p[$0] } }
    if starts([0xFF, 0xFE, 0, 0]) { return "UTF-32 (little-endian)" }
    if starts([0, 0, 0xFE, 0xFF]) { return "UTF-32 (big-endian)" }
    if starts([0xFF, 0xFE]) { return "UTF-16 (little-endian)" }
    if starts([0xFE, 0xFF]) { return "UTF-16 (big-endian)" }
    // No mark: ASCII text in UTF-16 has a zero byte in every other place.
    let sample = min(n, 256) & ~3
    guard sample >= 4 else { return nil }
    var evenZeros = 0, oddZeros = 0
    for i in 0..<sample where bytes[i] == 0 { if i & 1 == 0 { evenZeros += 1 } else { oddZeros += 1 } }
    let half = sample / 2
    if oddZeros * 4 >= half * 3 && evenZeros * 4 < half { return "UTF-16 (little-endian)" }
    if evenZeros * 4 >= half * 3 && oddZeros * 4 < half { return "UTF-16 (big-endian)" }
    return nil
}

/// The problem to report for a file of `encoding`.
package func notUTF8Message(_ encoding: String) -> String {
    "the file is not UTF-8: it looks like \(encoding) (save it as UTF-8)"
}

/// Reads a large file of rows in parts side by side, one per core, and joins the parts'
/// columns. Each part after the first starts just after a line feed, where a row starts in
/// NDJSON, and in a CSV file unless the line feed is inside a quoted field: the part
/// before then finds no record starting there, and the file is read in one pass instead.
enum FileParts {
    /// The least a part should hold for the split to pay.
    static let partBytes = 16 << 20

    /// The rows of the file at `path`, read in parts: `read` reads one part (its byte range)
    /// into builders from `makeBuilders`, and says whether the part ended where the next
    /// begins. Nil when the file is too small for parts to pay, when there is one core, or
    /// when any part has a problem or a wrong end: the caller then reads the file in one
    /// pass, which says every problem with its line as always.
    ///
    /// `read` is given the part's range and where to size the columns for: the first part
    /// sizes them for the whole file (room reserved and not yet used costs address space
    /// only), so that the others are appended to it without a copy of what it read.
    /// `whenIdle`: only when the machine's other cores are idle (``othersRunnable()``); with
    /// them busy, a second thread only adds the joining to the work.
    static func read(path: String, partBytes: Int = FileParts.partBytes, whenIdle: Bool = true, makeBuilders: () -> [ColumnBuilder],
                     _ read: (borrowing FileInput, Range<Int>, Int, inout [ColumnBuilder], inout ProblemList) throws(KBLoadError) -> Bool) -> [ColumnBuilder]? {
        let starts: [Int], size: Int
        do throws(KBLoadError) {
            let input = try FileInput(path: path, regularFileOnly: true)
            guard let known = input.size, known / 2 >= partBytes else { return nil }
            size = known
            let parts = min(ParallelWork.width, size / partBytes)
            guard parts > 1 else { return nil }
            if whenIdle, let others = FileParts.othersRunnable(), others > parts - 1 { return nil }
            guard let found = lineStarts(input, size: size, parts: parts) else { return nil }
            starts = found
        } catch {
            return nil
        }
        let parts = starts.count
        var results = [[ColumnBuilder]?](repeating: nil, count: parts)
        let templates = (0..<parts).map { _ in makeBuilders() }
        results.withUnsafeMutableBufferPointer { out in
            ParallelWork.run(parts) { k in
                let range = starts[k]..<(k + 1 < parts ? starts[k + 1] : Int.max)
                var builders = templates[k]
                var problems = ProblemList()
                do throws(KBLoadError) {
                    let input = try FileInput(path: path, regularFileOnly: true)
                    guard try read(input, range, k == 0 ? size : min(size, range.upperBound), &builders, &problems), problems.isEmpty else { return }
                } catch {
                    return
                }
                out[k] = builders
            }
        }
        // What the parts outgrew while they were read, before the join adds to the peak.
        releaseFreeMemory()
        guard var joined = results[0] else { return nil }
        results[0] = nil
        for k in 1..<parts {
            guard var part = results[k] else { return nil }
            results[k] = nil
            for i in joined.indices {
                // Each part's column is taken as it is joined: the parts never all sit in
                // memory beside the whole.
                guard joined[i].append(taking: &part[i]) else { return nil }
                part[i] = ColumnBuilder(field: part[i].field, hedges: part[i].hedges, capacity: 0)
            }
        }
        releaseFreeMemory()
        return joined
    }

    /// How many threads besides the caller are running or waiting for a core right now: the
    /// first number of `/proc/loadavg`'s "running/total" field, less the caller. Not the load
    /// average: that is a minute's memory, in which kbq's own last load of a large file (two
    /// threads busy) made the next one, a moment later, read in one pass. Elsewhere, from the
    /// one-minute load average. Nil when neither can be read.
    static func othersRunnable() -> Int? {
        if let text = try? FileInput(path: "/proc/loadavg").readAll(limit: 4096), let running = FileParts.runningField(text) {
            return max(0, running - 1)
        }
        var load = [0.0]
        guard getloadavg(&load, 1) == 1, load[0].isFinite, load[0] >= 0 else { return nil }
        return Int(load[0].rounded())
    }

    /// The running count in the text of `/proc/loadavg` ("0.50 1.41 1.51 2/345 12345").
    static func runningField(_ text: some Collection<UInt8>) -> Int? {
        let fields = text.split(separator: UInt8(ascii: " "))
        guard fields.count >= 4, let slash = fields[3].firstIndex(of: UInt8(ascii: "/")) else { return nil }
        return Int(String(decoding: fields[3][..<slash], as: UTF8.self))
    }

    /// Where each part starts: 0, then just after the first line feed at or after each
    /// k/parts of the file. Nil when one is not found within a while.
    private static func lineStarts(_ input: borrowing FileInput, size: Int, parts: Int) -> [Int]? {
        var starts = [0]
        let window = 1 << 16
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: window)
        defer { buffer.deallocate() }
        for k in 1..<parts {
            let from = size * k / parts
            guard let got = try? input.read(into: buffer, count: window, at: from), got > 0,
                  let lf = memchr(buffer, 0x0A, got) else { return nil }
            let start = from + (UnsafeMutableRawPointer(lf) - UnsafeMutableRawPointer(buffer)) + 1
            guard start > starts[starts.count - 1], start < size else { return nil }
            starts.append(start)
        }
        return starts
    }
}
