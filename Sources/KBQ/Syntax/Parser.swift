/// Reads tokens into statements. Errors go through `expect`, so their messages are
/// uniform; after an error the parser skips to the next statement and goes on, so one run
/// reports every independent syntax error.
public struct Parser: Sendable {
    /// The deepest expression nesting accepted (brackets, `not`, unary minus).
    public static let maxDepth = 200
    /// The most items in one list literal, and in one select, group by or aggregate list.
    public static let maxListItems = 10_000

    let tokens: [Token]
    var i = 0
    var depth = 0
    /// Syntax errors found so far.
    public private(set) var diagnostics: [Diagnostic]
    /// Whether the parser ran into the end of the input while a statement still needed
    /// more (an open bracket, a trailing operator or clause keyword).
    public private(set) var needsMore = false
    var stringOpenAtEnd = false

    struct Failure: Error {}

    /// Lexes and prepares to parse `source`.
    public init(_ source: String) {
        let (tokens, lexDiagnostics) = Lexer.tokenize(source)
        self.tokens = tokens
        self.diagnostics = lexDiagnostics
        let sourceEnd = source.utf8.count
        stringOpenAtEnd = lexDiagnostics.contains { $0.message == "unterminated string" && ($0.range?.start ?? 0) < sourceEnd }
        if stringOpenAtEnd { needsMore = true }
    }

    /// Parses a whole script.
    public static func parse(_ source: String) -> (statements: [Statement], diagnostics: [Diagnostic]) {
        var p = Parser(source)
        let s = p.script()
        return (s, p.diagnostics)
    }

    /// Whether `source` is a complete script, or needs more lines (used by the REPL for its
    /// continuation prompt).
    public static func isComplete(_ source: String) -> Bool {
        var p = Parser(source)
        _ = p.script()
        return !p.needsMore
    }

    var peek: Token { tokens[min(i, tokens.count - 1)] }
    func peek(_ k: Int) -> Token { tokens[min(i + k, tokens.count - 1)] }
    mutating func advance() -> Token {
        let t = peek
        if i < tokens.count - 1 { i += 1 }
        return t
    }

    func isSymbol(_ s: String) -> Bool { peek.symbol == s }
    func isKeyword(_ k: Keyword) -> Bool { peek.keyword == k }

    mutating func fail(_ message: String, at range: SourceRange? = nil, notes: [String] = [], suggestion: String? = nil) -> Failure {
        if case .end = peek.kind { needsMore = true }
        if case .invalid = peek.kind, range == nil { return Failure() }  // the lexer already said why
        diagnostics.append(Diagnostic(.syntax, message, at: range ?? peek.range, suggestion: suggestion, notes: notes))
        return Failure()
    }

    mutating func expect(_ symbol: String, _ what: String) throws(Failure) -> Token {
        if isSymbol(symbol) { return advance() }
        throw fail("expected \(what), found \(peek.describe)")
    }

    mutating func skipNewlines() {
        while case .newline = peek.kind { i += 1 }
    }

    /// Past newlines, does the statement go on (a clause keyword or `|` starts the line)?
    mutating func continuesOnNextLine() -> Bool {
        var j = i
        while j < tokens.count, case .newline = tokens[j].kind { j += 1 }
        guard j < tokens.count else { return false }
        let t = tokens[j]
        if let k = t.keyword, k.isClauseStart { i = j; return true }
        if t.symbol == "|" { i = j; return true }
        return false
    }

    mutating func script() -> [Statement] {
        var out: [Statement] = []
        while true {
            while case .newline = peek.kind { i += 1 }
            while isSymbol(";") { i += 1; while case .newline = peek.kind { i += 1 } }
            if case .end = peek.kind { break }
            do {
                let statement = try statement()
                switch peek.kind {
                case .newline, .end: break
                case .symbol(";"): i += 1
                default:
                    // The statement is dropped: checked on its own, its head would report a
                    // second, misleading error ("where text" is no condition) for the same slip.
                    // `value > 10,000`: a thousands separator, not a list.
                    if peek.symbol == ",", i >= 1, case .number = tokens[i - 1].kind, case .number = peek(1).kind {
                        throw fail("expected the end of the statement, found ','", notes: ["numbers are written without commas: 10000 or 10_000"])
                    }
                    throw clauseExpected("expected a clause (where, select, sort by, limit, group by, compare, cite …) or the end of the statement, found \(peek.describe)")
                }
                out.append(statement)
            } catch {
                recover()
            }
        }
        return out
    }

