import Synchronization

// A compiled KB file (`kbq build -o FILE.kbqdb`): a loaded KB as it lies in memory, so that
// a fresh process opens it and answers at once instead of parsing CSV or JSON again.
//
// Layout (docs/KB-FORMAT.md, "Compiled KB files"), little-endian:
//
//   header    64 bytes: magic, format version, byte-order mark, hash probe, file length,
//             where the schema section is, its checksum, and a checksum of the header
//   sections  each column's arrays as they lie in memory, each starting on an 8-byte
//             boundary: numbers as f64, dates as 16-byte records, bools and hedge ranks as
//             bytes, references as i32 row numbers, string pools as their bytes, u32 offsets
//             and u32 hash index (so no index is rebuilt), string ids as u32
//   schema    at the end: the KB's name, title, hedge scale with aliases; a table of
//             contents, per collection its name, rows and the length of its record; then
//             each collection's record: key, measure and fields, each field with its
//             column's kind and where each of its sections is, with the section's length and
//             checksum, then the collection's indexes
//
// What is checked when: opening reads the header and the schema only (a few kilobytes
// whatever the rows), checks both checksums, the format version, the byte order and the
// file's length, and that every section lies inside the file and has the size its rows
// call for. (The article KB in kbq's binary is opened from its table of contents, each
// collection's record read and checked when a query first reaches it: ArticleKB.swift.) A column is read where it lies in the mapping, never copied: the first time a
// query reads it, every value used as an index or an enum (string offsets and ids, the hash
// index, references, hedge ranks, bools, date kinds) is checked to be in bounds, in
// branch-free passes; a damaged one is recorded in the KB's damage log and the statement
// that read it fails with an invalid-kb error instead of answering. Sections' checksums are
// checked only on request (`kbq build --verify FILE`): a changed byte that still makes an
// in-bounds value (a number, a date, a string's text) reads as that value.

/// The compiled KB format's constants.
enum CompiledFormat {
    /// "KBQDB", then CR LF and ^Z as PNG does: a file passed through a text-mode copy that
    /// rewrites line ends is refused at its first bytes.
    static let magic: [UInt8] = [0x4B, 0x42, 0x51, 0x44, 0x42, 0x0D, 0x0A, 0x1A]
    /// Bumped whenever the layout changes; a file of another version is refused with a
    /// request to rebuild it. Version 2 added the indexes (postings, date orders); version 3
    /// the schema's table of contents.
    static let version: UInt32 = 3
    /// Written in the writer's byte order: it reads back as itself only in the same order.
    static let byteOrderMark: UInt32 = 0x0A0B_0C0D
    static let headerSize = 64
    static let alignment = 8
    /// The bytes of one date record.
    static let dateSize = 16

    /// Whether bytes 8–11 of a date record, read as one little-endian word, name a
    /// precision and an end precision (at most 2) and a form and a unit (at most 3).
    @inline(__always)
    static func dateKindsAreValid(_ w: UInt32) -> Bool { badDateKindBits(w) == 0 }

    /// The bits of such a word that no precision, form or unit has: none when it is valid
    /// (ORed over a column without a branch).
    @inline(__always)
    static func badDateKindBits(_ w: UInt32) -> UInt32 { (w & 0xFCFC_FCFC) | (w & (w >> 1) & 0x0101) }

    /// Index kinds in the schema (Compiled/CompiledIndexes.swift).
    enum IndexKind: UInt8 {
        case postings = 0, dateOrder
    }

    /// Column kinds in the schema.
    enum Kind: UInt8 {
        case string = 0, number, date, bool, hedge, ref, list
    }

    /// Sections longer than this are checksummed a chunk at a time, the chunks on every core.
    static let checksumChunk = 1 << 20

    /// Where StringPool's hash puts a fixed string in a table of a fixed size. Pools keep
    /// their hash index in the file, so a file written with another hash function is refused
    /// rather than read with an index that no longer finds anything.
    static var hashProbe: UInt64 {
        var probe = "kbq snapshot hash probe"
        let h = probe.withUTF8 { StringPool.hash($0) }
        return UInt64(StringPool.reduce(h, 1_000_003)) << 32 | UInt64(UInt32(truncatingIfNeeded: h))
    }

