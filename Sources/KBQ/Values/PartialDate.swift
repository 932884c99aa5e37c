/// A date as the article gives it: a year, a month or a day; a span ("since 2022"); or a
/// date relative to another ("days after October 13"). It stands for the whole period it
/// names: `lo...hi` in days since 1970-01-01.
public struct PartialDate: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// How precisely a date is known.
    public enum Precision: UInt8, Sendable, Codable {
        /// `2024`.
        case year
        /// `2024-06`.
        case month
        /// `2024-06-19`.
        case day
    }
    /// How the date was stated.
    public enum Form: UInt8, Sendable, Codable {
        /// One year, month or day.
        case point
        /// From one date to another, or open-ended ("since 2022").
        case span
        /// Some units after an anchor day ("days after October 13").
        case after
        /// Some units before an anchor day.
        case before
    }
    /// The unit of a relative date ("days after").
    public enum Unit: UInt8, Sendable, Codable {
        /// "days after".
        case days
        /// "weeks after".
        case weeks
        /// "months after".
        case months
        /// "years after".
        case years
    }

    /// First day of the period (days since 1970-01-01).
    public var lo: Int32
    /// Last day of the period; `Int32.max` when a span is still open.
    public var hi: Int32
    /// Precision of the start (or of the anchor for relative dates).
    public var precision: Precision
    /// Precision of the end of a span.
    public var hiPrecision: Precision
    /// How the date was stated.
    public var form: Form
    /// For relative dates, the unit ("days").
    public var unit: Unit
    /// For relative dates, the anchor day; for spans, unused.
    public var anchor: Int32

    /// A year, month or day.
    public init(year: Int, month: Int? = nil, day: Int? = nil) {
        let m = month ?? 1, d = day ?? 1
        lo = Int32(clamping: daysFromCivil(year, m, d))
        if let day { _ = day; hi = lo; precision = .day }
        else if let month { hi = Int32(clamping: daysFromCivil(year, month, daysIn(year, month))); precision = .month }
        else { hi = Int32(clamping: daysFromCivil(year, 12, 31)); precision = .year }
        hiPrecision = precision
        form = .point
        unit = .days
        anchor = lo
    }

    /// A span from one date to another (or open-ended).
    public init(from start: PartialDate, to end: PartialDate?) {
        self = start
        form = .span
        if let end { hi = end.hi; hiPrecision = end.precision } else { hi = Int32.max; hiPrecision = start.precision }
    }

    /// A date a few units after or before an anchor day.
    public init(relativeTo anchorDate: PartialDate, after: Bool, by unit: Unit) {
        self = anchorDate
        self.unit = unit
        form = after ? .after : .before
        anchor = anchorDate.lo
        // How far "days", "weeks" … after reaches, so that comparisons answer maybe, not no.
        let reach: Int32 = switch unit {
        case .days: 14
        case .weeks: 60
        case .months: 365
        case .years: 3660
        }
        if after { lo = anchorDate.hi &+ 1; hi = anchorDate.hi &+ reach } else { hi = anchorDate.lo &- 1; lo = anchorDate.lo &- reach }
    }

    /// Stated from another date ("days after 2024-10-13") rather than on the calendar.
    public var isRelative: Bool { form == .after || form == .before }

    /// The first day the date may be, as far as the text says. A relative date is only
    /// known to fall after (or before) its anchor: how far it reaches the other way is not
    /// given, so comparisons that depend on it answer maybe.
    var knownLo: Int32 { form == .before ? Int32.min + 1 : lo }
    /// The last day the date may be (see ``knownLo``); `Int32.max` when open.
    var knownHi: Int32 { form == .after ? Int32.max : hi }

    /// Parses `2024`, `2024-06` or `2024-06-19`.
    public static func parse(_ text: some StringProtocol) -> PartialDate? {
        // Dates are at most ten bytes, so this copy is a small string with no allocation.
        var s = String(text)
        return s.withUTF8 { parse(utf8: $0) }
    }

    /// Reads `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (ASCII digits) straight from UTF-8 bytes: a
    /// loaded CSV or KB file reads a date per row, and splitting Characters cost more than
    /// the rest of reading the row.
    static func parse(utf8 s: UnsafeBufferPointer<UInt8>) -> PartialDate? {
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard isDigit(s[i]) else { return nil }; v = v * 10 + Int(s[i] - 0x30) }
            return v
        }
        switch s.count {
        case 4:
            guard let y = num(0..<4), y >= 1 else { return nil }
            return PartialDate(year: y)
        case 7:
            guard s[4] == UInt8(ascii: "-"), let y = num(0..<4), let m = num(5..<7), y >= 1, (1...12).contains(m) else { return nil }
            return PartialDate(year: y, month: m)
        case 10:
            guard s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"), let y = num(0..<4), let m = num(5..<7), let d = num(8..<10),
                  y >= 1, (1...12).contains(m), d >= 1, d <= daysIn(y, m) else { return nil }
            return PartialDate(year: y, month: m, day: d)
        default:
            return nil
        }
    }

    /// Orders by start, then by end.
    public static func < (a: PartialDate, b: PartialDate) -> Bool {
        (a.lo, a.hi) < (b.lo, b.hi)
    }

    /// The date as the article would say it: `2024-06`, `since 2022`, `days after 2024-10-13`.
    public var description: String {
        switch form {
        case .point: return PartialDate.format(lo, precision)
        case .span:
            if hi == Int32.max { return "since " + PartialDate.format(lo, precision) }
            return PartialDate.format(lo, precision) + " to " + PartialDate.format(hi, hiPrecision, end: true)
        case .after, .before:
            let u = ["days", "weeks", "months", "years"][Int(unit.rawValue)]
            return "\(u) \(form == .after ? "after" : "before") " + PartialDate.format(anchor, .day)
        }
    }

    /// The year the period starts in.
    public var year: Int { civilFromDays(Int(lo)).0 }

    static func format(_ days: Int32, _ p: Precision, end: Bool = false) -> String {
        let (y, m, d) = civilFromDays(Int(days))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        // Four digits, as dates are read; a year before 1 (a relative date reaching back
        // past 0001) as ISO 8601 writes it, with its sign: -0010, never "0-10".
        let digits = String(y.magnitude)
        let year = (y < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        switch p {
        case .year: return year
        case .month: return "\(year)-\(two(m))"
        case .day: return "\(year)-\(two(m))-\(two(d))"
        }
    }
}

func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
func daysIn(_ y: Int, _ m: Int) -> Int {
    switch m {
    case 2: return isLeap(y) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

// Howard Hinnant's civil-calendar algorithms: exact for the proleptic Gregorian calendar.
func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}

func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
    let z = z0 + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? y + 1 : y, m, d)
}

// Compiled KB files copy date columns whole (CompiledFormat.datesAreRecords).
extension PartialDate: BitwiseCopyable {}
extension PartialDate.Precision: BitwiseCopyable {}
extension PartialDate.Form: BitwiseCopyable {}
extension PartialDate.Unit: BitwiseCopyable {}
