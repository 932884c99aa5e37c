/// Context-aware completion for an interactive shell: what may be typed at the cursor.
///
/// It reads the tokens before the cursor the way the parser would, finds the statement and
/// the clause the cursor is in, and offers what fits there: collection and `let` names and
/// statement keywords at the start, clause keywords after a complete clause, the fields of
/// the collection in scope (and of referenced collections after `field.`), and the string
/// values of the field being compared (`topic = "c` offers `"containers"`).
public enum Completion {
    /// The most values offered for one field.
    public static let maxValues = 1000

    /// The completions at byte offset `cursor` of `line` (the text of the whole unfinished
    /// entry, which may span several lines).
    ///
    /// - Returns: the byte offset where the text being completed starts (each candidate
    ///   replaces `line[replaceFrom..<cursor]`), and the candidates, sorted. String values
    ///   come quoted, so a candidate can replace an open string with its closing quote.
    public static func candidates(for line: String, cursor: Int, session: Session) -> (replaceFrom: Int, candidates: [String]) {
        candidates(for: line, cursor: cursor, kb: session.kb, lets: session.letShapes)
    }

    /// The completions at byte offset `cursor` of `line`, against `kb`'s schema and the `let`
    /// names `lets` binds (their rows' shapes): for a host whose rows are elsewhere, such as a
    /// KB pushed into a database, whose schema and `let` shapes ``SQLSession`` keeps. Values
    /// come from what the KB holds in memory (its dictionaries), never from reading rows.
    public static func candidates(for line: String, cursor: Int, kb: KnowledgeBase,
                                  lets: [String: RowShape]) -> (replaceFrom: Int, candidates: [String]) {
        let (from, texts, _) = complete(line, cursor: cursor, kb: kb, lets: lets)
        return (from, texts)
    }

    /// The completions at byte offset `cursor` of `line`, typed: each with its kind, the
    /// type of a field, and a one-line description, for an editor's completion list.
    public static func items(for line: String, cursor: Int, session: Session) -> (replaceFrom: Int, items: [CompletionItem]) {
        let (from, texts, offer) = complete(line, cursor: cursor, kb: session.kb, lets: session.letShapes)
        let lets = Set(session.letNames + offer.lets)
        let items = texts.map { text -> CompletionItem in
            if text.hasPrefix("\"") || text.hasPrefix("'") { return CompletionItem(text: text, kind: .value, type: nil, doc: "a value the KB holds here") }
            let bare = text.hasPrefix("`") && text.hasSuffix("`") && text.count > 1 ? String(text.dropFirst().dropLast()) : text
            if let t = offer.fields[bare] { return CompletionItem(text: text, kind: .field, type: t, doc: "field (\(t))") }
            if text.hasSuffix("(") || text.hasSuffix("()"), let f = BuiltinFunction(rawValue: String(text.prefix { $0 != "(" })) {
                return CompletionItem(text: text, kind: .function, type: nil, doc: f.signature + ": " + f.summary)
            }
            if lets.contains(bare), let columns = session.columns(ofLet: bare) ?? offer.letColumns[bare] {
                return CompletionItem(text: text, kind: .let, type: nil, doc: "let name: " + columns.map(\.name).joined(separator: ", "))
            }
            if let c = session.kb.collection(bare) {
                return CompletionItem(text: text, kind: .collection, type: nil, doc: "collection of \(c.count) rows: " + c.fields.map(\.name).joined(separator: ", "))
            }
            return CompletionItem(text: text, kind: .keyword, type: nil, doc: keywordDoc(text))
        }
        return (from, items)
    }

    /// One line on a keyword offered for completion.
    static func keywordDoc(_ word: String) -> String {
        switch word {
        case "where": return "keeps the rows for which a condition holds"
        case "select": return "chooses and computes the columns"
        case "sort by": return "orders the rows (asc or desc), nulls last"
        case "limit": return "keeps the first N rows"
        case "group by": return "one row per value of the keys, with aggregates"
        case "aggregate": return "folds the rows into count(), sum(x), avg(x), min(x), max(x), spread(x)"
        case "compare": return "one row per value, side by side, with the spread between them"
        case "cite": return "adds each row's supporting sentence"
        case "timeline": return "sorts by date and draws the dates"
        case "chart": return "draws a bar per row"
        case "follow": return "goes to the rows a reference points at"
        case "referrers": return "the rows that refer to these rows"
        case "let": return "names a query's rows for later statements"
        case "explain": return "shows the checked plan instead of running it"
        case "describe": return "everything about an entity, by name or alias"
        case "search": return "the article's sentences that contain the words"
        case "conflicts": return "every topic on which sources disagree"
        default: return "keyword"
        }
    }

