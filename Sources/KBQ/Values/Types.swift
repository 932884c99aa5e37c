/// The type of a field or of an expression.
public indirect enum FieldType: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Text.
    case string
    /// A number; `qualified` when its value is an interval read from a qualifier field.
    case number(qualified: Bool = false)
    /// A number shown as a percentage (`76.6%`).
    case percent
    /// A date of year, month or day precision, or a span or relative date.
    case date
    /// `true` or `false`.
    case bool
    /// A word of the KB's ordered hedge scale.
    case hedge
    /// A list of values of one type (`nil`: any).
    case list(FieldType?)
    /// A reference to a row of the named collection.
    case ref(String)
    /// The type of `null` alone.
    case null

    /// The name used in KB files and shown by `.schema`.
    public var description: String {
        switch self {
        case .string: return "string"
        case .number(let q): return q ? "quantity" : "number"
        case .percent: return "percent"
        case .date: return "date"
        case .bool: return "bool"
        case .hedge: return "hedge"
        case .list(let t): return t.map { "list<\($0)>" } ?? "list"
        case .ref(let c): return "ref<\(c)>"
        case .null: return "null"
        }
    }

    var isNumeric: Bool {
        switch self {
        case .number, .percent: return true
        default: return false
        }
    }

    /// Whether values of this type are read as text: strings, hedge words, and references
    /// (by the text they are shown by).
    var isText: Bool {
        switch self {
        case .string, .hedge, .ref: return true
        default: return false
        }
    }
}

/// A field of a collection, as declared in its schema.
public struct Field: Sendable, Hashable {
    /// The field's name.
    public let name: String
    /// Its type.
    public let type: FieldType
    /// For an interval quantity: the string field holding the qualifier ("over", "about" …).
    public let qualifierField: String?
    /// For an interval quantity: the number field holding the upper bound of `between`.
    public let upperField: String?
}

/// The hedge scale: the words a KB uses for how firmly a fact is asserted, strongest first.
public struct HedgeScale: Sendable, Hashable {
    /// The words, strongest first.
    public let words: [String]
    /// Other spellings that read as one of the words.
    public let aliases: [String: Int]

    /// The most words a scale may have: a hedge is stored as its rank in one byte (255 is
    /// null), and a KB or a ``KnowledgeBase/Builder`` with a longer scale is refused.
    public static let maxWords = 250

    /// The scale used when a KB declares none.
    public static let standard = HedgeScale(
        words: ["confirmed", "stated", "reportedly", "by some estimates", "likely", "claimed", "unknown"],
        aliases: ["reported": 2, "suggested": 4, "suggests": 4, "probably": 4, "claims": 5, "alleged": 5, "allegedly": 5])

    /// Makes a scale; `aliases` maps an alias to the index of its word.
    public init(words: [String], aliases: [String: Int] = [:]) {
        self.words = words
        self.aliases = aliases
    }

    /// The rank of a word or alias (0 is the strongest), compared case-insensitively.
    public func rank(of word: String) -> Int? {
        let w = word.lowercased()
        if let i = words.firstIndex(where: { $0.lowercased() == w }) { return i }
        return aliases.first(where: { $0.key.lowercased() == w })?.value
    }
}
