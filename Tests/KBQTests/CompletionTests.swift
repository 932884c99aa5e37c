import KBQ
import Testing

// Completion through the public API, as the REPL calls it: the text typed so far with the
// cursor at its end (`|` marks another cursor position).

/// The candidates at the `|` in `text`, or at its end.
private func complete(_ text: String, session: Session = Session(kb: .article)) -> (from: Int, words: [String]) {
    let cursor = text.utf8.firstIndex(of: UInt8(ascii: "|")).map { text.utf8.distance(from: text.utf8.startIndex, to: $0) }
    let line = String(text.filter { $0 != "|" })
    let (from, candidates) = Completion.candidates(for: line, cursor: cursor ?? line.utf8.count, session: session)
    return (from, candidates)
}

@Suite("completion") struct CompletionTests {
    @Test func fieldAfterWhere() {
        // `text` is running prose: `t` completes the short-valued field `topic`.
        let c = complete("estimates where t")
        #expect(c.words == ["topic"])
        #expect(c.from == "estimates where ".utf8.count)
        #expect(complete("estimates where to").words == ["topic"])
        #expect(complete("estimates where te").words == ["text"])
    }

    @Test func stringValueInAnOpenQuote() {
        let c = complete(#"estimates where topic = "c"#)
        #expect(c.words == [#""containers""#])
        #expect(c.from == #"estimates where topic = "#.utf8.count)
        // Case does not matter inside the string, and single quotes stay single.
        #expect(complete("estimates where topic = 'C").words == ["'containers'"])
    }

    @Test func valuesAfterAnOperatorAndInALIst() {
        let values = complete("estimates where topic = ").words
        #expect(values.contains(#""containers""#))
        #expect(values.contains(#""artillery shells""#))
        let inList = complete(#"estimates where topic in ["containers", "#).words
        #expect(inList.contains(#""troops""#))
        #expect(!inList.contains(#""containers""#), "values already in the list are not offered again")
        #expect(complete("estimates where topic in [").words.contains(#""containers""#))
    }

    @Test func statementStart() {
        let all = complete("").words
        for w in ["estimates", "sources", "entities", "let", "describe", "search", "conflicts", "explain"] {
            #expect(all.contains(w), "\(w)")
        }
        #expect(complete("est").words == ["estimates"])
        #expect(complete("sources; ev").words == ["events"])
        #expect(complete("explain est").words == ["estimates"])
        #expect(complete("let x = cl").words == ["claims"])
    }

    @Test func clauseKeywordsAfterACollection() {
        let c = complete("estimates ").words
        for w in ["where", "select", "sort by", "limit", "group by", "aggregate", "compare", "cite", "timeline", "chart"] {
            #expect(c.contains(w), "\(w)")
        }
        #expect(complete("estimates sel").words == ["select"])
        #expect(complete("estimates so").words == ["sort by"])
        #expect(complete("estimates sort ").words == ["by"])
        #expect(complete("estimates cite ").words.contains("where"))
        #expect(complete("estimates limit 3 off").words == ["offset"])
        #expect(complete("claims select conc").words == ["concat("])
        #expect(complete("claims select upper(tr").words == ["trim("])
        #expect(complete("claims select len(to").words == ["topic"])
        #expect(!complete("claims select ").words.contains("count()"))
        #expect(complete("estimates limit 3 offset 2 ").words.contains("where"))
        #expect(!complete("estimates limit 3 offset 2 ").words.contains("offset"))
    }

    @Test func pathsThroughReferences() {
        let fields = complete("estimates where source.").words
        #expect(fields.contains("name"))
        #expect(fields.contains("kind"))
        #expect(complete("estimates select source.entity.ki").words == ["kind"])
        #expect(complete(#"estimates where source.name = "U.S. i"#).words == [#""U.S. intelligence""#])
    }

    @Test func fieldsOfEachClause() {
        #expect(complete("estimates select topic, val").words.contains("value"))
        #expect(complete("estimates sort by val").words.contains("value"))
        #expect(complete("estimates sort by value ").words.contains("desc"))
        #expect(complete("estimates group by to").words == ["topic"])
        #expect(complete("estimates group by topic ").words.contains("aggregate"))
        #expect(complete("estimates compare so").words == ["source"])
        #expect(complete("estimates compare source ").words.contains("on"))
        #expect(complete("estimates compare source on ").words.contains("value"))
        #expect(!complete("estimates compare source on ").words.contains("topic"), "only numeric measures")
        #expect(complete("estimates aggregate ").words.contains("count()"))
        #expect(complete("estimates aggregate max(va").words.contains("value"))
    }

    @Test func operatorsAfterAField() {
        let after = complete("estimates where topic ").words
        for w in ["and", "or", "in", "contains", "is", "between"] { #expect(after.contains(w), "\(w)") }
        #expect(complete(#"estimates where topic = "containers" "#).words.contains("compare"))
        #expect(complete("estimates where value is ").words == ["not", "null"])
        #expect(complete("estimates where value between 1 ").words == ["and"])
    }

    @Test func hedgeValues() {
        let hedges = complete("claims where hedge >= ").words
        #expect(hedges.contains(#""stated""#))
        #expect(hedges.contains(#""reportedly""#))
    }

    @Test func entityNamesAfterDescribe() {
        #expect(complete(#"describe "Pyo"#).words == [#""Pyongyang""#])
        let names = complete("describe ").words
        #expect(names.contains(#""North Korea""#))
        #expect(names.contains(#""DPRK""#))
    }

    @Test func letNamesAndTheirColumns() {
        var session = Session(kb: .article)
        let diagnostics = session.run(SourceText(#"let shipments = estimates where topic in ["containers", "artillery shells"]"#)) { _ in }
        #expect(diagnostics.isEmpty)
        #expect(complete("ship", session: session).words == ["shipments"])
        #expect(complete("shipments where to", session: session).words == ["topic"])
        #expect(complete(#"shipments where topic = "a"#, session: session).words == [#""artillery shells""#])
    }

    @Test func continuationLines() {
        // The entry so far spans lines: the statement and its scope carry over.
        #expect(complete("estimates\nwhere to").words == ["topic"])
        #expect(complete("estimates where topic =\n\"c").words == [#""containers""#])
        #expect(complete("sources\nev").words == ["events"])
    }

    @Test func cursorInsideTheLine() {
        let c = complete("estimates where to| = 1")
        #expect(c.words == ["topic"])
        #expect(c.from == "estimates where ".utf8.count)
    }

    @Test func nothingToOffer() {
        #expect(complete("estimates limit ").words.isEmpty)
        #expect(complete("estimates limit 3 offset ").words.isEmpty)
        #expect(complete("search \"Kur").words.isEmpty)
        #expect(complete("nosuch where x").words.isEmpty)
        #expect(complete("estimates where zzz").words.isEmpty)
        // Odd input never traps.
        for text in ["\"", "`", "estimates where (((", "]]]", "estimates where topic = \"\\", "é", "estimates where topic in [1,"] {
            _ = complete(text)
        }
    }
}