    /// Words of SQL, KQL and jq that people reach for, with what kbq writes instead.
    static let foreignWords: [String: (suggestion: String?, note: String)] = [
        "order": ("sort", "kbq sorts with: sort by FIELD [desc]"),
        "like": ("contains", "for text, write: text contains \"Kursk\" (any case), or text matches \"^The\" (a pattern)"),
        "ilike": ("contains", "for text, write: text contains \"Kursk\" (any case), or text matches \"^The\" (a pattern)"),
        "having": ("where", "a where after aggregate filters the groups: claims group by topic aggregate count() as n where n > 5"),
        "distinct": ("group", "the distinct values of a field: claims group by topic"),
        "offset": ("limit", "offset goes with limit: limit 10 offset 20 keeps rows 21 to 30"),
        "count": ("aggregate", "count the rows with: aggregate count(), or group by FIELD aggregate count()"),
        "summarize": ("group", "KQL's summarize is: group by FIELD aggregate count(), max(value)"),
        "project": ("select", "KQL's project is: select FIELD, …"),
        "extend": ("select", "add a computed column with select: select id, value * 2 as doubled"),
        "take": ("limit", "KQL's take is: limit N"),
        "top": ("limit", "the largest N: sort by FIELD desc limit N"),
        "from": (nil, "a query starts with the collection: claims where … select …"),
        "join": ("follow", "follow a reference with '.' (estimates select source.name), or go to the rows it points at with 'follow source'; the rows that point at these: 'referrers'"),
    ]

    /// The hint for a word another query language would use where a clause should be.
    func foreignWord() -> (suggestion: String?, note: String)? {
        // "select distinct topic" reads distinct as a field and stops at topic.
        if i > 0, i - 1 < tokens.count, case .identifier(let w) = tokens[i - 1].kind, w.lowercased() == "distinct" {
            return Parser.foreignWords["distinct"]
        }
        let word: String
        switch peek.kind {
        case .identifier(let w): word = w.lowercased()
        case .keyword(let k): word = k.rawValue
        default: return nil
        }
        return Parser.foreignWords[word]
    }

    /// The error where a clause should be: the kbq way when the word is another language's
    /// (``foreignWords``), else the nearest clause word.
    mutating func clauseExpected(_ message: String) -> Failure {
        let foreign = foreignWord()
        return fail(message, notes: foreign.map { [$0.note] } ?? [], suggestion: foreign?.suggestion ?? clauseSuggestion())
    }

    func clauseSuggestion() -> String? {
        if case .identifier(let w) = peek.kind {
            return suggest(w, from: Keyword.clauseStarts.map(\.rawValue) + ["by"])
        }
        return nil
    }

    /// Skips to the start of the next statement.
    mutating func recover() {
        while true {
            switch peek.kind {
            case .end: return
            case .symbol(";"): i += 1; return
            case .newline:
                if continuesOnNextLine() { i += 1; continue }
                return
            default: i += 1
            }
        }
    }

    mutating func statement() throws(Failure) -> Statement {
        let start = peek.range
        if isKeyword(.let) {
            _ = advance()
            guard case .identifier(let n) = peek.kind else {
                if let k = peek.keyword { throw fail("'\(k.rawValue)' is a keyword and cannot be a name; quote it in backquotes") }
                throw fail("expected a name after 'let', found \(peek.describe)")
            }
            let name = Name(text: n, range: advance().range)
            _ = try expect("=", "'=' after the name")
            skipNewlines()
            let q = try query()
            return Statement(kind: .let(name, q), range: start.union(q.range))
        }
        if isKeyword(.explain) {
            _ = advance()
            if isKeyword(.let) {
                // `explain let x = …` explains the query the name would be bound to.
                let inner = try statement()
                if case .let(_, let q) = inner.kind { return Statement(kind: .explain(q), range: start.union(inner.range)) }
            }
            let q = try query()
            return Statement(kind: .explain(q), range: start.union(q.range))
        }
        let q = try query()
        return Statement(kind: .query(q), range: q.range)
    }

