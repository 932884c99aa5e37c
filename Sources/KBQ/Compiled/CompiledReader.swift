#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Opening a compiled KB file (CompiledFormat.swift says what is checked when).

/// A compiled file's bytes, read-only: a file mapped into memory, unmapped when the last
/// column made from it is; or bytes that live as long as the program (the article KB in
/// kbq's binary), never freed.
final class MappedFile: ByteSource, @unchecked Sendable {
    // @unchecked: the bytes are never written, and unmapped (the descriptor closed) only in
    // deinit.
    let bytes: UnsafeRawBufferPointer
    private let mapped: Bool
    /// The file, kept open to read a few scattered strings with pread (``copy(_:into:)``);
    /// -1 when there is none (bytes in the binary, or no descriptor to spare).
    private let fd: Int32

    /// A mapping made by mmap, which this object now owns, with a descriptor of the file it
    /// now owns too (or -1).
    init(bytes: UnsafeRawBufferPointer, fd: Int32 = -1) {
        self.bytes = bytes
        mapped = true
        self.fd = fd
    }

    /// Bytes that stay where they are for the whole run.
    init(permanent bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        mapped = false
        fd = -1
    }

    deinit {
        if mapped, let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
        if fd >= 0 { close(fd) }
    }

    /// Appends the file's bytes that are mapped at `range` to `out`, read from the file rather
    /// than through the mapping: a string in every few pages of a large column, read through
    /// the mapping, has the kernel map (and later unmap) the pages around each of them.
    func copy(_ range: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        guard fd >= 0, let base = bytes.baseAddress, let start = range.baseAddress,
              start >= base, start + range.count <= base + bytes.count else { return false }
        let at = out.count
        out.append(contentsOf: repeatElement(0, count: range.count))
        var done = 0
        while done < range.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress.map { $0 + at + done }, range.count - done, off_t(start - base + done)) }
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
        guard done == range.count else {
            out.removeLast(range.count)
            return false
        }
        return true
    }

    /// Whether section `s`'s bytes still have the checksum they were written with.
    func holds(_ s: SectionRef) -> Bool {
        CompiledFormat.checksum(UnsafeRawBufferPointer(rebasing: bytes[s.range])) == s.checksum
    }

    /// Section `s` as elements of `T`, read where they lie (its length is a multiple of T's,
    /// and its offset of 8, checked when the file was opened; the mapping is page-aligned).
    func stored<T: BitwiseCopyable>(_ s: SectionRef, of _: T.Type) -> Stored<T> {
        let n = s.length / MemoryLayout<T>.stride
        guard n > 0, let base = bytes.baseAddress else { return Stored() }
        return Stored(UnsafeBufferPointer(start: (base + s.offset).bindMemory(to: T.self, capacity: n), count: n), owner: self)
    }
}

/// The schema section of a compiled file, read at open.
struct CompiledSchema: Sendable {
    enum ColumnLayout: Sendable {
        case string(mode: UInt8, bytes: SectionRef, offsets: SectionRef, table: SectionRef, ids: SectionRef?)
        case number(SectionRef), date(SectionRef), bool(SectionRef), hedge(SectionRef), ref(SectionRef), list(SectionRef)
    }
    /// An index of one field (Compiled/CompiledIndexes.swift).
    enum IndexLayout: Sendable {
        case postings(field: Int, starts: SectionRef, rows: SectionRef)
        case dateOrder(field: Int, rows: SectionRef)

        var sections: [SectionRef] {
            switch self {
            case .postings(_, let s, let r): return [s, r]
            case .dateOrder(_, let r): return [r]
            }
        }
        var field: Int {
            switch self {
            case .postings(let f, _, _), .dateOrder(let f, _): return f
            }
        }
    }
    struct Collection: Sendable {
        let name: String
        let rows: Int
        let key: String?
        let measure: String?
        let fields: [Field]
        let columns: [ColumnLayout]
        let indexes: [IndexLayout]
    }
    let name: String
    let title: String?
    let hedges: HedgeScale
    let collections: [Collection]
}

