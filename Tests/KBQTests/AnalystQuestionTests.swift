import Testing
@testable import KBQ

/// What analysts ask of the article, as issue 14 found them failing: words searched
/// anywhere, dates stated relative to others, names and aliases in entity-valued fields,
/// literals that match nothing, units and percents in aggregates.
@Suite struct WordSearchTests {
    @Test func everyWordAnywhereInAnyOrder() {
        let r = query(#"search "deterrent nuclear""#)
        #expect(texts(r, "sentence") == ["p11.1"])
        #expect(texts(r, "text").first?.contains("«nuclear» «deterrent»") == true)
        #expect(r.notes.contains("1 sentence contains \"deterrent\" and \"nuclear\""))
        // All the words, not any: "Kursk" alone is in two sentences, with "Zelensky" in none.
        #expect(query(#"search "Kursk""#).rows.count == 2)
        #expect(query(#"search "Kursk Harris""#).rows.isEmpty)
    }

    @Test func aQuotedPartIsOneExactPhrase() {
        #expect(texts(query(#"search '"nuclear deterrent"'"#), "sentence") == ["p11.1"])
        #expect(query(#"search '"deterrent nuclear"'"#).rows.isEmpty)
        // Curly quotes mark a phrase too, and a phrase goes with words.
        #expect(texts(query("search '“nuclear deterrent” Trump'"), "text").first?.contains("«Trump»") == true)
    }

    @Test func aWordIsFoundWhereAWordStarts() {
        // "4" is not in "2024"; "shell" is in "shells".
        #expect(texts(query(#"search "Article 4""#), "sentence") == ["p6.2"])
        #expect(query(#"search "shell""#).rows.count == query(#"search "shells""#).rows.count)
        #expect(query(#"search "4""#).rows.allSatisfy { !$0[2].text.contains("«4»") || $0[2].text.contains("Article «4»") })
    }

    @Test func nothingToLookForIsAnError() {
        #expect(diagnostic(#"search '""'"#)?.message == "search needs some text to look for")
    }
}

@Suite struct RelativeDateTests {
    /// ev2 was reported "days after 2024-10-13" (the article dates the report, not the
    /// arrival); ev1 was reported on 2024-10-13 itself.
    @Test func isRelativeAndIsExact() {
        #expect(texts(query("events where reported is relative select id"), "id") == ["ev2"])
        #expect(!texts(query("events where reported is not relative select id"), "id").contains("ev2"))
        #expect(texts(query("events where reported is exact select id"), "id") == ["ev1"])
        #expect(texts(query("estimates where value is not exact select id"), "id") == ["e2", "e3"])
        #expect(diagnostic("events where action is relative")?.kind == .typeMismatch)
        // Not reserved: a name may still be `exact`.
        #expect(query("estimates select value as exact where exact is exact").rows.count == 2)
    }

    @Test func functionsOfARelativeDateAreUnknown() {
        let r = query("events where id = \"ev2\" select day(reported), month(reported), year(reported)")
        #expect(r.rows.first?.allSatisfy(\.isNull) == true)
        #expect(query("events where id = \"ev1\" select day(reported)").rows.first?[0] == .number(13))
    }