    /// The completions, with what the context knew of their names.
    static func complete(_ line: String, cursor: Int, kb: KnowledgeBase, lets: [String: RowShape]) -> (Int, [String], CompletionOffer) {
        var bytes = Array(line.utf8)
        var cursor = min(max(0, cursor), bytes.count)
        // Never split a character.
        while cursor > 0, cursor < bytes.count, bytes[cursor] & 0xC0 == 0x80 { cursor -= 1 }
        bytes.removeLast(bytes.count - cursor)
        let prefix = String(decoding: bytes, as: UTF8.self)
        var tokens = Lexer.tokenize(prefix).tokens
        if case .end = tokens.last?.kind { tokens.removeLast() }

        let typing = Typing(tokens: &tokens, bytes: bytes, cursor: cursor)
        let context = CompletionContext(kb: kb, lets: lets, before: bytes)
        let offered = context.offer(statement: currentStatement(tokens))

        switch typing {
        case .word(let w, let start):
            var words = filter(offered.words, by: w)
            // `t` after `where` means `topic` far more often than a field of running
            // prose such as `text`: when both fit, offer the short-valued fields first,
            // and the prose field once its own name is being typed.
            let prose = context.proseFields(of: currentStatement(tokens))
            let plain = words.filter { !prose.contains($0) }
            if words.count > 1, !plain.isEmpty, plain.count < words.count { words = plain }
            return (start, words, offered)
        case .string(let content, let quote, let start):
            let quoteText = String(UnicodeScalar(quote))
            let matching = offered.values.filter { $0.lowercased().hasPrefix(content.lowercased()) }
            return (start, unique(matching.map { quoted($0, quote: quoteText) }), offered)
        case .nothing:
            return (cursor, unique(offered.words + offered.values.map { quoted($0, quote: "\"") }), offered)
        }
    }

    // MARK: - What is being typed

    /// The text at the cursor that a candidate replaces.
    enum Typing {
        /// A name or keyword, partly typed.
        case word(String, start: Int)
        /// An open string: its text so far, its quote byte, and where the quote is.
        case string(String, quote: UInt8, start: Int)
        /// Nothing: the cursor follows a space or a symbol.
        case nothing

        /// Reads the partial token at the end of `tokens` and removes it from them.
        init(tokens: inout [Token], bytes: [UInt8], cursor: Int) {
            self = .nothing
            guard let last = tokens.last, last.range.end == cursor else { return }
            switch last.kind {
            case .identifier, .keyword:
                // A backquoted name is complete once its closing quote is typed.
                if bytes[last.range.start] == UInt8(ascii: "`") { return }
                self = .word(String(decoding: bytes[last.range.start..<cursor], as: UTF8.self), start: last.range.start)
                tokens.removeLast()
            case .invalid:
                let q = bytes[last.range.start]
                guard q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") else { return }
                self = .string(String(decoding: bytes[(last.range.start + 1)..<cursor], as: UTF8.self), quote: q, start: last.range.start)
                tokens.removeLast()
            default:
                return
            }
        }
    }

    /// The tokens of the statement the cursor is in: after the last `;`, or after the last
    /// newline that ends a statement (not inside brackets, not after an operator, and not
    /// before a line that starts with a clause keyword or `|`).
    static func currentStatement(_ tokens: [Token]) -> ArraySlice<Token> {
        var start = 0
        var depth = 0
        for (i, t) in tokens.enumerated() {
            switch t.kind {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth = max(0, depth - 1)
            case .symbol(";"): start = i + 1; depth = 0
            case .newline where depth == 0:
                guard i > start, canEndStatement(tokens[i - 1]) else { continue }
                var j = i + 1
                while j < tokens.count, case .newline = tokens[j].kind { j += 1 }
                if j < tokens.count {
                    if let k = tokens[j].keyword, k.isClauseStart { continue }
                    if tokens[j].symbol == "|" { continue }
                }
                start = i + 1
            default: break
            }
        }
        return tokens[start...].drop { if case .newline = $0.kind { return true } else { return false } }
    }

