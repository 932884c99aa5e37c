/// A one-line summary of a row: its text, description or title, else its named parts
/// ("North Korea supplies Russia").
func rowSummary(_ c: KBCollection, _ r: Int, _ kb: KnowledgeBase) -> String {
    for f in ["text", "description", "title"] {
        if let v = c.value(row: r, field: f, in: kb), !v.isNull { return v.text }
    }
    let skip: Set<String> = ["id", "sentence", "source", "hedge", "document", "inferred", "reason", "basis"]
    var parts: [String] = []
    for (i, f) in c.fields.enumerated() where !skip.contains(f.name) {
        switch f.type {
        case .string, .ref, .number, .percent, .date:
            let v = c.value(row: r, column: i, kb: kb)
            // A source named after its entity would read "Donald Trump person Donald Trump".
            if !v.isNull && !parts.contains(v.text) { parts.append(v.text) }
        default: break
        }
    }
    return parts.joined(separator: " ")
}

/// What a row says of its own fields (docs/KB-FORMAT.md, "Stated or inferred"): the fields
/// the KB infers rather than its source states, why, and the sentences the inference rests
/// on; nil when the row's collection does not say.
struct RowProvenance {
    var id: String
    var fields: [String]
    var reason: String
    var basis: [String]

    /// "e3: source — the article gives … (rests on p4.3, p15.2)", for notes.
    var note: String {
        "\(id): \(fields.joined(separator: ", ")) — \(reason) " +
            (basis.isEmpty ? "(from outside the text)" : "(rests on \(basis.joined(separator: ", ")))")
    }
}

func rowProvenance(_ c: KBCollection, _ r: Int, _ kb: KnowledgeBase) -> RowProvenance? {
    guard c.field("inferred")?.type == .list(.string), case .list(let fields)? = c.value(row: r, field: "inferred", in: kb) else { return nil }
    var basis: [String] = []
    if case .list(let b)? = c.value(row: r, field: "basis", in: kb) { basis = b.map(\.text) }
    let reason = c.value(row: r, field: "reason", in: kb).flatMap { $0.isNull ? nil : $0.text } ?? ""
    let id = c.key.flatMap { c.value(row: r, field: $0, in: kb) }?.text ?? String(r + 1)
    return RowProvenance(id: id, fields: fields.map(\.text), reason: reason, basis: basis)
}

/// Every row of every collection that refers to the entity, with its source, hedge and
/// sentence; and the rows that refer to those in turn, so the claims whose source is the
/// entity's row in `sources` are found too (what Zelensky said, not only what he did).
/// An entity that is part of another (a relation "part of": a treaty's article) is read
/// with the whole: what refers to the whole follows, its role marked "via KIND" (what
/// refers to the treaty, for Article 4: its signatories).
func describeEntity(_ entities: KBCollection, _ row: Int, columns: [ResultColumn], _ env: Env) throws(Diagnostic) -> Rows {
    let kb = env.kb
    var list = ReferrerList(kb: kb, withTarget: false)
    var wanted = [Bool](repeating: false, count: entities.count)
    wanted[row] = true
    try list.collect(to: entities, wanted, env)
    let direct = list.rows.count
    var wholeNotes: [String] = []
    list.skip = (true, (entities, row))
    for (whole, relation) in wholes(of: row, in: entities, kb) {
        var w = [Bool](repeating: false, count: entities.count)
        w[whole] = true
        let kind = entities.value(row: whole, field: "kind", in: kb).flatMap { $0.isNull ? nil : $0.text } ?? "whole"
        let before = list.rows.count
        try list.collect(to: entities, w, env) { "via \(kind): \($0)" }
        let more = list.rows.count - before
        wholeNotes.append("via \(kind): \(formatNumber(Double(more))) more row\(more == 1 ? " refers" : "s refer") to \(entities.rowRef(whole, kb: kb).display), "
                          + "which \(entities.rowRef(row, kb: kb).display) is part of (\(relation))")
    }
    let out = list.rows
    var t = Table(columns: columns, rows: out)
    let name = entities.rowRef(row, kb: kb).display
    var title = name
    if let k = entities.value(row: row, field: "kind", in: kb), !k.isNull { title += " (\(k.text))" }
    t.decorations.title = title
    if case .list(let aliases)? = entities.value(row: row, field: "aliases", in: kb), !aliases.isEmpty {
        t.decorations.notes.append("also called: " + aliases.map(\.text).joined(separator: ", "))
    }
    if let d = entities.value(row: row, field: "description", in: kb), !d.isNull { t.decorations.notes.append(d.text) }
    if entities.name == "sources" {
        var note = "a source, not an entity: the rows it is the source of, and what else refers to it"
        if let e = entities.value(row: row, field: "entity", in: kb), !e.isNull { note += "; describe \"\(e.text)\" for the entity it is" }
        t.decorations.notes.append(note)
    }
    if let p = rowProvenance(entities, row, kb), !p.fields.isEmpty { t.decorations.notes.append("inferred: " + p.note) }
    t.decorations.notes.append("\(formatNumber(Double(direct))) row\(direct == 1 ? " in the KB refers" : "s in the KB refer") to \(name)")
    t.decorations.notes += wholeNotes
    return .table(t)
}

