/// The cells of a result as an output format shows them, as UTF-8 in one buffer, with each
/// cell's width in columns. Text the result keeps by column (``ColumnarRows``) is copied
/// from where the KB holds it when the format shows it unchanged, so that drawing thousands
/// of rows makes no String, and no value, per cell; other cells are made as `text` says.
struct CellGrid {
    let rowCount: Int
    let columnCount: Int
    private var bytes: [UInt8] = []
    /// Where each cell ends in ``bytes``, row by row.
    private var ends: [Int] = []
    private var widths: [Int] = []
    /// Per column: every value a number or null, and at least one a number (a table
    /// right-aligns such a column).
    private(set) var numeric: [Bool] = []

    /// `unchanged` says of a stored text's bytes whether the format shows them as they are
    /// (then each byte is one column wide), between two `enclosedIn` bytes if given (JSON's
    /// quotes); `text` makes every other cell. Without `measuring` (a format that aligns
    /// nothing), cells made by `text` are not measured and read as 0 columns wide.
    init(_ result: ResultTable, unchanged: (UnsafeBufferPointer<UInt8>) -> Bool, enclosedIn quote: UInt8? = nil, measuring: Bool = true,
         text: (Value) -> String) {
        rowCount = result.rowCount
        columnCount = result.columns.count
        var bytes: [UInt8] = [], ends: [Int] = [], widths: [Int] = []
        ends.reserveCapacity(rowCount * columnCount)
        widths.reserveCapacity(rowCount * columnCount)
        var numbers = [Bool](repeating: false, count: columnCount), others = numbers
        let columnar = result.columnar
        for r in 0..<rowCount {
            for c in 0..<columnCount {
                if let columnar, columnar.holdsText(r, c) {
                    let copied = columnar.withText(r, c) { b -> Bool in
                        guard unchanged(b) else { return false }
                        if let quote { bytes.append(quote) }
                        bytes.append(contentsOf: b)
                        if let quote { bytes.append(quote) }
                        widths.append(b.count + (quote == nil ? 0 : 2))
                        return true
                    }
                    if copied {
                        others[c] = true
                        ends.append(bytes.count)
                        continue
                    }
                }
                let v = result.value(row: r, column: c)
                if v.isNumeric { numbers[c] = true } else if !v.isNull { others[c] = true }
                var s = text(v)
                s.withUTF8 { u in
                    bytes.append(contentsOf: u)
                    widths.append(measuring ? displayWidth(u) : 0)
                }
                ends.append(bytes.count)
            }
        }
        self.bytes = bytes
        self.ends = ends
        self.widths = widths
        numeric = (0..<columnCount).map { numbers[$0] && !others[$0] }
    }

    /// One row of the given texts (a table's header).
    init(row texts: [String]) {
        rowCount = 1
        columnCount = texts.count
        for var t in texts {
            t.withUTF8 { u in
                bytes.append(contentsOf: u)
                widths.append(displayWidth(u))
            }
            ends.append(bytes.count)
        }
        numeric = [Bool](repeating: false, count: texts.count)
    }

    /// The width in columns of cell (`row`, `column`).
    @inline(__always)
    func width(_ row: Int, _ column: Int) -> Int { widths[row * columnCount + column] }

    /// Calls `body` with the UTF-8 of cell (`row`, `column`).
    @inline(__always)
    func withCell<R>(_ row: Int, _ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let k = row * columnCount + column
        let start = k == 0 ? 0 : ends[k - 1]
        return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<ends[k]])) }
    }

    /// Cell (`row`, `column`) as a String (for the rare cell that must be wrapped).
    func string(_ row: Int, _ column: Int) -> String {
        withCell(row, column) { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether every byte is printable ASCII other than a backslash: text a table shows
    /// unchanged (no escape, no tab to replace, no `\n` sequence to turn into a space), each
    /// byte one column wide.
    static func printableASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        isPrintableASCII(b, except: 0x5C, 0x5C)
    }
}