    static func canEndStatement(_ t: Token) -> Bool {
        switch t.kind {
        case .identifier, .string, .number, .percent, .date, .parameter: return true
        case .symbol(let s): return s == ")" || s == "]"
        case .keyword(let k): return [.cite, .timeline, .chart, .conflicts, .referrers, .asc, .desc, .null, .true, .false].contains(k)
        default: return false
        }
    }

    // MARK: - Helpers

    static func filter(_ words: [String], by typed: String) -> [String] {
        let exact = words.filter { $0.hasPrefix(typed) }
        if !exact.isEmpty { return unique(exact) }
        let lower = typed.lowercased()
        return unique(words.filter { $0.lowercased().hasPrefix(lower) })
    }

    /// Without duplicates, in the order a person scans a list: ignoring case first.
    static func unique(_ words: [String]) -> [String] {
        Set(words).map { ($0.lowercased(), $0) }.sorted { $0 < $1 }.map(\.1)
    }

    static func quoted(_ s: String, quote: String) -> String {
        var out = quote
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if String(c) == quote { out += "\\" }
                out.unicodeScalars.append(c)
            }
        }
        return out + quote
    }

    /// A field name as a query writes it: backquoted when it is a keyword or not a plain name.
    static func nameInQuery(_ name: String) -> String {
        let plain = name.utf8.first.map { ($0 | 0x20) >= 97 && ($0 | 0x20) <= 122 || $0 == 95 } == true
            && name.utf8.allSatisfy { ($0 | 0x20) >= 97 && ($0 | 0x20) <= 122 || $0 == 95 || ($0 >= 48 && $0 <= 57) }
        return plain && Keyword(rawValue: name.lowercased()) == nil ? name : "`\(name)`"
    }
}

/// One completion, typed: what an editor shows in its list.
public struct CompletionItem: Sendable, Hashable {
    /// What an item is.
    public enum Kind: String, Sendable, Hashable {
        /// A field of the rows at the cursor (or of a referenced collection, after `.`).
        case field
        /// A collection of the KB.
        case collection
        /// A built-in function (the text ends with `(`).
        case function
        /// A keyword or clause word.
        case keyword
        /// A value the KB holds, quoted.
        case value
        /// A name a `let` bound.
        case `let`
    }
    /// The text that replaces what is typed.
    public var text: String
    /// What it is.
    public var kind: Kind
    /// A field's type.
    public var type: FieldType?
    /// One line about it.
    public var doc: String
}

/// What fits at the cursor: words (names, keywords, fields) and string values (unquoted),
/// with the types of the fields among the words and the `let` names of the text before.
struct CompletionOffer {
    var words: [String] = []
    var values: [String] = []
    var fields: [String: FieldType] = [:]
    var lets: [String] = []
    var letColumns: [String: [ResultColumn]] = [:]
}

/// The names a statement can see, and the analysis of where in it the cursor is.
struct CompletionContext {
    let kb: KnowledgeBase
    /// The `let` names bound before this entry, with their rows' shapes.
    let lets: [String: RowShape]
    /// The entry's text before the cursor (earlier statements included: a `let` there is
    /// in scope).
    let before: [UInt8]

    /// `sort by` and `group by` complete whole: `by` is all that can follow.
    // From the grammar's own lists, so a clause or statement added there is offered here.
    static let clauseWords = Keyword.clauses.map(\.written)
    static let statementWords = Keyword.statements.map(\.rawValue)
    static let afterOperand = ["and", "or", "in", "not", "contains", "matches", "between", "is"]

    /// The fields the checker says the rows have at the cursor, with their types.
    struct Scope {
        var fields: [(name: String, type: FieldType)] = []
        /// The collection whose values `distinctStrings` can list.
        var collection: KBCollection?

        func type(of name: String) -> FieldType? { fields.first { $0.name == name }?.type }
    }

    /// The scope the checker gives the rows flowing into the clause that starts at byte
    /// `clauseStart` of the statement that starts at byte `statementStart`: the text before
    /// the clause is checked (with the statements before it, whose `let`s it may use). When
    /// that text does not check, the clause before it is tried, and so on back to the source
    /// (`clauseStarts`, latest first); nil when not even the source checks.
    func checkedScope(statementStart: Int, clauseStarts: [Int]) -> Scope? {
        for end in clauseStarts where end >= statementStart && end <= before.count {
            let text = String(decoding: before[..<end], as: UTF8.self)
            let checked = check(source: text, kb: kb, lets: lets)
            guard let last = checked.statements.last, last.range.start >= statementStart,
                  !checked.diagnostics.contains(where: { ($0.range?.start ?? 0) >= statementStart }) else { continue }
            let shape = last.query.output
            return Scope(fields: shape.columns.map { ($0.name, $0.type) },
                         collection: (shape.stored ?? shape.origin).flatMap { kb.collection($0) })
        }
        return nil
    }

