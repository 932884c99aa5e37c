import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Strings stored back to back in one byte buffer: a million rows of text cost their bytes
/// plus four bytes of offset each.
///
/// A pool is either *distinct* (the default): equal strings share one id, so a filter on a
/// string field compares integers; or, for a column of near-unique text (sentences,
/// descriptions), *not distinct*: each row's string is appended as read, with no index to
/// build or keep, and equal strings may have different ids. Code that compares ids for
/// equality must ask ``isDistinct`` first (``marks(equalToAny:)`` answers for both kinds).
///
/// A distinct pool finds equal strings through a hash index, except while its strings come
/// in strictly increasing order (a key column written in order, as exports usually are):
/// then it needs no index at all, and finds a string by binary search.
struct StringPool: Sendable {
    enum Mode: Sendable {
        /// Distinct, strings in strictly increasing byte order so far, no index.
        case ordered
        /// Distinct, through the hash index.
        case hashed
        /// Not distinct.
        case plain
    }

    /// The mode, or the pool's parts where they lie in a mapped compiled file: one word
    /// either way (a field more in every pool cost the article KB's start-up 2% of its
    /// instructions), so a pool built in memory keeps its layout and pays one compare per
    /// read for the mapped kind.
    private enum Shape: Sendable {
        case ordered, hashed, plain
        case mapped(MappedStrings)
    }

    /// Built in memory (empty when mapped).
    private var bytes: [UInt8] = []
    /// `offsets[i]..<offsets[i+1]` are the bytes of string `i`.
    private var offsets: [UInt32] = [0]
    /// Open-addressing hash index of string ids + 1 (0 is an empty slot); empty unless hashed.
    private var table: [UInt32] = []
    private var shape: Shape
    /// How many strings the pool was sized for.
    private var expected: Int

    static let null: UInt32 = .max
    /// The most bytes one pool holds (offsets are 32-bit).
    static let maxBytes = Int(UInt32.max) - 1

    var mode: Mode {
        switch shape {
        case .ordered: return .ordered
        case .hashed: return .hashed
        case .plain: return .plain
        case .mapped(let m): return m.mode
        }
    }

    var count: Int {
        if case .mapped(let m) = shape { return m.offsets.count - 1 }
        return offsets.count - 1
    }

    /// The number of bytes of all the strings.
    var byteCount: Int {
        if case .mapped(let m) = shape { return m.bytes.count }
        return bytes.count
    }

    /// Whether equal strings share one id.
    var isDistinct: Bool { mode != .plain }

    /// Makes an empty pool, sized for `expectedCount` strings of `expectedBytes` bytes in
    /// all (space reserved but never written costs address space, not memory).
    init(expectedCount: Int = 16, expectedBytes: Int = 0, distinct: Bool = true) {
        shape = distinct ? .ordered : .plain
        expected = expectedCount
        offsets.reserveCapacity(expectedCount + 1)
        bytes.reserveCapacity(expectedBytes)
    }

