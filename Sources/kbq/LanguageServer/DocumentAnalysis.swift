#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ
import KBQShell

/// A problem the server reports, with the LSP severity it is shown with.
struct ReportedProblem {
    var diagnostic: Diagnostic
    /// 1 error, 2 warning, 3 information.
    var severity: Int
}

/// A `let` name of a document: where it is bound, and where statements start from it.
struct LetBinding {
    let name: String
    let nameRange: SourceRange
    let statement: Statement
    var references: [SourceRange] = []
}

/// A span of the document whose queries are checked against one KB (`.load` starts another).
struct KBSpan {
    let range: SourceRange
    let kb: KnowledgeBase
}

/// A KB file read, or why it could not be.
enum KBLoad {
    case loaded(KnowledgeBase)
    /// The loader's message, and the kind of its first problem (nil when the file is missing).
    case failed(String, KBProblem.Kind?)
}

/// Loads the KB files a document names, once per file version.
final class KBCache {
    private var loaded: [String: (stamp: String, kb: KnowledgeBase)] = [:]

    /// The KB in `path`, or the loader's message.
    func kb(at path: String) -> KBLoad {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failed("cannot read '\(path)': \(String(cString: strerror(kbq_errno())))", .cannotRead) }
        let stamp = "\(info.st_size)-\(info.st_mtim.tv_sec)-\(info.st_mtim.tv_nsec)"
        if let hit = loaded[path], hit.stamp == stamp { return .loaded(hit.kb) }
        do {
            let kb = try KnowledgeBase(contentsOfFile: path)
            if loaded.count > 32 { loaded.removeAll() }
            loaded[path] = (stamp, kb)
            return .loaded(kb)
        } catch {
            return .failed(String(describing: error).trimmingCharacters(" \n"), error.problems.first?.kind)
        }
    }
}

/// What the server knows about one version of a document: its pieces, tokens, statements,
/// the KB each part is checked against, and the problems found. Built on the library's
/// public API: ``ScriptPiece``, ``Lexer``, ``Parser`` and ``PreparedQuery``.
final class DocumentAnalysis {
    let uri: String
    let version: Int
    let text: String
    let index: LineIndex
    let pieces: [ScriptPiece]
    /// The text with dot-command lines blanked: what the engine reads.
    let queryText: String
    let tokens: [Token]
    let statements: [Statement]
    private(set) var spans: [KBSpan] = []
    private(set) var problems: [ReportedProblem] = []
    private(set) var lets: [LetBinding] = []
    /// Where each name a query starts from begins (a collection or `let` name).
    private(set) var sourceNameStarts: Set<Int> = []
    /// Where each `let` name is written: true where it is bound, false where it is used.
    private(set) var letNameRoles: [Int: Bool] = [:]
    /// The bindings of each `let` name, as indices into `lets`, in source order.
    private var letsByName: [String: [Int]] = [:]
    private var completionSessions: [Int: Session] = [:]

    /// The most `.load` lines whose KB the queries after them are checked against.
    static let maxLoads = 16
    /// The most `let` statements completion binds to offer their names and columns.
    static let maxCompletionLets = 200
    /// What completion may spend binding a document's `let` names, in all.
    static let completionLimits = Limits(maxRows: 100_000, maxSeconds: 0.25, maxWork: 20_000_000, maxTextBytes: 16 << 20)

    init(uri: String, version: Int, text: String, defaultKB: KnowledgeBase, cache: KBCache, workspaceRoot: String?) {
        self.uri = uri
        self.version = version
        self.text = text
        index = LineIndex(text)
        pieces = ScriptPiece.split(text)
        queryText = ScriptPiece.queryText(text, pieces: pieces)
        tokens = Lexer.tokenize(queryText).tokens
        statements = Parser.parse(queryText).statements
        readDotCommands(defaultKB: defaultKB, cache: cache, workspaceRoot: workspaceRoot)
        check()
        findLets()
    }

