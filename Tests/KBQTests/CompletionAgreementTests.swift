import Foundation
import Testing
@testable import KBQ

// Completion asks the checker what the rows are at the cursor, so the two cannot disagree:
// every field completion offers at any prefix of any Example is one the checker accepts
// there, and names that `let`, `as` and `aggregate` introduce are offered.

@Suite struct CompletionAgreementTests {
    /// The byte where the clause the cursor is in starts (its keyword), in `bytes`; nil
    /// when the cursor is not in a clause.
    func clauseStart(_ bytes: [UInt8]) -> Int? {
        var tokens = Lexer.tokenize(String(decoding: bytes, as: UTF8.self)).tokens
        if case .end = tokens.last?.kind { tokens.removeLast() }
        var start: Int?
        var depth = 0
        for t in Completion.currentStatement(tokens) {
            switch t.kind {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth = max(0, depth - 1)
            case .keyword(let k) where depth == 0 && k.isClauseStart: start = t.range.start
            default: break
            }
        }
        return start
    }

    @Test(arguments: CheckedExample.all())
    func everyFieldOfferedIsAcceptedByTheChecker(_ example: CheckedExample) throws {
        let root = URL(fileURLWithPath: repositoryRoot)
        let text = try String(contentsOf: root.appendingPathComponent("Examples/\(example.name).kbq"), encoding: .utf8)
        let bytes = Array(text.utf8)
        let session = Session()
        for cursor in 0...bytes.count where cursor == bytes.count || bytes[cursor] & 0xC0 != 0x80 {
            let prefix = String(decoding: bytes[..<cursor], as: UTF8.self)
            let (from, items) = Completion.items(for: prefix, cursor: cursor, session: session)
            let fields = items.filter { $0.kind == .field }
            guard !fields.isEmpty, let clause = clauseStart(Array(bytes[..<from])) else { continue }
            // A field after `source.` is offered for that path: keep the path before it.
            var pathStart = from
            while pathStart > 0, bytes[pathStart - 1] == UInt8(ascii: ".") || bytes[pathStart - 1] == UInt8(ascii: "_")
                    || bytes[pathStart - 1] == UInt8(ascii: "`") || (bytes[pathStart - 1] | 0x20) >= 97 && (bytes[pathStart - 1] | 0x20) <= 122
                    || bytes[pathStart - 1] >= 48 && bytes[pathStart - 1] <= 57 { pathStart -= 1 }
            let path = String(decoding: bytes[pathStart..<from], as: UTF8.self)
            let before = String(decoding: bytes[..<clause], as: UTF8.self)
            for f in fields {
                let probe = before + " select " + path + f.text
                let problems = check(source: probe, kb: .article).diagnostics.filter { ($0.range?.start ?? 0) >= clause }
                #expect(problems.isEmpty, "Examples/\(example.name).kbq at byte \(cursor): completion offers '\(path + f.text)', which the checker refuses there: \(problems.map(\.message))")
            }
        }
    }

    func offered(_ line: String, session: Session = Session()) -> [CompletionItem] {
        Completion.items(for: line, cursor: line.utf8.count, session: session).items
    }

    @Test func namesThatClausesIntroduceAreOffered() {
        // The example: after an aggregate named `n`, the sort offers `n`, not the
        // fields the group left behind.
        let sort = offered("estimates group by topic aggregate count() as n sort by ")
        #expect(sort.contains { $0.text == "n" && $0.kind == .field && $0.type == .number() })
        #expect(!sort.contains { $0.text == "hedge" })
        #expect(offered("estimates select topic as t, value where ").contains { $0.text == "t" && $0.kind == .field })
        #expect(offered("estimates group by topic aggregate max(value) sort by ").contains { $0.text == "max_value" })
        #expect(offered("estimates compare source where ").contains { $0.text == "spread" || $0.text == "n" })
        // A let earlier in the same text: its name at a statement start, its columns after it.
        let letText = "let shipments = estimates where unit = \"containers\" select source, value\n"
        let start = offered(letText)
        #expect(start.contains { $0.text == "shipments" && $0.kind == .let })
        let inLet = offered(letText + "shipments where ")
        #expect(Set(inLet.filter { $0.kind == .field }.map(\.text)) == ["source", "value"])
    }

    @Test func itemsAreTyped() {
        let items = offered("estimates select ")
        #expect(items.contains { $0.text == "lower(" && $0.kind == .function && $0.doc.contains("lower(string)") })
        #expect(items.contains { $0.text == "topic" && $0.kind == .field && $0.type == .string })
        let start = offered("")
        #expect(start.contains { $0.text == "estimates" && $0.kind == .collection })
        #expect(start.contains { $0.text == "describe" && $0.kind == .keyword })
        #expect(offered("estimates where topic = ").contains { $0.text == "\"containers\"" && $0.kind == .value })
    }
}