    /// Calls `body` with the strings' bytes, their offsets and the hash index, wherever
    /// they lie.
    @inline(__always)
    private func withParts<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt32>) -> R) -> R {
        if case .mapped(let m) = shape {
            return m.bytes.withUnsafeBufferPointer { b in
                m.offsets.withUnsafeBufferPointer { o in m.table.withUnsafeBufferPointer { t in body(b, o, t) } }
            }
        }
        return bytes.withUnsafeBufferPointer { b in
            offsets.withUnsafeBufferPointer { o in table.withUnsafeBufferPointer { t in body(b, o, t) } }
        }
    }

    /// Before a change: a mapped pool's parts are copied into arrays (never in practice: a
    /// KB opened from a compiled file is not added to). Parts found damaged make an empty pool.
    private mutating func own() {
        guard case .mapped(let m) = shape else { return }
        guard m.isWhole else {
            bytes = []
            offsets = [0]
            table = []
            shape = m.mode == .hashed ? .plain : .ordered
            return
        }
        bytes = m.bytes.array
        offsets = m.offsets.array
        table = m.table.array
        switch m.mode {
        case .ordered: shape = .ordered
        case .hashed: shape = .hashed
        case .plain: shape = .plain
        }
    }

    private mutating func setMode(_ m: Mode) {
        own()
        switch m {
        case .ordered: shape = .ordered
        case .hashed: shape = .hashed
        case .plain: shape = .plain
        }
    }

    /// Reserves room for `n` strings of `b` bytes in all.
    mutating func reserve(count n: Int, bytes b: Int) {
        own()
        offsets.reserveCapacity(n + 1)
        bytes.reserveCapacity(b)
        expected = max(expected, n)
        if mode == .hashed && StringPool.slots(for: n) > table.count { rebuildIndex(slots: StringPool.slots(for: n)) }
    }

    /// A table size keeping the load under 2/3 (sizes need not be powers of two).
    private static func slots(for n: Int) -> Int { max(16, n + n / 2 + 1) }

    /// The id of a string, adding it if it is new.
    mutating func intern(_ s: String) -> UInt32 {
        var s = s
        return s.withUTF8 { intern($0) }
    }

    /// The id of the bytes of a string, adding it if it is new (in a pool that is not
    /// distinct, always adding it).
    mutating func intern(_ s: UnsafeBufferPointer<UInt8>) -> UInt32 {
        switch shape {
        case .plain:
            return append(s)
        case .ordered:
            let n = offsets.count - 1
            if n == 0 { return append(s) }
            let c = withOwned { b, o in StringPool.order(b, o, n - 1, s) }
            if c < 0 { return append(s) }
            if c == 0 { return UInt32(n - 1) }
            // Out of order: from now on, through the index. Sized for twice the strings so
            // far, unless a large pool has most of those expected (a key whose order breaks
            // on its last row, "e10000000" after "e9999999"): then for those expected, not
            // twice. (Small pools keep their sizes, and compiled files their bytes.)
            shape = .hashed
            let late = n >= 1 << 16 && n < expected && n * 2 >= expected
            let room = late ? expected : max(n * 2, min(expected, 1 << 16))
            rebuildIndex(slots: StringPool.slots(for: room))
        case .hashed:
            break
        case .mapped:
            own()
            return intern(s)
        }
        let h = StringPool.hash(s)
        let n = table.count
        var slot = StringPool.reduce(h, n)
        let found: UInt32? = withOwned { b, o in
            table.withUnsafeBufferPointer { t in
                while true {
                    let entry = t[slot]
                    if entry == 0 { return nil }
                    if StringPool.equal(b, o, Int(entry - 1), s) { return entry - 1 }
                    slot += 1
                    if slot == n { slot = 0 }
                }
            }
        }
        if let found { return found }
        let id = append(s)
        table[slot] = id + 1
        if count * 3 > table.count * 2 { rebuildIndex(slots: table.count * 2) }
        return id
    }

    /// Appends the bytes as a new string, without looking for an equal one (never mapped).
    @discardableResult
    private mutating func append(_ s: UnsafeBufferPointer<UInt8>) -> UInt32 {
        bytes.append(contentsOf: s)
        offsets.append(UInt32(truncatingIfNeeded: bytes.count))
        return UInt32(offsets.count - 2)
    }

    /// The id of a string if it is in the pool (in a pool that is not distinct, the first
    /// of the strings equal to it).
    func lookup(_ s: String) -> UInt32? {
        var s = s
        return s.withUTF8 { lookup($0) }
    }

    func lookup(_ s: UnsafeBufferPointer<UInt8>) -> UInt32? {
        if case .mapped(let m) = shape, !m.checkedWhole { return m.lookupChecked(s, in: self) }
        switch mode {
        case .plain:
            for id in 0..<count where equals(id, s) { return UInt32(id) }
            return nil
        case .ordered:
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                let c = compare(UInt32(mid), s)
                if c == 0 { return UInt32(mid) }
                if c < 0 { lo = mid + 1 } else { hi = mid }
            }
            return nil
        case .hashed:
            return withParts { _, _, table in
                let n = table.count
                var slot = StringPool.reduce(StringPool.hash(s), n)
                while true {
                    let entry = table[slot]
                    if entry == 0 { return nil }
                    if equals(Int(entry - 1), s) { return entry - 1 }
                    slot += 1
                    if slot == n { slot = 0 }
                }
            }
        }
    }

    /// For each id, whether its string is one of `strings`: how a pool that is not distinct
    /// answers `=` and `in` (one pass over its strings, not one per row).
    func marks(equalToAny strings: [String]) -> [Bool] {
        var marks = [Bool](repeating: false, count: count)
        if isDistinct {
            for s in strings { if let id = lookup(s) { marks[Int(id)] = true } }
            return marks
        }
        for var s in strings {
            s.withUTF8 { needle in
                for id in 0..<count where !marks[id] && equals(id, needle) { marks[id] = true }
            }
        }
        return marks
    }

    subscript(id: UInt32) -> String {
        withBytes(id) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of string `id`, without making a String (a mapped pool
    /// whose parts were not checked whole checks this string's: empty when out of bounds).
    @inline(__always)
    func withBytes<R>(_ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let i = Int(id)
        if case .mapped(let m) = shape, !m.checkedWhole, !m.holds(i) { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return withParts { b, o, _ in body(UnsafeBufferPointer(rebasing: b[Int(o[i])..<Int(o[i + 1])])) }
    }

    /// Whether string `id`'s bytes can be read: always, but in a mapped pool not checked
    /// whole, where reading out of bounds is recorded as damage and reads as empty text.
    @inline(__always)
    func isReadable(_ id: UInt32) -> Bool {
        if case .mapped(let m) = shape, !m.checkedWhole { return m.holds(Int(id)) }
        return true
    }

    /// Appends the bytes of each of `ids` (past the pool: none) to `bytes`, and where each
    /// ends to `ends`, reading them from the file a mapped pool lies in rather than through
    /// the mapping; nil when the pool is not mapped from a file that can be read so.
    func copies(of ids: [UInt32]) -> (bytes: [UInt8], ends: [Int])? {
        guard case .mapped(let m) = shape, let file = m.bytes.keeper as? ByteSource else { return nil }
        var bytes: [UInt8] = [], ends: [Int] = []
        ends.reserveCapacity(ids.count)
        let strings = count
        let done = m.bytes.withUnsafeBufferPointer { b -> Bool in
            for id in ids {
                let i = Int(id)
                if i < strings, m.checkedWhole || m.holds(i) {
                    let start = Int(m.offsets[i]), end = Int(m.offsets[i + 1])
                    guard file.copy(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[start..<end]), into: &bytes) else { return false }
                }
                ends.append(bytes.count)
            }
            return true
        }
        return done ? (bytes, ends) : nil
    }

    /// Whether string `id` is `s`, compared as bytes, without making a String.
    func equals(_ id: UInt32, _ s: String) -> Bool {
        var s = s
        return s.withUTF8 { equals(Int(id), $0) }
    }

    /// The length in bytes of string `id`.
    func length(_ id: UInt32) -> Int {
        if case .mapped(let m) = shape, !m.checkedWhole, !m.holds(Int(id)) { return 0 }
        return withParts { _, o, _ in Int(o[Int(id) + 1] - o[Int(id)]) }
    }

    fileprivate func equals(_ id: Int, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        if case .mapped(let m) = shape, !m.checkedWhole, !m.holds(id) { return false }
        return withParts { b, o, _ in StringPool.equal(b, o, id, s) }
    }

    /// Byte-wise order of string `id` against `s`: negative, 0 or positive.
    fileprivate func compare(_ id: UInt32, _ s: UnsafeBufferPointer<UInt8>) -> Int {
        if case .mapped(let m) = shape, !m.checkedWhole, !m.holds(Int(id)) { return -1 }
        return withParts { b, o, _ in StringPool.order(b, o, Int(id), s) }
    }

    /// Calls `body` with the bytes and offsets of a pool built in memory (while it is built).
    @inline(__always)
    private func withOwned<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt32>) -> R) -> R {
        bytes.withUnsafeBufferPointer { b in offsets.withUnsafeBufferPointer { o in body(b, o) } }
    }

    /// Whether string `id` of bytes `b` at offsets `o` is `s`.
    @inline(__always)
    private static func equal(_ b: UnsafeBufferPointer<UInt8>, _ o: UnsafeBufferPointer<UInt32>, _ id: Int,
                              _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(o[id]), end = Int(o[id + 1])
        guard end - start == s.count else { return false }
        guard let base = b.baseAddress, let sb = s.baseAddress else { return s.isEmpty }
        return memcmpBytes(base + start, sb, s.count)
    }

    /// Byte-wise order of string `id` of bytes `b` at offsets `o` against `s`.
    @inline(__always)
    private static func order(_ b: UnsafeBufferPointer<UInt8>, _ o: UnsafeBufferPointer<UInt32>, _ id: Int,
                              _ s: UnsafeBufferPointer<UInt8>) -> Int {
        let a = UnsafeBufferPointer(rebasing: b[Int(o[id])..<Int(o[id + 1])])
        let n = min(a.count, s.count)
        if n > 0, let pa = a.baseAddress, let ps = s.baseAddress {
            let c = memcmp(pa, ps, n)
            if c != 0 { return Int(c) }
        }
        return a.count - s.count
    }

    private mutating func rebuildIndex(slots: Int) {
        own()
        var t = [UInt32](repeating: 0, count: slots)
        bytes.withUnsafeBufferPointer { b in
            offsets.withUnsafeBufferPointer { o in
                t.withUnsafeMutableBufferPointer { t in
                    for id in 0..<(o.count - 1) {
                        let s = UnsafeBufferPointer(rebasing: b[Int(o[id])..<Int(o[id + 1])])
                        var slot = StringPool.reduce(StringPool.hash(s), slots)
                        while t[slot] != 0 { slot += 1; if slot == slots { slot = 0 } }
                        t[slot] = UInt32(id + 1)
                    }
                }
            }
        }
        table = t
    }

    /// Adds the strings of `other` (the same column read in another part of a file, side by
    /// side with this one) and says what `other`'s ids become: each plus `base` when its
    /// strings could be appended as they are (`map` nil), else `map[id]`. Nil when the two
    /// together would hold more than ``maxBytes``.
    ///
    /// `other` is taken: left empty (unless nil is returned). Its bytes, when appended whole,
    /// are given back to the system page by page as they are copied, so that a column of
    /// text read in two halves is never held as the whole and the second half at once (at a
    /// million rows that was a third more than the file's size at the peak of a load).
    mutating func absorb(taking other: inout StringPool) -> (base: UInt32, map: [UInt32]?)? {
        own()
        guard bytes.count + other.byteCount <= StringPool.maxBytes else { return nil }
        defer { other = StringPool(expectedCount: 0) }
        let base = UInt32(count)
        // Appended whole: when neither part deduplicates, or when both are in strictly
        // increasing order and `other` starts after this one ends (ids written in order).
        var whole = !isDistinct || !other.isDistinct
        if whole && isDistinct { dropIndex() }
        if mode == .ordered && other.mode == .ordered {
            whole = count == 0 || other.count == 0 || other.withBytes(0) { compare(UInt32(count - 1), $0) < 0 }
        }
        if whole {
            let shift = UInt32(truncatingIfNeeded: bytes.count)
            other.own()
            var taken: [UInt8] = []
            swap(&taken, &other.bytes)
            moveReleasing(&taken, to: &bytes)
            offsets.reserveCapacity(offsets.count + other.count)
            var first = true
            drainReleasing(&other.offsets) { chunk in
                for o in chunk {
                    if first { first = false; continue }
                    offsets.append(o + shift)
                }
            }
            return (base, nil)
        }
        // Each of `other`'s strings is looked up here, not there: its index goes first, this
        // one is sized once for both, and `other`'s bytes and offsets are given back as the
        // pass over them goes on (at ten million rows, a key whose order breaks on its last
        // row held both parts' indexes, `other` whole and this index at twice its size).
        other.own()
        other.table = []
        let n = other.count
        expected = max(expected, count + n)
        if mode == .hashed && StringPool.slots(for: expected) > table.count { rebuildIndex(slots: StringPool.slots(for: expected)) }
        var map = [UInt32](repeating: 0, count: n)
        other.bytes.withUnsafeMutableBufferPointer { ob in
            other.offsets.withUnsafeMutableBufferPointer { oo in
                var doneBytes = PageReleaser(ob), doneOffsets = PageReleaser(oo)
                for id in 0..<n {
                    let end = Int(oo[id + 1])
                    map[id] = intern(UnsafeBufferPointer(rebasing: ob[Int(oo[id])..<end]))
                    doneBytes.release(below: end)
                    doneOffsets.release(below: id + 1)
                }
                doneBytes.release(below: ob.count, atLeast: 0)
                doneOffsets.release(below: oo.count, atLeast: 0)
            }
        }
        return (0, map)
    }

    /// Stops indexing: from now on strings are appended as read. Ids given so far stay valid.
    mutating func dropIndex() {
        setMode(.plain)
        table = []
    }

    /// Once loading is done. Spare capacity is left alone: pages never written are not
    /// resident, and copying a large pool to trim it would double its memory for a moment.
    mutating func seal() {}

    @inline(__always)
    static func reduce(_ h: Int, _ n: Int) -> Int {
        // Maps a hash onto 0..<n without a division (Lemire's multiply-shift).
        Int((UInt64(UInt32(truncatingIfNeeded: h)) &* UInt64(n)) >> 32)
    }

    static func hash(_ s: UnsafeBufferPointer<UInt8>) -> Int {
        // Multiply-mix over 8-byte words, then a final avalanche: fast on long text.
        var h: UInt64 = 0xcbf29ce484222325 ^ UInt64(s.count)
        let n = s.count
        guard let base = s.baseAddress else { return 0 }
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0x100000001b3
            h ^= h >> 29
            i += 8
        }
        if i < n {
            // The last 1 to 7 bytes as one word.
            var w: UInt64 = 0
            var k = 0
            while i < n { w |= UInt64(base[i]) << (8 * k); i += 1; k += 1 }
            h = (h ^ w) &* 0x100000001b3
        }
        h ^= h >> 33
        h = h &* 0xff51afd7ed558ccd
        h ^= h >> 33
        return Int(truncatingIfNeeded: h >> 16 ^ h)
    }
}