/// What opening a compiled file reads of its schema: the KB's name, title and hedge scale,
/// and the table of contents (each collection's name, rows and where its record lies). A
/// collection's record (fields, columns, indexes) is read by ``collection(_:)``: at open for
/// a file, so that a damaged one is refused at once; when first asked for, for the article
/// KB in kbq's binary, so that `kbq -e QUERY` reads only the records its query reaches.
struct CompiledContents: Sendable {
    let name: String
    let title: String?
    let hedges: HedgeScale
    let names: [String]
    let rows: [Int]
    /// Where each collection's record starts in the schema's bytes, and after them where
    /// the schema ends.
    let starts: [Int]
    let rowsByName: [String: Int]
    /// The file, and where its schema lies in it.
    let file: MappedFile
    let schema: Range<Int>
    let path: String

    /// Collection `i`'s record, checked: every section inside the file with the size its
    /// rows call for, every reference to a collection of the file.
    func collection(_ i: Int) throws(KBLoadError) -> CompiledSchema.Collection {
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[schema])
        var reader = SchemaReader(r: VarintReader(data: UnsafeRawBufferPointer(rebasing: bytes[starts[i]..<starts[i + 1]])),
                                  sectionsEnd: schema.lowerBound)
        guard let c = reader.collection(name: names[i], rows: rows[i], rowsByName: rowsByName) else {
            let at = schema.lowerBound + starts[i] + reader.r.pos
            throw CompiledFile.refusal(.damaged, path, "schema (bytes \(schema.lowerBound)..<\(schema.upperBound)) at byte \(at)",
                                       "\(reader.problem); \(CompiledFile.rebuild(path))")
        }
        return c
    }
}

extension KnowledgeBase {
    /// Opens a compiled KB file written by ``writeCompiled(to:)`` (`kbq build`): maps it into
    /// memory and reads its header and schema; each column is checked and made ready the
    /// first time a query reads it. A file that is truncated, damaged, of another format
    /// version or of another byte order is refused with a ``KBLoadError`` saying what and
    /// where; a column found damaged later fails the statement that read it
    /// (``Diagnostic/Kind/invalidKB``).
    public convenience init(contentsOfCompiledFile path: String) throws(KBLoadError) {
        try self.init(compiledFile: path, verifyingChecksums: true)
    }

    /// As ``init(contentsOfCompiledFile:)``; without the header's and the schema's checksums
    /// only for the fuzz target, whose mutations would otherwise never get past them to the
    /// checks behind.
    convenience init(compiledFile path: String, verifyingChecksums: Bool) throws(KBLoadError) {
        try self.init(compiled: CompiledFile.map(path), path: path, verifyingChecksums: verifyingChecksums, eager: true)
    }

    /// Opens a compiled KB from bytes that live as long as the program (the article KB in
    /// kbq's binary: ``ArticleKB``), where they lie: no copy, no parse beyond the schema's
    /// table of contents; each collection's record is read when the collection is first
    /// asked for. The bytes must start on an 8-byte boundary, as a mapping does; `name`
    /// stands for the file in errors. Without `verifyingChecksums`, not even the header's and
    /// schema's checksums are computed (the tests check such bytes whole instead); every
    /// bound is still checked. A record found damaged when first read (only a build mistake
    /// can make one) is logged, its collection has no fields, and the statement that reached
    /// it fails with an invalid-kb error.
    convenience init(compiledBytes bytes: UnsafeRawBufferPointer, name: String, verifyingChecksums: Bool) throws(KBLoadError) {
        guard let base = bytes.baseAddress, Int(bitPattern: base) % CompiledFormat.alignment == 0 else {
            throw CompiledFile.refusal(.damaged, name, "header", "the bytes are empty or not on an \(CompiledFormat.alignment)-byte boundary")
        }
        try self.init(compiled: MappedFile(permanent: bytes), path: name, verifyingChecksums: verifyingChecksums, eager: false)
    }

