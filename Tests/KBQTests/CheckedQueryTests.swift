import Foundation
import Testing
@testable import KBQ

// The checked query (Check/CheckedQuery.swift) as data: the printed form of every
// Example's checked script is compared with a golden file in CheckedGolden/ (re-recorded
// with KBQ_RECORD=1, which still fails, as DocumentationTests does), and the layers stay
// apart: Check/ names nothing of Evaluate/.

private let root = URL(fileURLWithPath: repositoryRoot)
private var recording: Bool { ProcessInfo.processInfo.environment["KBQ_RECORD"] == "1" }

/// One script of Examples/, for the golden test of its checked form.
struct CheckedExample: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { "Examples/\(name).kbq" }

    static func all() -> [CheckedExample] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Examples").path)) ?? []
        return files.filter { $0.hasSuffix(".kbq") }.sorted().map { CheckedExample(name: String($0.dropLast(4))) }
    }
}

@Suite struct CheckedQueryTests {
    @Test(arguments: CheckedExample.all())
    func exampleChecksAsRecorded(_ example: CheckedExample) throws {
        let text = try String(contentsOf: root.appendingPathComponent("Examples/\(example.name).kbq"), encoding: .utf8)
        let printed = check(source: text, kb: .article).printed(ranges: true)
        let golden = root.appendingPathComponent("Tests/KBQTests/CheckedGolden/\(example.name).checked")
        if recording {
            try printed.write(to: golden, atomically: true, encoding: .utf8)
            Issue.record("recorded CheckedGolden/\(example.name).checked because KBQ_RECORD=1; run again without it to compare")
            return
        }
        let expected = try #require(try? String(contentsOf: golden, encoding: .utf8), "CheckedGolden/\(example.name).checked is missing; record it with KBQ_RECORD=1")
        if let diff = firstDifference(expected: expected, actual: printed) {
            Issue.record("CheckedGolden/\(example.name).checked:\(diff.line): differs from the checked form:\n\(diff.lines)")
        }
    }