extension StringPool {
    /// For each id, whether its string contains `needle` (already folded by ``foldByte``),
    /// ignoring ASCII case: one pass over all the pool's bytes, on both cores when the pool
    /// is large, instead of one search per string.
    func marks(containingFolded needle: [UInt8]) -> [Bool] {
        var marks = [Bool](repeating: false, count: count)
        let n = count
        guard n > 0 else { return marks }
        if needle.isEmpty { return [Bool](repeating: true, count: n) }
        // One pass over every string's bytes: the parts must hold together as a whole.
        if case .mapped(let m) = shape, !m.isWhole { return marks }
        withParts { b, o, _ in
            marks.withUnsafeMutableBufferPointer { m in
                // Split at string boundaries so that no match spans two parts.
                let parts = b.count >= 1 << 21 ? ParallelWork.width : 1
                ParallelWork.run(parts) { part in
                    let lo = n * part / parts, hi = n * (part + 1) / parts
                    searchFolded(b, o, lo, hi, needle, m)
                }
            }
        }
        return marks
    }
}

/// Marks the strings `lo..<hi` whose bytes contain `needle`, ASCII case ignored: finds
/// candidates eight positions at a time by the needle's first and last bytes (a word-wide
/// compare; Swift's wider SIMD types do not compile to vector code on baseline x86-64),
/// then checks each candidate.
private func searchFolded(_ b: UnsafeBufferPointer<UInt8>, _ o: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int,
                          _ needle: [UInt8], _ marks: UnsafeMutableBufferPointer<Bool>) {
    guard lo < hi, let base = b.baseAddress else { return }
    let start = Int(o[lo]), end = Int(o[hi])
    let k = needle.count
    guard end - start >= k else { return }
    // Letters fold by setting bit 0x20; other bytes of the needle must match exactly.
    func probe(_ c: UInt8) -> (mask: UInt8, value: UInt8) {
        let isLetter = (c | 0x20) &- 0x61 < 26
        return isLetter ? (0x20, c | 0x20) : (0, c)
    }
    let (m0, v0) = probe(needle[0]), (m1, v1) = probe(needle[k - 1])
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    let wm0 = ones &* UInt64(m0), wv0 = ones &* UInt64(v0), wm1 = ones &* UInt64(m1), wv1 = ones &* UInt64(v1)
    let raw = UnsafeRawPointer(base)
    var id = lo
    // The last position a match may start at.
    let last = end - k
    needle.withUnsafeBufferPointer { nd in
        @inline(__always) func check(_ at: Int) {
            // Verify, then mark the string that holds position `at` (if the match stays in it).
            var j = 0
            while j < k, foldByte(base[at + j]) == nd[j] { j += 1 }
            guard j == k else { return }
            while Int(o[id + 1]) <= at { id += 1 }
            if at + k <= Int(o[id + 1]) { marks[id] = true }
        }
        // The high bit of byte i is set when position p + i may start a match: zero bytes of
        // x0 and x1 are positions whose first and last bytes match. The test may flag a byte
        // above a true one, never miss one: candidates are checked.
        @inline(__always) func candidates(_ p: Int) -> UInt64 {
            let x0 = (raw.loadUnaligned(fromByteOffset: p, as: UInt64.self) | wm0) ^ wv0
            let x1 = (raw.loadUnaligned(fromByteOffset: p + k - 1, as: UInt64.self) | wm1) ^ wv1
            return (x0 &- ones) & ~x0 & (x1 &- ones) & ~x1 & highs
        }
        var p = start
        // Sixteen positions a turn, one branch for both words.
        while p + 16 <= last + 1 {
            var m = candidates(p), n = candidates(p + 8)
            if m | n != 0 {
                while m != 0 { check(p + m.trailingZeroBitCount >> 3); m &= m &- 1 }
                while n != 0 { check(p + 8 + n.trailingZeroBitCount >> 3); n &= n &- 1 }
            }
            p += 16
        }
        while p <= last {
            if (base[p] | m0) == v0 && (base[p + k - 1] | m1) == v1 { check(p) }
            p += 1
        }
    }
}