    private convenience init(compiled file: MappedFile, path: String, verifyingChecksums: Bool, eager: Bool) throws(KBLoadError) {
        let contents = try CompiledFile.contents(of: file, path: path, verifyingChecksums: verifyingChecksums)
        var read: [CompiledSchema.Collection] = []
        if eager {
            for i in contents.names.indices { read.append(try contents.collection(i)) }
        }
        let records = read
        let log = DamageLog(file: path)
        let context = CompiledFile.Context(file: file, log: log, hedgeWords: contents.hedges.words.count, rowsByName: contents.rowsByName)
        let hedges = contents.hedges
        let collections = LazyCollections(count: contents.names.count) { i in
            let c: CompiledSchema.Collection
            if i < records.count {
                c = records[i]
            } else {
                do throws(KBLoadError) {
                    c = try contents.collection(i)
                } catch {
                    for p in error.problems { log.record(p) }
                    return KBCollection(name: contents.names[i], fields: [], columns: [], count: contents.rows[i], key: nil, measure: nil, hedges: hedges)
                }
            }
            let columns = Columns(count: c.fields.count, make: { j in
                CompiledFile.column(c.columns[j], field: c.fields[j], of: c, context)
            }, forRows: { j in
                CompiledFile.column(c.columns[j], field: c.fields[j], of: c, context, whole: false)
            })
            return KBCollection(name: c.name, fields: c.fields, columns: columns, count: c.rows, key: c.key,
                                measure: c.measure, hedges: hedges, indexes: CompiledFile.indexes(of: c, context))
        }
        self.init(name: contents.name, title: contents.title, names: contents.names, collections: collections,
                  hedges: hedges, damage: [log])
    }
}

extension KnowledgeBase {
    /// Checks every byte of a compiled KB file against the checksums it was written with
    /// (`kbq build --verify FILE`): opening a file checks only its header and schema, and
    /// reading a column checks only that its values stay in bounds, so a changed byte that
    /// still makes an in-bounds value is found here, not by a query. Throws a
    /// ``KBLoadError`` saying which columns differ.
    public static func verifyCompiledFile(_ path: String) throws(KBLoadError) {
        let file = try CompiledFile.map(path)
        let schema = try CompiledFile.schema(of: file, path: path, verifyingChecksums: true)
        let problems = CompiledFile.verify(schema, file: file)
        guard problems.isEmpty else { throw KBLoadError(file: path, problems: problems) }
    }
}

enum CompiledFile {
    static func refusal(_ kind: KBProblem.Kind, _ path: String, _ place: String, _ message: String) -> KBLoadError {
        KBLoadError(file: path, problems: [KBProblem(kind, path: place, message: message)])
    }