    mutating func query() throws(Failure) -> Query {
        let start = peek.range
        let source: QuerySource
        switch peek.kind {
        case .keyword(.describe), .keyword(.search):
            let k = advance()
            guard case .string(let s) = peek.kind else {
                if case .identifier(let w) = peek.kind {
                    throw fail("expected a string in quotes after '\((k.keyword?.rawValue ?? ""))'", suggestion: "\"\(w)\"")
                }
                throw fail("expected a string in quotes after '\((k.keyword?.rawValue ?? ""))', found \(peek.describe)")
            }
            let t = advance()
            source = k.keyword == .describe ? .describe(s, t.range) : .search(s, t.range)
        case .keyword(.conflicts):
            source = .conflicts(advance().range)
        case .identifier(let n):
            let first = Name(text: n, range: advance().range)
            var names = [first]
            // `claims, estimates, events`: a comma after a name lists more collections.
            while isSymbol(",") {
                _ = advance()
                guard case .identifier(let m) = peek.kind else { throw fail("expected a collection name after ',', found \(peek.describe)") }
                names.append(Name(text: m, range: advance().range))
            }
            source = names.count == 1 ? .name(first) : .union(names)
        case .keyword(let k) where k.isClauseStart:
            throw fail("a query starts with a collection or a let name, not '\(k.rawValue)'", notes: ["for example: estimates \(k.rawValue) …"])
        default:
            throw fail("expected a collection name, describe, search or conflicts, found \(peek.describe)")
        }
        var clauses: [Clause] = []
        var end = start
        while true {
            if case .newline = peek.kind, !continuesOnNextLine() { break }
            if isSymbol("|") {
                _ = advance()
                skipNewlines()
                guard let k = peek.keyword, k.isClauseStart else {
                    throw clauseExpected("expected a clause after '|', found \(peek.describe)")
                }
            }
            guard let k = peek.keyword, k.isClauseStart else { break }
            let c = try clause()
            clauses.append(c)
            end = c.range
        }
        return Query(source: source, clauses: clauses, range: start.union(end))
    }

    mutating func clause() throws(Failure) -> Clause {
        let kw = advance()
        let start = kw.range
        var lastEnd = start
        func done(_ k: Clause.Kind) -> Clause { Clause(kind: k, range: start.union(lastEnd), keywordRange: start) }
        guard let keyword = kw.keyword else { throw fail("expected a clause") }
        switch keyword {
        case .where:
            var maybe = false
            if isKeyword(.maybe) { _ = advance(); maybe = true }
            skipNewlines()
            let e = try expr()
            lastEnd = e.range
            return done(.where(e, maybe: maybe))
        case .select:
            let items = try selectItems()
            lastEnd = items.last.map { $0.alias?.range ?? $0.expr.range } ?? lastEnd
            return done(.select(items))
        case .sort:
            guard isKeyword(.by) else { throw fail("expected 'by' after 'sort'") }
            lastEnd = advance().range
            var keys: [SortKey] = []
            repeat {
                if !keys.isEmpty { _ = advance() }
                skipNewlines()
                let e = try expr()
                lastEnd = e.range
                var desc = false
                if isKeyword(.desc) { desc = true; lastEnd = advance().range } else if isKeyword(.asc) { lastEnd = advance().range }
                keys.append(SortKey(expr: e, descending: desc))
            } while isSymbol(",")
            return done(.sort(keys))
        case .limit:
            let e = try expr()
            lastEnd = e.range
            // `offset` is read only here, so it stays free as a field name everywhere else.
            var offset: Expr?
            if case .identifier(let w) = peek.kind, w.lowercased() == "offset" {
                _ = advance()
                let o = try expr()
                lastEnd = o.range
                offset = o
            }
            return done(.limit(e, offset: offset))
        case .group:
            guard isKeyword(.by) else { throw fail("expected 'by' after 'group'") }
            lastEnd = advance().range
            let keys = try selectItems()
            lastEnd = keys.last.map { $0.alias?.range ?? $0.expr.range } ?? lastEnd
            var aggs: [SelectItem] = []
            if isKeyword(.aggregate) || (peek.kind == .newline && peekPastNewlines() == .keyword(.aggregate)) {
                skipNewlines()
                lastEnd = advance().range
                aggs = try selectItems()
                lastEnd = aggs.last.map { $0.alias?.range ?? $0.expr.range } ?? lastEnd
            }
            return done(.group(keys, aggregates: aggs))
        case .aggregate:
            let aggs = try selectItems()
            lastEnd = aggs.last.map { $0.alias?.range ?? $0.expr.range } ?? lastEnd
            return done(.aggregate(aggs))
        case .compare:
            skipNewlines()
            let field = try expr()
            lastEnd = field.range
            var on: Expr?
            if isKeyword(.on) {
                _ = advance()
                let m = try expr()
                lastEnd = m.range
                on = m
            }
            return done(.compare(field, on: on))
        case .cite:
            return done(.cite)
        case .timeline:
            var e: Expr?
            if case .identifier = peek.kind {
                let x = try expr()
                lastEnd = x.range
                e = x
            }
            return done(.timeline(e))
        case .chart:
            var e: Expr?, on: Expr?
            if case .identifier = peek.kind {
                let x = try expr()
                lastEnd = x.range
                e = x
                if isKeyword(.on) {
                    _ = advance()
                    let m = try expr()
                    lastEnd = m.range
                    on = m
                }
            }
            return done(.chart(e, on: on))
        case .follow:
            let e = try expr()
            lastEnd = e.range
            return done(.follow(e))
        case .referrers:
            // `referrers`, `referrers claims`, `referrers claims.source`: the collection and
            // field are names, not a path to follow, so they are read here.
            guard case .identifier(let c) = peek.kind else { return done(.referrers(collection: nil, field: nil)) }
            let collection = Name(text: c, range: advance().range)
            lastEnd = collection.range
            var field: Name?
            if isSymbol(".") {
                _ = advance()
                guard case .identifier(let f) = peek.kind else { throw fail("expected a field name after '\(c).', found \(peek.describe)") }
                field = Name(text: f, range: advance().range)
                lastEnd = field?.range ?? lastEnd
            }
            return done(.referrers(collection: collection, field: field))
        default:
            throw fail("expected a clause")
        }
    }

