import Synchronization

// A compiled KB's collections (a `.kbqdb` file, or the article KB in kbq's binary), and their
// columns, are made ready the first time a query reaches them (Compiled/CompiledReader.swift):
// `kbq -e QUERY` then pays only for what its query reads. These are the places they are kept.
//
// Reading a made element must cost what reading an array does: references are followed and
// columns read for every cell a query touches, and a prepared query on the article KB runs
// in microseconds. So no lock and no box per element, only an atomic load; and the two kinds
// of element each have their own class, because a generic one copied its elements through
// value witnesses.

/// Per element of a fixed-size array, whether it is made yet: empty, being stored by one
/// thread, or ready. An element is written once, before its state says ready (release), and
/// read only after that state is seen (acquire).
final class OnceStates: @unchecked Sendable {
    // @unchecked: the states are atomics, allocated once and freed in deinit.
    let count: Int
    private let states: UnsafeMutablePointer<Atomic<Int>>
    private static var empty: Int { 0 }
    private static var storing: Int { 1 }
    private static var ready: Int { 2 }

    init(count: Int, ready: Bool = false) {
        self.count = count
        states = .allocate(capacity: count)
        for i in 0..<count { (states + i).initialize(to: Atomic(ready ? Self.ready : Self.empty)) }
    }

    /// Whether element `i` is made; traps when `i` is out of range, as an array does (the
    /// elements are raw memory).
    @inline(__always)
    func isReady(_ i: Int) -> Bool {
        precondition(i >= 0 && i < count, "index out of range")
        return states[i].load(ordering: .acquiring) == Self.ready
    }

    /// Claims element `i` for storing; false when another thread claimed it first.
    func claim(_ i: Int) -> Bool {
        states[i].compareExchange(expected: Self.empty, desired: Self.storing, ordering: .acquiring).exchanged
    }

    func publish(_ i: Int) {
        states[i].store(Self.ready, ordering: .releasing)
    }

    /// Waits for the thread that claimed element `i`: it is a few instructions from
    /// publishing it (making is done before claiming).
    func waitUntilReady(_ i: Int) {
        while states[i].load(ordering: .acquiring) != Self.ready {}
    }

    deinit {
        states.deinitialize(count: count)
        states.deallocate()
    }
}

/// A KB's collections, each made the first time it is read, once, safely from any thread.
/// When two threads race, both make it and the first to claim the slot stores its copy.
final class LazyCollections: @unchecked Sendable {
    // @unchecked: see OnceStates.
    private let states: OnceStates
    private let storage: UnsafeMutablePointer<KBCollection>
    private let make: @Sendable (Int) -> KBCollection

    init(count: Int, make: @escaping @Sendable (Int) -> KBCollection) {
        states = OnceStates(count: count)
        storage = .allocate(capacity: count)
        self.make = make
    }

    @inline(__always)
    subscript(i: Int) -> KBCollection {
        if states.isReady(i) { return storage[i] }
        return store(i)
    }

    @inline(never)
    private func store(_ i: Int) -> KBCollection {
        let made = make(i)
        if states.claim(i) {
            (storage + i).initialize(to: made)
            states.publish(i)
            return made
        }
        states.waitUntilReady(i)
        return storage[i]
    }

    var all: [KBCollection] { (0..<states.count).map { self[$0] } }

    deinit {
        for i in 0..<states.count where states.isReady(i) { (storage + i).deinitialize(count: 1) }
        storage.deallocate()
    }
}

/// The columns of a collection, by field index: decoded when the collection was loaded, or
/// each made the first time it is read (a compiled KB; as ``LazyCollections``).
///
/// Read through an address, not a copy: `switch c.columns[f]` then borrows the column in
/// place as it would from an array, where a returned copy retained and released its arrays
/// on every read (5% of a prepared query's instructions).
final class Columns: @unchecked Sendable {
    // @unchecked: see OnceStates; decoded columns are all ready from the start.
    private let states: OnceStates
    private let storage: UnsafeMutablePointer<ColumnData>
    private let make: @Sendable (Int) -> ColumnData
    /// Decoded from the start (every KB but a compiled one): reads skip the atomic state, so a
    /// scan of a loaded CSV reads its columns as it would read an array.
    private let decoded: Bool
    /// The columns of a compiled file as reading single rows takes them (``subscript(forRows:)``);
    /// nil when they are the columns themselves.
    private let rowReads: Columns?

    /// Columns already decoded.
    init(_ decoded: [ColumnData]) {
        self.decoded = true
        states = OnceStates(count: decoded.count, ready: true)
        storage = .allocate(capacity: decoded.count)
        storage.initialize(from: decoded, count: decoded.count)
        // Never called: every column is ready.
        make = { decoded[$0] }
        rowReads = nil
    }

    /// `count` columns, column `i` made by `make(i)` when first read; with `forRows`, column
    /// `i` as ``subscript(forRows:)`` gives it made by `forRows(i)`.
    init(count: Int, make: @escaping @Sendable (Int) -> ColumnData, forRows: (@Sendable (Int) -> ColumnData)? = nil) {
        decoded = false
        states = OnceStates(count: count)
        storage = .allocate(capacity: count)
        self.make = make
        rowReads = forRows.map { Columns(count: count, make: $0) }
    }

    /// Column `i` for code that reads it a row at a time and checks each value it reads (a
    /// string id against its pool, a reference against its collection, a date's kinds: see
    /// ``KBCollection/value(row:column:kb:)``), or compares values without using them as
    /// indexes (`ids[r] == target`). For a compiled file, this column has not been checked
    /// whole: a query that reads a few rows reads only their pages. Anything that uses a
    /// value as an index without checking it reads the column through the subscript, which
    /// checks the column whole first.
    ///
    /// Borrowed in place, as the subscript is (a copy would retain and release the column's
    /// storage on every row read through it).
    subscript(forRows i: Int) -> ColumnData {
        unsafeAddress {
            if let rowReads { return rowReads.address(i) }
            return address(i)
        }
    }

    subscript(i: Int) -> ColumnData {
        unsafeAddress { address(i) }
    }

    @inline(__always)
    private func address(_ i: Int) -> UnsafePointer<ColumnData> {
        if decoded {
            // The bounds check an array would make: the storage is raw memory.
            precondition(i >= 0 && i < states.count, "index out of range")
            return UnsafePointer(storage + i)
        }
        if states.isReady(i) { return UnsafePointer(storage + i) }
        return UnsafePointer(store(i))
    }

    @inline(never)
    private func store(_ i: Int) -> UnsafeMutablePointer<ColumnData> {
        let made = make(i)
        if states.claim(i) {
            (storage + i).initialize(to: made)
            states.publish(i)
        } else {
            states.waitUntilReady(i)
        }
        return storage + i
    }

    deinit {
        for i in 0..<states.count where states.isReady(i) { (storage + i).deinitialize(count: 1) }
        storage.deallocate()
    }
}