    @Test func everyExampleHasAGoldenFileAndNoOther() throws {
        let examples = Set(CheckedExample.all().map(\.name))
        #expect(examples.count >= 18)
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Tests/KBQTests/CheckedGolden").path)
        for f in files { #expect(examples.contains(String(f.dropLast(".checked".count))), "CheckedGolden/\(f) has no example") }
    }

    @Test func checkingIsAValue() {
        // The same text against the same KB checks to equal data; a prepared query exposes it.
        let text = "estimates where topic = $t and value > 1000 compare source on value"
        let a = check(source: text, kb: .article), b = check(source: text, kb: .article)
        #expect(a == b && a.diagnostics.isEmpty)
        let prepared = try? PreparedQuery(text)
        #expect(prepared?.checked == a)
        #expect(a.parameters.map(\.name) == ["t"] && a.parameters.first?.type == .string)
        // Its type is the run's to give: printed (and so `explain`ed) as `any`, not `null`.
        #expect(a.printed().contains("(= estimates.topic#1:string $t#0:any):bool"))
    }

    @Test func fieldsAndFunctionsAreResolved() throws {
        let script = check(source: #"estimates where lower(source.name) = "u.s. intelligence" select topic, 2 * value as twice"#, kb: .article)
        let query = try #require(script.statements.first?.query)
        guard case .filter(let cond, false) = query.clauses[0].kind,
              case .compare(.eq, let lhs, let rhs) = cond.kind, case .call(.lower, let args) = lhs.kind,
              case .field(let ref) = args[0].kind else {
            Issue.record("unexpected shape: \(query.printed())")
            return
        }
        let estimates = try #require(KnowledgeBase.article.collection("estimates"))
        #expect(ref.collection == "estimates" && ref.name == "source" && ref.column == estimates.fields.firstIndex { $0.name == "source" })
        #expect(ref.path.map(\.collection) == ["sources"] && ref.path.map(\.field) == ["name"])
        #expect(rhs.constant == .string("u.s. intelligence") && rhs.type == .string)
        // Every node carries its range: the call's covers its text.
        let text = #"estimates where lower(source.name) = "u.s. intelligence" select topic, 2 * value as twice"#
        let call = Array(text.utf8)[lhs.range.start..<lhs.range.end]
        #expect(String(decoding: call, as: UTF8.self) == "lower(source.name)")
        #expect(query.output.columns.map(\.name) == ["topic", "twice"])
    }

    @Test func hedgeWordsAndYearsAreConvertedWhereTheyAreCompared() throws {
        let script = check(source: "claims where hedge >= stated\nevents where date >= 2024", kb: .article)
        #expect(script.diagnostics.isEmpty)
        let printed = script.printed()
        #expect(printed.contains("hedge(stated #1)"))
        #expect(printed.contains("(>= events.date#") && printed.contains(" 2024:date)"))
    }

    /// Check/ depends on Syntax and the value model only: no type or function that
    /// Evaluate/ declares is named there, and the runtime of aggregates does not use the
    /// checker's function enum.
    @Test func checkNamesNothingOfEvaluate() throws {
        let evaluate = root.appendingPathComponent("Sources/KBQ/Evaluate")
        let check = root.appendingPathComponent("Sources/KBQ/Check")
        func swiftFiles(_ dir: URL) throws -> [URL] {
            try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).filter { $0.pathExtension == "swift" }
        }
        var declared = Set<String>()
        // Top-level declarations only (no indentation): members are reached through their types.
        let declaration = try Regex(#"(?m)^(?:final )?(?:struct|enum|class|typealias|func|protocol)\s+([A-Za-z_][A-Za-z0-9_]*)"#)
        for f in try swiftFiles(evaluate) {
            let text = try String(contentsOf: f, encoding: .utf8)
            for m in text.matches(of: declaration) { if let name = m.output[1].substring { declared.insert(String(name)) } }
        }
        #expect(declared.isSuperset(of: ["Env", "Rows", "Eval", "Pred", "sortRows", "Lowering", "PlanStep", "QueryPlan", "Truth"]))
        for f in try swiftFiles(check) {
            let text = try String(contentsOf: f, encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            var shared: [String] = []
            for name in declared.sorted() {
                // A type by its whole name; a free function by a call that is not a method,
                // an enum case or a declaration of the same word (`.filter(`, `case describe(`).
                let pattern = name.first?.isUppercase == true
                    ? "\\b\(name)\\b"
                    : "(?<![.\\w])(?<!case )(?<!func )\(name)\\("
                let regex = try NSRegularExpression(pattern: pattern)
                if regex.firstMatch(in: text, range: range) != nil { shared.append(name) }
            }
            #expect(shared.isEmpty, "Check/\(f.lastPathComponent) names Evaluate/'s \(shared)")
        }
        let aggregate = try String(contentsOf: evaluate.appendingPathComponent("Aggregate.swift"), encoding: .utf8)
        #expect(!aggregate.contains("BuiltinFunction") && !aggregate.contains("Function)") && !aggregate.contains(": Function"))
    }

    /// The pipeline as KBQ.swift draws it and README describes it names every folder of the
    /// library and every module of the engine beside it (Sources/KBQPattern), and no folder
    /// that is not there: a stage added or moved must be drawn.
    @Test func thePipelineDescriptionsNameEveryFolder() throws {
        let library = root.appendingPathComponent("Sources/KBQ")
        let folders = try FileManager.default.contentsOfDirectory(atPath: library.path)
            .filter { !$0.hasSuffix(".docc") && !$0.hasSuffix(".swift") && !$0.hasPrefix(".") }
        #expect(folders.count >= 13)
        // The engine's own modules: the library's targets under Sources/ but KBQ itself.
        let modules = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
            .filter { $0.hasPrefix("KBQ") && $0 != "KBQ" }
        #expect(modules.contains("KBQPattern"))
        let diagram = try String(contentsOf: library.appendingPathComponent("KBQ.swift"), encoding: .utf8)
            .split(separator: "\n").prefix { $0.hasPrefix("//") || $0.hasPrefix("import") || $0.isEmpty }.joined(separator: "\n")
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = readme.split(separator: "## ").first { $0.hasPrefix("How it is built") }.map(String.init) ?? ""
        for folder in folders {
            #expect(diagram.contains(folder + "/"), "KBQ.swift's diagram does not name \(folder)/")
            #expect(section.contains(folder + "/"), "README's 'How it is built' does not name \(folder)/")
        }
        for module in modules {
            #expect(diagram.contains("Sources/" + module), "KBQ.swift's diagram does not name Sources/\(module)")
            #expect(section.contains("Sources/" + module), "README's 'How it is built' does not name Sources/\(module)")
        }
        let named = try Regex(#"\b([A-Z][A-Za-z]+)/"#)
        for text in [diagram, section] {
            for m in text.matches(of: named) {
                guard let name = m.output[1].substring.map(String.init), !["Sources"].contains(name) else { continue }
                #expect(folders.contains(name), "\(name)/ is described but Sources/KBQ has no such folder")
            }
        }
    }
}

/// Checking reads the schema and the dictionaries, never the rows: a query checks as fast
/// on many rows as on ten with the same schema (a million rows, measured once: 153 µs against
/// 155 µs on ten in a debug build; 200,000 here keep the suite quick).
@Suite struct CheckingCostTests {
    static func kb(rows: Int) throws -> KnowledgeBase {
        var b = KnowledgeBase.Builder(name: "rows\(rows)")
        b.addCollection("items", fields: [("id", .string), ("grp", .string), ("value", .number()), ("day", .date)], key: "id", measure: "value")
        for i in 0..<rows {
            b.addRow(to: "items", values: [.string("i\(i)"), .string("g\(i % 100)"), .number(Double((i &* 7919) % 100_003)),
                                           .date(PartialDate(year: 2000 + i % 25))])
        }
        return try b.build()
    }

    @Test func checkingTimeDoesNotGrowWithRows() throws {
        let small = try Self.kb(rows: 10), large = try Self.kb(rows: 200_000)
        let text = #"items where grp = "g5" and value > 10 and day between 2001 and 2010 and id matches "i1.*" group by grp aggregate count() as n, max(value) sort by n desc limit 3"#
        let clock = ContinuousClock()
        func fastest(_ kb: KnowledgeBase) -> Duration {
            (0..<7).map { _ in clock.measure { _ = check(source: text, kb: kb) } }.min() ?? .zero
        }
        #expect(check(source: text, kb: large).diagnostics.isEmpty)
        let a = fastest(small), b = fastest(large)
        print("checking on 10 rows: \(a), on 200,000 rows: \(b)")
        // The same work on both: any difference is the machine's noise.
        #expect(b < a * 3 + .milliseconds(2), "checking took \(b) on 200,000 rows and \(a) on ten")
    }
}