    func peekPastNewlines() -> Token.Kind {
        var j = i
        while j < tokens.count, case .newline = tokens[j].kind { j += 1 }
        return tokens[min(j, tokens.count - 1)].kind
    }

    mutating func selectItems() throws(Failure) -> [SelectItem] {
        var items: [SelectItem] = []
        repeat {
            if !items.isEmpty { _ = advance() }
            skipNewlines()
            let e = try expr()
            var alias: Name?
            if isKeyword(.as) {
                _ = advance()
                guard case .identifier(let n) = peek.kind else {
                    if let k = peek.keyword { throw fail("'\(k.rawValue)' is a keyword; write `\(k.rawValue)` in backquotes to use it as a name") }
                    throw fail("expected a column name after 'as', found \(peek.describe)")
                }
                alias = Name(text: n, range: advance().range)
            }
            items.append(SelectItem(expr: e, alias: alias))
            // A select, group by or aggregate list is bounded like a list literal: each item
            // is a column to check, compute for every row and draw (a 1 MiB select list of
            // 170,000 items took 3 GB).
            if items.count > Parser.maxListItems {
                diagnostics.append(Diagnostic(.limitExceeded, "more than \(Parser.maxListItems) columns in one list", at: e.range))
                throw Failure()
            }
        } while isSymbol(",")
        return items
    }

    // MARK: expressions

    mutating func nest(chain: Bool = false) throws(Failure) {
        depth += 1
        if depth > Parser.maxDepth {
            // A chain `a + b + c …` is a tree as deep as it is long, and the checker and
            // evaluator walk it recursively: each operator counts as a level.
            let notes = chain ? ["each operator of a chain counts as a level; for many alternatives write 'x in [a, b, …]'"] : []
            diagnostics.append(Diagnostic(.limitExceeded, "expression nested more than \(Parser.maxDepth) levels deep", at: peek.range, notes: notes))
            depth -= 1  // the caller's `defer` that would undo this is not registered yet
            throw Failure()
        }
    }

    mutating func expr() throws(Failure) -> Expr {
        try nest()
        defer { depth -= 1 }
        return try orExpr()
    }

    mutating func orExpr() throws(Failure) -> Expr {
        var l = try andExpr()
        let outer = depth
        defer { depth = outer }
        while isKeyword(.or) {
            try nest(chain: true)
            _ = advance()
            skipNewlines()
            let r = try andExpr()
            l = Expr(kind: .binary(.or, l, r), range: l.range.union(r.range))
        }
        return l
    }