/// The string id of each row of a column. Stored as an array, except while every row has a
/// string of its own in order (a column of ids or of sentences): then id == row and
/// nothing is stored. Built by ``Builder``; the ids may lie in a mapped compiled file.
struct StringIDs: RandomAccessCollection, Sendable {
    private let stored: Stored<UInt32>
    /// The rows when id == row for every row (nothing stored), else -1.
    private let identityRows: Int

    init(_ ids: [UInt32]) { self.init(Stored(ids)) }

    init(_ ids: Stored<UInt32>) {
        stored = ids
        identityRows = -1
    }

    /// `rows` rows whose id is their row number.
    init(identityRows n: Int) {
        stored = Stored()
        identityRows = n
    }

    /// Whether id == row for every row (no array is kept).
    var isIdentity: Bool { identityRows >= 0 }

    var startIndex: Int { 0 }
    var endIndex: Int { isIdentity ? identityRows : stored.count }

    /// The ids as stored, or nil when id == row for every row.
    var array: Stored<UInt32>? { isIdentity ? nil : stored }

    @inline(__always)
    subscript(i: Int) -> UInt32 { isIdentity ? UInt32(truncatingIfNeeded: i) : stored[i] }

    /// Calls `body` with the ids as a buffer (made once for an identity column).
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt32>) throws -> R) rethrows -> R {
        if isIdentity {
            let ids = (0..<identityRows).map { UInt32(truncatingIfNeeded: $0) }
            return try ids.withUnsafeBufferPointer(body)
        }
        return try stored.withUnsafeBufferPointer(body)
    }

    /// A column's ids while its rows are read.
    struct Builder {
        private var stored: [UInt32] = []
        private var rows = 0
        /// Whether id == row for every row so far (no array is kept).
        private var isIdentity = true
        private var reserved = 0

        init() {}

        var count: Int { rows }

        /// The ids built.
        var built: StringIDs { isIdentity ? StringIDs(identityRows: rows) : StringIDs(stored) }

        mutating func append(_ id: UInt32) {
            if isIdentity {
                if id == UInt32(truncatingIfNeeded: rows) { rows += 1; return }
                stored.reserveCapacity(Swift.max(reserved, rows + 1))
                stored.append(contentsOf: (0..<rows).lazy.map { UInt32(truncatingIfNeeded: $0) })
                isIdentity = false
            }
            stored.append(id)
            rows += 1
        }

        /// Appends the ids of another part of the column, each plus `base` or through `map`
        /// (see ``StringPool/absorb(_:)``); null stays null.
        mutating func append(taking other: inout Builder, base: UInt32, map: [UInt32]?) {
            defer { other = Builder() }
            // Still id == row when `other`'s ids, as they become, go on from this one's rows
            // (a key in order but for its last row, as one pass would have kept it).
            let next = UInt32(truncatingIfNeeded: rows)
            if isIdentity && other.isIdentity
                && (map.map { m in m.indices.allSatisfy { m[$0] == next &+ UInt32(truncatingIfNeeded: $0) } } ?? (base == next)) {
                rows += other.rows
                return
            }
            if isIdentity {
                stored.reserveCapacity(Swift.max(reserved, rows + other.rows))
                stored.append(contentsOf: (0..<rows).lazy.map { UInt32(truncatingIfNeeded: $0) })
                isIdentity = false
            } else {
                stored.reserveCapacity(rows + other.rows)
            }
            rows += other.rows
            if other.isIdentity {
                for i in 0..<other.rows {
                    let id = UInt32(truncatingIfNeeded: i)
                    stored.append(map.map { $0[i] } ?? id &+ base)
                }
                return
            }
            // The other part's ids are given back to the system as they are copied.
            drainReleasing(&other.stored) { chunk in
                if let map {
                    for id in chunk { stored.append(id == StringPool.null ? id : map[Int(id)]) }
                } else {
                    for id in chunk { stored.append(id == StringPool.null ? id : id &+ base) }
                }
            }
        }

        mutating func reserveCapacity(_ n: Int) {
            reserved = n
            if !isIdentity { stored.reserveCapacity(n) }
        }
    }
}

