import KBQ

// The language features, each a request answered from one ``DocumentAnalysis``.

/// LSP's CompletionItemKind values kbq uses.
enum CompletionKind: Int {
    case function = 3, field = 5, variable = 6, `class` = 7, keyword = 14, value = 12
}

extension LanguageServer {
    // MARK: - Completion

    func completion(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        let cursor = try offset(doc, params["position"])
        // Nothing is offered on a dot-command line.
        if doc.pieces.contains(where: { $0.kind == .dotCommand && $0.range.start <= cursor && cursor < $0.range.end }) {
            return .make([("isIncomplete", .bool(false)), ("items", .array([]))])
        }
        let session = doc.completionSession(at: cursor)
        let (from, candidates) = Completion.candidates(for: doc.queryText, cursor: cursor, session: session)
        let collection = doc.statement(at: cursor).flatMap(doc.collection) ?? doc.collectionTyped(before: cursor)
        let edit = SourceRange(from, cursor)
        let items: [JSON] = candidates.prefix(Completion.maxValues).map { c in
            let (kind, detail) = describe(candidate: c, session: session, collection: collection)
            return .make([
                ("label", .string(c)),
                ("kind", .number(Double(kind.rawValue))),
                ("detail", detail.map { .string($0) }),
                ("textEdit", .make([("range", doc.index.json(edit)), ("newText", .string(c))])),
                ("filterText", .string(c)),
            ])
        }
        return .make([("isIncomplete", .bool(false)), ("items", .array(items))])
    }

    /// What a completion candidate is, and its type where it has one.
    func describe(candidate c: String, session: Session, collection: KBCollection?) -> (CompletionKind, String?) {
        let kb = session.kb
        if c.hasPrefix("\"") || c.hasPrefix("'") { return (.value, "string value") }
        if c.hasSuffix("(") || c.hasSuffix("()") {
            let name = String(c.prefix { $0 != "(" })
            return (.function, "function \(name)(…)")
        }
        if c.contains(" ") || Keyword(rawValue: c) != nil || ["offset", "["].contains(c) { return (.keyword, "keyword") }
        if let target = kb.collection(c) { return (.class, "collection · \(target.count) rows") }
        if session.letNames.contains(c) { return (.variable, "let name") }
        let name = c.hasPrefix("`") && c.hasSuffix("`") && c.count >= 2 ? String(c.dropFirst().dropLast()) : c
        if let f = collection?.field(name) { return (.field, "\(f.type) · \(collection?.name ?? "")") }
        // A field of a collection reached through a reference (`source.name`).
        for other in kb.collections {
            if let f = other.field(name) { return (.field, "\(f.type) · \(other.name)") }
        }
        return (.field, nil)
    }

    // MARK: - Hover

    func hover(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        let at = try offset(doc, params["position"])
        guard let i = doc.tokenIndex(at: at) else { return .null }
        let token = doc.tokens[i]
        guard let markdown = hoverText(doc, i) else { return .null }
        return .make([("contents", .make([("kind", .string("markdown")), ("value", .string(markdown))])),
                      ("range", doc.index.json(token.range))])
    }

    func hoverText(_ doc: DocumentAnalysis, _ i: Int) -> String? {
        let token = doc.tokens[i]
        let kb = doc.kb(at: token.range.start)
        let statement = doc.statement(at: token.range.start)
        let collection = statement.flatMap(doc.collection)
        let next = i + 1 < doc.tokens.count ? doc.tokens[i + 1].kind : .end
        let previous = i > 0 ? doc.tokens[i - 1].kind : .end
        switch token.kind {
        case .keyword(let k):
            if let topic = HelpTopic.all.first(where: { $0.names.contains(k.rawValue) }) {
                return "```kbq\n\(topic.syntax)\n```\n\(topic.text)"
            }
            if let hedge = hedgeText(kb, k.rawValue) { return hedge }
            return "`\(k.rawValue)`: a keyword of kbq"
        case .identifier(let name):
            if case .symbol("(") = next { return functionText(name) }
            if let b = doc.letBinding(at: token.range.start) ?? doc.letBinding(named: name, before: token.range.start), isSource(doc, i) || b.nameRange == token.range {
                return "```kbq\n\(doc.text(b.statement.range))\n```\n`\(name)` is a `let` name: the rows of this query."
            }
            if isSource(doc, i), let c = kb.collection(name) { return collectionText(c) }
            if case .symbol(".") = previous, let owner = pathOwner(doc, i, collection: collection, kb: kb), let f = owner.field(name) {
                return fieldText(f, in: owner)
            }
            if let c = collection, let f = c.field(name) { return fieldText(f, in: c) }
            if let hedge = hedgeText(kb, name) { return hedge }
            if let c = kb.collection(name) { return collectionText(c) }
            return nil
        case .string(let s):
            if case .keyword(.describe) = previous { return entityText(kb, s) }
            return hedgeText(kb, s)
        case .parameter(let p):
            return "`$\(p)`: a parameter, bound when the query runs (`kbq --param \(p)=VALUE`)"
        default:
            return nil
        }
    }

