@testable import KBQ

/// Reads the article KB against the article, row by row: every field a row claims is in
/// its sentence (the names of the entities and sources it refers to, its dates, numbers,
/// qualifier and hedge word), or the row lists the field in `inferred` and says why.
/// Also: every entity is referred to, every sentence backs a fact or is framing, every
/// alias and name is the article's or marked, every recommendation is its bullet.
///
/// It reads the KB document itself (not the loaded KB) so that a problem names the row by
/// its JSON path, as the loader does; the article is the KB's own sentences, which
/// ArticleKBTests proves equal to article.txt.
struct ArticleFidelityCheck {
    /// Sentences that assert nothing of their own: they may back no fact.
    static let framing: Set<String> = ["p2.3"]
    /// The collections whose rows are facts (a sentence not framing backs one of them).
    static let factCollections = ["events", "estimates", "claims", "relations", "recommendations"]
    /// The words of the article that give each hedge. `stated` needs none: a plain
    /// sentence states. `confirmed` needs a confirming word, which this article never uses.
    static let hedgeCues: [String: [String]] = [
        "confirmed": ["confirm"],
        "reportedly": ["reportedly", "reported"],
        "by some estimates": ["by some estimates"],
        "likely": ["likely", "may", "could", "suggest", "would", "potential"],
        "claimed": ["claim", "accused"],
        "unknown": ["unknown"],
    ]
    /// Words that weaken a sentence: a row whose own text uses one is not `stated` or
    /// `confirmed`.
    static let weakening = ["likely", "may", "could", "suggest", "reportedly", "claim", "unknown", "by some estimates"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    let doc: JSON
    var problems: [String] = []
    var sentences: [String: String] = [:]
    var article = ""
    var entityNames: [String: [String]] = [:]
    /// The article and its sentences are folded once, not once per name looked for.
    let folded = FoldedTexts()
    var sourceNames: [String: [String]] = [:]

    init(json: String) throws(JSONSyntaxError) {
        doc = try JSONParser.parse(Array(json.utf8))
        var paragraphs: [[String]] = []
        for r in rows("sentences") {
            guard let id = r["id"]?.string, let text = r["text"]?.string, let p = r["paragraph"]?.number else { continue }
            sentences[id] = text
            let i = Int(p)
            while paragraphs.count < i { paragraphs.append([]) }
            if i >= 1 { paragraphs[i - 1].append(text) }
        }
        article = paragraphs.map { $0.joined(separator: " ") }.joined(separator: "\n")
        for r in rows("entities") {
            guard let id = r["id"]?.string else { continue }
            entityNames[id] = [r["name"]?.string].compactMap { $0 } + (r["aliases"]?.strings ?? [])
        }
        for r in rows("sources") {
            guard let id = r["id"]?.string else { continue }
            sourceNames[id] = [r["name"]?.string].compactMap { $0 } + (r["aliases"]?.strings ?? [])
        }
    }

    func rows(_ collection: String) -> [JSON] {
        if case .array(let a)? = doc["collections"]?[collection]?["rows"] { return a }
        return []
    }

    func fields(_ collection: String) -> [(String, JSON)] {
        if case .object(let m)? = doc["collections"]?[collection]?["fields"] { return m }
        return []
    }

    var collectionNames: [String] {
        if case .object(let m)? = doc["collections"] { return m.map(\.0) }
        return []
    }

    mutating func run() -> [String] {
        for c in collectionNames where c != "sentences" { checkRows(c) }
        checkEveryEntityIsReferred()
        checkEverySentenceBacksAFact()
        checkRecommendationsAreTheirBullets()
        return problems
    }

    mutating func problem(_ c: String, _ r: Int, _ row: JSON, _ field: String, _ message: String) {
        problems.append("$.collections.\(c).rows[\(r)].\(field) (\(row["id"]?.string ?? "?")): \(message)")
    }

    mutating func checkRows(_ c: String) {
        let decl = fields(c)
        for (r, row) in rows(c).enumerated() {
            let inferred = Set(row["inferred"]?.strings ?? [])
            let reason = row["reason"]?.string ?? ""
            if !inferred.isEmpty && reason.trimmingSpaces.isEmpty { problem(c, r, row, "reason", "fields are inferred with no reason") }
            // A fact's words are in its sentence; an entity's or a source's name in the
            // sentence of its first mention; the document's in the article as a whole.
            // (An entity's or a source's description and kind sum up the whole article.)
            let sentenceID = row["sentence"]?.string
            let text: String
            if let s = sentenceID {
                guard let t = sentences[s] else { problem(c, r, row, "sentence", "no sentence \(s)"); continue }
                text = t
            } else {
                text = article
            }
            for (name, type) in decl where !["id", "inferred", "reason", "basis", "sentence", "document"].contains(name) {
                guard let v = row[name], !v.isNull, !inferred.contains(name) else { continue }
                let whole = (c == "entities" || c == "sources") && type.string == "string"
                if let why = unsupported(c, name, type, v, row: row, in: whole ? article : text) {
                    problem(c, r, row, name, why + " (\(whole ? "the article" : sentenceID ?? "the article")), and '\(name)' is not in inferred")
                }
            }
            if c == "entities" { checkEntity(r, row, inferred: inferred, reason: reason) }
            if let hedge = row["hedge"]?.string, hedge == "stated" || hedge == "confirmed", let own = row["text"]?.string ?? row["description"]?.string {
                for w in Self.weakening where occurs(w, in: own, prefix: true) {
                    problem(c, r, row, "hedge", "'\(hedge)', but the row's own text says '\(w)'")
                }
            }
        }
    }

    /// Why value `v` of field `name` is not backed by `text`, or nil when it is.
    func unsupported(_ c: String, _ name: String, _ type: JSON, _ v: JSON, row: JSON, in text: String) -> String? {
        if case .object = type, let target = type["ref"]?.string {
            guard let key = v.string else { return nil }
            if target == "sources" && key == "article" { return nil }
            let names = (target == "entities" ? entityNames[key] : target == "sources" ? sourceNames[key] : nil) ?? []
            if target == "entities" || target == "sources" {
                return names.contains { occurs($0, in: text) } ? nil : "no name of \(target) '\(key)' (\(names.prefix(3).joined(separator: ", "))) is in the sentence"
            }
            return nil
        }
        if let t = type.string {
            switch t {
            case "date": return dateUnsupported(v, text)
            case "hedge":
                guard let h = v.string, let cues = Self.hedgeCues[h] else { return nil }
                return cues.contains { occurs($0, in: text, prefix: true) } ? nil : "hedge '\(h)' needs one of \(cues.joined(separator: ", "))"
            case "string":
                guard let s = v.string else { return nil }
                if name == "qualifier" { return occurs(s, in: text) ? nil : "qualifier '\(s)' is not in the sentence" }
                for n in numbers(in: s) where !occurs(n, in: text) { return "the number \(n) is not in the sentence" }
                return nil
            default: return nil
            }
        }
        if case .object = type, type["qualifier"] != nil, let n = v.number {
            return numberForms(n).contains { occurs($0, in: text) } ? nil : "the value \(formatNumber(n)) is not in the sentence"
        }
        return nil
    }

    func dateUnsupported(_ v: JSON, _ text: String) -> String? {
        switch v {
        case .string(let s):
            let parts = s.split(separator: "-").map(String.init)
            var want = [parts[0]]
            if parts.count > 1, let m = Int(parts[1]), (1...12).contains(m) { want.append(Self.months[m - 1]) }
            if parts.count > 2, let d = Int(parts[2]) { want.append(String(d)) }
            for w in want where !occurs(w, in: text) { return "the date \(s) says '\(w)'" }
            return nil
        case .object(let members):
            for (k, m) in members {
                switch k {
                case "after", "before":
                    if !occurs(k, in: text) { return "the date says '\(k)'" }
                    if let why = dateUnsupported(m, text) { return why }
                case "by":
                    if let unit = m.string, !occurs(unit, in: text) { return "the date says '\(unit)'" }
                default:
                    if let why = dateUnsupported(m, text) { return why }
                }
            }
            return nil
        default: return nil
        }
    }

    /// The ways the article may write `n`: 16,500 or 16500, 76.6, "three million".
    func numberForms(_ n: Double) -> [String] {
        var forms = [formatNumber(n), String(formatNumber(n).filter { $0 != "," })]
        let words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
        if n >= 1_000_000, n.truncatingRemainder(dividingBy: 1_000_000) == 0, let w = words[safe: Int(n / 1_000_000) - 1] { forms.append(w + " million") }
        return forms
    }

    /// The numbers written in digits in `s` ("16,500", "2024", "76.6").
    func numbers(in s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        for ch in s + " " {
            if ch.isNumber || (!cur.isEmpty && (ch == "," || ch == ".")) { cur.append(ch); continue }
            while let l = cur.last, l == "," || l == "." { cur.removeLast() }
            if !cur.isEmpty { out.append(cur) }
            cur = ""
        }
        return out
    }

    mutating func checkEntity(_ r: Int, _ row: JSON, inferred: Set<String>, reason: String) {
        let c = "entities"
        let names = [row["name"]?.string].compactMap { $0 } + (row["aliases"]?.strings ?? [])
        if let s = row["sentence"]?.string, let text = sentences[s], !inferred.contains("sentence"), !names.contains(where: { occurs($0, in: text) }) {
            problem(c, r, row, "sentence", "no name or alias of the entity is in \(s), its first mention")
        }
        if let name = row["name"]?.string, !occurs(name, in: article), !inferred.contains("name") {
            problem(c, r, row, "name", "'\(name)' is not in the article, and 'name' is not in inferred")
        }
        for a in row["aliases"]?.strings ?? [] where !occurs(a, in: article) {
            if !inferred.contains("aliases") || !reason.contains("\"\(a)\"") {
                problem(c, r, row, "aliases", "'\(a)' is not in the article: list 'aliases' in inferred and quote it in the reason")
            }
        }
    }

    mutating func checkEveryEntityIsReferred() {
        var referred = Set<String>()
        for c in collectionNames where c != "entities" {
            let refs = fields(c).filter { $0.1["ref"]?.string == "entities" }.map(\.0)
            for row in rows(c) { for f in refs { if let k = row[f]?.string { referred.insert(k) } } }
        }
        for (r, row) in rows("entities").enumerated() {
            if let id = row["id"]?.string, !referred.contains(id) { problem("entities", r, row, "id", "no row of another collection refers to it") }
        }
    }

    mutating func checkEverySentenceBacksAFact() {
        var backed = Set<String>()
        for c in Self.factCollections { for row in rows(c) { if let s = row["sentence"]?.string { backed.insert(s) } } }
        for (r, row) in rows("sentences").enumerated() {
            guard let id = row["id"]?.string else { continue }
            if backed.contains(id) && Self.framing.contains(id) { problem("sentences", r, row, "id", "listed as framing but backs a fact") }
            if !backed.contains(id) && !Self.framing.contains(id) { problem("sentences", r, row, "id", "backs no fact and is not listed as framing") }
        }
    }

    mutating func checkRecommendationsAreTheirBullets() {
        for (r, row) in rows("recommendations").enumerated() {
            guard let s = row["sentence"]?.string, let sentence = sentences[s], let title = row["title"]?.string, let text = row["text"]?.string else { continue }
            if "- \(title): \(text)" != sentence { problem("recommendations", r, row, "text", "is not the bullet of \(s)") }
        }
    }

    /// Whether `needle` occurs in `hay` as whole words (any case, straight or curly quote
    /// marks alike); with `prefix`, as the start of a word ("claim" in "claims").
    func occurs(_ needle: String, in hay: String, prefix: Bool = false) -> Bool {
        let n = Array(foldingQuoteMarks(needle).lowercased().unicodeScalars), h = folded.of(hay)
        guard let first = n.first, h.count >= n.count else { return false }
        func isWord(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c.properties.numericType != nil }
        var i = 0
        while i + n.count <= h.count {
            defer { i += 1 }
            guard h[i] == first else { continue }
            var j = 1
            while j < n.count && h[i + j] == n[j] { j += 1 }
            guard j == n.count else { continue }
            let before = i == 0 || !isWord(h[i - 1]) || !isWord(first)
            let end = i + n.count
            let after = prefix || end == h.count || !isWord(h[end]) || !isWord(n[n.count - 1])
            if before && after { return true }
        }
        return false
    }
}

final class FoldedTexts {
    var texts: [String: [Unicode.Scalar]] = [:]

    func of(_ s: String) -> [Unicode.Scalar] {
        if let f = texts[s] { return f }
        let f = Array(foldingQuoteMarks(s).lowercased().unicodeScalars)
        texts[s] = f
        return f
    }
}

extension JSON {
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var number: Double? { if case .number(let n) = self { return n }; return nil }
    var isNull: Bool { if case .null = self { return true }; return false }
    var strings: [String]? {
        guard case .array(let a) = self else { return nil }
        return a.compactMap(\.string)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

extension String {
    /// The text with the first `a` replaced by `b` (tests break a KB on purpose with it).
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = range(of: a) else { return self }
        return String(self[..<r.lowerBound]) + b + String(self[r.upperBound...])
    }

    func range(of a: String) -> Range<String.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(a) { return i..<index(i, offsetBy: a.count) }
            i = index(after: i)
        }
        return nil
    }
}