    /// Whether the file at `path` starts as a compiled KB does.
    static func looksCompiled(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: CompiledFormat.magic.count)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n == head.count && head == CompiledFormat.magic
    }

    static func map(_ path: String) throws(KBLoadError) -> MappedFile {
        let input = try FileInput(path: path, regularFileOnly: true)
        guard let size = input.size else { throw refusal(.cannotRead, path, "$", "cannot read the size of \(path)") }
        guard size > 0 else {
            throw refusal(.damaged, path, "header", "the file is empty: not a compiled KB (kbq build -o FILE.kbqdb writes one)")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, input.fd, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw refusal(.cannotRead, path, "$", "cannot map \(path) into memory: \(String(cString: strerror(errno)))")
        }
        // Without a descriptor of its own, scattered strings are read through the mapping.
        return MappedFile(bytes: UnsafeRawBufferPointer(start: base, count: size), fd: fcntl(input.fd, F_DUPFD_CLOEXEC, 0))
    }

    /// What to do about a file this kbq cannot read.
    static func rebuild(_ path: String) -> String { "rebuild it with this kbq: kbq build -o \(path) --kb SOURCE" }

    /// The header and schema, checked; every section's place checked against the file.
    static func schema(of file: MappedFile, path: String, verifyingChecksums: Bool) throws(KBLoadError) -> CompiledSchema {
        let contents = try contents(of: file, path: path, verifyingChecksums: verifyingChecksums)
        var collections: [CompiledSchema.Collection] = []
        for i in contents.names.indices { collections.append(try contents.collection(i)) }
        return CompiledSchema(name: contents.name, title: contents.title, hedges: contents.hedges, collections: collections)
    }

    /// The header, checked, and what the schema says before the collections' records (their
    /// names, rows and places, which must cover the rest of the schema exactly).
    static func contents(of file: MappedFile, path: String, verifyingChecksums: Bool) throws(KBLoadError) -> CompiledContents {
        let data = file.bytes
        let size = data.count
        let magic = CompiledFormat.magic
        let head = Array(data.prefix(magic.count))
        guard head == Array(magic.prefix(head.count)) else {
            throw refusal(.damaged, path, "header (bytes 0..<8)", "not a compiled KB file: it does not start with KBQDB (kbq build -o FILE.kbqdb writes one)")
        }
        let headerSize = CompiledFormat.headerSize
        guard size >= headerSize else {
            throw refusal(.damaged, path, "header (bytes 0..<\(headerSize))", "truncated: the file is \(size) bytes, shorter than the \(headerSize)-byte header")
        }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: data.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: data.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard data.loadUnaligned(fromByteOffset: 12, as: UInt32.self) == CompiledFormat.byteOrderMark else {
            throw refusal(.unsupportedVersion, path, "header (bytes 12..<16)", "written on a machine of the other byte order (or damaged); \(rebuild(path))")
        }
        let version = u32(8)
        guard version == CompiledFormat.version else {
            throw refusal(.unsupportedVersion, path, "header (bytes 8..<12)",
                          "format version \(version), and this kbq reads version \(CompiledFormat.version); \(rebuild(path))")
        }
        guard !verifyingChecksums || CompiledFormat.checksum(UnsafeRawBufferPointer(rebasing: data[0..<56])) == u64(56) else {
            throw refusal(.damaged, path, "header (bytes 0..<\(headerSize))", "checksum mismatch: the header is damaged; \(rebuild(path))")
        }
        guard u64(16) == CompiledFormat.hashProbe else {
            throw refusal(.unsupportedVersion, path, "header (bytes 16..<24)", "written by a kbq that hashes strings differently; \(rebuild(path))")
        }
        let length = u64(24)
        guard length == UInt64(size) else {
            let what = length > UInt64(size) ? "truncated: the file is \(size) bytes, and was written with \(length)"
                : "the file is \(size) bytes, and was written with \(length): bytes were added at its end"
            throw refusal(.damaged, path, "header (bytes 24..<32)", what)
        }
        let schemaOffset = u64(32), schemaLength = u64(40)
        guard schemaOffset >= UInt64(headerSize), schemaOffset <= UInt64(size), schemaLength == UInt64(size) - schemaOffset else {
            throw refusal(.damaged, path, "header (bytes 32..<48)", "the schema's place (\(schemaOffset), \(schemaLength) bytes) is not the end of the file; \(rebuild(path))")
        }
        let schemaRange = Int(schemaOffset)..<size
        func schemaPlace() -> String { "schema (bytes \(schemaRange.lowerBound)..<\(schemaRange.upperBound))" }
        let schemaBytes = UnsafeRawBufferPointer(rebasing: data[schemaRange])
        guard !verifyingChecksums || CompiledFormat.checksum(schemaBytes) == u64(48) else {
            throw refusal(.damaged, path, schemaPlace(), "checksum mismatch: the schema is damaged; \(rebuild(path))")
        }
        var reader = SchemaReader(r: VarintReader(data: schemaBytes), sectionsEnd: Int(schemaOffset))
        guard let contents = reader.contents(file: file, schema: schemaRange, path: path) else {
            throw refusal(.damaged, path, schemaPlace() + " at byte \(schemaRange.lowerBound + reader.r.pos)",
                          "\(reader.problem); \(rebuild(path))")
        }
        return contents
    }

    /// What a column reads from: the mapped file, and what its values are checked against.
    struct Context: Sendable {
        let file: MappedFile
        let log: DamageLog
        let hedgeWords: Int
        let rowsByName: [String: Int]
    }

    /// A column read where its sections lie in the mapped file, if every value in them that
    /// is used as an index or an enum is in bounds (branch-free passes over the column, once,
    /// when a query first reads it); otherwise the damage is logged and the column is all
    /// null. Checksums are not computed here (``verify(_:path:)``, `kbq build --verify`).
    ///
    /// With `whole` false, the column as reading single rows takes it (``Columns/subscript(forRows:)``):
    /// no pass over it at all, each value checked as it is read, so that printing a few rows
    /// reads the pages of those rows only.
    static func column(_ layout: CompiledSchema.ColumnLayout, field: Field, of c: CompiledSchema.Collection,
                       _ context: Context, whole: Bool = true) -> ColumnData {
        let rows = c.rows
        func place(_ s: SectionRef) -> String { "\(c.name).\(field.name) (bytes \(s.offset)..<\(s.offset + s.length))" }
        func damaged(_ s: SectionRef, _ message: String) -> ColumnData {
            context.log.record(KBProblem(.damaged, path: place(s), message: message))
            return SchemaCoding.nullColumn(field.type, rows: rows)
        }
        let file = context.file
        if !whole {
            switch layout {
            case .string(let mode, let b, let o, let t, let idSection):
                let log = context.log, at = (c.name, field.name, o)
                guard let pool = StringPool(modeTag: mode, bytes: file.stored(b, of: UInt8.self), offsets: file.stored(o, of: UInt32.self),
                                            table: file.stored(t, of: UInt32.self), checkingWhole: false,
                                            report: { log.record(KBProblem(.damaged, path: "\(at.0).\(at.1) (bytes \(at.2.offset)..<\(at.2.offset + at.2.length))", message: $0)) }) else {
                    return damaged(o, "the string offsets or the hash index point outside the strings")
                }
                guard let idSection else {
                    guard rows <= pool.count else { return damaged(o, "fewer strings than rows") }
                    return .string(ids: StringIDs(identityRows: rows), pool: pool)
                }
                return .string(ids: StringIDs(file.stored(idSection, of: UInt32.self)), pool: pool)
            case .date(let s) where CompiledFormat.datesAreRecords:
                return .date(file.stored(s, of: PartialDate.self))
            case .number(let s): return .number(file.stored(s, of: Double.self))
            case .bool(let s): return .bool(file.stored(s, of: UInt8.self))
            case .hedge(let s): return .hedge(file.stored(s, of: UInt8.self))
            case .ref(let s): return .ref(file.stored(s, of: Int32.self))
            case .date, .list: break
            }
        }
        switch layout {
        case .string(let mode, let b, let o, let t, let idSection):
            guard let pool = StringPool(modeTag: mode, bytes: file.stored(b, of: UInt8.self), offsets: file.stored(o, of: UInt32.self),
                                        table: file.stored(t, of: UInt32.self)) else {
                return damaged(o, "the string offsets or the hash index point outside the strings")
            }
            guard let idSection else {
                guard rows <= pool.count else { return damaged(o, "fewer strings than rows") }
                return .string(ids: StringIDs(identityRows: rows), pool: pool)
            }
            let ids = file.stored(idSection, of: UInt32.self)
            // Null (all ones) wraps to 0: one maximum checks every id against the pool.
            guard ids.withUnsafeBufferPointer({ highest($0) { $0 &+ 1 } }) <= UInt32(truncatingIfNeeded: pool.count) else {
                return damaged(idSection, "a string id is past the pool")
            }
            return .string(ids: StringIDs(ids), pool: pool)
        case .number(let s):
            return .number(file.stored(s, of: Double.self))
        case .date(let s):
            // Every record's precision, form and unit must be one the enums have: bytes 8
            // and 9 at most 2, bytes 10 and 11 at most 3, as one 32-bit word per record.
            let records = UnsafeRawBufferPointer(rebasing: file.bytes[s.range])
            var bad: UInt32 = 0
            for r in stride(from: 0, to: records.count, by: CompiledFormat.dateSize) {
                bad |= CompiledFormat.badDateKindBits(UInt32(littleEndian: records.loadUnaligned(fromByteOffset: r + 8, as: UInt32.self)))
            }
            guard bad == 0 else { return damaged(s, "a date record has an unknown precision, form or unit") }
            if CompiledFormat.datesAreRecords { return .date(file.stored(s, of: PartialDate.self)) }
            var dates: [PartialDate] = []
            dates.reserveCapacity(rows)
            for r in stride(from: 0, to: records.count, by: CompiledFormat.dateSize) {
                var x = PartialDate(year: 1970)
                x.lo = Int32(littleEndian: records.loadUnaligned(fromByteOffset: r, as: Int32.self))
                x.hi = Int32(littleEndian: records.loadUnaligned(fromByteOffset: r + 4, as: Int32.self))
                x.precision = PartialDate.Precision(rawValue: records[r + 8]) ?? .year
                x.hiPrecision = PartialDate.Precision(rawValue: records[r + 9]) ?? .year
                x.form = PartialDate.Form(rawValue: records[r + 10]) ?? .point
                x.unit = PartialDate.Unit(rawValue: records[r + 11]) ?? .days
                x.anchor = Int32(littleEndian: records.loadUnaligned(fromByteOffset: r + 12, as: Int32.self))
                dates.append(x)
            }
            return .date(Stored(dates))
        case .bool(let s):
            let b = file.stored(s, of: UInt8.self)
            guard b.withUnsafeBufferPointer({ highest($0) { $0 } }) <= 2 else { return damaged(s, "a bool is neither 0, 1 nor 2 (null)") }
            return .bool(b)
        case .hedge(let s):
            let h = file.stored(s, of: UInt8.self)
            // Null (255) wraps to 0.
            guard Int(h.withUnsafeBufferPointer({ highest($0) { $0 &+ 1 } })) <= context.hedgeWords else {
                return damaged(s, "a hedge rank is past the KB's \(context.hedgeWords) hedge words")
            }
            return .hedge(h)
        case .ref(let s):
            guard case .ref(let target) = field.type, let n = context.rowsByName[target] else {
                return damaged(s, "a reference column of a field that is no reference")
            }
            let refs = file.stored(s, of: Int32.self)
            // Null (-1) becomes 0 and anything below it a huge number: one maximum checks all.
            guard Int(refs.withUnsafeBufferPointer({ highest($0) { UInt32(bitPattern: $0 &+ 1) } })) <= n else {
                return damaged(s, "a reference is past the \(n) rows of \(target)")
            }
            return .ref(refs)
        case .list(let s):
            var r = VarintReader(data: UnsafeRawBufferPointer(rebasing: file.bytes[s.range]))
            guard let lists = SchemaCoding.decodeList(&r, rows: rows), r.pos == r.data.count else {
                return damaged(s, "the list values do not read back")
            }
            return .list(lists)
        }
    }

    /// A collection's indexes where they lie in the mapped file: nothing is read until a
    /// query uses one, and then only what it reads (checked as it is read).
    static func indexes(of c: CompiledSchema.Collection, _ context: Context) -> CollectionIndexes? {
        c.indexes.isEmpty ? nil : CollectionIndexes(c, file: context.file, log: context.log)
    }

    /// The largest of `key(x)` over the elements: a loop the compiler turns into vector code.
    @inline(__always)
    static func highest<T, K: FixedWidthInteger & UnsignedInteger>(_ xs: UnsafeBufferPointer<T>, _ key: (T) -> K) -> K {
        var m: K = 0
        for x in xs { m = max(m, key(x)) }
        return m
    }

    /// Every section's checksum, recomputed (`kbq build --verify FILE`): the problems found,
    /// at most ``KBLoadError/maxProblems``; none when every byte is as it was written.
    static func verify(_ schema: CompiledSchema, file: MappedFile) -> [KBProblem] {
        var problems: [KBProblem] = []
        for c in schema.collections {
            for (field, layout) in zip(c.fields, c.columns) {
                var sections: [SectionRef] = []
                switch layout {
                case .string(_, let b, let o, let t, let ids): sections = [b, o, t] + (ids.map { [$0] } ?? [])
                case .number(let s), .date(let s), .bool(let s), .hedge(let s), .ref(let s), .list(let s): sections = [s]
                }
                for s in sections where !file.holds(s) && problems.count < KBLoadError.maxProblems {
                    problems.append(KBProblem(.damaged, path: "\(c.name).\(field.name) (bytes \(s.offset)..<\(s.offset + s.length))",
                                              message: "checksum mismatch: the bytes differ from those written"))
                }
            }
            for index in c.indexes {
                for s in index.sections where !file.holds(s) && problems.count < KBLoadError.maxProblems {
                    problems.append(KBProblem(.damaged, path: "\(c.name).\(c.fields[index.field].name) index (bytes \(s.offset)..<\(s.offset + s.length))",
                                              message: "checksum mismatch: the bytes differ from those written"))
                }
            }
        }
        return problems
    }
}

