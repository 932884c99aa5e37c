import Testing
@testable import KBQ
#if canImport(Glibc)
import Glibc
#endif

/// The built-in KB holds the article: every sentence, and the facts the design names.
@Suite struct ArticleKBTests {
    let kb = KnowledgeBase.article

    @Test func loadsWithEveryCollection() {
        #expect(kb.name == "article")
        for name in ["documents", "sentences", "entities", "sources", "events", "estimates", "claims", "relations", "recommendations"] {
            #expect((kb.collection(name)?.count ?? 0) > 0, "collection \(name)")
        }
    }

    /// Joining each paragraph's sentences gives back the article, line for line.
    @Test func holdsEverySentenceOfTheArticle() throws {
        guard let f = fopen(repositoryRoot + "/../shared/article.txt", "r") ?? fopen("/work/shared/article.txt", "r") else {
            Issue.record("article.txt not found beside the repository")
            return
        }
        defer { fclose(f) }
        var lines: [String] = []
        var buf = [CChar](repeating: 0, count: 1 << 16)
        while fgets(&buf, Int32(buf.count), f) != nil {
            var l = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            while l.hasSuffix("\n") || l.hasSuffix("\r") { l.removeLast() }
            lines.append(l)
        }
        let r = query("sentences sort by paragraph, position select paragraph, text")
        var paragraphs: [Int: [String]] = [:]
        for row in r.rows { paragraphs[Int(row[0].number ?? 0), default: []].append(row[1].text) }
        #expect(paragraphs.count == lines.filter { !$0.isEmpty }.count)
        for (i, line) in lines.enumerated() where !line.isEmpty {
            #expect(paragraphs[i + 1]?.joined(separator: " ") == line, "paragraph \(i + 1)")
        }
    }

    @Test func containerEstimatesWithTheirSources() {
        let r = query(#"estimates where topic = "containers" sort by value desc select source.name as source, value, hedge, sentence"#)
        #expect(texts(r, "source") == ["U.S. intelligence", "South Korea"])
        #expect(texts(r, "value") == ["over 16,500", "13,000"])
        #expect(texts(r, "hedge") == ["by some estimates", "stated"])
        #expect(texts(r, "sentence") == ["p4.3", "p15.2"])
    }

    @Test func overThreeMillionShells() {
        let r = query(#"estimates where unit = "shells" select value, hedge, period, text"#)
        #expect(r.rows.count == 1)
        guard case .quantity(let q)? = r.rows.first?[0] else { Issue.record("not a quantity"); return }
        #expect(q.value == 3_000_000 && q.qualifier == "over" && q.hi == .infinity && q.loOpen)
        #expect(texts(r, "hedge") == ["reportedly"])
        #expect(texts(r, "period") == ["since 2022"])
    }

    @Test func pollOf76Point6Percent() {
        let r = query(#"estimates where source.name contains "poll" select value, unit"#)
        #expect(texts(r, "value") == ["76.6%"])
    }

    @Test func treatyOfJune2024AndItsArticle4() {
        let signed = query(#"events where action contains "signed" and date = 2024-06 select date, actor.name, target.name"#)
        #expect(signed.rows.count >= 1)
        #expect(texts(signed, "target_name").contains { $0.contains("Comprehensive Strategic Partnership") })
        let article4 = query(#"claims where text contains "Article 4" or text contains "all means available" select text, sentence"#)
        #expect(article4.rows.contains { $0[0].text.contains("by all means available") })
    }

    @Test func theAllianceDidNotBeginWithTheTreaty() {
        // p2.1: the alliance was "newly intensified" and "further cemented" in June 2024, and
        // p8.1 dates the relationship to the Cold War; only the treaty's mutual defense begins
        // in June 2024.
        let allied = query(#"relations where relation = "allied with" and from = "north-korea" and to = "russia" select id, since"#)
        #expect(allied.rows.map { $0.map(\.text) } == [["r4", ""]])
        let defense = query(#"relations where relation = "mutual defense with" select since"#)
        #expect(texts(defense, "since") == ["2024-06"])
    }

    @Test func octoberThirteenthAnnouncementAndKurskArrival() {
        let announced = query(#"events where date = 2024-10-13 select actor.name, action"#)
        #expect(texts(announced, "actor_name").contains("Volodymyr Zelensky"))
        let kursk = query(#"events where place.name contains "Kursk" select reported, source.name, hedge"#)
        #expect(texts(kursk, "reported").contains("days after 2024-10-13"))
        #expect(texts(kursk, "source_name").contains("Ukrainian intelligence"))
    }

    @Test func unknownTroopNumberIsANullRow() {
        let r = query(#"estimates where topic = "troops" select value, hedge"#)
        #expect(r.rows.count == 1)
        #expect(r.rows.first?[0] == .null)
        #expect(texts(r, "hedge") == ["unknown"])
    }

    @Test func fourRecommendations() {
        let r = query("recommendations sort by number select number, title")
        #expect(texts(r, "title") == ["Enhanced Intelligence Sharing", "Strengthened Military Alliances",
                                      "Targeted Sanctions and Diplomatic Channels", "Public Communication"])
    }

    @Test func aliasesResolve() {
        for (alias, name) in [("Pyongyang", "North Korea"), ("DPRK", "North Korea"), ("NK", "North Korea"), ("Moscow", "Russia"),
                              ("Washington", "United States"), ("U.S.", "United States"), ("Seoul", "South Korea"), ("Beijing", "China")] {
            let r = query("describe \"\(alias)\"")
            #expect(r.title?.hasPrefix(name) == true, "\(alias) -> \(r.title ?? "nil")")
        }
    }

    @Test func describeFindsWhatAPersonSaidAsWellAsWhatHeDid() {
        // c1's source is Zelensky's row in sources, which refers to his entity; ev1 has him as
        // actor and as source, and is listed once; r41 says he is Ukraine's president.
        let r = query(#"describe "Zelensky""#)
        let rows = r.rows.map { "\($0[0].text) \($0[1].text) \($0[2].text)" }
        #expect(rows == ["sources zelensky entity", "events ev1 actor, source", "relations r41 from", "claims c1 source"])
        #expect(r.notes.last == "4 rows in the KB refer to Volodymyr Zelensky")
    }

    @Test func articleDateIsKeptApartFromEventDates() {
        let r = query("documents select date")
        #expect(texts(r, "date") == ["2024-10"])
    }

    /// The embedded Swift literal and the JSON file are the same text.
    @Test func embeddedKBMatchesTheJSONFile() throws {
        guard let text = repositoryFile("Sources/KBQ/Article/article.kb.json") else {
            Issue.record("article.kb.json not found")
            return
        }
        let bytes = Array(text.utf8)
        #expect(String(decoding: bytes, as: UTF8.self) + "\n" == articleKBJSON + "\n" || String(decoding: bytes, as: UTF8.self) == articleKBJSON + "\n",
                "run scripts/embed-article-kb.sh (make embed) after editing article.kb.json")
    }
}