func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

// MARK: compiled files (see Compiled/)

extension StringPool {
    /// The pool's mode as one byte: 0 ordered, 1 hashed, 2 plain (compiled files).
    var modeTag: UInt8 { mode == .ordered ? 0 : mode == .hashed ? 1 : 2 }
    /// The bytes, offsets and hash index as they are, for writing them out.
    var storedBytes: Stored<UInt8> {
        if case .mapped(let m) = shape { return m.bytes }
        return Stored(bytes)
    }
    var storedOffsets: Stored<UInt32> {
        if case .mapped(let m) = shape { return m.offsets }
        return Stored(offsets)
    }
    var storedTable: Stored<UInt32> {
        if case .mapped(let m) = shape { return m.table }
        return Stored(table)
    }

    /// A pool whose parts lie where they were stored (a mapped compiled file, kept by
    /// `owner`), read there and never copied, if they make one that every read stays inside
    /// of. With `checkingWhole` false, only what costs the same whatever the strings is
    /// checked now (the first and last offsets, the index's presence), and each read checks
    /// the offsets and index entries it reads, calling `report` when one is out of bounds: a
    /// query that reads a few rows then reads the pages of those rows only.
    init?(modeTag m: UInt8, bytes: Stored<UInt8>, offsets: Stored<UInt32>, table: Stored<UInt32>, checkingWhole: Bool = true,
          report: (@Sendable (String) -> Void)? = nil) {
        guard let mode = StringPool.mode(tag: m) else { return nil }
        let fits = checkingWhole ? bytes.withUnsafeBufferPointer { b in
            offsets.withUnsafeBufferPointer { o in table.withUnsafeBufferPointer { t in StringPool.partsAreWhole(mode, b, o, t) } }
        } : offsets.first == 0 && offsets.last.map { Int($0) == bytes.count } == true && (mode == .hashed) != table.isEmpty
        guard fits else { return nil }
        shape = .mapped(MappedStrings(mode: mode, bytes: bytes, offsets: offsets, table: table, checkedWhole: checkingWhole, report: report))
        expected = offsets.count - 1
    }

