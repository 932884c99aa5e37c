/// The stored values of one column, read through one pointer: the elements of a Swift array
/// the column was built in, or the bytes of a compiled KB file mapped into memory, read
/// where they lie (docs/KB-FORMAT.md, "Compiled KB files").
///
/// One reference, as an array is: `owner` keeps the elements alive (the array's own
/// storage, or the mapping), so copying a column costs what copying an array does, and
/// reading element `i` costs a bounds check and a load, as from an array. Not generic over
/// where the elements are (no second kind of storage to dispatch on): both are a base
/// address and a count.
struct Stored<Element: BitwiseCopyable>: RandomAccessCollection, @unchecked Sendable {
    // @unchecked: the elements are never written once a Stored is made, and `owner` keeps
    // them where they are for as long as the Stored lives.
    private let owner: AnyObject
    private let base: UnsafePointer<Element>?
    /// The number of elements.
    let count: Int

    /// The elements of `array`, not copied: the array's storage is kept, and never written
    /// again since nothing else holds this array mutably.
    init(_ array: [Element]) {
        // A native Swift array is one reference to its storage object (there is no bridged
        // kind on this platform); keeping that object keeps the elements where they are.
        owner = unsafeBitCast(array, to: AnyObject.self)
        base = array.withUnsafeBufferPointer { $0.baseAddress }
        count = array.count
    }

    /// Elements that lie in memory `owner` keeps (a mapped file), valid as long as it lives.
    init(_ elements: UnsafeBufferPointer<Element>, owner: AnyObject) {
        self.owner = owner
        base = elements.baseAddress
        count = elements.count
    }

    /// No elements.
    init() { self.init([]) }

    /// What keeps the elements where they are: a mapped file can read them another way
    /// (``ByteSource``).
    var keeper: AnyObject { owner }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    @inline(__always)
    subscript(i: Int) -> Element {
        // The bounds check an array makes: the elements are raw memory.
        precondition(i >= 0 && i < count, "index out of range")
        return base.unsafelyUnwrapped[i]
    }

    /// Calls `body` with the elements as a buffer, in place.
    @inline(__always)
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// The elements copied into an array (writing a KB out, or a column that is changed).
    var array: [Element] { withUnsafeBufferPointer { Array($0) } }
}

/// Where stored bytes can also be read from without touching them where they lie (a mapped
/// file, read with pread).
protocol ByteSource: AnyObject, Sendable {
    /// Appends the bytes that lie at `range` to `out`; false (and `out` unchanged) when they
    /// cannot be read that way.
    func copy(_ range: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool
}

extension Stored where Element == PartialDate {
    /// Date `i`, if its precision, form and unit bytes name cases their enums have, else nil.
    /// A date column of a compiled file read a row at a time is checked a value at a time
    /// (reading a whole column checks it whole when first read: `CompiledFile.column`), and
    /// an enum loaded from bytes that name none of its cases is undefined behaviour.
    @inline(__always)
    func checked(_ i: Int) -> PartialDate? {
        precondition(i >= 0 && i < count, "index out of range")
        // A column decoded field by field (dates not laid out as the file's records) is
        // an array whose enums were made from checked bytes.
        guard CompiledFormat.datesAreRecords, let p = base else { return self[i] }
        let w = UInt32(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        return CompiledFormat.dateKindsAreValid(w) ? p[i] : nil
    }
}

extension Stored: Equatable where Element: Equatable {
    static func == (a: Stored, b: Stored) -> Bool {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}
