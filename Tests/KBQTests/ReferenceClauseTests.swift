import Testing
@testable import KBQ

/// `follow` and `referrers`: references followed forwards and backwards in one statement,
/// on the article KB, compared with the same question asked hop by hop.
@Suite struct ReferenceClauseTests {
    /// The rows the KB has, found the slow way: `collection where field = "key"` for each key.
    func ids(_ q: String, _ key: String = "id") -> [String] { texts(query(q), key) }

    @Test func followGoesToTheRowsAReferenceNames() {
        // Who signed the treaty: the `from` of the "signed" relations, each once.
        #expect(ids(#"relations where relation = "signed" follow from"#) == ["kim-jong-un", "putin"])
        // Each row once, in the order first reached: North Korea is the subject of many estimates.
        #expect(ids("estimates follow subject") == ["north-korea", "south-koreans"])
        // A path follows several references; rows with a null reference lead nowhere.
        #expect(ids("claims where hedge = claimed follow source.entity") == ["ukraine", "trump"])
        #expect(ids("sources where entity is null follow entity").isEmpty)
        // The rows after follow are the target's stored rows: every clause reads them.
        #expect(texts(query(#"relations where relation = "signed" follow from select name, kind"#), "kind") == ["person", "person"])
        #expect(query(#"relations where relation = "signed" follow from cite"#).columns.last?.name == "quote")
    }