    /// The file a `file:` URI names, if it is one.
    static func path(ofURI uri: String) -> String? {
        guard uri.hasPrefix("file://") else { return nil }
        var bytes: [UInt8] = []
        let raw = Array(uri.utf8.dropFirst(7))
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "%"), i + 2 < raw.count, let v = UInt8(String(decoding: raw[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(v)
                i += 3
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Dot-commands and KBs

    private func readDotCommands(defaultKB: KnowledgeBase, cache: KBCache, workspaceRoot: String?) {
        var kb = defaultKB
        // What `.load` set, and what `.attach` put beside it: `.detach` rebuilds from them.
        var base = defaultKB
        var attachments: [(label: String, kb: KnowledgeBase, name: String?)] = []
        var start = 0
        let bytes = index.bytes
        let known = DotCommand.all.map(\.name)
        for piece in pieces where piece.kind == .dotCommand {
            var end = piece.range.end
            while end > piece.range.start, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
            let line = String(decoding: bytes[piece.range.start..<end], as: UTF8.self)
            let lineRange = SourceRange(piece.range.start, end)
            let words = DotCommand.words(line)
            guard let first = words.first else { continue }
            let name = String(first.dropFirst())
            if !known.contains(name) {
                problems.append(ReportedProblem(diagnostic: Diagnostic(.syntax, "unknown command '.\(name)'", at: lineRange,
                                                                       suggestion: Diagnostic.suggestion(for: name, among: known).map { "." + $0 }),
                                                severity: 1))
                continue
            }
            guard ["load", "attach", "detach"].contains(name) else { continue }
            // Each KB is a check of the whole text: a bounded number of them.
            if spans.count >= DocumentAnalysis.maxLoads {
                problems.append(ReportedProblem(diagnostic: Diagnostic(.limitExceeded, "more than \(DocumentAnalysis.maxLoads) .load, .attach and .detach lines: the queries after this one are checked against the KB before it", at: lineRange),
                                                severity: 3))
                continue
            }
            func problem(_ message: String, notes: [String] = [], suggestion: String? = nil, kind: KBProblem.Kind? = nil) {
                problems.append(ReportedProblem(diagnostic: Diagnostic(.invalidKB, message, at: lineRange, suggestion: suggestion, notes: notes, problem: kind),
                                                severity: 1))
            }
            var next: KnowledgeBase?
            switch name {
            case "load":
                guard words.count == 2 else { problem("usage: .load FILE"); continue }
                switch open(words[1], cache: cache, workspaceRoot: workspaceRoot) {
                case .loaded(let loaded):
                    base = loaded
                    attachments = []
                    next = loaded
                case .failed(let message, let kind): problem(message + " (the queries after it are checked against the KB before it)", kind: kind)
                }
            case "attach":
                guard words.count == 2 || words.count == 4 && words[2].lowercased() == "as" else { problem("usage: .attach FILE [as NAME]"); continue }
                let label = words.count == 4 ? words[3] : nil
                switch open(words[1], cache: cache, workspaceRoot: workspaceRoot) {
                case .loaded(let other):
                    do throws(AttachError) {
                        if attachments.contains(where: { $0.label == (label ?? other.name) }) {
                            throw AttachError(message: "'\(label ?? other.name)' is already attached", notes: [])
                        }
                        next = try kb.attaching(other, as: label)
                        attachments.append((label ?? other.name, other, label))
                    } catch {
                        problem(error.message, notes: error.notes)
                    }
                case .failed(let message, let kind): problem(message + " (the queries after it are checked without it)", kind: kind)
                }
            default:  // detach
                guard words.count == 2, let i = attachments.firstIndex(where: { $0.label == words[1] }) else {
                    problem(words.count == 2 ? "nothing is attached as '\(words[1])'" : "usage: .detach NAME",
                            suggestion: words.count == 2 ? Diagnostic.suggestion(for: words[1], among: attachments.map(\.label)) : nil)
                    continue
                }
                attachments.remove(at: i)
                var rebuilt = base
                for a in attachments { if let k = try? rebuilt.attaching(a.kb, as: a.name) { rebuilt = k } }
                next = rebuilt
            }
            if let next {
                spans.append(KBSpan(range: SourceRange(start, piece.range.start), kb: kb))
                kb = next
                start = piece.range.end
            }
        }
        spans.append(KBSpan(range: SourceRange(start, bytes.count), kb: kb))
    }

    /// The KB a dot-command names: `article` is the built-in one (unless a file has that name).
    private func open(_ path: String, cache: KBCache, workspaceRoot: String?) -> KBLoad {
        let resolved = resolve(path, workspaceRoot: workspaceRoot)
        if path == "article", case .failed = cache.kb(at: resolved) { return .loaded(KnowledgeBase.article) }
        return cache.kb(at: resolved)
    }

    /// A relative path is read from the document's folder, as a script run from there reads it.
    private func resolve(_ path: String, workspaceRoot: String?) -> String {
        if path.hasPrefix("/") { return path }
        if let file = DocumentAnalysis.path(ofURI: uri), let slash = file.lastIndex(of: "/") {
            return String(file[...slash]) + path
        }
        if let root = workspaceRoot { return root + "/" + path }
        return path
    }

    /// The KB the queries at `offset` are checked against.
    func kb(at offset: Int) -> KnowledgeBase {
        spans.last { $0.range.start <= offset }?.kb ?? spans[0].kb
    }

    // MARK: - Checking

    private func check() {
        let bytes = Array(queryText.utf8)
        if bytes.count > Lexer.maxSourceBytes {
            // The engine reads none of it; its diagnostic says why.
            problems += Lexer.tokenize(queryText).diagnostics.map { ReportedProblem(diagnostic: $0, severity: 1) }
            return
        }
        for span in spans {
            // Each span is checked as a text of the document's length, the rest blanked, so
            // that every range is the document's own.
            var piece = bytes
            if spans.count > 1 {
                for i in piece.indices where (i < span.range.start || i >= span.range.end) && piece[i] != 0x0A { piece[i] = 0x20 }
            }
            let hasStatement = tokens.contains { t in
                guard t.range.start >= span.range.start, t.range.start < span.range.end else { return false }
                switch t.kind {
                case .newline, .end: return false
                default: return true
                }
            }
            guard hasStatement else { continue }
            do throws(Diagnostics) {
                let checked = try PreparedQuery(String(decoding: piece, as: UTF8.self), kb: span.kb, name: uri)
                problems += checked.warnings.map { ReportedProblem(diagnostic: $0, severity: DocumentAnalysis.severity(of: $0)) }
            } catch {
                problems += error.items.map { ReportedProblem(diagnostic: $0, severity: DocumentAnalysis.severity(of: $0)) }
            }
        }
        // A statement that starts from a `let` name whose own statement has an error is not
        // reported as well: the name is bound in the document, and its error is the one to fix.
        let bound = statements.compactMap { st -> (String, Int)? in if case .let(let n, _) = st.kind { return (n.text, n.range.start) } else { return nil } }
        problems.removeAll { p in
            guard p.diagnostic.kind == .unknownCollection, let r = p.diagnostic.range else { return false }
            let name = text(r)
            return bound.contains { $0.0 == name && $0.1 < r.start }
        }
        problems.sort { ($0.diagnostic.range?.start ?? 0) < ($1.diagnostic.range?.start ?? 0) }
    }

    /// LSP's severity: 2 for the engine's warnings (the query still runs), else 1, an error.
    static func severity(of d: Diagnostic) -> Int { d.isWarning ? 2 : 1 }

    // MARK: - Let names

    private func findLets() {
        var current: [String: Int] = [:]
        for st in statements {
            let query: Query
            switch st.kind {
            case .query(let q), .explain(let q): query = q
            case .let(_, let q): query = q
            }
            if case .name(let n) = query.source {
                sourceNameStarts.insert(n.range.start)
                if let i = current[n.text] {
                    lets[i].references.append(n.range)
                    letNameRoles[n.range.start] = false
                }
            }
            if case .let(let name, _) = st.kind {
                lets.append(LetBinding(name: name.text, nameRange: name.range, statement: st))
                current[name.text] = lets.count - 1
                letsByName[name.text, default: []].append(lets.count - 1)
                letNameRoles[name.range.start] = true
            }
        }
    }

    /// The `let` binding whose name or a use of it is at `offset`.
    func letBinding(at offset: Int) -> LetBinding? {
        lets.first { b in
            contains(b.nameRange, offset) || b.references.contains { contains($0, offset) }
        }
    }

    /// The binding a statement starting from `name` at `offset` reads (the last before it).
    func letBinding(named name: String, before offset: Int) -> LetBinding? {
        guard let indices = letsByName[name] else { return nil }
        var lo = 0, hi = indices.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lets[indices[mid]].statement.range.end <= offset { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 ? lets[indices[lo - 1]] : nil
    }

    func contains(_ r: SourceRange, _ offset: Int) -> Bool { r.start <= offset && offset <= r.end }

    /// A session for completing at `offset`: the KB there, with the document's `let`
    /// statements before the statement at `offset` bound (run under untrusted limits), so
    /// that their names and columns are offered.
    func completionSession(at offset: Int) -> Session {
        let kb = self.kb(at: offset)
        let span = spans.last { $0.range.start <= offset }?.range ?? SourceRange(0, index.bytes.count)
        // The `let`s nearest the cursor, a bounded number: a name bound further up is still
        // checked, but its columns are not offered.
        let before = lets.filter { $0.statement.range.end < offset && $0.statement.range.start >= span.start }.suffix(DocumentAnalysis.maxCompletionLets)
        let key = before.last?.statement.range.start ?? -1
        if let cached = completionSessions[key] { return cached }
        // One run for all of them: the limits bound the whole run, however many there are.
        var session = Session(kb: kb)
        let bytes = Array(queryText.utf8)
        let script = before.map { b in
            let r = b.statement.range
            return String(decoding: bytes[r.start..<min(r.end, bytes.count)], as: UTF8.self)
        }.joined(separator: "\n")
        if !script.isEmpty {
            _ = session.run(SourceText(script), limits: DocumentAnalysis.completionLimits, keepGoing: true) { _ in }
        }
        if completionSessions.count > 64 { completionSessions.removeAll() }
        completionSessions[key] = session
        return session
    }

    // MARK: - Tokens and scope

    /// The index of the token at `offset` (a cursor just after a word counts as on it).
    func tokenIndex(at offset: Int) -> Int? {
        var lo = 0, hi = tokens.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = tokens[mid].range
            if offset < r.start { hi = mid - 1 } else if offset >= r.end { lo = mid + 1 } else { return meaningful(mid) }
        }
        // Just past the end of a word.
        if lo > 0, tokens[lo - 1].range.end == offset { return meaningful(lo - 1) }
        return nil
    }

    private func meaningful(_ i: Int) -> Int? {
        switch tokens[i].kind {
        case .newline, .end, .invalid: return nil
        default: return i
        }
    }

    /// The statement whose range holds `offset`.
    func statement(at offset: Int) -> Statement? {
        // Statements are in source order: the last one starting at or before `offset`.
        var lo = 0, hi = statements.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if statements[mid].range.start <= offset { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0, offset <= statements[lo - 1].range.end else { return nil }
        return statements[lo - 1]
    }

    /// The collection a statement starts from, following `let` names to the collection
    /// their rows come from.
    func collection(of statement: Statement) -> KBCollection? {
        var st = statement
        let kb = self.kb(at: statement.range.start)
        // A chain of `let` names is followed a bounded number of steps.
        for _ in 0...min(lets.count, 64) {
            let query: Query
            switch st.kind {
            case .query(let q), .explain(let q), .let(_, let q): query = q
            }
            guard case .name(let n) = query.source else {
                if case .describe = query.source { return nil }
                return nil
            }
            if let c = kb.collection(n.text) { return c }
            guard let b = letBinding(named: n.text, before: st.range.start) else { return nil }
            st = b.statement
        }
        return nil
    }

    /// The text of a range of the document.
    func text(_ r: SourceRange) -> String {
        let bytes = index.bytes
        let s = min(max(0, r.start), bytes.count), e = min(max(s, r.end), bytes.count)
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }
}

