/// A typed value in a query result or a KB row.
public enum Value: Sendable, Hashable {
    /// No value. Comparisons with it are neither true nor false.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A condition that may hold and may not: an interval straddles its bound (`value > 4e6`
    /// for "over 3,000,000"). Shown as `maybe`; in conditions it is *maybe* again.
    case maybe
    /// A plain number.
    case number(Double)
    /// A percentage: `.percent(76.6)` is 76.6%.
    case percent(Double)
    /// A number with a qualifier ("over 3,000,000"), an interval.
    case quantity(Quantity)
    /// Text.
    case string(String)
    /// A (partial) date.
    case date(PartialDate)
    /// A hedge word with its rank on the KB's scale (0 is the strongest).
    case hedge(rank: Int, word: String)
    /// A list of values.
    case list([Value])
    /// A reference to a row of a collection, shown by the row's display text.
    case ref(RowRef)

    /// A quantity that results from arithmetic: a plain number or percent when exact, so that
    /// `13,000 - 0` is the same value as `13000`, else the interval.
    init(exactOrInterval q: Quantity) {
        if !q.isExact { self = .quantity(q) } else if q.isPercent { self = .percent(q.value) } else { self = .number(q.value) }
    }

    /// Whether this is a ``quantity(_:)``: an interval.
    var isQuantity: Bool {
        if case .quantity = self { return true }
        return false
    }

    /// The number a numeric value stands for (a quantity's stated value), if any.
    public var number: Double? {
        switch self {
        case .number(let v), .percent(let v): return v
        case .quantity(let q): return q.value
        default: return nil
        }
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as plain text, the way a table cell shows it.
    public var text: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .maybe: return "maybe"
        case .number(let v): return formatNumber(v)
        case .percent(let v): return formatNumber(v, percent: true)
        case .quantity(let q): return q.description
        case .string(let s): return s
        case .date(let d): return d.description
        case .hedge(_, let w): return w
        case .list(let l): return l.map(\.text).joined(separator: ", ")
        case .ref(let r): return r.display
        }
    }
}

/// A reference to one row of a collection, carrying the text it is shown by.
public struct RowRef: Sendable, Hashable {
    /// The texts, behind one reference: a row reference is copied with every value that
    /// holds it, and one retain is cheaper than three.
    private final class Names: Sendable {
        let collection: String
        let key: String
        let display: String
        init(collection: String, key: String, display: String) {
            self.collection = collection
            self.key = key
            self.display = display
        }
    }
    private let names: Names

    /// The collection's name.
    public var collection: String { names.collection }
    /// The row's key value (or its position when the collection has no key).
    public var key: String { names.key }
    /// The text shown for the row (its `name`, `title` or key).
    public var display: String { names.display }
    /// The row's index in its collection.
    public let row: Int

    init(collection: String, key: String, display: String, row: Int) {
        names = Names(collection: collection, key: key, display: display)
        self.row = row
    }

    /// References are equal when they name the same row the same way.
    public static func == (a: RowRef, b: RowRef) -> Bool {
        a.row == b.row && (a.names === b.names ||
            (a.collection == b.collection && a.key == b.key && a.display == b.display))
    }

    /// Hashes what `==` compares.
    public func hash(into h: inout Hasher) {
        h.combine(row)
        h.combine(collection)
        h.combine(key)
    }
}

extension Value: Codable {
    /// Encodes as plain JSON: numbers as numbers, dates and hedges as strings, references
    /// as the text they are shown by, a qualified quantity as ``Quantity`` encodes itself
    /// (`{"value":…, "qualifier":…, "low":…, "high":…, "lowOpen": true}`), ``maybe`` as the
    /// string `"maybe"`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .maybe: try c.encode("maybe")
        case .number(let v), .percent(let v):
            if v.isFinite { try c.encode(v) } else { try c.encodeNil() }
        case .quantity(let q):
            if q.isExact { try c.encode(q.value) } else { try c.encode(q) }
        case .string(let s): try c.encode(s)
        case .date(let d): try c.encode(d.description)
        case .hedge(_, let w): try c.encode(w)
        case .list(let l): try c.encode(l)
        case .ref(let r): try c.encode(r.display)
        }
    }

    /// Decodes what ``encode(to:)`` writes: JSON scalars, arrays, and qualified quantities.
    /// Dates, hedges and references come back as their text.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let q = try? c.decode(Quantity.self) { self = .quantity(q) }
        else { self = .list(try c.decode([Value].self)) }
    }
}

extension Value {
    /// "a string", "a number" …, for messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool, .maybe: return "a bool"
        case .number, .quantity: return "a number"
        case .percent: return "a percent"
        case .string: return "a string"
        case .date: return "a date"
        case .hedge: return "a hedge"
        case .list: return "a list"
        case .ref: return "a reference"
        }
    }
}