    @Test func comparisonsAreMaybeUnlessTheAnchorDecides() {
        func ids(_ q: String) -> [String] { texts(query("events where \(q) select id"), "id") }
        // After its anchor by definition: the anchor decides these.
        #expect(ids("reported > 2024-10-13").contains("ev2"))
        #expect(!ids("reported <= 2024-10-13").contains("ev2"))
        #expect(!ids("maybe reported = 2024-10-12").contains("ev2"))
        // How many days after is not said: these are maybes, never a made-up yes.
        #expect(!ids("reported < 2024-11-01").contains("ev2"))
        #expect(ids("maybe reported < 2024-11-01").contains("ev2"))
        #expect(!ids("reported = 2024-10").contains("ev2"))
        #expect(ids("maybe reported = 2024-10").contains("ev2"))
        #expect(!ids("reported between 2024-10-14 and 2024-12-31").contains("ev2"))
        #expect(ids("maybe reported between 2024-10-14 and 2024-12-31").contains("ev2"))
        #expect(!ids("reported > 2024-10-20").contains("ev2"))
    }
}

/// The warnings checking gives for `text`, before anything runs; the run must succeed.
func warnings(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Diagnostic] {
    var session = Session(kb: .article)
    var out: [Diagnostic] = []
    let errors = session.run(SourceText(text, name: "test.kbq")) { if case .warning(let w) = $0 { out.append(w) } }
    #expect(errors.isEmpty, "a warning must never become an error: \(errors)", sourceLocation: sourceLocation)
    return out
}

/// Each reference field of the article KB that points at entities or sources, with a row
/// that refers through it (not to itself), that row's key, and every name the row it
/// refers to answers to (name or title, aliases, then its key).
func entityValuedFields() -> [(collection: String, field: String, key: String, id: String, names: [String])] {
    let kb = KnowledgeBase.article
    let checker = Checker(kb: kb, lets: [:])
    var out: [(collection: String, field: String, key: String, id: String, names: [String])] = []
    for c in kb.collections {
        guard let key = c.key else { continue }
        for f in c.fields {
            guard case .ref(let t) = f.type, t == "entities" || t == "sources", let target = kb.collection(t),
                  case .ref(let refs)? = c.fieldIndex[f.name].map({ c.columns[$0] }),
                  let r = refs.indices.first(where: { refs[$0] >= 0 && !(c === target && Int(refs[$0]) == $0) }) else { continue }
            out.append((c.name, f.name, key, c.value(row: r, field: key, in: kb)?.text ?? "", checker.names(of: target, row: Int(refs[r]))))
        }
    }
    return out
}

@Suite struct NamedValueTests {
    /// Issue 14's queries: each gives the rows `describe` finds for the same name.
    @Test func theQueriesThatReturnedNothing() {
        #expect(texts(query(#"claims where source = "Trump" select id"#), "id") == ["c38"])
        #expect(texts(query(#"events where actor = "Pyongyang" select id"#), "id") == texts(query(#"events where actor = "North Korea" select id"#), "id"))
        #expect(query(#"events where actor = "Pyongyang""#).rows.count == 7)
        #expect(query(#"relations where from = "Pyongyang""#).rows.count == query(#"relations where from = "north-korea""#).rows.count)
        #expect(query(#"relations where from = "Pyongyang""#).rows.count == 13)
        #expect(texts(query(#"estimates where subject = "NK" select id"#), "id") == ["e1", "e2", "e3", "e5"])
        #expect(texts(query(#"claims where subject = "Seoul" select id"#), "id") == texts(query(#"claims where subject = "South Korea" select id"#), "id"))
        #expect(!query(#"claims where subject = "Seoul""#).rows.isEmpty)
    }

    /// Every reference field of the article KB that points at entities or sources, compared
    /// with every name, alias and key of a row it refers to (in another case too), keeps
    /// that row; and `!=` keeps it out.
    @Test func everyEntityValuedFieldResolvesNamesAndAliases() {
        let fields = entityValuedFields()
        for e in fields {
            for name in e.names {
                for spelled in [name, name.uppercased()] {
                    let literal = spelled.replacingOccurrences("\"", "\\\"")
                    let kept = texts(query("\(e.collection) where \(e.field) = \"\(literal)\" select \(e.key)"), e.key)
                    #expect(kept.contains(e.id), "\(e.collection).\(e.field) = \"\(spelled)\" keeps \(e.id)")
                    let dropped = texts(query("\(e.collection) where \(e.field) != \"\(literal)\" select \(e.key)"), e.key)
                    #expect(!dropped.contains(e.id), "\(e.collection).\(e.field) != \"\(spelled)\" drops \(e.id)")
                    #expect(warnings("\(e.collection) where \(e.field) = \"\(literal)\"").isEmpty)
                }
            }
        }
        // sources.entity, events.actor/target/place/source, estimates.subject/source,
        // claims.subject/source, relations.from/to/source, recommendations.actor …
        #expect(fields.count >= 12)
    }

    /// Names resolve wherever an entity-valued field is read: in a list, through a path, in
    /// a let's rows and in the rows follow and referrers give.
    @Test func namesResolveInListsPathsLetsAndHops() {
        let fields = entityValuedFields()
        for e in fields {
            // The last name that is not the key: an alias where the row has one.
            guard let alias = e.names.dropLast().last else { continue }
            let (c, f, key, id) = (e.collection, e.field, e.key, e.id)
            let literal = alias.replacingOccurrences("\"", "\\\"")
            #expect(texts(query("\(c) where \(f) in [\"\(literal)\", \"nobody\"] select \(key)"), key).contains(id), "\(c).\(f) in [\(alias)]")
            #expect(texts(query("let x = \(c) select \(key), \(f)\nx where \(f) = \"\(literal)\" select \(key)"), key).contains(id), "let x: \(f) = \(alias)")
            // After a hop the rows are stored again: the field resolves as on the collection.
            #expect(texts(query("\(c) where \(key) = \"\(id)\" follow \(f) referrers \(c).\(f) where \(f) = \"\(literal)\" select \(key)"), key).contains(id),
                    "follow then referrers: \(c).\(f) = \(alias)")
        }
        #expect(fields.count >= 12)
        // Through a path: the source's entity, by the entity's alias.
        #expect(texts(query(#"estimates where source.entity in ["Washington", "Seoul"] select id"#), "id") == ["e3", "e5"])
    }

