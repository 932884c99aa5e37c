import Synchronization

// The article KB's collections, and their columns, are decoded from the compiled-in
// snapshot the first time a query reaches them (Knowledge/KBSnapshot.swift): `kbq -e QUERY`
// then pays only for what its query reads. These are the places they are kept.

/// An object made on first use, once, safely from any thread. An atomic pointer, not a
/// lock: references are followed and columns read for every cell shown, and after the first
/// time reading the slot is one load.
final class OnceSlot: @unchecked Sendable {
    // @unchecked: the one stored object is Sendable (a collection or a column box), set once
    // by compare-and-exchange and released only in deinit.
    private let value = Atomic<Unmanaged<AnyObject>?>(nil)

    func get(_ make: () -> AnyObject) -> AnyObject {
        while true {
            if let made = value.load(ordering: .acquiring) { return made.takeUnretainedValue() }
            let made = Unmanaged.passRetained(make())
            if value.compareExchange(expected: nil, desired: made, ordering: .acquiringAndReleasing).exchanged {
                return made.takeUnretainedValue()
            }
            // Another thread made it first: keep theirs.
            made.release()
        }
    }

    deinit { value.load(ordering: .acquiring)?.release() }
}

/// A KB's collections, each made when first asked for.
final class LazyCollections: Sendable {
    private let slots: [OnceSlot]
    private let make: @Sendable (Int) -> KBCollection

    init(count: Int, make: @escaping @Sendable (Int) -> KBCollection) {
        slots = (0..<count).map { _ in OnceSlot() }
        self.make = make
    }

    func collection(at i: Int) -> KBCollection {
        unsafeDowncast(slots[i].get { make(i) }, to: KBCollection.self)
    }

    var all: [KBCollection] { slots.indices.map(collection(at:)) }
}

/// A collection's columns, each made when first asked for.
final class LazyColumns: Sendable {
    private let slots: [OnceSlot]
    private let make: @Sendable (Int) -> ColumnData

    private final class Box: Sendable {
        let column: ColumnData
        init(_ column: ColumnData) { self.column = column }
    }

    init(count: Int, make: @escaping @Sendable (Int) -> ColumnData) {
        slots = (0..<count).map { _ in OnceSlot() }
        self.make = make
    }

    func column(_ i: Int) -> ColumnData {
        unsafeDowncast(slots[i].get { Box(make(i)) }, to: Box.self).column
    }
}

/// The columns of a collection, by field index: all there (a loaded KB) or made on first use
/// (the article KB's snapshot).
struct Columns: Sendable {
    private let decoded: [ColumnData]
    private let lazy: LazyColumns?

    init(_ decoded: [ColumnData]) {
        self.decoded = decoded
        lazy = nil
    }

    init(_ lazy: LazyColumns) {
        decoded = []
        self.lazy = lazy
    }

    subscript(i: Int) -> ColumnData {
        if let lazy { return lazy.column(i) }
        return decoded[i]
    }
}