    private static func mode(tag m: UInt8) -> Mode? {
        m == 0 ? .ordered : m == 1 ? .hashed : m == 2 ? .plain : nil
    }

    /// Whether a pool's parts make one that every read stays inside of: offsets from 0 to
    /// the end of the bytes, never decreasing; a hash index only when hashed, its entries
    /// ids + 1 or 0, with an empty slot (a lookup of a string that is not there walks to
    /// one). Branch-free passes, so that a million offsets are checked in a millisecond.
    static func partsAreWhole(_ mode: Mode, _ b: UnsafeBufferPointer<UInt8>, _ o: UnsafeBufferPointer<UInt32>,
                              _ t: UnsafeBufferPointer<UInt32>) -> Bool {
        guard let first = o.first, first == 0, let last = o.last, Int(last) == b.count else { return false }
        var decreasing: UInt32 = 0
        for i in 1..<o.count { decreasing |= o[i - 1] > o[i] ? 1 : 0 }
        guard decreasing == 0, (mode == .hashed) != t.isEmpty else { return false }
        let strings = UInt32(truncatingIfNeeded: o.count - 1)
        var highest: UInt32 = 0, empty: UInt32 = 0
        for e in t {
            highest = max(highest, e)
            empty |= e == 0 ? 1 : 0
        }
        return highest <= strings && (t.isEmpty || empty != 0)
    }
}