    /// The `let` names the statements before `statementStart` bind, with their rows' shapes,
    /// as the checker reads them.
    func letShapes(before statementStart: Int) -> [String: RowShape] {
        guard statementStart > 0, statementStart <= before.count else { return [:] }
        let checked = check(source: String(decoding: before[..<statementStart], as: UTF8.self), kb: kb, lets: lets)
        var out: [String: RowShape] = [:]
        for st in checked.statements { if case .let(let name, let q) = st.kind { out[name] = q.output } }
        return out
    }

    /// Fields of the statement's collection whose values are running text: quotes and
    /// sentences (named text, description, quote or note, or longer than 40 characters on
    /// average). People filter by them with `contains`, rarely by typing their name first.
    func proseFields(of statement: ArraySlice<Token>) -> Set<String> {
        var s = statement
        if s.first?.keyword == .explain { s = s.dropFirst() }
        if s.first?.keyword == .let, s.count >= 3 { s = s.dropFirst(3) }
        guard case .identifier(let name)? = s.first?.kind, let c = kb.collection(name) else { return [] }
        var out = Set<String>()
        for f in c.fields where f.type == .string {
            let values = kb.distinctStrings(of: c, field: f.name, limit: 200)
            if ["text", "description", "quote", "note"].contains(f.name) { out.insert(Completion.nameInQuery(f.name)); continue }
            guard !values.isEmpty else { continue }
            if values.reduce(0, { $0 + $1.count }) / values.count > 40 { out.insert(Completion.nameInQuery(f.name)) }
        }
        return out
    }

    func offer(statement: ArraySlice<Token>) -> CompletionOffer {
        var s = statement
        if s.first?.keyword == .explain { s = s.dropFirst() }
        if s.first?.keyword == .let {
            // let NAME = QUERY
            guard s.count >= 3, s[s.startIndex + 2].symbol == "=" else { return CompletionOffer() }
            s = s.dropFirst(3)
        }
        let statementStart = statement.first?.range.start ?? before.count
        guard let head = s.first else {
            let earlier = letShapes(before: statementStart)
            var words = kb.collections.map(\.name) + lets.keys.sorted() + earlier.keys.sorted()
            if statement.isEmpty { words += CompletionContext.statementWords } else if statement.first?.keyword == .explain { words += ["describe", "search", "conflicts"] }
            var offer = CompletionOffer(words: words)
            offer.lets = earlier.keys.sorted()
            offer.letColumns = earlier.mapValues(\.columns)
            return offer
        }
        let rest = s.dropFirst()
        switch head.kind {
        case .keyword(.describe):
            guard rest.isEmpty else { return CompletionOffer(words: CompletionContext.clauseWords) }
            return CompletionOffer(values: entityNames())
        case .keyword(.search):
            return rest.isEmpty ? CompletionOffer() : CompletionOffer(words: CompletionContext.clauseWords)
        case .keyword(.conflicts):
            return clauses(rest, statementStart: statementStart, source: head)
        case .identifier(let first):
            // `claims, estimates, …`: after a comma, the collections not listed yet; the
            // clauses then start after the last name.
            var rest = rest, last = head, listed = [first]
            while rest.first?.symbol == "," {
                rest = rest.dropFirst()
                guard let next = rest.first else {
                    return CompletionOffer(words: kb.collections.map(\.name).filter { !listed.contains($0) })
                }
                guard case .identifier(let name) = next.kind else { return CompletionOffer() }
                listed.append(name)
                last = next
                rest = rest.dropFirst()
            }
            return clauses(rest, statementStart: statementStart, source: last)
        default:
            return CompletionOffer()
        }
    }

    func entityNames() -> [String] {
        guard let entities = kb.collection("entities") else { return [] }
        return kb.distinctStrings(of: entities, field: "name", limit: Completion.maxValues)
            + kb.distinctStrings(of: entities, field: "aliases", limit: Completion.maxValues)
    }

    // MARK: - Clauses