/// The entities that entity `row` is part of, by the relations that say so ("part of",
/// from the entity to the whole), with each relation's key.
func wholes(of row: Int, in entities: KBCollection, _ kb: KnowledgeBase) -> [(Int, String)] {
    guard let rel = kb.collection("relations"), let fi = rel.fieldIndex["from"], let ti = rel.fieldIndex["to"], let ri = rel.fieldIndex["relation"],
          rel.fields[fi].type == .ref(entities.name), rel.fields[ti].type == .ref(entities.name),
          case .ref(let from) = rel.columns[fi], case .ref(let to) = rel.columns[ti] else { return [] }
    var out: [(Int, String)] = []
    for r in 0..<rel.count where Int(from[r]) == row && to[r] >= 0 && Int(to[r]) != row {
        guard rel.value(row: r, column: ri, kb: kb).text.lowercased() == "part of", !out.contains(where: { $0.0 == Int(to[r]) }) else { continue }
        out.append((Int(to[r]), rel.rowRef(r, kb: kb).key))
    }
    return out
}

/// The sentences that contain every word and phrase of `terms` (any case), with each match
/// marked «like this».
func searchSentences(_ s: KBCollection, _ terms: SearchTerms, columns: [ResultColumn], _ env: Env) throws(Diagnostic) -> Rows {
    try env.tick(s.count)
    var out: [[Value]] = []
    var origin: [Int32] = []
    for r in 0..<s.count {
        guard let v = s.value(row: r, field: "text", in: env.kb), case .string(let sentence) = v else { continue }
        guard let marked = terms.marked(sentence) else { continue }
        var row: [Value] = [.ref(s.rowRef(r, kb: env.kb))]
        if columns.count == 3 { row.append(s.value(row: r, field: "paragraph", in: env.kb) ?? .null) }
        row.append(.string(marked))
        out.append(row)
        origin.append(Int32(r))
    }
    var t = Table(columns: columns, rows: out, origin: origin, originCollection: s)
    t.decorations.notes.append("\(out.count) sentence\(out.count == 1 ? "" : "s") contain\(out.count == 1 ? "s" : "") \(terms.described)")
    return .table(t)
}