    /// Whether token `i` is the name a query starts from.
    func isSource(_ doc: DocumentAnalysis, _ i: Int) -> Bool {
        doc.sourceNameStarts.contains(doc.tokens[i].range.start)
    }

    /// The collection whose field the path step at token `i` (after a `.`) names.
    func pathOwner(_ doc: DocumentAnalysis, _ i: Int, collection: KBCollection?, kb: KnowledgeBase) -> KBCollection? {
        var steps: [String] = []
        var j = i - 1
        while j >= 1, case .symbol(".") = doc.tokens[j].kind, case .identifier(let n) = doc.tokens[j - 1].kind {
            steps.insert(n, at: 0)
            j -= 2
        }
        guard var c = collection else { return nil }
        for s in steps {
            guard case .ref(let target)? = c.field(s)?.type, let next = kb.collection(target) else { return nil }
            c = next
        }
        return c
    }

    func collectionText(_ c: KBCollection) -> String {
        var out = "**\(c.name)**: a collection of \(formatNumber(Double(c.count))) rows"
        if let key = c.key { out += ", key `\(key)`" }
        if let m = c.measure { out += ", measure `\(m)`" }
        out += "\n\n" + c.fields.map { "- `\($0.name)`: \($0.type)" }.joined(separator: "\n")
        return out
    }

    func fieldText(_ f: Field, in c: KBCollection) -> String {
        var out = "`\(f.name)`: **\(f.type)**, a field of `\(c.name)`"
        if case .ref(let target) = f.type { out += " (a reference to a row of `\(target)`: follow it with `\(f.name).FIELD`)" }
        if c.measure == f.name { out += "; the collection's measure" }
        if c.key == f.name { out += "; its key" }
        return out
    }

    /// A hedge word's place on the KB's scale, strongest first.
    func hedgeText(_ kb: KnowledgeBase, _ word: String) -> String? {
        guard let rank = kb.hedges.rank(of: word) else { return nil }
        let words = kb.hedges.words
        let scale = words.enumerated().map { $0.offset == rank ? "**\($0.element)**" : $0.element }.joined(separator: " > ")
        let canonical = words.indices.contains(rank) ? words[rank] : word
        return "hedge `\(canonical)`: \(ordinal(rank + 1)) of \(words.count) on the scale, strongest first\n\n\(scale)"
    }

    func ordinal(_ n: Int) -> String {
        switch n { case 1: return "1st"; case 2: return "2nd"; case 3: return "3rd"; default: return "\(n)th" }
    }

    /// A function's signature and what it does, from the help the REPL shows.
    func functionText(_ name: String) -> String? {
        let lower = name.lowercased()
        guard let topic = HelpTopic.all.first(where: { $0.names.contains("functions") }), topic.text.contains(lower) || ["count", "sum", "avg", "min", "max", "spread"].contains(lower) else {
            return "`\(name)`: not a function of kbq"
        }
        if ["count", "sum", "avg", "min", "max", "spread"].contains(lower),
           let agg = HelpTopic.all.first(where: { $0.names.contains("aggregate") }) {
            return "`\(lower)(…)`: an aggregate\n```kbq\n\(agg.syntax)\n```\n\(agg.text)"
        }
        return "`\(lower)(…)`: a function of kbq\n\n\(topic.text)"
    }

    /// An entity's name, kind and aliases, found as `describe` finds it.
    func entityText(_ kb: KnowledgeBase, _ name: String) -> String? {
        guard let entities = kb.collection("entities") else { return nil }
        let fields = entities.fields.map(\.name)
        let wanted = ["name", "kind", "aliases", "description"].filter { fields.contains($0) }
        guard fields.contains("name") else { return nil }
        let condition = "lower(name) = lower($n)" + (fields.contains("aliases") ? " or aliases contains $n" : "")
        guard let q = try? PreparedQuery("entities where \(condition) select \(wanted.joined(separator: ", ")) limit 1", kb: kb),
              let table = try? q.run(parameters: ["n": .string(name)], limits: .untrusted),
              let row = table.rows.first else {
            return "`\"\(name)\"`: no entity has this name or alias"
        }
        var out = ""
        for (column, value) in zip(table.columns, row) where !value.isNull {
            out += "- \(column.name): \(value.text)\n"
        }
        return "**entity**\n\n" + out
    }

