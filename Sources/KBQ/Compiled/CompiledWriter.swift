#if canImport(Glibc)
import Glibc
#endif

/// A compiled KB file that could not be written.
public struct KBWriteError: Error, Sendable, CustomStringConvertible {
    /// The file that was to be written.
    public let path: String
    /// What went wrong.
    public let message: String

    /// Makes the error.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `cannot write PATH: MESSAGE`, escaped for a terminal.
    public var description: String { "cannot write \(sanitizeForTerminal(path)): \(sanitizeForTerminal(message))" }
}

extension KnowledgeBase {
    /// Writes this KB as a compiled KB file (docs/KB-FORMAT.md, "Compiled KB files"), which
    /// ``init(contentsOfCompiledFile:)`` opens without parsing. The file is written beside
    /// `path` under a temporary name and renamed into place when whole: `path` is never left
    /// half written, and on an error it is as it was.
    public func writeCompiled(to path: String) throws(KBWriteError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw KBWriteError(path: path, message: String(cString: strerror(errno))) }
        var out = SectionOutput(fd: fd)
        do throws(KBWriteError) {
            try out.write(self, path: path)
            if fsync(fd) != 0 { throw KBWriteError(path: path, message: String(cString: strerror(errno))) }
            close(fd)
            if rename(temporary, path) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw KBWriteError(path: path, message: reason)
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }
}

/// Writes a compiled file front to back: the header's place, the sections, the schema, then
/// the header over its place.
private struct SectionOutput {
    let fd: Int32
    var position = 0
    /// The record of the collection being written: its sections' places go into it.
    var record = VarintWriter()
    var path = ""

    init(fd: Int32) { self.fd = fd }

