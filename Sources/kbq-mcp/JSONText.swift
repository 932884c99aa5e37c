import KBQ

/// JSON written with its keys in the order given: an answer's row objects list their fields in
/// the result's column order, as `kbq --format json` does, so a model reads them as the table.
/// (Foundation's encoders and the SDK's `Value` keep objects as dictionaries, in no order.)
indirect enum JSONText {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONText])
    case object([(String, JSONText)])
    /// JSON that is already written (a kbq value as its `Codable` form gives it).
    case raw(String)

    /// A kbq value as kbq's own JSON output writes it: numbers as numbers, a quantity with
    /// its bounds and qualifier, a date or hedge or reference as its text.
    static func value(_ v: KBQ.Value) -> JSONText { .raw(v.jsonText) }

    static func strings(_ items: [String]) -> JSONText { .array(items.map(JSONText.string)) }

    /// The text, compact (one line).
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .string(let s): out += s.jsonQuoted
        case .int(let n): out += String(n)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .raw(let r): out += r
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out += "," }
                out += key.jsonQuoted
                out += ":"
                item.write(to: &out)
            }
            out += "}"
        }
    }
}
