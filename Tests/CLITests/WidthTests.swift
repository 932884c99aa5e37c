import Foundation
import Testing

// Every Example drawn at 40, 80 and 200 columns: no line is wider than the width, and no word
// is broken across lines (a piece of a word would be a token the wide drawing never shows).

private let allExamples: [String] = {
    let dir = packageRoot.appendingPathComponent("Examples").path
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".kbq") }.sorted()
}()

/// Columns a line takes: one per character, two for East Asian wide ones.
private func columns(_ line: Substring) -> Int {
    line.unicodeScalars.reduce(0) { n, u in
        let v = u.value
        if (0x300...0x36F).contains(v) { return n }
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFF00...0xFF60).contains(v)
        return n + (wide ? 2 : 1)
    }
}

/// The words of `text`: runs of letters and digits.
private func words(_ text: String) -> Set<Substring> {
    Set(text.split { !($0.isLetter || $0.isNumber) })
}

@Suite("output fits the width") struct WidthTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func theExamplesAreFound() { #expect(allExamples.count >= 20) }

    @Test(arguments: allExamples)
    func everyExampleFitsAt40And80And200(name: String) {
        let path = packageRoot.appendingPathComponent("Examples/" + name).path
        let wide = kbq(["-k", path], scratch: scratch, environment: ["COLUMNS": "200"])
        // The words of the wide drawing, numbers, and those of the notes a narrow drawing
        // adds ("2 rows, shown one by one: 6 columns do not fit in 40").
        let known = words(wide.output + wide.error + " row rows shown one by columns do not fit in")
        for width in [40, 80, 200] {
            let run = kbq(["-k", path], scratch: scratch, environment: ["COLUMNS": String(width)])
            // A line that is one word (a long file name) cannot be broken.
            for line in (run.output + run.error).split(separator: "\n") where line.contains(" ") {
                #expect(columns(line) <= width, "\(name) at \(width): \(columns(line)) columns: \(line)")
            }
            let broken = words(run.output + run.error).subtracting(known).filter { !$0.allSatisfy(\.isNumber) }
            #expect(broken.isEmpty, "\(name) at \(width): pieces of words \(broken.sorted())")
        }
    }

    @Test func describeKeepsAHyphenatedNameWhole() {
        for width in [40, 100] {
            let run = kbq(["-e", #"describe "Seoul""#], scratch: scratch, environment: ["COLUMNS": String(width)])
            #expect(!run.output.contains("intelligen\n"), "\(run.output)")
            #expect(run.output.split(separator: "\n").allSatisfy { columns($0) <= width })
        }
    }

    @Test func helpAndErrorsFitAt40() throws {
        let help = kbq(["-e", ".help"], scratch: scratch, environment: ["COLUMNS": "40"])
        #expect(help.output.split(separator: "\n").allSatisfy { columns($0) <= 40 }, "\(help.output)")
        for topic in ["compare", "expressions", "hedges"] {
            let t = kbq(["-e", ".help \(topic)"], scratch: scratch, environment: ["COLUMNS": "40"])
            #expect(t.output.split(separator: "\n").allSatisfy { columns($0) <= 40 }, "\(t.output)")
        }
        // Errors are wrapped on a terminal: the REPL at 40 columns.
        let kbq = try TerminalSession(scratch: scratch, columns: 40)
        try kbq.expect("kbq> ")
        kbq.send("claims where hedge = reported\r")
        let shown = try kbq.expect("did you mean")
        try kbq.expect("kbq> ")
        for line in shown.split(separator: "\n") where !line.contains("kbq> ") && !line.hasPrefix(" 1 |") {
            #expect(columns(line) <= 40, "\(line)")
        }
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }
}
