/// Aligned text tables with the title, notes, summary figures and chart around them.
struct TableRenderer {
    let result: ResultTable
    let width: Int?
    let color: Bool
    var display = DisplayOptions()

    /// Where a word too long for its column may break: after a hyphen, slash, underscore,
    /// dot or colon (south-korean-|intelligence, estimates.|source), so no word is cut.
    static let breaksAfter: Set<UInt8> = [UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":")]

    /// The narrowest a column is squeezed to before the table gives up fitting.
    static let minColumn = 8

    func style(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    func render() -> String {
        var out = ""
        if let t = result.title { out += style(sanitizeForTerminal(t), "1") + "\n" }
        if result.columns.isEmpty {
            for n in result.notes { out += style("note: ", "2") + sanitizeForTerminal(n) + "\n" }
            return out
        }
        let cells = CellGrid(result, unchanged: CellGrid.printableASCII) { sanitizeForTerminal(display.text($0, \.text).replacingTabs).replacingNewlines }
        let header = result.columns.map { sanitizeForTerminal($0.name) }
        var widths = header.map { displayWidth($0.utf8) }
        for r in 0..<cells.rowCount { for i in widths.indices { widths[i] = max(widths[i], cells.width(r, i)) } }
        let natural = widths
        let numeric = cells.numeric
        if display.expanded == .on, cells.rowCount > 0 {
            return out + expanded(header, cells, width: width ?? 100)
        }
        if let width {
            let sep = 2 * (widths.count - 1)
            var total = widths.reduce(0, +) + sep
            // Squeeze the widest text first, keeping each header whole while that is
            // enough; only then squeeze below the headers.
            // Numbers are never broken; text keeps its header and its longest word (up to
            // 20 columns) whole while that is enough.
            let longestWord = result.columns.indices.map { i in
                (0..<cells.rowCount).reduce(0) { m, r in max(m, cells.withCell(r, i) { longestWordWidth($0) }) }
            }
            let soft = header.indices.map { i in
                numeric[i] ? natural[i] : min(natural[i], max(TableRenderer.minColumn, displayWidth(header[i].utf8), min(20, longestWord[i])))
            }
            if soft.reduce(0, +) + sep > width && header.count > 1 && cells.rowCount > 0 && display.expanded == .auto {
                // Even squeezed to whole words the columns do not fit: one record at a time
                // (as psql's expanded display) rather than words broken across lines.
                return out + expanded(header, cells, width: width)
            }
            let hard = header.indices.map { numeric[$0] ? natural[$0] : min(natural[$0], TableRenderer.minColumn) }
            // With no rows there is nothing to show one record at a time, and nothing but the
            // names to read: they stay whole ("value_high", not "value_hi" over "gh").
            for floor in cells.rowCount == 0 ? [soft] : [soft, hard] {
                while total > width {
                    // The column with the most room above its floor (the first of equals),
                    // found without building an array for every column taken (a wide
                    // table is squeezed a column at a time, hundreds of times).
                    var widest: Int?
                    for i in widths.indices where widths[i] > floor[i] {
                        if let w = widest, widths[i] - floor[i] <= widths[w] - floor[w] { continue }
                        widest = i
                    }
                    guard let i = widest else { break }
                    widths[i] -= 1
                    total -= 1
                }
            }
        }
        // Lines are built as UTF-8 bytes: padding, joining and trimming Strings cost most of
        // drawing a small table, and so of `kbq -e QUERY`'s start-up.
        var bytes: [UInt8] = []
        func line(_ cells: CellGrid, _ row: Int, bold: Bool) {
            // Each cell wraps onto as many lines as it needs: evidence is never cut. Most
            // fit, and are copied as they are.
            var wrapped: [[String]?] = []
            var height = 1
            for i in widths.indices where cells.width(row, i) > widths[i] {
                if wrapped.isEmpty { wrapped = [[String]?](repeating: nil, count: widths.count) }
                let w = wrap(cells.string(row, i), widths[i], maxLines: .max)
                wrapped[i] = w
                height = max(height, w.count)
            }
            for l in 0..<height {
                if l > 0 { bytes.append(0x0A) }
                for i in widths.indices {
                    if i > 0 { bytes.append(0x20); bytes.append(0x20) }
                    func put(_ text: UnsafeBufferPointer<UInt8>, _ textWidth: Int) {
                        let pad = max(0, widths[i] - textWidth)
                        if bold && color { bytes += "\u{1B}[1m".utf8 }
                        if numeric[i] { for _ in 0..<pad { bytes.append(0x20) } }
                        bytes.append(contentsOf: text)
                        if !numeric[i] && i != widths.count - 1 { for _ in 0..<pad { bytes.append(0x20) } }
                        if bold && color { bytes += "\u{1B}[0m".utf8 }
                    }
                    if let lines = wrapped.isEmpty ? nil : wrapped[i] {
                        var text = l < lines.count ? lines[l] : ""
                        let textWidth = displayWidth(text.utf8)
                        text.withUTF8 { put($0, textWidth) }
                    } else if l == 0 {
                        cells.withCell(row, i) { put($0, cells.width(row, i)) }
                    } else {
                        put(UnsafeBufferPointer(start: nil, count: 0), 0)
                    }
                }
                // No trailing spaces (the line's; the newline before it stops the loop).
                while bytes.last == 0x20 { bytes.removeLast() }
            }
            bytes.append(0x0A)
        }
        if display.headers {
            line(CellGrid(row: header), 0, bold: true)
            var rule: [UInt8] = []
            for (i, w) in widths.enumerated() {
                if i > 0 { rule.append(0x20); rule.append(0x20) }
                appendRule(w, to: &rule)
            }
            bytes += style(String(decoding: rule, as: UTF8.self), "2").utf8
            bytes.append(0x0A)
        }
        for r in 0..<cells.rowCount { line(cells, r, bold: false) }
        out += String(decoding: bytes, as: UTF8.self)
        out += style("(\(formatNumber(Double(cells.rowCount))) row\(cells.rowCount == 1 ? "" : "s"))", "2") + "\n"
        out += trailer(width: width)
        return out
    }

    /// The summaries, notes and chart under the rows.
    func trailer(width: Int?) -> String {
        var out = ""
        for s in result.summaries {
            // Items stay whole on a line where they can: lines break between them.
            var items = s.items.map { "\($0.label) \(sanitizeForTerminal($0.value.text.isEmpty ? "–" : $0.value.text))" }
            if let t = s.title, !items.isEmpty { items[0] = sanitizeForTerminal(t) + ": " + items[0] }
            out += "\n" + packed(items, separator: " · ", width: width) + "\n"
            if let v = s.verdict { out += style(hanging(sanitizeForTerminal(v), width: width, indent: 2), v.hasPrefix("conflict") ? "33" : "2") + "\n" }
        }
        for n in result.notes {
            out += style("note: ", "2") + String(hanging("note: " + sanitizeForTerminal(n), width: width, indent: 6).dropFirst(6)) + "\n"
        }
        if let chart = result.chart { out += "\n" + ChartRenderer(width: width ?? 100, color: color).render(chart) }
        return out
    }

    /// `text` wrapped at spaces to `width` (whole when nil), lines after the first indented
    /// by `indent`, so no word is broken across lines.
    func hanging(_ text: String, width: Int?, indent: Int) -> String {
        guard let width, displayWidth(text.utf8) > width else { return text }
        let first = wrap(text, width, maxLines: .max)
        guard first.count > 1 else { return text }
        // Joined by hand: `joined` on a slice costs a fresh process 0.19 million instructions
        // of associated-type lookup the first time, more than the wrapping.
        var after = ""
        for i in 1..<first.count {
            if i > 1 { after += " " }
            after += first[i]
        }
        let rest = wrap(after, max(TableRenderer.minColumn, width - indent), maxLines: .max)
        let pad = String(repeating: " ", count: indent)
        return ([first[0]] + rest.map { pad + $0 }).joined(separator: "\n")
    }

    /// `items` joined by `separator`, lines broken between items (and inside an item only
    /// when it alone is wider than `width`).
    func packed(_ items: [String], separator: String, width: Int?) -> String {
        guard let width else { return items.joined(separator: separator) }
        var lines: [String] = []
        var line = ""
        for item in items {
            let candidate = line.isEmpty ? item : line + separator + item
            if displayWidth(candidate.utf8) <= width || line.isEmpty {
                line = candidate
            } else {
                lines.append(line)
                line = item
            }
            if displayWidth(line.utf8) > width {
                let parts = wrap(line, width, maxLines: .max)
                lines += parts.dropLast()
                line = parts.last ?? ""
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    /// The rows one after another, each a list of `name  value` lines under a rule that
    /// numbers it; then the summaries, notes and chart as under a table.
    func expanded(_ header: [String], _ cells: CellGrid, width: Int) -> String {
        let nameWidth = min(header.map { displayWidth($0.utf8) }.max() ?? 0, max(8, width / 3))
        let valueWidth = max(TableRenderer.minColumn, width - nameWidth - 2)
        let names = header.map { wrap($0, nameWidth, maxLines: .max) }
        // Built as UTF-8 bytes, as the plain table is: `kbq -e 'estimates …'` draws this
        // layout (13 columns do not fit in 100), and String appends were a seventh of its work.
        var bytes: [UInt8] = []
        func append(_ s: String, bold: Bool) {
            if bold && color { bytes += "\u{1B}[1m".utf8 }
            bytes += s.utf8
            if bold && color { bytes += "\u{1B}[0m".utf8 }
        }
        for n in 0..<cells.rowCount {
            // "─[ row N ]": the dash and the brackets are one column each.
            let number = String(n + 1)
            let ruleWidth = max(3, min(width, nameWidth + 2 + valueWidth) - (9 + number.utf8.count))
            if color { bytes += "\u{1B}[2m".utf8 }
            appendRule(1, to: &bytes)
            bytes += "[ row ".utf8
            bytes += number.utf8
            bytes += " ]".utf8
            appendRule(ruleWidth, to: &bytes)
            if color { bytes += "\u{1B}[0m".utf8 }
            bytes.append(0x0A)
            for (i, nameLines) in names.enumerated() {
                // Most values fit, and are copied as they are; the rest wrap.
                let fits = i >= cells.columnCount || cells.width(n, i) <= valueWidth
                let values = fits ? [] : wrap(cells.string(n, i), valueWidth, maxLines: .max)
                for l in 0..<max(nameLines.count, fits ? 1 : values.count) {
                    let nameText = l < nameLines.count ? nameLines[l] : ""
                    append(nameText, bold: true)
                    let padding = nameWidth - displayWidth(nameText.utf8) + 2
                    if fits {
                        if l == 0 && i < cells.columnCount {
                            cells.withCell(n, i) { value in
                                guard !value.isEmpty else { return }
                                for _ in 0..<padding { bytes.append(0x20) }
                                bytes.append(contentsOf: value)
                            }
                        }
                    } else if l < values.count, !values[l].isEmpty {
                        for _ in 0..<padding { bytes.append(0x20) }
                        bytes += values[l].utf8
                    }
                    bytes.append(0x0A)
                }
            }
        }
        var out = String(decoding: bytes, as: UTF8.self)
        let why = display.expanded == .on ? "" : ": \(header.count) columns do not fit in \(width)"
        out += style(hanging("(\(formatNumber(Double(cells.rowCount))) row\(cells.rowCount == 1 ? "" : "s"), shown one by one\(why))", width: width, indent: 1), "2") + "\n"
        out += trailer(width: width)
        return out
    }

    /// `count` box-drawing dashes (─) as UTF-8, appended a byte at a time: appending the
    /// String's UTF-8 view was the slow part of drawing a rule.
    private func appendRule(_ count: Int, to bytes: inout [UInt8]) {
        for _ in 0..<count { bytes.append(0xE2); bytes.append(0x94); bytes.append(0x80) }
    }

    /// Breaks `s` into lines of at most `w` columns, at spaces where it can; past `maxLines`
    /// the last line ends with an ellipsis.
    func wrap(_ s: String, _ w: Int, maxLines: Int) -> [String] {
        if displayWidth(s.utf8) <= w { return [s] }
        var lines = asciiLines(s, w) ?? wordLines(s, w)
        if lines.count > maxLines {
            lines = Array(lines.prefix(maxLines))
            var last = lines[maxLines - 1]
            while displayWidth(last.utf8) + 1 > w, !last.isEmpty { last.removeLast() }
            lines[maxLines - 1] = last + "…"
        }
        return lines
    }

    /// The width of the longest word of `text` (words are separated by spaces). Printable
    /// ASCII is measured on its bytes: splitting Characters cost more than drawing the table.
    private func longestWordWidth(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            return TableRenderer.words(String(decoding: text, as: UTF8.self)).map { displayWidth($0.utf8) }.max() ?? 0
        }
        var longest = 0, run = 0
        for b in text {
            run = b == 0x20 ? 0 : run + 1
            longest = max(longest, run)
        }
        return longest
    }

    /// `s` cut at every space (empty words kept, so runs of spaces survive a re-join). On the
    /// bytes: the generic `split` costs a fresh process about 0.3 million instructions of
    /// type-metadata lookup the first time it runs, more than wrapping the note itself.
    static func words(_ s: String) -> [String] {
        var s = s
        return s.withUTF8 { text in
            var out: [String] = []
            var start = 0
            for i in 0...text.count where i == text.count || text[i] == 0x20 {
                out.append(String(decoding: UnsafeBufferPointer(rebasing: text[start..<i]), as: UTF8.self))
                start = i + 1
            }
            return out
        }
    }

    /// `s` broken into lines of at most `w` columns, at spaces where it can.
    private func wordLines(_ s: String, _ w: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        var currentWidth = 0
        for word in TableRenderer.words(s) {
            var piece = word
            var pw = displayWidth(piece.utf8)
            if currentWidth > 0 && currentWidth + 1 + pw <= w {
                current += " " + piece
                currentWidth += 1 + pw
                continue
            }
            if currentWidth > 0 { lines.append(current); current = ""; currentWidth = 0 }
            while pw > w {
                // A word longer than the column is split.
                var head = "", hw = 0
                for ch in piece {
                    let cw = displayWidth(String(ch).utf8)
                    if hw + cw > w { break }
                    head.append(ch); hw += cw
                }
                if head.isEmpty { break }
                // After a hyphen or a slash when one is in reach, as for ASCII text.
                if let h = head.lastIndex(where: { $0.isASCII && TableRenderer.breaksAfter.contains($0.asciiValue ?? 0) }), h != head.startIndex {
                    head = String(head[...h])
                }
                lines.append(head)
                piece = String(piece.dropFirst(head.count))
                pw = displayWidth(piece.utf8)
            }
            current = piece
            currentWidth = pw
        }
        if currentWidth > 0 || lines.isEmpty { lines.append(current) }
        return lines
    }

    /// What ``wordLines(_:_:)`` gives, for text of printable ASCII only (nil for other text),
    /// where every byte is a character one column wide: the same steps on bytes, without
    /// splitting Characters, which made wrapping most of drawing a small table.
    private func asciiLines(_ s: String, _ w: Int) -> [String]? {
        var s = s
        return s.withUTF8 { text -> [String]? in
            guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            var lines: [String] = []
            var current: [UInt8] = []
            var start = 0
            while start <= text.count {
                // The next word: up to the next space or the end.
                var end = start
                while end < text.count && text[end] != 0x20 { end += 1 }
                var piece = UnsafeBufferPointer(rebasing: text[start..<end])
                start = end + 1
                if !current.isEmpty && current.count + 1 + piece.count <= w {
                    current.append(0x20)
                    current += piece
                    continue
                }
                if !current.isEmpty { lines.append(String(decoding: current, as: UTF8.self)); current = [] }
                // A word longer than the column is split: after a hyphen or a slash when one
                // (``breaksAfter``) is in reach (south-korean-|intelligence), only else inside it.
                while piece.count > w && w > 0 {
                    var cut = w
                    if let h = piece[..<w].lastIndex(where: { TableRenderer.breaksAfter.contains($0) }), h > 0 { cut = h + 1 }
                    lines.append(String(decoding: UnsafeBufferPointer(rebasing: piece[..<cut]), as: UTF8.self))
                    piece = UnsafeBufferPointer(rebasing: piece[cut...])
                }
                current = Array(piece)
            }
            if !current.isEmpty || lines.isEmpty { lines.append(String(decoding: current, as: UTF8.self)) }
            return lines
        }
    }
}

// On UTF-8 bytes: String's Character-wise contains(_:) and removeLast() cost a third of
// drawing a small table (`kbq -e` start-up).
extension String {
    var replacingTabs: String { utf8.contains(0x09) ? replacingOccurrences("\t", " ") : self }
    var replacingNewlines: String { utf8.contains(UInt8(ascii: "\\")) ? replacingOccurrences("\\n", " ").replacingOccurrences("\\r", "") : self }
    var trailingSpacesTrimmed: String {
        var end = utf8.endIndex
        while end > utf8.startIndex, utf8[utf8.index(before: end)] == UInt8(ascii: " ") { end = utf8.index(before: end) }
        return end == utf8.endIndex ? self : String(decoding: utf8[..<end], as: UTF8.self)
    }
}

/// Small text charts: horizontal bars, and a dated line.
struct ChartRenderer {
    let width: Int
    let color: Bool

    /// Wraps labels by the table's rules (at spaces, a long word after a hyphen).
    private var wrapper: TableRenderer { TableRenderer(result: ResultTable(columns: [], rows: []), width: width, color: false) }

    func render(_ chart: Chart) -> String {
        switch chart {
        case .bars(let bars): return renderBars(bars)
        case .timeline(let marks): return renderTimeline(marks)
        }
    }

    func renderBars(_ bars: [Chart.Bar]) -> String {
        // A bar needs a length: values that are not finite are left out (a result built
        // by a host may hold any Double).
        let bars = bars.filter { $0.value.isFinite }
        guard let maxValue = bars.map({ abs($0.value) }).max(), maxValue > 0 else { return "" }
        let labels = bars.map { sanitizeForTerminal($0.label) }
        let longest = labels.map { displayWidth($0.utf8) }.max() ?? 0
        let textWidth = bars.map { displayWidth(sanitizeForTerminal($0.text).utf8) }.max() ?? 0
        // Labels beside the bars when they fit with a bar of 10; else each label on a line of
        // its own above its bar, so a label is never cut inside a word.
        let beside = longest <= 40 && longest + 2 + 10 + 1 + textWidth <= width
        let labelWidth = beside ? longest : 0
        let indent = beside ? labelWidth + 2 : 2
        let barMax = max(1, min(50, width - indent - textWidth - 2))
        var out = ""
        for (b, label) in zip(bars, labels) {
            let eighths = Int((abs(b.value) / maxValue * Double(barMax) * 8).rounded())
            var bar = String(repeating: "█", count: eighths / 8)
            let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
            bar += partial
            if bar.isEmpty && b.value != 0 { bar = "▏" }
            if beside {
                out += label + String(repeating: " ", count: max(0, labelWidth - displayWidth(label.utf8))) + "  "
            } else {
                out += wrapper.hanging(label, width: width, indent: 2) + "\n  "
            }
            out += (color ? "\u{1B}[36m\(bar)\u{1B}[0m" : bar) + " " + sanitizeForTerminal(b.text) + "\n"
        }
        return out
    }

    func renderTimeline(_ marks: [Chart.Mark]) -> String {
        guard let first = marks.map(\.date.lo).min(), let last = marks.map({ $0.date.hi == Int32.max ? $0.date.lo : $0.date.hi }).max() else { return "" }
        let dateWidth = min(26, marks.map { $0.date.description.count }.max() ?? 10)
        // The track shrinks on a narrow screen (down to 8); a label that does not fit beside
        // it goes on under it, wrapped at spaces, never cut inside a word.
        let track = max(8, min(24, width - dateWidth - 2 - 14))
        let labelColumn = dateWidth + 2 + track + 2
        let room = width - labelColumn
        let span = Double(max(1, last - first))
        var out = ""
        for m in marks {
            var d = m.date.description
            if d.count > dateWidth { d = String(d.prefix(dateWidth - 1)) + "…" }
            let startPos = Int((Double(m.date.lo - first) / span * Double(track - 1)).rounded())
            let endDay = m.date.hi == Int32.max ? last : m.date.hi
            let endPos = max(startPos, Int((Double(endDay - first) / span * Double(track - 1)).rounded()))
            var line = [Character](repeating: "·", count: track)
            for i in startPos...min(track - 1, endPos) { line[i] = "━" }
            line[min(track - 1, startPos)] = "●"
            let lineText = String(line)
            let label = sanitizeForTerminal(m.label)
            var labelLines = room >= 10 ? wrapper.wrap(label, room, maxLines: .max) : []
            let row = d + String(repeating: " ", count: max(0, dateWidth - d.count)) + "  " + (color ? "\u{1B}[36m\(lineText)\u{1B}[0m" : lineText)
                + (labelLines.isEmpty ? "" : "  " + labelLines.removeFirst())
            out += row.trailingSpacesTrimmed + "\n"
            if room >= 10 {
                for l in labelLines { out += String(repeating: " ", count: labelColumn) + l + "\n" }
            } else if !label.isEmpty {
                out += wrapper.wrap(label, max(TableRenderer.minColumn, width - 2), maxLines: .max).map { "  " + $0 + "\n" }.joined()
            }
        }
        // The axis names its two ends, by day when they fall in one month.
        let sameMonth = PartialDate.format(first, .month) == PartialDate.format(last, .month)
        let precision: PartialDate.Precision = sameMonth ? .day : .month
        let left = PartialDate.format(first, precision), right = PartialDate.format(last, precision)
        out += String(repeating: " ", count: dateWidth + 2) + left + String(repeating: " ", count: max(1, track - left.count - right.count)) + right + "\n"
        return out
    }
}