    @Test func referrersOfACollectionAreItsStoredRows() {
        // The estimates whose source is South Korea's row, as `estimates where source = …` finds them.
        let expected = ids(#"estimates where source = "south-korea" select id"#)
        #expect(expected == ["e5"])
        #expect(ids(#"sources where id = "south-korea" referrers estimates.source"#) == expected)
        // Without a field: any field of the collection that refers here (claims.subject, claims.about).
        let subjectOrAbout = ids(#"claims where subject = "Article 4" or about = "Article 4" select id"#)
        #expect(ids(#"entities where name = "Article 4" referrers claims"#) == subjectOrAbout)
        // After select and sort the rows still come from their collection.
        #expect(ids(#"entities where name = "Article 4" select name sort by name referrers claims.subject"#) == ["c20", "c21", "c22"])
    }

    @Test func referrersAloneListsEveryRowAsDescribeDoes() {
        let r = query(#"entities where id = "zelensky" referrers"#)
        #expect(r.columns.map(\.name) == ["collection", "id", "refers_to", "role", "what", "source", "hedge", "sentence", "inferred"])
        let d = query(#"describe "Zelensky""#)
        #expect(texts(r, "id") == texts(d, "id"))
        #expect(texts(r, "role") == texts(d, "role"))
        #expect(Set(texts(r, "refers_to")) == ["Volodymyr Zelensky"])
        // Several rows at once: each line says which it refers to.
        let two = query(#"entities where name in ["Kim Jong-un", "Vladimir Putin"] referrers"#)
        #expect(Set(texts(two, "refers_to")) == ["Kim Jong-un", "Vladimir Putin"])
        #expect(two.notes.last == "3 rows refer to these rows of entities")
    }

    @Test func theTreatyItsSignatoriesAndWhatTheySaidInOneStatement() {
        let r = query("""
            entities where name = "Article 4" | referrers relations.from | where relation = "part of" | follow to
              | referrers relations.to | where relation = "signed" | follow from | referrers
            """)
        #expect(texts(r, "id") == ["ev7", "r13", "r14"])
        #expect(texts(r, "sentence") == ["p6.1", "p6.1", "p6.1"])
        // The article quotes neither signatory: every row is the article's own account.
        #expect(Set(texts(r, "source")) == ["the article"])
    }

    @Test func describeReachesTheWholeAPartBelongsTo() {
        let r = query(#"describe "Article 4""#)
        let roles = Dictionary(zip(texts(r, "id"), texts(r, "role")), uniquingKeysWith: { a, _ in a })
        #expect(roles["r15"] == "from")
        #expect(roles["r13"] == "via treaty: to" && roles["r14"] == "via treaty: to")
        #expect(roles["ev7"] == "via treaty: target")
        // Each row once: r15 refers to Article 4 and to the treaty.
        #expect(texts(r, "id").filter { $0 == "r15" }.count == 1)
        #expect(r.notes.contains("5 rows in the KB refer to Article 4"))
        #expect(r.notes.last?.hasPrefix("via treaty: 12 more rows refer to Treaty on the Comprehensive Strategic Partnership") == true)
        // The treaty itself is part of nothing: describe adds no "via" rows.
        #expect(!texts(query(#"describe "the treaty""#), "role").contains { $0.hasPrefix("via") })
    }

    @Test func whatRefersToASentenceLeadsNowhereFurther() {
        // The rows read from p6.2, not also every claim about an entity first named there.
        let r = query(#"sentences where id = "p6.2" referrers"#)
        #expect(texts(r, "id") == ["article-4", "c20", "r15", "r16"])
        #expect(Set(texts(r, "role")) == ["sentence"])
    }

    @Test func describeFindsASourceThatIsNoEntity() {
        // "U.S. intelligence" asserts things; it has a row in sources, none in entities.
        let r = query(#"describe "U.S. intelligence""#)
        #expect(texts(r, "id") == ["e3"])
        #expect(r.title == "U.S. intelligence (intelligence)")
        #expect(r.notes.contains { $0.hasPrefix("a source, not an entity") && $0.hasSuffix(#"describe "United States" for the entity it is"#) })
        // By alias too; an entity of that name comes first.
        #expect(texts(query(#"describe "many experts""#), "id") == ["c47", "c48"])
        #expect(query(#"describe "Trump""#).title == "Donald Trump (person)")
        let d = diagnostic(#"describe "Russian Presiden""#)
        #expect(d?.message == "no entity or source is called 'Russian Presiden'")
        #expect(d?.suggestion == "Russian President Vladimir Putin")
    }

    @Test func mistakesAreCheckedErrors() {
        let notRef = diagnostic("claims follow topic")
        #expect(notRef?.kind == .typeMismatch)
        #expect(notRef?.message == "follow goes to the row a reference points at, and topic is text")
        #expect(notRef?.notes.first?.hasPrefix("references here: subject (to entities)") == true)
        #expect(diagnostic("claims group by topic referrers")?.message == "referrers needs rows of one collection, and these rows are computed")
        #expect(diagnostic("claims, events referrers")?.kind == .invalidClause)
        let unknown = diagnostic("entities referrers claim")
        #expect(unknown?.kind == .unknownCollection)
        #expect(unknown?.suggestion == "claims")
        let wrongField = diagnostic("entities referrers claims.source")
        #expect(wrongField?.message == "claims.source does not refer to entities, the rows here")
        #expect(wrongField?.notes == ["fields of claims that refer to entities: subject, about"])
        #expect(diagnostic("entities referrers claims.nope")?.kind == .unknownField)
        #expect(diagnostic("entities referrers documents")?.message == "no field of documents refers to entities")
        #expect(diagnostic("entities referrers claims.")?.kind == .syntax)
    }

    /// SQL does not express them whole: kbq finishes them over the rows of every collection
    /// the database gives it (those pointing back among them).
    @Test func sqlHandsThemToKBQOverTheRowsTheyRead() throws {
        var sql = try SQLSession(schema: .article)
        for q in ["relations follow from", "entities referrers claims", "entities referrers"] {
            let (statements, d) = sql.compile(SourceText(q))
            #expect(d.isEmpty, "\(q): \(d)")
            #expect(statements.count == 1 && statements.allSatisfy(\.isFinishedInKBQ), "\(q)")
            let read = Set(statements.first?.fetches.compactMap(\.collection) ?? [])
            #expect(read.isSuperset(of: ["claims", "entities", "relations"]), "\(q): \(read)")
        }
    }

    @Test func completionOffersReferencesAndReferrers() {
        func words(_ text: String) -> [String] {
            Completion.candidates(for: text, cursor: text.utf8.count, session: Session(kb: .article)).candidates
        }
        #expect(words("claims follow ") == ["about", "sentence", "source", "subject"])
        #expect(words("entities referrers cl") == ["claims"])
        #expect(words("entities referrers claims.") == ["about", "subject"])
        #expect(words("entities referrers ").contains("relations") && !words("entities referrers ").contains("documents"))
        #expect(words("claims where hedge = claimed fol") == ["follow"])
        #expect(words("relations follow from ").contains("referrers"))
        // The collections of a union: those not listed yet.
        #expect(words("claims, est") == ["estimates"])
        #expect(!words("claims, estimates, ").contains("claims"))
        #expect(words("claims, estimates wh") == ["where"])
        #expect(words("claims, estimates where hed") == ["hedge"])
    }
}