    /// Finds the clause the cursor is in (the last clause keyword outside brackets) and
    /// offers what may follow what has been typed of it.
    func clauses(_ tokens: ArraySlice<Token>, statementStart: Int, source: Token) -> CompletionOffer {
        var clauseStart: Int?
        var starts: [Int] = [source.range.end]
        var depth = 0
        for i in tokens.indices {
            switch tokens[i].kind {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth = max(0, depth - 1)
            case .keyword(let k) where depth == 0 && k.isClauseStart:
                clauseStart = i
                // The rows flowing in are those of the text before the clause, without the
                // `|` that joins it: "… | where" is checked as "…", not as an error.
                var j = i - 1
                while j >= tokens.startIndex, case .newline = tokens[j].kind { j -= 1 }
                starts.append(j >= tokens.startIndex && tokens[j].symbol == "|" ? tokens[j].range.start : tokens[i].range.start)
            default: break
            }
        }
        guard let start = clauseStart, let keyword = tokens[start].keyword else {
            return CompletionOffer(words: CompletionContext.clauseWords)
        }
        // The rows flowing into this clause, as the checker sees them.
        let scope = checkedScope(statementStart: statementStart, clauseStarts: starts.reversed()) ?? Scope()
        var offer = clause(keyword, tokens, start: start, scope: scope)
        for f in scope.fields where offer.fields[f.name] == nil { offer.fields[f.name] = f.type }
        return offer
    }

    /// What may follow what has been typed of the clause that starts at `tokens[start]`.
    func clause(_ keyword: Keyword, _ tokens: ArraySlice<Token>, start: Int, scope: Scope) -> CompletionOffer {
        let body = tokens[(start + 1)...].filter { if case .newline = $0.kind { return false } else { return true } }
        let fields = scope.fields.map { Completion.nameInQuery($0.name) }
        let afterClause = CompletionContext.clauseWords

        switch keyword {
        case .where:
            var e = body[...]
            if e.first?.keyword == .maybe { e = e.dropFirst() }
            if body.isEmpty { return CompletionOffer(words: fields + ["not", "maybe"]) }
            return expression(e, scope: scope, endWords: afterClause)
        case .select:
            return items(body[...], scope: scope, itemEnd: ["as"] + afterClause)
        case .sort:
            guard body.first?.keyword == .by else { return CompletionOffer(words: ["by"]) }
            return items(body.dropFirst(), scope: scope, itemEnd: ["asc", "desc"] + afterClause)
        case .group:
            guard body.first?.keyword == .by else { return CompletionOffer(words: ["by"]) }
            return items(body.dropFirst(), scope: scope, itemEnd: ["as", "aggregate"] + afterClause)
        case .aggregate:
            let (item, _) = currentItem(body[...])
            if item.isEmpty { return CompletionOffer(words: CompletionContext.aggregates) }
            if item.contains(where: { $0.symbol == "(" }) && !item.contains(where: { $0.symbol == ")" }) {
                return expression(item.drop { $0.symbol != "(" }.dropFirst(), scope: scope, endWords: [])
            }
            return CompletionOffer(words: ["as"] + afterClause)
        case .compare, .chart, .timeline:
            if let on = body.lastIndex(where: { $0.keyword == .on }) {
                let measure = body[(on + 1)...]
                if measure.isEmpty { return CompletionOffer(words: scope.fields.filter { $0.type.isNumeric }.map { Completion.nameInQuery($0.name) }) }
                return expression(measure, scope: scope, endWords: afterClause)
            }
            if body.isEmpty { return CompletionOffer(words: fields) }
            let inner = expression(body[...], scope: scope, endWords: (keyword == .timeline ? [] : ["on"]) + afterClause)
            return inner
        case .limit:
            // limit N [offset M]: a number after each word, then the next clause.
            func isOffset(_ t: Token) -> Bool { if case .identifier(let w) = t.kind { return w.lowercased() == "offset" }; return false }
            if body.isEmpty || body.last.map(isOffset) == true { return CompletionOffer() }
            return CompletionOffer(words: (body.contains(where: isOffset) ? [] : ["offset"]) + afterClause)
        case .cite:
            return CompletionOffer(words: afterClause)
        case .follow:
            // The references of the rows: where follow can go.
            if body.isEmpty { return CompletionOffer(words: scope.fields.filter { $0.type.referenceTarget != nil }.map { Completion.nameInQuery($0.name) }) }
            return expression(body[...], scope: scope, endWords: afterClause)
        case .referrers:
            // referrers [COLLECTION[.FIELD]]: the collections, then the fields, that refer
            // to the rows in scope.
            guard let target = scope.collection?.name else { return CompletionOffer(words: afterClause) }
            func refFields(_ c: KBCollection) -> [String] { c.fields.filter { $0.type.referenceTarget == target }.map { Completion.nameInQuery($0.name) } }
            if body.isEmpty { return CompletionOffer(words: kb.collections.filter { !refFields($0).isEmpty }.map(\.name) + afterClause) }
            if body.count == 2, body.last?.symbol == ".", case .identifier(let name)? = body.first?.kind, let c = kb.collection(name) {
                return CompletionOffer(words: refFields(c))
            }
            return CompletionOffer(words: afterClause)
        default:
            return CompletionOffer(words: afterClause)
        }
    }