    mutating func andExpr() throws(Failure) -> Expr {
        var l = try notExpr()
        let outer = depth
        defer { depth = outer }
        while isKeyword(.and) {
            try nest(chain: true)
            _ = advance()
            skipNewlines()
            let r = try notExpr()
            l = Expr(kind: .binary(.and, l, r), range: l.range.union(r.range))
        }
        return l
    }

    mutating func notExpr() throws(Failure) -> Expr {
        if isKeyword(.not) {
            let t = advance()
            try nest()
            defer { depth -= 1 }
            let e = try notExpr()
            return Expr(kind: .unary(.not, e), range: t.range.union(e.range))
        }
        return try comparison()
    }

    mutating func comparison() throws(Failure) -> Expr {
        let l = try additive()
        var negated = false
        if isKeyword(.not), let k = peek(1).keyword, [.in, .contains, .matches, .between].contains(k) {
            _ = advance()
            negated = true
        }
        var result: Expr
        if let s = peek.symbol, let op = BinaryOp(rawValue: s), op.isComparison {
            _ = advance()
            skipNewlines()
            let r = try additive()
            result = Expr(kind: .binary(op, l, r), range: l.range.union(r.range))
        } else if isKeyword(.in) {
            _ = advance()
            skipNewlines()
            let r = try additive()
            result = Expr(kind: .inList(l, r, negated: negated), range: l.range.union(r.range))
            negated = false
        } else if isKeyword(.contains) || isKeyword(.matches) {
            let op: BinaryOp = advance().keyword == .contains ? .contains : .matches
            skipNewlines()
            let r = try additive()
            result = Expr(kind: .binary(op, l, r), range: l.range.union(r.range))
        } else if isKeyword(.between) {
            _ = advance()
            let lo = try additive()
            guard isKeyword(.and) else { throw fail("expected 'and' in 'between … and …', found \(peek.describe)") }
            _ = advance()
            let hi = try additive()
            result = Expr(kind: .between(l, lo, hi, negated: negated), range: l.range.union(hi.range))
            negated = false
        } else if isKeyword(.is) {
            _ = advance()
            var neg = false
            if isKeyword(.not) { _ = advance(); neg = true }
            // `is relative` and `is exact` are the functions relative(x) and exact(x): the
            // words are not reserved, so fields may still be called so.
            if case .identifier(let w) = peek.kind, ["relative", "exact"].contains(w.lowercased()) {
                let t = advance()
                let test = Expr(kind: .call(Name(text: w.lowercased(), range: t.range), [l]), range: l.range.union(t.range))
                return neg ? Expr(kind: .unary(.not, test), range: test.range) : test
            }
            guard isKeyword(.null) else {
                // `hedge is likely`: `is` tests for null only; a value is compared with `=`.
                var notes: [String] = []
                if case .identifier(let w) = peek.kind { notes.append("to compare with a value, write: = \(w) (or >= \(w) for a hedge at least that strong)") }
                throw fail("expected 'null', 'relative' or 'exact' after 'is', found \(peek.describe)", notes: notes)
            }
            let t = advance()
            return Expr(kind: .isNull(l, negated: neg), range: l.range.union(t.range))
        } else {
            return l
        }
        if negated { result = Expr(kind: .unary(.not, result), range: result.range) }
        if let s = peek.symbol, let op = BinaryOp(rawValue: s), op.isComparison {
            throw fail("comparisons do not chain; join them with 'and'")
        }
        return result
    }

    mutating func additive() throws(Failure) -> Expr {
        var l = try multiplicative()
        let outer = depth
        defer { depth = outer }
        while let s = peek.symbol, s == "+" || s == "-" {
            try nest(chain: true)
            _ = advance()
            skipNewlines()
            let r = try multiplicative()
            l = Expr(kind: .binary(s == "+" ? .add : .sub, l, r), range: l.range.union(r.range))
        }
        return l
    }

    mutating func multiplicative() throws(Failure) -> Expr {
        var l = try unary()
        let outer = depth
        defer { depth = outer }
        while let s = peek.symbol, s == "*" || s == "/" || s == "%" {
            try nest(chain: true)
            _ = advance()
            skipNewlines()
            let r = try unary()
            l = Expr(kind: .binary(BinaryOp(rawValue: s)!, l, r), range: l.range.union(r.range))
        }
        return l
    }