    /// FNV-1a over 8-byte words, in four lanes, then the lanes folded together, seeded with
    /// the length: four lanes let four multiplies run at once where one chain waits on each
    /// in turn.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let prime: UInt64 = 0x100_0000_01b3
        let seed: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return seed }
        let raw = UnsafeRawPointer(base)
        var h0 = seed, h1 = seed &+ 1, h2 = seed &+ 2, h3 = seed &+ 3
        var i = 0
        while i + 32 <= bytes.count {
            h0 = (h0 ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* prime
            h1 = (h1 ^ raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) &* prime
            h2 = (h2 ^ raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)) &* prime
            h3 = (h3 ^ raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)) &* prime
            i += 32
        }
        var h = (((((h0 &* prime) ^ h1) &* prime) ^ h2) &* prime) ^ h3
        while i + 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* prime
            i += 8
        }
        while i < bytes.count { h = (h ^ UInt64(bytes[i])) &* prime; i += 1 }
        return h
    }

    /// The checksum of a section: ``hash(_:)`` of its bytes; any one changed word changes it
    /// (each step is a bijection of the lane).
    /// A long section's is that of its chunks' checksums, so that checking the text of a
    /// million rows when a query first reads it takes both cores.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        // An empty section is hashed at an address, as it always was (a nil one hashes apart).
        if n == 0 { return withUnsafeBytes(of: 0) { hash(UnsafeRawBufferPointer(rebasing: $0[0..<0]).bindMemory(to: UInt8.self)) } }
        guard n > checksumChunk else { return hash(bytes.bindMemory(to: UInt8.self)) }
        let chunks = (n + checksumChunk - 1) / checksumChunk
        var sums = [UInt64](repeating: 0, count: chunks)
        sums.withUnsafeMutableBufferPointer { out in
            let parts = min(ParallelWork.width, chunks)
            ParallelWork.run(parts) { part in
                for c in stride(from: part, to: chunks, by: parts) {
                    let range = (c * checksumChunk)..<min(n, (c + 1) * checksumChunk)
                    out[c] = hash(UnsafeRawBufferPointer(rebasing: bytes[range]).bindMemory(to: UInt8.self))
                }
            }
        }
        return sums.withUnsafeBytes { hash($0.bindMemory(to: UInt8.self)) }
    }

    /// Whether `PartialDate` lies in memory as a file's date record does (lo, hi, precision,
    /// hi precision, form, unit, anchor, 16 bytes): then dates are copied whole, else field
    /// by field.
    static let datesAreRecords: Bool = {
        typealias D = PartialDate
        return MemoryLayout<D>.size == dateSize && MemoryLayout<D>.stride == dateSize
            && MemoryLayout<D>.offset(of: \D.lo) == 0 && MemoryLayout<D>.offset(of: \D.hi) == 4
            && MemoryLayout<D>.offset(of: \D.precision) == 8 && MemoryLayout<D>.offset(of: \D.hiPrecision) == 9
            && MemoryLayout<D>.offset(of: \D.form) == 10 && MemoryLayout<D>.offset(of: \D.unit) == 11
            && MemoryLayout<D>.offset(of: \D.anchor) == 12
    }()
}

/// Where one section lies in a compiled file.
struct SectionRef: Sendable {
    let offset: Int
    let length: Int
    let checksum: UInt64

    var range: Range<Int> { offset..<(offset + length) }
}

/// Parts of a compiled file found damaged after it was opened: a column is checked the first
/// time it is read, inside a query that cannot throw there, so the problem is kept here and
/// the statement's end turns it into an error (``KnowledgeBase/damageDiagnostic()``).
final class DamageLog: Sendable {
    let file: String
    private let problems = Mutex<[KBProblem]>([])

    init(file: String) { self.file = file }

    func record(_ p: KBProblem) {
        problems.withLock { if $0.count < KBLoadError.maxProblems { $0.append(p) } }
    }

    var recorded: [KBProblem] { problems.withLock { $0 } }
}

extension KnowledgeBase {
    /// The error a statement ends with when a column it read was found damaged: nil while
    /// every column read so far was whole (always, for a KB not from a compiled file).
    func damageDiagnostic() -> Diagnostic? {
        for log in damage {
            let found = log.recorded
            guard let first = found.first else { continue }
            return Diagnostic(.invalidKB, "\(log.file) is damaged: \(first.path): \(first.message)",
                              notes: (found.count > 1 ? ["and \(found.count - 1) more damaged part(s)"] : [])
                                + ["rebuild it from its source: kbq build -o FILE --kb SOURCE"],
                              problem: first.kind)
        }
        return nil
    }
}
