import Foundation
import Testing
@testable import KBQ

// Documentation as tests: every example a reader can see is run against the article KB and
// compared with the output printed beside it, so the docs cannot drift from the engine.
//
// - `Examples/NN-name.kbq`: the script's stdout must equal `NN-name.out`; its diagnostics
//   must equal `NN-name.err` (no `.err` file: the script must run cleanly).
// - `Grammar/REFERENCE.md` and `README.md`: each ```kbq block followed by an ```output block
//   must print that output (results, then any error); a ```kbq block without one must at
//   least parse and check.
// - `Grammar/kbq.ebnf`: each `(* example: … *)` comment must parse.
//
// Cases are found at run time: adding a file or a block adds a test, nothing to register.
// `KBQ_RECORD=1 swift test …` rewrites the expected files and blocks from what the engine
// prints now; every recorded case still fails, so a run in record mode can never pass CI.

/// Runs `text` the way the `kbq` script runner does on the article KB (or on `kb`) and
/// returns what it would print: `out`, each result as a table 100 columns wide without colour (or in
/// `format`), results separated by a blank line (`let` prints nothing); `err`, each
/// diagnostic as the CLI draws it, with `name` before line:column.
func runScript(_ text: String, name: String, format: OutputFormat = .table, kb: KnowledgeBase = .article) -> (out: String, err: String) {
    var session = Session(kb: kb)
    let source = SourceText(text, name: name)
    var results: [String] = []
    var warnings: [Diagnostic] = []
    let diagnostics = session.run(source) { outcome in
        switch outcome {
        case .result(let table): results.append(table.rendered(as: format, width: 100, color: false))
        case .bound: break
        case .warning(let w): warnings.append(w)
        }
    }
    return (results.joined(separator: "\n"), (warnings + diagnostics).map { source.render($0) }.joined())
}

private let packageRoot = URL(fileURLWithPath: repositoryRoot)

private var isRecording: Bool { ProcessInfo.processInfo.environment["KBQ_RECORD"] == "1" }

private func read(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

private func write(_ text: String, to url: URL) throws {
    try text.write(to: url, atomically: true, encoding: .utf8)
}

/// Where two texts first differ: the 1-based line, and that line of each, for a person to
/// compare at a glance; nil if the texts are equal.
func firstDifference(expected: String, actual: String) -> (line: Int, lines: String)? {
    if expected == actual { return nil }
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var i = 0
    while i < e.count, i < a.count, e[i] == a[i] { i += 1 }
    func show(_ lines: [Substring]) -> String {
        // Bars show where a line starts and ends (trailing spaces); a missing line and an
        // empty one look alike, so say which it is.
        i < lines.count ? "|\(lines[i])|" : "(nothing: the text ends before this line)"
    }
    return (i + 1, """
          expected: \(show(e))
          actual:   \(show(a))
        """)
}

// MARK: - Examples/

/// One script of `Examples/`.
struct ExampleScript: Sendable, CustomTestStringConvertible {
    let name: String  // "01-containers"
    var testDescription: String { "Examples/\(name).kbq" }

    var script: URL { packageRoot.appendingPathComponent("Examples/\(name).kbq") }
    var out: URL { packageRoot.appendingPathComponent("Examples/\(name).out") }
    var err: URL { packageRoot.appendingPathComponent("Examples/\(name).err") }

    static var directory: URL { packageRoot.appendingPathComponent("Examples") }

    static func all() -> [ExampleScript] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".kbq") }.sorted().map { ExampleScript(name: String($0.dropLast(4))) }
    }
}

@Suite struct DocumentationTests {
    @Test(arguments: ExampleScript.all())
    func example(_ example: ExampleScript) throws {
        let text = try #require(read(example.script), "cannot read \(example.testDescription)")
        let (out, err) = runScript(text, name: "Examples/\(example.name).kbq")
        if isRecording {
            let changed = read(example.out) != out || (read(example.err) ?? "") != err
            // Unchanged files are left alone, so recording touches only what moved.
            if read(example.out) != out { try write(out, to: example.out) }
            if err.isEmpty {
                try? FileManager.default.removeItem(at: example.err)
            } else if read(example.err) != err {
                try write(err, to: example.err)
            }
            Issue.record("recorded \(example.name).out\(err.isEmpty ? "" : " and .err")\(changed ? "" : " (unchanged)") because KBQ_RECORD=1; run again without it to compare")
            return
        }
        let expectedOut = try #require(read(example.out), "Examples/\(example.name).out is missing; record it with KBQ_RECORD=1")
        if let diff = firstDifference(expected: expectedOut, actual: out) {
            Issue.record("Examples/\(example.name).out:\(diff.line): differs from what the script prints:\n\(diff.lines)")
        }
        let expectedErr = read(example.err) ?? ""
        if let diff = firstDifference(expected: expectedErr, actual: err) {
            Issue.record(expectedErr.isEmpty
                ? "Examples/\(example.name).kbq reported errors, and it has no .err file:\n\(err)"
                : "Examples/\(example.name).err:\(diff.line): differs from the errors the script reports:\n\(diff.lines)")
        }
    }

    /// Guards the examples test against finding nothing (a moved folder would make it pass
    /// vacuously) and against expected files whose script is gone.
    @Test func examplesAreComplete() throws {
        let scripts = ExampleScript.all()
        #expect(scripts.count >= 18, "Examples/ should hold at least 18 scripts, found \(scripts.count) in \(ExampleScript.directory.path)")
        let names = Set(scripts.map(\.name))
        let files = try FileManager.default.contentsOfDirectory(atPath: ExampleScript.directory.path)
        for f in files where f.hasSuffix(".out") || f.hasSuffix(".err") {
            #expect(names.contains(String(f.dropLast(4))), "Examples/\(f) has no script beside it")
        }
    }