    static let aggregates = BuiltinFunction.allCases.filter(\.isAggregate).map { $0 == .count ? "count()" : $0.rawValue + "(" }
    /// The functions of a row (not the aggregates), offered beside the fields where a value
    /// may start in a select item or an argument.
    static let functions = BuiltinFunction.allCases.filter { !$0.isAggregate }.map { $0.rawValue + "(" }

    /// The tokens of the comma-separated item the cursor is in.
    func currentItem(_ tokens: ArraySlice<Token>) -> (item: ArraySlice<Token>, isFirst: Bool) {
        var depth = 0
        var start = tokens.startIndex
        for i in tokens.indices {
            switch tokens[i].kind {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth = max(0, depth - 1)
            case .symbol(",") where depth == 0: start = i + 1
            default: break
            }
        }
        return (tokens[start...], start == tokens.startIndex)
    }

    /// A list of `EXPR [as NAME]` items (select, sort by, group by).
    func items(_ tokens: ArraySlice<Token>, scope: Scope, itemEnd: [String]) -> CompletionOffer {
        let (item, _) = currentItem(tokens)
        if let asIndex = item.lastIndex(where: { $0.keyword == .as }) {
            // A new name is being typed after `as`; once it is there, the item is done.
            return asIndex == item.index(before: item.endIndex) ? CompletionOffer() : CompletionOffer(words: CompletionContext.clauseWords)
        }
        if item.isEmpty { return CompletionOffer(words: scope.fields.map { Completion.nameInQuery($0.name) } + CompletionContext.functions) }
        return expression(item, scope: scope, endWords: itemEnd)
    }

    // MARK: - Expressions

    /// What may follow the expression tokens typed so far.
    func expression(_ e: ArraySlice<Token>, scope: Scope, endWords: [String]) -> CompletionOffer {
        let fields = scope.fields.map { Completion.nameInQuery($0.name) }
        guard let last = e.last else { return CompletionOffer(words: fields) }
        let beforeLast = e.dropLast()

        switch last.kind {
        case .symbol("."):
            // A path through references: the fields of the referenced collection.
            guard let c = pathTarget(Array(beforeLast), scope: scope) else { return CompletionOffer() }
            var offer = CompletionOffer(words: c.fields.map { Completion.nameInQuery($0.name) })
            for f in c.fields { offer.fields[f.name] = f.type }
            return offer
        case .symbol(let op) where ["=", "!=", "<", "<=", ">", ">="].contains(op):
            guard let values = stringValues(of: Array(beforeLast), scope: scope) else { return CompletionOffer(words: fields) }
            return CompletionOffer(values: values)
        case .symbol("["):
            // `FIELD in [`: the values of FIELD.
            if let inIndex = beforeLast.last?.keyword == .in ? beforeLast.index(before: beforeLast.endIndex) : nil,
               let values = stringValues(of: Array(beforeLast[..<inIndex]), scope: scope) {
                return CompletionOffer(values: values)
            }
            return CompletionOffer()
        case .symbol(","):
            // Inside `FIELD in [a, `: more values of FIELD.
            if let open = openBracket(e), open > e.startIndex, e[e.index(before: open)].keyword == .in {
                let lhs = e[..<e.index(before: open)]
                if let values = stringValues(of: Array(lhs), scope: scope) {
                    let chosen = Set(e[open...].compactMap { t -> String? in if case .string(let s) = t.kind { return s } else { return nil } })
                    return CompletionOffer(values: values.filter { !chosen.contains($0) })
                }
            }
            return CompletionOffer(words: fields)
        case .symbol("("), .symbol("+"), .symbol("-"), .symbol("*"), .symbol("/"), .symbol("%"):
            return CompletionOffer(words: fields + CompletionContext.functions)
        case .keyword(.and), .keyword(.or):
            if isBetweenPending(beforeLast) { return CompletionOffer() }
            return CompletionOffer(words: fields + ["not"])
        case .keyword(.not):
            if beforeLast.last.map(endsOperand) == true { return CompletionOffer(words: ["in", "contains", "matches", "between"]) }
            return CompletionOffer(words: fields)
        case .keyword(.is):
            return CompletionOffer(words: ["null", "not"])
        case .keyword(.in):
            return CompletionOffer(words: ["["])
        case .keyword(.contains), .keyword(.matches), .keyword(.between):
            return CompletionOffer()
        default:
            guard endsOperand(last) else { return CompletionOffer() }
            if isBetweenPending(beforeLast) { return CompletionOffer(words: ["and"]) }
            if case .identifier = last.kind {
                // After a field: an operator, or the end of the clause.
                return CompletionOffer(words: CompletionContext.afterOperand + endWords)
            }
            return CompletionOffer(words: ["and", "or"] + endWords)
        }
    }