    @Test func aSourceIsFoundByItsEntitysNames() {
        // The source row "trump" is Donald Trump's; "Donald Trump" is the entity's name.
        #expect(texts(query(#"claims where source = "Donald Trump" select id"#), "id") == ["c38"])
        #expect(texts(query(#"claims where source in ["Trump", "Zelensky"] select id"#), "id").contains("c38"))
        // Through a path and in computed rows too.
        #expect(texts(query(#"claims select id, source where source = "trump""#), "id") == ["c38"])
    }

    @Test func aLiteralThatMatchesNothingWarns() {
        let w = warnings(#"estimates where topic = "shells""#)
        #expect(w.count == 1)
        #expect(w.first?.kind == .noMatch)
        #expect(w.first?.isWarning == true)
        #expect(w.first?.message == #"no estimates have topic "shells"; did you mean "artillery shells"?"#)
        // The result says why it is empty.
        #expect(query(#"estimates where topic = "shells""#).notes.contains { $0.hasPrefix("empty because no estimates have topic") })
        let caseHint = warnings(#"estimates where topic = "Containers""#)
        #expect(caseHint.first?.message == #"no estimates have topic "Containers"; did you mean "containers"?"#)
        #expect(caseHint.first?.notes.first?.contains("case by case") == true)
        #expect(warnings(#"claims where source = "Trumpp""#).first?.message.hasPrefix(#"no claims have source "Trumpp""#) == true)
        #expect(warnings(#"estimates where topic in ["containers", "shels"]"#).count == 1)
        #expect(warnings(#"claims where topic != "tretay""#).first?.notes.last == "the condition holds for every row that has a topic")
    }

    @Test func aWordForAValueSaysHowToLookForTheWord() {
        // "nuclear" is no topic: the warning points to the topic that holds it, to
        // `contains`, and, the topics being few, lists them.
        let w = warnings(#"claims where topic = "nuclear""#)
        #expect(w.first?.message == #"no claims have topic "nuclear"; did you mean "denuclearization"?"#)
        #expect(w.first?.notes.contains(#"for the rows whose topic holds it as a part: topic contains "nuclear"; whose text mentions it: text contains "nuclear""#) == true)
        let war = warnings(#"claims where topic = "war""#).first
        #expect(war?.notes.last?.hasPrefix(#"claims have topic: "alliance", "arms transfers", "china""#) == true)
        // What the notes propose finds rows.
        #expect(!query(#"claims where topic contains "nuclear""#).rows.isEmpty)
        #expect(!query(#"claims where text contains "war""#).rows.isEmpty)
        // Only a case slip: no such notes, the value is the answer.
        #expect(warnings(#"estimates where topic = "Containers""#).first?.notes.contains { $0.contains("holds it as a part") } == false)
    }

    @Test func aNameOfAnotherFieldsRowsSaysWhichField() {
        // Ukrainian intelligence reported the arrival: it is an event's source, no actor.
        let w = warnings(#"events where actor = "Ukrainian intelligence""#).first
        #expect(w?.message == #"no events have actor "Ukrainian intelligence""#)
        #expect(w?.notes.first == #""Ukrainian intelligence" is one of sources, which source refers to: source = "Ukrainian intelligence""#)
        #expect(texts(query(#"events where source = "Ukrainian intelligence" select id"#), "id") == ["ev2"])
    }

    @Test func noWarningForAValueThatExists() {
        // Every topic, unit and hedge-free text value the dictionaries hold.
        for (c, f) in [("estimates", "topic"), ("estimates", "unit"), ("claims", "topic"), ("relations", "relation"), ("sources", "kind")] {
            for v in Set(texts(query("\(c) where \(f) is not null select \(f)"), f)) {
                #expect(warnings("\(c) where \(f) = \"\(v)\"").isEmpty, "\(c).\(f) = \"\(v)\"")
                #expect(warnings("\(c) where \(f) in [\"\(v)\"]").isEmpty)
            }
        }
        // A parameter is not known until the run.
        #expect((try? PreparedQuery(#"estimates where topic = $t"#))?.warnings.isEmpty == true)
        #expect((try? PreparedQuery(#"estimates where topic = "shells""#))?.warnings.count == 1)
    }
}

@Suite struct UnitAndIntervalAggregateTests {
    @Test func valuesInDifferentUnitsAreNeverAddedUp() {
        // Shells, containers and a poll's percent once summed to 3,029,576.6%.
        for agg in ["sum(stated(value))", "sum(value)", "avg(value)", "max(value)", "min(value)", "spread(value)"] {
            let d = diagnostic("estimates aggregate \(agg)")
            #expect(d?.kind == .typeMismatch, "\(agg)")
            #expect(d?.message.contains("values in different units (") == true, "\(agg): \(d?.message ?? "")")
            #expect(d?.notes.first?.contains("group by unit") == true)
        }
        // Grouped by unit, or one unit kept: each sum is of one unit.
        let byUnit = query("estimates group by unit aggregate sum(value) as total")
        #expect(byUnit.rows.first { $0[0].text == "containers" }?[1].text == "over 29,500")
        #expect(byUnit.rows.first { $0[0].text == "percent" }?[1].text == "76.6%")
        #expect(query(#"estimates where unit = "shells" aggregate sum(value)"#).rows.first?[0].text == "over 3,000,000")
        // count() counts rows, whatever their units.
        #expect(query("estimates aggregate count()").rows.first?[0] == .number(5))
        // A group whose rows share a unit is fine even when others do not.
        #expect(query("estimates group by topic aggregate sum(value)").rows.count == 4)
    }

    @Test func aPercentTimesAPercentIsNoPercent() {
        let d = diagnostic("estimates select 50% * 50%")
        #expect(d?.message == "a percent times a percent is not a percent")
        #expect(query("estimates select 50% * 0.5 as share limit 1").rows.first?[0] == .percent(25))
        #expect(query("estimates select 76.6% * 2 as twice limit 1").rows.first?[0] == .percent(153.2))
    }

    @Test func aSumOfIntervalsIsAnInterval() {
        // (16,500, open) + 13,000 = (29,500, open).
        let r = query(#"estimates where topic = "containers" aggregate sum(value), avg(value), sum(stated(value))"#)
        guard case .quantity(let q)? = r.rows.first?[0] else { Issue.record("not an interval: \(r.rows)"); return }
        #expect(q.lo == 29_500 && q.loOpen && q.hi == .infinity)
        #expect(r.rows.first?[1].text == "over 14,750")
        #expect(r.rows.first?[2] == .number(29_500))
    }

    @Test func aSumThatCouldBeAnythingSaysWhyAndPointsToStated() {
        // over 12,000,000 and under -33,000: the sum can be any value at all.
        let r = query("estimates where value is not exact select value * (len(topic) - 12) as v aggregate sum(v), sum(stated(v))")
        #expect(r.rows.first?[0].text == "any value")
        #expect(r.rows.first?[1] == .number(11_967_000))
        #expect(r.notes.contains("sum(v) is any value: its intervals reach without end both ways; sum(stated(v)) uses the numbers as stated"))
    }
}

@Suite struct CollectionListTests {
    @Test func theHedgeQuestionAcrossCollections() {
        let r = query("claims, estimates, events where hedge < stated select collection, id, hedge")
        #expect(r.columns.map(\.name) == ["collection", "id", "hedge"])
        // The same rows as one query per collection.
        var expected: [String] = []
        for c in ["claims", "estimates", "events"] { expected += texts(query("\(c) where hedge < stated select id"), "id") }
        #expect(texts(r, "id") == expected)
        #expect(Set(texts(r, "collection")) == ["claims", "estimates", "events"])
    }

    @Test func onlySharedFieldsOfOneTypeAreKept() {
        let r = query("claims, events limit 1")
        // Every field both have (provenance included), and none only one has.
        #expect(Array(r.columns.map(\.name).prefix(4)) == ["collection", "id", "source", "hedge"])
        #expect(!r.columns.contains { $0.name == "text" || $0.name == "description" })
        #expect(diagnostic("claims, events where text contains \"x\"")?.kind == .unknownField)
        // Names resolve through the shared reference fields too.
        #expect(texts(query(#"claims, events where source = "Zelensky" select id"#), "id").count == texts(query(#"claims where source = "Zelensky" select id"#), "id").count + texts(query(#"events where source = "Zelensky" select id"#), "id").count)
    }

    @Test func badListsAreErrors() {
        #expect(diagnostic("claims, nothing")?.kind == .unknownCollection)
        #expect(diagnostic("claims, claims")?.message == "'claims' is listed twice")
        #expect(diagnostic("documents, recommendations where x = 1")?.kind == .unknownField)
        #expect(diagnostic("claims,")?.kind == .syntax)
    }
}