    // MARK: - Markdown

    @Test(arguments: ["Grammar/REFERENCE.md", "README.md"])
    func markdownExamples(_ path: String) throws {
        let url = packageRoot.appendingPathComponent(path)
        // README.md may not exist yet; a document without examples has nothing to check.
        guard let text = read(url) else { return }
        let doc = MarkdownDocument(text)
        var recorded: [(block: MarkdownDocument.Block, text: String)] = []
        for block in doc.examples {
            let (out, err) = runScript(block.query, name: "example.kbq", format: block.format)
            guard let output = block.output else {
                // An example shown without its output must still be a valid query.
                if !err.isEmpty { Issue.record("\(path):\(block.line): the example does not run:\n\(err)") }
                continue
            }
            let actual = out + (out.isEmpty || err.isEmpty ? "" : "\n") + err
            if isRecording {
                recorded.append((output, actual))
            } else if let diff = firstDifference(expected: output.text, actual: actual) {
                Issue.record("\(path):\(output.line + diff.line): the output of the example at line \(block.line) differs:\n\(diff.lines)")
            }
        }
        if isRecording {
            let changed = recorded.filter { $0.block.text != $0.text }.count
            if changed > 0 { try write(doc.replacingOutputs(recorded), to: url) }
            Issue.record("recorded the outputs of \(path) (\(changed) changed) because KBQ_RECORD=1; run again without it to compare")
        }
    }

    // MARK: - Grammar

    @Test func grammarExamplesParse() throws {
        let path = "Grammar/kbq.ebnf"
        let text = try #require(read(packageRoot.appendingPathComponent(path)), "cannot read \(path)")
        let examples = grammarExamples(text)
        #expect(!examples.isEmpty, "\(path) has no (* example: … *) comments")
        for ex in examples {
            let (_, diagnostics) = Parser.parse(ex.text)
            let source = SourceText(ex.text, name: "\(path):\(ex.line) example")
            for d in diagnostics { Issue.record("\(source.render(d))") }
        }
    }
}

/// The statements in a grammar's `(* example: … *)` comments, with the line each starts on.
func grammarExamples(_ text: String) -> [(text: String, line: Int)] {
    var out: [(String, Int)] = []
    var rest = Substring(text)
    while let open = rest.firstRange(of: "(* example:") {
        let line = text[..<open.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        guard let close = rest[open.upperBound...].firstRange(of: "*)") else { break }
        out.append((String(rest[open.upperBound..<close.lowerBound]), line))
        rest = rest[close.upperBound...]
    }
    return out
}

/// A Markdown file read as lines, with its ```kbq examples and the ```output blocks that
/// follow them, and able to rewrite those outputs in place.
struct MarkdownDocument {
    struct Block {
        /// 1-based line of the opening fence.
        let line: Int
        /// Index of the first content line and one past the last.
        let contents: Range<Int>
        let text: String
    }
    struct Example {
        let line: Int
        let query: String
        let output: Block?
        /// The format the output is shown in: ```` ```output json ```` (or csv, markdown);
        /// a plain ```` ```output ```` is a table.
        var format: OutputFormat = .table
    }

    let lines: [String]
    private(set) var examples: [Example] = []

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        examples = findExamples()
    }

    private func fence(_ i: Int) -> String? {
        let l = lines[i].trimmingCharacters(in: .whitespaces)
        return l.hasPrefix("```") ? String(l.dropFirst(3)).trimmingCharacters(in: .whitespaces) : nil
    }

    /// The fenced block whose opening fence is line index `i`, if it has a closing fence.
    private func block(at i: Int) -> Block? {
        var j = i + 1
        while j < lines.count, fence(j) != "" { j += 1 }
        guard j < lines.count else { return nil }
        let body = lines[(i + 1)..<j]
        return Block(line: i + 1, contents: (i + 1)..<j, text: body.isEmpty ? "" : body.joined(separator: "\n") + "\n")
    }

    private func findExamples() -> [Example] {
        var out: [Example] = []
        var i = 0
        while i < lines.count {
            guard let tag = fence(i), let b = block(at: i) else { i += 1; continue }
            i = b.contents.upperBound + 1
            guard tag == "kbq" else { continue }
            // The output block comes next; blank lines between the two are allowed.
            var k = i
            while k < lines.count, lines[k].trimmingCharacters(in: .whitespaces).isEmpty { k += 1 }
            var output: Block?
            var format = OutputFormat.table
            if k < lines.count, let tag = fence(k), tag == "output" || tag.hasPrefix("output "), let o = block(at: k) {
                output = o
                i = o.contents.upperBound + 1
                format = OutputFormat(rawValue: String(tag.dropFirst("output".count)).trimmingCharacters(in: .whitespaces)) ?? .table
            }
            out.append(Example(line: b.line, query: b.text, output: output, format: format))
        }
        return out
    }

    /// The document with each given output block's contents replaced by its new text.
    func replacingOutputs(_ replacements: [(block: Block, text: String)]) -> String {
        var lines = self.lines
        // Last block first, so the line indexes of the earlier ones still hold.
        for (block, text) in replacements.sorted(by: { $0.block.line > $1.block.line }) {
            var new = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if new.last == "" { new.removeLast() }
            lines.replaceSubrange(block.contents, with: new)
        }
        return lines.joined(separator: "\n")
    }
}
