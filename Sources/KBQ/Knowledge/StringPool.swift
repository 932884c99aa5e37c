/// Interned strings stored back to back in one byte buffer: a million rows of text cost
/// their bytes plus four bytes of offset each, and equal strings share one id, so a filter
/// on a string field compares integers.
struct StringPool: Sendable {
    private(set) var bytes: [UInt8] = []
    /// `offsets[i]..<offsets[i+1]` are the bytes of string `i`.
    private(set) var offsets: [Int] = [0]
    /// Open-addressing hash table of string ids + 1 (0 is an empty slot).
    private var table: [UInt32] = []
    private var mask = 0

    static let null: UInt32 = .max

    var count: Int { offsets.count - 1 }

    init(expectedCount: Int = 16) {
        let slots = max(16, (expectedCount * 2).nextPowerOfTwo)
        table = [UInt32](repeating: 0, count: slots)
        mask = slots - 1
    }

    /// The id of a string, adding it if it is new.
    mutating func intern(_ s: String) -> UInt32 {
        var s = s
        return s.withUTF8 { intern($0) }
    }

    /// The id of the bytes of a string, adding it if it is new.
    mutating func intern(_ s: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let h = StringPool.hash(s)
        var slot = h & mask
        while true {
            let entry = table[slot]
            if entry == 0 { break }
            let id = Int(entry - 1)
            if equals(id, s) { return UInt32(id) }
            slot = (slot + 1) & mask
        }
        let id = UInt32(count)
        bytes.append(contentsOf: s)
        offsets.append(bytes.count)
        table[slot] = id + 1
        if count * 2 > table.count { grow() }
        return id
    }

    /// The id of a string if it is in the pool.
    func lookup(_ s: String) -> UInt32? {
        var s = s
        return s.withUTF8 { lookup($0) }
    }

    func lookup(_ s: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard !table.isEmpty else { return nil }
        var slot = StringPool.hash(s) & mask
        while true {
            let entry = table[slot]
            if entry == 0 { return nil }
            if equals(Int(entry - 1), s) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    subscript(id: UInt32) -> String {
        let i = Int(id)
        return bytes.withUnsafeBufferPointer { b in
            String(decoding: UnsafeBufferPointer(rebasing: b[offsets[i]..<offsets[i + 1]]), as: UTF8.self)
        }
    }

    /// Calls `body` with the bytes of string `id`, without making a String.
    func withBytes<R>(_ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let i = Int(id)
        return bytes.withUnsafeBufferPointer { b in body(UnsafeBufferPointer(rebasing: b[offsets[i]..<offsets[i + 1]])) }
    }

    private func equals(_ id: Int, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = offsets[id], end = offsets[id + 1]
        guard end - start == s.count else { return false }
        return bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress, let sb = s.baseAddress else { return s.isEmpty }
            return memcmpBytes(base + start, sb, s.count)
        }
    }

    private mutating func grow() {
        let slots = table.count * 2
        var t = [UInt32](repeating: 0, count: slots)
        let m = slots - 1
        bytes.withUnsafeBufferPointer { b in
            for id in 0..<count {
                let s = UnsafeBufferPointer(rebasing: b[offsets[id]..<offsets[id + 1]])
                var slot = StringPool.hash(s) & m
                while t[slot] != 0 { slot = (slot + 1) & m }
                t[slot] = UInt32(id + 1)
            }
        }
        table = t
        mask = m
    }

    /// Releases spare capacity once loading is done.
    mutating func seal() {
        bytes = Array(bytes)
        offsets = Array(offsets)
    }

    static func hash(_ s: UnsafeBufferPointer<UInt8>) -> Int {
        // FNV-1a over 8-byte words, then a final mix: fast on long text, good enough spread.
        var h: UInt64 = 0xcbf29ce484222325
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
        while i < n {
            h = (h ^ UInt64(base[i])) &* 0x100000001b3
            i += 1
        }
        h ^= h >> 33
        h = h &* 0xff51afd7ed558ccd
        h ^= h >> 33
        return Int(truncatingIfNeeded: h)
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

extension Int {
    var nextPowerOfTwo: Int {
        var v = 1
        while v < self && v < (1 << 40) { v <<= 1 }
        return v
    }
}