    mutating func write(_ kb: KnowledgeBase, path: String) throws(KBWriteError) {
        self.path = path
        try pad(to: CompiledFormat.headerSize)
        let collections = kb.collections
        var records: [[UInt8]] = []
        for c in collections {
            record = VarintWriter()
            record.optional(c.key)
            record.optional(c.measure)
            record.u64(UInt64(c.fields.count))
            for (j, f) in c.fields.enumerated() {
                record.string(f.name)
                SchemaCoding.encode(f.type, &record)
                record.optional(f.qualifierField)
                record.optional(f.upperField)
                try column(c.columns[j])
            }
            try indexes(of: c)
            records.append(record.out)
        }
        // The schema: what opening reads (name, hedges, a table of contents), then the records.
        var schema = VarintWriter()
        SchemaCoding.encodeNameAndHedges(kb, &schema)
        schema.u64(UInt64(collections.count))
        for (c, r) in zip(collections, records) {
            schema.string(c.name)
            schema.u64(UInt64(c.count))
            schema.u64(UInt64(r.count))
        }
        for r in records { schema.append(r) }
        try align()
        let schemaOffset = position
        let schemaBytes = schema.out
        try raw(schemaBytes)
        var header = [UInt8](repeating: 0, count: CompiledFormat.headerSize)
        header.replaceSubrange(0..<8, with: CompiledFormat.magic)
        func put<T: FixedWidthInteger>(_ v: T, at i: Int) {
            withUnsafeBytes(of: v.littleEndian) { header.replaceSubrange(i..<(i + MemoryLayout<T>.size), with: $0) }
        }
        put(CompiledFormat.version, at: 8)
        // In this machine's order, on purpose: see byteOrderMark.
        withUnsafeBytes(of: CompiledFormat.byteOrderMark) { header.replaceSubrange(12..<16, with: $0) }
        put(CompiledFormat.hashProbe, at: 16)
        put(UInt64(position), at: 24)
        put(UInt64(schemaOffset), at: 32)
        put(UInt64(schemaBytes.count), at: 40)
        put(schemaBytes.withUnsafeBytes { CompiledFormat.checksum($0) }, at: 48)
        put(header.withUnsafeBytes { CompiledFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<56])) }, at: 56)
        var done = 0
        while done < header.count {
            let n = header.withUnsafeBytes { h in
                h.baseAddress.map { pwrite(fd, $0 + done, h.count - done, off_t(done)) } ?? -1
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure() }
            done += n
        }
    }

    /// The collection's indexes (Compiled/CompiledIndexes.swift): postings for each string
    /// column with a distinct pool and stored ids, a date order for each date column.
    mutating func indexes(of c: KBCollection) throws(KBWriteError) {
        enum Wanted { case postings(Int, StringIDs, StringPool), dateOrder(Int, Stored<PartialDate>) }
        var wanted: [Wanted] = []
        for j in c.fields.indices {
            switch c.columns[j] {
            case .string(let ids, let pool) where pool.isDistinct && ids.array != nil: wanted.append(.postings(j, ids, pool))
            case .date(let dates): wanted.append(.dateOrder(j, dates))
            default: break
            }
        }
        record.u64(UInt64(wanted.count))
        for w in wanted {
            switch w {
            case .postings(let j, let ids, let pool):
                record.u8(CompiledFormat.IndexKind.postings.rawValue)
                record.u64(UInt64(j))
                let (starts, rows) = StringPostings.build(ids: ids, pool: pool) ?? ([UInt32](repeating: 0, count: pool.count + 1), [])
                try section(Stored(starts))
                try section(Stored(rows))
            case .dateOrder(let j, let dates):
                record.u8(CompiledFormat.IndexKind.dateOrder.rawValue)
                record.u64(UInt64(j))
                try section(Stored(DateOrder.build(dates)))
            }
        }
    }

    func failure() -> KBWriteError { KBWriteError(path: path, message: String(cString: strerror(errno))) }

    /// The column's kind and sections, written now; their places go into the record.
    mutating func column(_ data: ColumnData) throws(KBWriteError) {
        switch data {
        case .string(let ids, let pool):
            record.u8(CompiledFormat.Kind.string.rawValue)
            record.u8(pool.modeTag)
            try section(pool.storedBytes)
            try section(pool.storedOffsets)
            try section(pool.storedTable)
            if let a = ids.array {
                record.u8(0)
                try section(a)
            } else {
                record.u8(1)
            }
        case .number(let v):
            record.u8(CompiledFormat.Kind.number.rawValue)
            try section(v)
        case .date(let d):
            record.u8(CompiledFormat.Kind.date.rawValue)
            if CompiledFormat.datesAreRecords {
                try section(d)
            } else {
                var records: [UInt8] = []
                records.reserveCapacity(d.count * CompiledFormat.dateSize)
                for x in d {
                    withUnsafeBytes(of: x.lo.littleEndian) { records += $0 }
                    withUnsafeBytes(of: x.hi.littleEndian) { records += $0 }
                    records += [x.precision.rawValue, x.hiPrecision.rawValue, x.form.rawValue, x.unit.rawValue]
                    withUnsafeBytes(of: x.anchor.littleEndian) { records += $0 }
                }
                try section(Stored(records))
            }
        case .bool(let b):
            record.u8(CompiledFormat.Kind.bool.rawValue)
            try section(b)
        case .hedge(let h):
            record.u8(CompiledFormat.Kind.hedge.rawValue)
            try section(h)
        case .ref(let r):
            record.u8(CompiledFormat.Kind.ref.rawValue)
            try section(r)
        case .list(let lists):
            // Lists are rare and boxed: encoded as the schema is, decoded when first read.
            record.u8(CompiledFormat.Kind.list.rawValue)
            var w = VarintWriter()
            SchemaCoding.encodeList(lists, &w)
            try section(Stored(w.out))
        }
    }

    /// An array's bytes as they lie in memory, on an 8-byte boundary; its place, length and
    /// checksum into the record.
    mutating func section<T: BitwiseCopyable>(_ a: Stored<T>) throws(KBWriteError) {
        let failed: KBWriteError? = a.withUnsafeBufferPointer { b in
            do throws(KBWriteError) { try section(b); return nil } catch { return error }
        }
        if let failed { throw failed }
    }

    mutating func section<T: BitwiseCopyable>(_ a: UnsafeBufferPointer<T>) throws(KBWriteError) {
        try align()
        let offset = position
        try raw(UnsafeRawBufferPointer(a))
        record.u64(UInt64(offset))
        record.u64(UInt64(position - offset))
        record.u64(CompiledFormat.checksum(UnsafeRawBufferPointer(a)))
    }

    mutating func align() throws(KBWriteError) {
        let gap = (CompiledFormat.alignment - position % CompiledFormat.alignment) % CompiledFormat.alignment
        try pad(to: position + gap)
    }

    /// Writes the bytes of `a` as they lie in memory.
    mutating func raw<T: BitwiseCopyable>(_ a: [T]) throws(KBWriteError) {
        let failed: KBWriteError? = a.withUnsafeBytes { b in
            do throws(KBWriteError) { try raw(b); return nil } catch { return error }
        }
        if let failed { throw failed }
    }

    mutating func raw(_ b: UnsafeRawBufferPointer) throws(KBWriteError) {
        var done = 0
        while done < b.count, let base = b.baseAddress {
            let n = Glibc.write(fd, base + done, min(b.count - done, 1 << 30))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { position += done; throw failure() }
            done += n
        }
        position += done
    }

    /// Zeros up to `end` bytes from the file's start.
    mutating func pad(to end: Int) throws(KBWriteError) {
        if end > position { try raw([UInt8](repeating: 0, count: end - position)) }
    }
}
