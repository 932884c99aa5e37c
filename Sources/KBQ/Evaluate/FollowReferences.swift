/// Going along references: `follow` (to the row a reference points at), `referrers` (to
/// the rows that point at these) and `describe`, which lists what refers to an entity
/// with the same machinery.

/// `follow`: the rows of `target` that the rows' references point at, each once, in the
/// order first reached.
func followRows(_ rows: Rows, _ ref: Eval, target: KBCollection, _ env: Env) throws(Diagnostic) -> Rows {
    bind(rows, env)
    let idx = rowIndexes(rows)
    try env.tick(idx.count)
    var seen = [Bool](repeating: false, count: target.count)
    var out: [Int32] = []
    for (k, r) in idx.enumerated() {
        if k % tickEvery == tickEvery - 1 { try env.checkStop() }
        guard case .ref(let to) = ref(r, env), to.collection == target.name, to.row >= 0, to.row < target.count, !seen[to.row] else { continue }
        seen[to.row] = true
        out.append(Int32(to.row))
    }
    return .stored(target, out)
}

/// Which rows of `target` the rows flowing in are: `referrers` asks what refers to them.
/// The checker let through only rows that still come one-to-one from `target`.
func rowsOf(_ target: KBCollection, in rows: Rows, at range: SourceRange) throws(Diagnostic) -> [Bool] {
    var wanted = [Bool](repeating: false, count: target.count)
    switch rows {
    case .stored(let c, let sel) where c === target:
        if let sel { for r in sel where r >= 0 && Int(r) < wanted.count { wanted[Int(r)] = true } } else { wanted = [Bool](repeating: true, count: target.count) }
    case .table(let t) where t.originCollection === target && t.origin?.count == t.rows.count:
        for r in t.origin ?? [] where r >= 0 && Int(r) < wanted.count { wanted[Int(r)] = true }
    default:
        throw Diagnostic(.invalidClause, "referrers cannot tell which rows of \(target.name) these are", at: range,
                         notes: ["put referrers right after the rows of a collection are chosen (where, sort, limit keep them)"])
    }
    return wanted
}

/// `referrers COLLECTION[.FIELD]`: the rows of the links' collection whose reference points
/// at one of the rows flowing in, in the collection's order. A row is never its own
/// referrer.
func referrerRows(_ rows: Rows, target: KBCollection, links: [ReferenceLink], at range: SourceRange, _ env: Env) throws(Diagnostic) -> Rows {
    let wanted = try rowsOf(target, in: rows, at: range)
    guard let c = links.first.flatMap({ env.kb.collection($0.collection) }) else { return .stored(target, []) }
    let columns: [Stored<Int32>] = links.compactMap { if case .ref(let refs) = c.columns[$0.index] { return refs }; return nil }
    try env.tick(c.count * max(1, columns.count))
    var out: [Int32] = []
    for r in 0..<c.count {
        for refs in columns {
            let t = Int(refs[r])
            guard t >= 0, t < wanted.count, wanted[t], !(c === target && t == r) else { continue }
            out.append(Int32(r))
            break
        }
    }
    return .stored(c, out)
}

/// `referrers` alone: every row that refers to one of the rows flowing in, as `describe`
/// lists them, with the row it refers to.
func referrerList(_ rows: Rows, target: KBCollection, columns: [ResultColumn], at range: SourceRange, _ env: Env) throws(Diagnostic) -> Rows {
    var list = ReferrerList(kb: env.kb, withTarget: true)
    try list.collect(to: target, try rowsOf(target, in: rows, at: range), env)
    var t = Table(columns: columns, rows: list.rows)
    t.decorations.notes.append("\(formatNumber(Double(t.rows.count))) row\(t.rows.count == 1 ? " refers" : "s refer") to these rows of \(target.name)")
    return .table(t)
}

/// The rows that refer to some rows of a collection, one line per row and row referred
/// to, in the columns `describe` and `referrers` show (Checker.referrerListShape).
struct ReferrerList {
    let kb: KnowledgeBase
    /// Whether the lines say which row they refer to (`referrers`; `describe` has one).
    let withTarget: Bool
    private(set) var rows: [[Value]] = []
    /// A row that refers to one row in two ways (the actor of an event and its source) is
    /// one line with both roles: the line of each (collection, row, row referred to).
    private var listed: [String: [Int64: Int]] = [:]
    private var roles: [[String]] = []
    /// Rows not to list: those listed already (for any row referred to), and the row
    /// described; `describe` sets it before it lists what refers to a whole.
    var skip: (listed: Bool, row: (KBCollection, Int)?) = (false, nil)

    init(kb: KnowledgeBase, withTarget: Bool) {
        self.kb = kb
        self.withTarget = withTarget
    }