/// Topics on which two or more sources give values whose intervals cannot overlap,
/// largest relative spread first, one row per source.
func findConflicts(_ collections: [KBCollection], columns: [ResultColumn], _ env: Env) throws(Diagnostic) -> Rows {
    let kb = env.kb
    struct Side { var source: String; var value: Quantity; var hedge: Value; var sentence: Value; var inferred: RowProvenance? }
    var groups: [[String]: [Side]] = [:]
    var order: [[String]] = []
    for c in collections {
        try env.tick(c.count)
        guard let m = c.measure else { continue }
        for r in 0..<c.count {
            // Counted as work above; the clock is read as the rows are grouped.
            if r & 4095 == 4095 { try env.checkStop() }
            guard let v = c.value(row: r, field: m, in: kb), let q = quantity(of: v) else { continue }
            let topic = c.value(row: r, field: "topic", in: kb)?.text ?? c.value(row: r, field: "subject", in: kb)?.text ?? c.name
            let unit = c.value(row: r, field: "unit", in: kb)?.text ?? ""
            let subject = c.value(row: r, field: "subject", in: kb)?.text ?? ""
            let key = [topic, unit, subject]
            let source = c.value(row: r, field: "source", in: kb)?.text ?? ""
            var sentence = c.value(row: r, field: "sentence", in: kb) ?? .null
            if case .ref(let ref) = sentence, ref.collection != "sentences" { sentence = .null }
            let hedge = c.field("hedge")?.type == .hedge ? (c.value(row: r, field: "hedge", in: kb) ?? .null) : .null
            if groups[key] == nil { order.append(key) }
            // A side whose source or value the KB infers says so: the conflict rests on it.
            let inferred = rowProvenance(c, r, kb).flatMap { p in p.fields.contains { $0 == "source" || $0 == m } ? p : nil }
            groups[key, default: []].append(Side(source: source, value: q, hedge: hedge, sentence: sentence, inferred: inferred))
        }
    }
    var found: [(key: [String], sides: [Side], spread: Double, relative: Double)] = []
    for key in order {
        try env.checkStop()
        guard let sides = groups[key], Set(sides.map(\.source)).count >= 2 else { continue }
        // Each source by number; then a pair of sources that cannot both be right, in time
        // linear in the rows (every pair was quadratic: a topic of a million rows never ended).
        var sourceIDs: [String: Int] = [:]
        let owners = sides.map { s in sourceIDs[s.source] ?? { let id = sourceIDs.count; sourceIDs[s.source] = id; return id }() }
        guard disjointPair(sides.count, interval: { sides[$0].value }, owner: { owners[$0] }) != nil else { continue }
        let lo = sides.map(\.value.value).min() ?? 0, hi = sides.map(\.value.value).max() ?? 0
        found.append((key, sides.sorted { $0.value.value > $1.value.value }, hi - lo, relativeSpread(lo, hi) ?? 0))
    }
    found.sort { $0.relative > $1.relative }
    var out: [[Value]] = []
    var inferred: [String] = []
    for f in found {
        for s in f.sides {
            if let p = s.inferred { inferred.append("inferred: " + p.note) }
            out.append([.string(f.key[0]), f.key[1].isEmpty ? .null : .string(f.key[1]), .string(s.source), .quantity(s.value),
                        s.hedge, s.sentence, .number(f.spread), .percent(f.relative.rounded())])
        }
    }
    var t = Table(columns: columns, rows: out)
    t.decorations.notes.append(found.isEmpty ? "no topic has sources that disagree" :
        "\(found.count) topic\(found.count == 1 ? "" : "s") where sources give values that cannot all be right")
    t.decorations.notes += inferred
    return .table(t)
}

/// `describe NAME`: the entity with that name, alias or id (any case), else the source,
/// and every row that refers to it; an error with the nearest names when none has it.
func describe(_ name: String, columns: [ResultColumn], at range: SourceRange, _ env: Env) throws(Diagnostic) -> Rows {
    guard let entities = env.kb.collection("entities") else {
        throw Diagnostic(.invalidClause, "describe needs an 'entities' collection, and this KB has none", at: range)
    }
    if let row = try findEntity(name, in: entities, env) { return try describeEntity(entities, row, columns: columns, env) }
    // Who asserts things has a name too ("U.S. intelligence"), and no entity row of its own.
    let sources = env.kb.collection("sources").flatMap { $0.field("name") != nil ? $0 : nil }
    if let sources, let row = try findEntity(name, in: sources, env) { return try describeEntity(sources, row, columns: columns, env) }
    var names = try entityNames(entities, env)
    if let sources { names += try entityNames(sources, env) }
    throw Diagnostic(.unknownEntity, "no entity\(sources == nil ? "" : " or source") is called '\(name)'", at: range,
                     suggestion: suggest(name, from: names),
                     notes: ["describe looks up the names and aliases of entities\(sources == nil ? "" : " and sources"); search \"\(name)\" looks through the sentences"])
}

/// The row of the entity with this name, alias or id, compared case-insensitively.
func findEntity(_ name: String, in e: KBCollection, _ env: Env) throws(Diagnostic) -> Int? {
    let kb = env.kb
    // "Russia's Kursk Oblast" finds the alias the article writes "Russia’s Kursk Oblast".
    func folded(_ s: String) -> String { foldingQuoteMarks(s).lowercased() }
    let want = folded(name).trimmingSpaces
    for r in 0..<e.count {
        if r % tickEvery == tickEvery - 1 { try env.tick(tickEvery) }
        for f in ["id", "name"] {
            if let v = e.value(row: r, field: f, in: kb), folded(v.text) == want { return r }
        }
        if case .list(let aliases)? = e.value(row: r, field: "aliases", in: kb),
           aliases.contains(where: { folded($0.text) == want }) { return r }
    }
    return nil
}

/// Every entity's name and aliases, for a suggestion.
func entityNames(_ e: KBCollection, _ env: Env) throws(Diagnostic) -> [String] {
    let kb = env.kb
    var out: [String] = []
    for r in 0..<e.count {
        if r % tickEvery == tickEvery - 1 { try env.tick(tickEvery) }
        if let v = e.value(row: r, field: "name", in: kb) { out.append(v.text) }
        if case .list(let aliases)? = e.value(row: r, field: "aliases", in: kb) { out += aliases.map(\.text) }
    }
    return out
}