    mutating func unary() throws(Failure) -> Expr {
        if isSymbol("-") {
            let t = advance()
            try nest()
            defer { depth -= 1 }
            let e = try unary()
            return Expr(kind: .unary(.negate, e), range: t.range.union(e.range))
        }
        return try primary()
    }

    mutating func primary() throws(Failure) -> Expr {
        let t = peek
        switch t.kind {
        case .string(let s): _ = advance(); return Expr(kind: .literal(.string(s)), range: t.range)
        case .number(let n): _ = advance(); return Expr(kind: .literal(.number(n)), range: t.range)
        case .percent(let n): _ = advance(); return Expr(kind: .literal(.percent(n)), range: t.range)
        case .date(let d): _ = advance(); return Expr(kind: .literal(.date(d)), range: t.range)
        case .keyword(.true): _ = advance(); return Expr(kind: .literal(.bool(true)), range: t.range)
        case .keyword(.false): _ = advance(); return Expr(kind: .literal(.bool(false)), range: t.range)
        case .keyword(.null): _ = advance(); return Expr(kind: .literal(.null), range: t.range)
        case .parameter(let p): _ = advance(); return Expr(kind: .parameter(p), range: t.range)
        case .symbol("("):
            _ = advance()
            try nest()
            defer { depth -= 1 }
            skipNewlines()
            let e = try orExpr()
            skipNewlines()
            let close = try expect(")", "')' to close '('")
            return Expr(kind: e.kind, range: t.range.union(close.range))
        case .symbol("["):
            _ = advance()
            try nest()
            defer { depth -= 1 }
            var items: [Expr] = []
            skipNewlines()
            if !isSymbol("]") {
                repeat {
                    if !items.isEmpty { _ = advance() }
                    skipNewlines()
                    items.append(try orExpr())
                    skipNewlines()
                    if items.count > Parser.maxListItems {
                        diagnostics.append(Diagnostic(.limitExceeded, "list of more than \(Parser.maxListItems) items", at: t.range))
                        throw Failure()
                    }
                } while isSymbol(",")
            }
            let close = try expect("]", "']' to close the list")
            return Expr(kind: .list(items), range: t.range.union(close.range))
        case .identifier(let n):
            _ = advance()
            if isSymbol("(") {
                _ = advance()
                try nest()
                defer { depth -= 1 }
                var args: [Expr] = []
                skipNewlines()
                if !isSymbol(")") {
                    repeat {
                        if !args.isEmpty { _ = advance() }
                        skipNewlines()
                        args.append(try orExpr())
                        skipNewlines()
                    } while isSymbol(",")
                }
                let close = try expect(")", "')' to close the argument list")
                return Expr(kind: .call(Name(text: n, range: t.range), args), range: t.range.union(close.range))
            }
            var names = [Name(text: n, range: t.range)]
            while isSymbol(".") {
                _ = advance()
                guard case .identifier(let f) = peek.kind else {
                    throw fail("expected a field name after '.', found \(peek.describe)")
                }
                names.append(Name(text: f, range: advance().range))
                if names.count > 32 { throw fail("path of more than 32 steps") }
            }
            return Expr(kind: .path(names), range: t.range.union(names[names.count - 1].range))
        case .keyword(let k):
            if k.isClauseStart || k == .and || k == .or {
                throw fail("expected a value, found '\(k.rawValue)'")
            }
            throw fail("'\(k.rawValue)' is a keyword; to use a field of that name write `\(k.rawValue)` in backquotes")
        case .end, .newline:
            throw fail("expected a value, found \(t.describe)")
        case .symbol("*"):
            // `count(*)`: the `*` stands inside a call of count.
            if i >= 2, tokens[i - 1].symbol == "(", case .identifier(let f) = tokens[i - 2].kind, f.lowercased() == "count" {
                throw fail("expected a value, found '*'", notes: ["count() counts rows: write it with nothing inside"])
            }
            throw fail("expected a value, found '*'", notes: ["kbq has no '*': a query without select shows every field"])
        default:
            throw fail("expected a value, found \(t.describe)")
        }
    }
}