    /// Whether row `r` of `c` is listed already (for any row referred to).
    func contains(_ c: KBCollection, _ r: Int) -> Bool {
        listed[c.name]?.keys.contains { $0 >> 32 == Int64(r) } ?? false
    }

    /// Lists row `r` of `c`, which refers to row `targetRow` (shown as `target`).
    mutating func add(_ c: KBCollection, _ r: Int, role: String, to targetRow: Int, _ target: String) {
        let key = Int64(r) << 32 | Int64(UInt32(truncatingIfNeeded: targetRow))
        if let (sc, sr) = skip.row, sc === c, sr == r { return }
        if skip.listed, listed[c.name]?[key] == nil, contains(c, r) { return }
        if let i = listed[c.name]?[key] {
            if !roles[i].contains(role) {
                roles[i].append(role)
                rows[i][withTarget ? 3 : 2] = .string(roles[i].joined(separator: ", "))
            }
            return
        }
        listed[c.name, default: [:]][key] = rows.count
        roles.append([role])
        var what = rowSummary(c, r, kb)
        if let m = c.measure, let v = c.value(row: r, field: m, in: kb) {
            if v.isNull {
                what += " — no value given"
            } else if !what.contains(v.text) {
                what += " — \(v.text)"
            }
        }
        let source = c.value(row: r, field: "source", in: kb).map { $0.isNull ? Value.null : .string($0.text) } ?? .null
        let hedge = c.field("hedge")?.type == .hedge ? (c.value(row: r, field: "hedge", in: kb) ?? .null) : .null
        var sentence = c.value(row: r, field: "sentence", in: kb) ?? .null
        if case .ref(let ref) = sentence, ref.collection != "sentences" { sentence = .null }
        let id = c.key.flatMap { c.value(row: r, field: $0, in: kb) }?.text ?? String(r + 1)
        var line: [Value] = [.string(c.name), .string(id)]
        if withTarget { line.append(.string(target)) }
        line += [.string(role), .string(what), source, hedge, sentence,
                 rowProvenance(c, r, kb).map { .list($0.fields.map(Value.string)) } ?? .null]
        rows.append(line)
    }

    /// Lists the rows that refer to the `wanted` rows of `target` (its own rows too, all
    /// but a wanted row itself), then the rows of other collections that refer to those in
    /// turn: the claims whose source is a person's row in `sources` are what that person
    /// said. What refers to a row of `target` found on the way is its own story, and rows
    /// that refer to a sentence lead nowhere. `role` makes each line's role (the field's
    /// name by default).
    mutating func collect(to target: KBCollection, _ wanted: [Bool], _ env: Env, role: (String) -> String = { $0 }) throws(Diagnostic) {
        let kb = self.kb
        func display(_ r: Int) -> String { target.rowRef(r, kb: kb).display }
        // Rows found that lead on, by collection, with the rows of `target` each refers to (a
        // source stands for its entity); never what refers to a sentence: the rows read from
        // it are no stand-in for it.
        var found: [String: [Int32: [Int]]] = [:]
        let leadsOn = !(target.field("text") != nil && target.field("paragraph") != nil)
        for c in kb.collections {
            let fields = refFields(c, to: target.name)
            guard !fields.isEmpty else { continue }
            try env.tick(c.count)
            for r in 0..<c.count {
                for (fi, f) in fields {
                    guard case .ref(let refs) = c.columns[fi] else { continue }
                    let t = Int(refs[r])
                    guard t >= 0, t < wanted.count, wanted[t], !(c === target && (t == r || wanted[r])) else { continue }
                    add(c, r, role: role(f.name), to: t, display(t))
                    if leadsOn { found[c.name, default: [:]][Int32(r), default: []].append(t) }
                }
            }
        }
        found[target.name] = nil
        for c in kb.collections where c !== target {
            let fields = found.keys.sorted().flatMap { name in refFields(c, to: name).map { (name, $0.0, $0.1) } }
            guard !fields.isEmpty else { continue }
            try env.tick(c.count)
            for r in 0..<c.count {
                for (name, fi, f) in fields {
                    guard case .ref(let refs) = c.columns[fi], let targets = found[name]?[refs[r]] else { continue }
                    // A row that refers to itself (a cycle of one) reaches the rows only
                    // through what it already is: it is no second way of referring.
                    if name == c.name && refs[r] == Int32(r) { continue }
                    for t in targets { add(c, r, role: role(f.name), to: t, display(t)) }
                }
            }
        }
    }

    /// The fields of `c` that refer to rows of `target`.
    func refFields(_ c: KBCollection, to target: String) -> [(Int, Field)] {
        c.fields.enumerated().filter { if case .ref(let t) = $0.element.type { return t == target }; return false }
    }
}