    // MARK: - Definitions, references, symbols

    func definition(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        let at = try offset(doc, params["position"])
        guard let i = doc.tokenIndex(at: at), case .identifier(let name) = doc.tokens[i].kind,
              let b = doc.letBinding(at: at) ?? (isSource(doc, i) ? doc.letBinding(named: name, before: at) : nil) else { return .null }
        return .make([("uri", .string(doc.uri)), ("range", doc.index.json(b.nameRange))])
    }

    func references(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        let at = try offset(doc, params["position"])
        guard let i = doc.tokenIndex(at: at), case .identifier(let name) = doc.tokens[i].kind,
              let b = doc.letBinding(at: at) ?? (isSource(doc, i) ? doc.letBinding(named: name, before: at) : nil) else { return .array([]) }
        let withDeclaration = params["context"]?["includeDeclaration"]?.bool ?? true
        let ranges = (withDeclaration ? [b.nameRange] : []) + b.references
        return .array(ranges.map { .make([("uri", .string(doc.uri)), ("range", doc.index.json($0))]) })
    }

    func symbols(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        return .array(doc.statements.map { st in
            let name: String, kind: Int, selection: SourceRange
            switch st.kind {
            case .let(let n, _): name = n.text; kind = 13; selection = n.range
            default:
                var first = doc.text(st.range).prefix { $0 != "\n" }
                if first.count > 60 { first = first.prefix(59) + "…" }
                name = String(first); kind = 12; selection = st.range
            }
            return .make([("name", .string(name)), ("kind", .number(Double(kind))),
                          ("range", doc.index.json(st.range)), ("selectionRange", doc.index.json(selection))])
        })
    }

    // MARK: - Formatting and quick fixes

    func formatting(_ params: JSON, range: Bool) throws(ResponseError) -> JSON {
        let doc = try document(params)
        let width = max(40, min(200, params["options"]?["kbq.width"]?.int ?? Formatter.defaultWidth))
        var selection: SourceRange?
        if range {
            guard let r = params["range"] else { throw ResponseError.invalidParams("range is missing") }
            let from = try offset(doc, r["start"]), to = try offset(doc, r["end"])
            selection = SourceRange(min(from, to), max(from, to))
        }
        do throws(Diagnostics) {
            if let selection {
                guard let (replace, text) = try Formatter.format(doc.text, range: selection, width: width),
                      doc.text(replace) != text else { return .array([]) }
                return .array([.make([("range", doc.index.json(replace)), ("newText", .string(text))])])
            }
            let formatted = try Formatter.format(doc.text, width: width)
            if formatted == doc.text { return .array([]) }
            return .array([.make([("range", doc.index.json(SourceRange(0, doc.index.bytes.count))), ("newText", .string(formatted))])])
        } catch {
            let first = error.items.first.map { d in
                let p = doc.index.position(d.range?.start ?? 0)
                return "\(p.line + 1):\(p.character + 1): \(d.message)"
            } ?? "it does not parse"
            throw ResponseError(code: -32803, message: "the document is not formatted: \(first)")
        }
    }

    func codeActions(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        guard let r = params["range"] else { throw .invalidParams("range is missing") }
        let from = try offset(doc, r["start"]), to = try offset(doc, r["end"])
        var actions: [JSON] = []
        for p in doc.problems {
            let d = p.diagnostic
            guard let s = d.suggestion, let range = d.range, range.start <= max(from, to), range.end >= min(from, to) else { continue }
            // Only a word or a string is replaced: a suggestion for a longer span is advice.
            let old = doc.text(range)
            guard !old.isEmpty, !old.contains(" ") || old.hasPrefix("\"") || old.hasPrefix("."), !old.contains("\n") else { continue }
            let diagnostic = JSON.make([("range", doc.index.json(range)), ("severity", .number(Double(p.severity))),
                                        ("code", .string(d.kind.rawValue)), ("source", .string("kbq")), ("message", .string(d.message))])
            let edit = JSON.make([("changes", .make([(doc.uri, .array([.make([("range", doc.index.json(range)), ("newText", .string(s))])]))]))])
            actions.append(.make([("title", .string("Replace '\(old)' with '\(s)'")), ("kind", .string("quickfix")),
                                  ("diagnostics", .array([diagnostic])), ("isPreferred", .bool(true)), ("edit", edit)]))
        }
        return .array(actions)
    }

    // MARK: - Semantic tokens