/// A pool's parts where they lie in a mapped compiled file.
final class MappedStrings: Sendable {
    let mode: StringPool.Mode
    let bytes: Stored<UInt8>
    let offsets: Stored<UInt32>
    let table: Stored<UInt32>
    /// Whether the parts were checked whole when the pool was made; if not, each read checks
    /// what it reads (``holds(_:)``), and a pass over all the strings checks them all first
    /// (``isWhole``).
    let checkedWhole: Bool
    /// Says where a read found the parts out of bounds (the KB's damage log).
    private let report: (@Sendable (String) -> Void)?
    /// Whether every part holds together, worked out once, by the first pass that needs it.
    private let wholeness = Mutex<Bool?>(nil)

    init(mode: StringPool.Mode, bytes: Stored<UInt8>, offsets: Stored<UInt32>, table: Stored<UInt32>, checkedWhole: Bool = true,
         report: (@Sendable (String) -> Void)? = nil) {
        self.mode = mode
        self.bytes = bytes
        self.offsets = offsets
        self.table = table
        self.checkedWhole = checkedWhole
        self.report = report
    }

    /// Whether string `id`'s offsets lie inside the strings, in order; else says so.
    @inline(__always)
    func holds(_ id: Int) -> Bool {
        if id >= 0 && id + 1 < offsets.count {
            let start = offsets[id], end = offsets[id + 1]
            if start <= end && Int(end) <= bytes.count { return true }
        }
        report?("the offsets of string \(id) lie outside the strings")
        return false
    }