    func endsOperand(_ t: Token) -> Bool {
        switch t.kind {
        case .identifier, .string, .number, .percent, .date, .parameter: return true
        case .symbol(let s): return s == ")" || s == "]"
        case .keyword(let k): return k == .null || k == .true || k == .false
        default: return false
        }
    }

    /// Whether `between x` waits for its `and`.
    func isBetweenPending(_ tokens: ArraySlice<Token>) -> Bool {
        guard let b = tokens.lastIndex(where: { $0.keyword == .between }) else { return false }
        return !tokens[b...].contains { $0.keyword == .and }
    }

    /// The index of the innermost `[` still open.
    func openBracket(_ tokens: ArraySlice<Token>) -> Int? {
        var depth = 0
        for i in tokens.indices.reversed() {
            switch tokens[i].kind {
            case .symbol("]"), .symbol(")"): depth += 1
            case .symbol("("): if depth == 0 { return nil } else { depth -= 1 }
            case .symbol("["): if depth == 0 { return i } else { depth -= 1 }
            default: break
            }
        }
        return nil
    }

    /// The path at the end of `tokens` (`source . name`), as names.
    func trailingPath(_ tokens: [Token]) -> [String]? {
        var names: [String] = []
        var i = tokens.count - 1
        while i >= 0 {
            guard case .identifier(let n) = tokens[i].kind else { return nil }
            names.insert(n, at: 0)
            if i >= 1, tokens[i - 1].symbol == "." { i -= 2 } else { break }
        }
        return names.isEmpty ? nil : names
    }

    /// The collection the path `tokens` (ending before a `.`) leads to through references.
    func pathTarget(_ tokens: [Token], scope: Scope) -> KBCollection? {
        guard let path = trailingPath(tokens), let first = path.first, case .ref(let target)? = scope.type(of: first),
              var c = kb.collection(target) else { return nil }
        for step in path.dropFirst() {
            guard case .ref(let next)? = c.field(step)?.type, let n = kb.collection(next) else { return nil }
            c = n
        }
        return c
    }

    /// The string values of the field or path at the end of `tokens`, or `nil` when it is
    /// not a field whose values are text.
    func stringValues(of tokens: [Token], scope: Scope) -> [String]? {
        guard let path = trailingPath(tokens), let last = path.last else { return nil }
        var collection = scope.collection
        var type = scope.type(of: path[0])
        if path.count > 1 {
            guard let target = pathTarget(Array(tokens.dropLast(2)), scope: scope) else { return nil }
            collection = target
            type = target.field(last)?.type
        }
        guard let type, let collection else { return nil }
        switch type {
        case .string, .hedge, .ref, .list(.string?):
            return kb.distinctStrings(of: collection, field: last, limit: Completion.maxValues)
        default:
            return nil
        }
    }
}

extension String {
    /// The text as a kbq string literal: in double quotes, with the escapes the lexer reads
    /// (`\"`, `\\`, `\n`, `\t`), so that any text stays one literal. For hosts that put a
    /// user's words into a query they build (`describe`, `search`).
    public var kbqLiteral: String { Completion.quoted(self, quote: "\"") }
}