/// Reads the schema section; on a problem, says what in `problem` and returns nil.
private struct SchemaReader {
    var r: VarintReader
    /// Sections lie between the header and the schema.
    let sectionsEnd: Int
    var problem = "it does not read back"

    mutating func fail<T>(_ message: String) -> T? {
        problem = message
        return nil
    }

    /// The name, title, hedges and table of contents; the records must cover the rest of
    /// the schema exactly.
    mutating func contents(file: MappedFile, schema: Range<Int>, path: String) -> CompiledContents? {
        guard let (name, title, hedges) = SchemaCoding.decodeNameAndHedges(&r) else {
            return fail("the KB's name and hedge scale do not read back")
        }
        guard let nCollections = r.count() else { return fail("the number of collections does not read back") }
        var names: [String] = [], rows: [Int] = [], lengths: [Int] = []
        names.reserveCapacity(nCollections)
        rows.reserveCapacity(nCollections)
        lengths.reserveCapacity(nCollections)
        var rowsByName = [String: Int](minimumCapacity: nCollections)
        for _ in 0..<nCollections {
            guard let cname = r.string(), let n = r.u64(), n <= UInt64(Int32.max), let length = r.count() else {
                return fail("the table of contents does not read back")
            }
            guard rowsByName.updateValue(Int(n), forKey: cname) == nil else { return fail("two collections are called '\(cname)'") }
            names.append(cname)
            rows.append(Int(n))
            lengths.append(length)
        }
        var starts = [r.pos]
        starts.reserveCapacity(nCollections + 1)
        for length in lengths {
            guard let last = starts.last, length <= r.data.count - last else { return fail("a collection's record runs past the schema") }
            starts.append(last + length)
        }
        guard starts.last == r.data.count else { return fail("bytes after the last collection") }
        return CompiledContents(name: name, title: title, hedges: hedges, names: names, rows: rows, starts: starts,
                                rowsByName: rowsByName, file: file, schema: schema, path: path)
    }