    /// Whether all the parts hold together (checked once, then remembered); else says so.
    var isWhole: Bool {
        if checkedWhole { return true }
        return wholeness.withLock { known in
            if let known { return known }
            let whole = bytes.withUnsafeBufferPointer { b in
                offsets.withUnsafeBufferPointer { o in table.withUnsafeBufferPointer { t in StringPool.partsAreWhole(mode, b, o, t) } }
            }
            if !whole { report?("the string offsets or the hash index point outside the strings") }
            known = whole
            return whole
        }
    }

    /// ``StringPool/lookup(_:)`` reading each index entry and string it reaches with a check:
    /// an entry past the strings ends the search as not found (and is reported), and so
    /// does an index with no empty slot once every slot was probed.
    func lookupChecked(_ s: UnsafeBufferPointer<UInt8>, in pool: StringPool) -> UInt32? {
        switch mode {
        case .plain:
            for id in 0..<pool.count where pool.equals(id, s) { return UInt32(id) }
            return nil
        case .ordered:
            var lo = 0, hi = pool.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let c = pool.compare(UInt32(mid), s)
                if c == 0 { return UInt32(mid) }
                if c < 0 { lo = mid + 1 } else { hi = mid }
            }
            return nil
        case .hashed:
            let n = table.count
            guard n > 0 else { return nil }
            var slot = StringPool.reduce(StringPool.hash(s), n)
            for _ in 0..<n {
                let entry = table[slot]
                if entry == 0 { return nil }
                guard Int(entry) <= pool.count else {
                    report?("the hash index names string \(entry - 1), past the \(pool.count) strings")
                    return nil
                }
                if pool.equals(Int(entry - 1), s) { return entry - 1 }
                slot += 1
                if slot == n { slot = 0 }
            }
            report?("the hash index has no empty slot")
            return nil
        }
    }
}