    func semanticTokens(_ params: JSON) throws(ResponseError) -> JSON {
        let doc = try document(params)
        var spans: [(range: SourceRange, type: Int, modifiers: Int)] = []
        let types = Dictionary(uniqueKeysWithValues: LanguageServer.tokenTypes.enumerated().map { ($1, $0) })
        func type(_ name: String) -> Int { types[name] ?? 0 }
        let bytes = doc.index.bytes
        var previousEnd = 0
        let tokens = doc.tokens
        // The collection of each statement a hedge word is in, worked out once per statement.
        var owners: [Int: KBCollection?] = [:]
        func isField(_ name: String, at offset: Int) -> Bool {
            guard let st = doc.statement(at: offset) else { return false }
            if owners[st.range.start] == nil { owners[st.range.start] = .some(doc.collection(of: st)) }
            return owners[st.range.start]??.field(name) != nil
        }
        for (i, t) in tokens.enumerated() {
            // A comment is in the gap before a token.
            var p = previousEnd
            while p < t.range.start, p < bytes.count, bytes[p] != UInt8(ascii: "#") { p += 1 }
            if p < t.range.start { spans.append((SourceRange(p, t.range.start), type("comment"), 0)) }
            previousEnd = t.range.end
            let next = i + 1 < tokens.count ? tokens[i + 1].kind : .end
            switch t.kind {
            case .keyword(let k):
                spans.append((t.range, k == .true || k == .false || k == .null ? type("number") : type("keyword"), 0))
            case .identifier(let name):
                if case .symbol("(") = next { spans.append((t.range, type("function"), 0)); continue }
                if let role = doc.letNameRoles[t.range.start] {
                    spans.append((t.range, type("variable"), role ? 1 : 0))
                } else if isSource(doc, i) {
                    spans.append((t.range, type("class"), 0))
                } else if doc.kb(at: t.range.start).hedges.rank(of: name) != nil, !isField(name, at: t.range.start) {
                    spans.append((t.range, type("enumMember"), 0))
                } else {
                    spans.append((t.range, type("property"), 0))
                }
            case .string: spans.append((t.range, type("string"), 0))
            case .number, .percent, .date: spans.append((t.range, type("number"), 0))
            case .parameter: spans.append((t.range, type("parameter"), 0))
            case .symbol(let s) where !["(", ")", "[", "]", ",", ".", ";"].contains(s):
                spans.append((t.range, type("operator"), 0))
            default: break
            }
        }
        for piece in doc.pieces where piece.kind == .dotCommand {
            var end = piece.range.end
            while end > piece.range.start, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
            spans.append((SourceRange(piece.range.start, end), type("macro"), 0))
        }
        spans.sort { $0.range.start < $1.range.start }
        var data: [JSON] = []
        var lastLine = 0, lastCharacter = 0
        for s in spans {
            let start = doc.index.position(s.range.start), end = doc.index.position(s.range.end)
            // LSP tokens stay on one line: a string that spans lines is left plain.
            guard start.line == end.line, end.character > start.character else { continue }
            let deltaLine = start.line - lastLine
            let deltaCharacter = deltaLine == 0 ? start.character - lastCharacter : start.character
            data += [deltaLine, deltaCharacter, end.character - start.character, s.type, s.modifiers].map { .number(Double($0)) }
            lastLine = start.line
            lastCharacter = start.character
        }
        return .make([("data", .array(data))])
    }


}

extension DocumentAnalysis {
    /// The collection of the statement being typed at `offset`, which may not parse yet:
    /// the name after the last line break that ends a statement (a line that starts with a
    /// clause keyword or `|` continues the one above).
    func collectionTyped(before offset: Int) -> KBCollection? {
        var start = 0
        for (i, t) in tokens.enumerated() where t.range.start < offset {
            guard case .newline = t.kind else { continue }
            var j = i + 1
            while j < tokens.count, case .newline = tokens[j].kind { j += 1 }
            if j < tokens.count {
                if case .keyword(let k) = tokens[j].kind, Keyword.clauseStarts.contains(k) { continue }
                if case .symbol("|") = tokens[j].kind { continue }
            }
            start = j
        }
        var k = start
        if k < tokens.count, case .keyword(.explain) = tokens[k].kind { k += 1 }
        if k < tokens.count, case .keyword(.let) = tokens[k].kind { k += 3 }
        guard k < tokens.count, tokens[k].range.end < offset, case .identifier(let name) = tokens[k].kind else { return nil }
        if let c = kb(at: offset).collection(name) { return c }
        return letBinding(named: name, before: offset).flatMap { collection(of: $0.statement) }
    }
}