    /// A collection's record (all of the reader's bytes): its key, measure, fields with their
    /// columns, and indexes.
    mutating func collection(name: String, rows: Int, rowsByName: [String: Int]) -> CompiledSchema.Collection? {
        guard let key = r.optional(), let measure = r.optional(), let nFields = r.count() else {
            return fail("\(name): the record's head does not read back")
        }
        var fields: [Field] = []
        var columns: [CompiledSchema.ColumnLayout] = []
        fields.reserveCapacity(nFields)
        columns.reserveCapacity(nFields)
        for _ in 0..<nFields {
            guard let fname = r.string(), let type = SchemaCoding.decodeType(&r, depth: 0), let q = r.optional(), let u = r.optional() else {
                return fail("a field of \(name) does not read back")
            }
            if case .ref(let target) = type, rowsByName[target] == nil {
                return fail("\(name).\(fname) refers to '\(target)', which is no collection of the file")
            }
            guard let column = column(type, rows: rows, place: "\(name).\(fname)") else { return nil }
            fields.append(Field(name: fname, type: type, qualifierField: q, upperField: u))
            columns.append(column)
        }
        guard let nIndexes = r.count() else { return fail("\(name): its indexes do not read back") }
        var indexes: [CompiledSchema.IndexLayout] = []
        indexes.reserveCapacity(nIndexes)
        for _ in 0..<nIndexes {
            guard let tag = r.u8(), let kind = CompiledFormat.IndexKind(rawValue: tag), let f = r.u64(), f < UInt64(fields.count) else {
                return fail("\(name): an index of an unknown kind or field")
            }
            let field = Int(f)
            // Built only for a message: most opens have none to give.
            func place() -> String { "\(name).\(fields[field].name) index" }
            // Each row at most once: an index is never longer than the collection.
            switch (kind, columns[field]) {
            case (.postings, .string(_, _, let offsets, _, _?)):
                guard let starts = section(4, offsets.length / 4, place: place(), rows: rows),
                      let list = section(4, nil, place: place(), rows: rows), list.length <= 4 * rows else {
                    return fail(problem.hasPrefix(place()) ? problem : "\(place()): a section longer than the rows")
                }
                indexes.append(.postings(field: field, starts: starts, rows: list))
            case (.dateOrder, .date):
                guard let list = section(12, nil, place: place(), rows: rows), list.length <= 12 * rows else {
                    return fail(problem.hasPrefix(place()) ? problem : "\(place()): a section longer than the rows")
                }
                indexes.append(.dateOrder(field: field, rows: list))
            default:
                return fail("\(place()): an index of kind \(kind) for a column it does not fit")
            }
        }
        guard r.pos == r.data.count else { return fail("\(name): bytes after the record's last index") }
        return CompiledSchema.Collection(name: name, rows: rows, key: key, measure: measure, fields: fields, columns: columns,
                                         indexes: indexes)
    }

    /// The next section's place, if it lies inside the file and holds `elements` of `size`
    /// bytes (`elements` nil: any whole number of them). `place` is built only for a message.
    mutating func section(_ size: Int, _ elements: Int?, place: @autoclosure () -> String, rows: Int) -> SectionRef? {
        guard let offset = r.u64(), let length = r.u64(), let sum = r.u64() else { return fail("\(place()): a section's place does not read back") }
        guard offset >= UInt64(CompiledFormat.headerSize), offset % UInt64(CompiledFormat.alignment) == 0,
              offset <= UInt64(sectionsEnd), length <= UInt64(sectionsEnd) - offset else {
            return fail("\(place()): a section (\(offset), \(length) bytes) lies outside the file's sections")
        }
        guard length % UInt64(size) == 0, elements.map({ UInt64($0) * UInt64(size) == length }) ?? true else {
            return fail("\(place()): a section of \(length) bytes, where \(rows) rows call for \(elements.map { String($0 * size) } ?? "a multiple of \(size)")")
        }
        return SectionRef(offset: Int(offset), length: Int(length), checksum: sum)
    }

    /// The layout of a column of type `type`, each section inside the file with the size its
    /// kind and rows call for. `place` (collection.field) is built only for a message.
    mutating func column(_ type: FieldType, rows: Int, place: @autoclosure () -> String) -> CompiledSchema.ColumnLayout? {
        guard let tag = r.u8(), let kind = CompiledFormat.Kind(rawValue: tag) else { return fail("\(place()): an unknown column kind") }
        let expected: CompiledFormat.Kind
        switch type {
        case .string: expected = .string
        case .number, .percent, .null: expected = .number
        case .date: expected = .date
        case .bool: expected = .bool
        case .hedge: expected = .hedge
        case .ref: expected = .ref
        case .list: expected = .list
        }
        guard kind == expected else { return fail("\(place()): a column of kind \(kind) for a field of type \(type)") }
        func section(_ size: Int, _ elements: Int?) -> SectionRef? { self.section(size, elements, place: place(), rows: rows) }
        switch kind {
        case .string:
            guard let mode = r.u8(), mode <= 2 else { return fail("\(place()): an unknown string pool mode") }
            guard let bytes = section(1, nil), let offsets = section(4, nil), offsets.length >= 4, let table = section(4, nil),
                  let identity = r.u8(), identity <= 1 else { return fail(problem.hasPrefix(place()) ? problem : "\(place()): a string pool does not read back") }
            var ids: SectionRef?
            if identity == 0 {
                guard let s = section(4, rows) else { return nil }
                ids = s
            }
            return .string(mode: mode, bytes: bytes, offsets: offsets, table: table, ids: ids)
        case .number: return section(8, rows).map { .number($0) }
        case .date: return section(CompiledFormat.dateSize, rows).map { .date($0) }
        case .bool: return section(1, rows).map { .bool($0) }
        case .hedge: return section(1, rows).map { .hedge($0) }
        case .ref: return section(4, rows).map { .ref($0) }
        case .list: return section(1, nil).map { .list($0) }
        }
    }
}
