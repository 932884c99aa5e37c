import KBQ

/// What the shell runs statements on. The REPL, scripts, `.read` and the dot-commands are the
/// same whatever runs the statements: the KB file in kbq's memory (``SessionEngine``), or a
/// KB pushed into PostgreSQL (kbq-db's engine, which alone links the database client).
///
/// Checking needs the KB's schema only, so both engines check, complete and suggest from a
/// ``KnowledgeBase``; only running a statement differs.
package protocol ShellEngine: AnyObject {
    /// The KB queries are checked against. For a database, its schema (and the rows of the
    /// small collections) from the metadata `kbq push` kept: the rows are on the server.
    var kb: KnowledgeBase { get }
    /// The `let` names bound so far, sorted.
    var letNames: [String] { get }
    /// The columns of a `let` name's rows.
    func columns(ofLet name: String) -> [ResultColumn]?
    /// How many rows `collection` has, wherever they are.
    func rowCount(of collection: KBCollection) -> Int
    /// Checks `source` and runs its statements in order, giving each outcome to `emit`, as
    /// ``Session/run(_:parameters:limits:cancel:keepGoing:emit:)`` does; `cancel` is
    /// cancelled by Ctrl-C.
    func run(_ source: SourceText, parameters: [String: Value], cancel: CancellationToken, keepGoing: Bool,
             emit: (EngineOutcome) -> Void) -> EngineRun
    /// TAB: the completions of `text` (the whole unfinished entry) at byte offset `cursor`.
    func completions(for text: String, cursor: Int) -> (replaceFrom: Int, candidates: [String])
    /// Where the statements run, for the banner: nil for the file in memory, else the
    /// database (its password masked).
    var location: String? { get }
    /// Why `.load`, `.attach` and `.detach` do not apply here, or nil when they do.
    var fixedKBReason: String? { get }
}

/// One outcome of a statement, as the shell shows it.
package enum EngineOutcome {
    /// A query's result.
    case result(ResultTable)
    /// `let NAME = …` bound a name: its row count, or nil when the engine runs the query only
    /// when a later statement reads it (a database).
    case bound(name: String, rows: Int?)
    /// A warning from checking; the statements run all the same.
    case warning(Diagnostic)
}

/// How a run went: the problems in the text (drawn under their source lines), and a failure
/// outside it (the database refused the statement, the connection was lost).
package struct EngineRun {
    package var diagnostics: [Diagnostic]
    /// What went wrong outside the statement's text, for the user as it is; an I/O error
    /// (exit status 2).
    package var failure: String?

    package init(diagnostics: [Diagnostic], failure: String? = nil) {
        self.diagnostics = diagnostics
        self.failure = failure
    }
}

/// The KB file in memory: kbq's own engine, with `.load`, `.attach` and `.detach`.
package final class SessionEngine: ShellEngine {
    package private(set) var session: Session
    /// The KB that `.attach` puts collections beside (the article KB, or what `.load` or
    /// the first `--kb` loaded).
    private var base: KnowledgeBase
    /// What `.attach` and the later `--kb`s added, in order: the label `.detach` takes, the
    /// KB, and the name it was attached as.
    package private(set) var attachments: [(label: String, kb: KnowledgeBase, name: String?)] = []

    package init(kb: KnowledgeBase) {
        session = Session(kb: kb)
        base = kb
    }

    package var kb: KnowledgeBase { session.kb }
    package var letNames: [String] { session.letNames }
    package func columns(ofLet name: String) -> [ResultColumn]? { session.columns(ofLet: name) }
    package func rowCount(of collection: KBCollection) -> Int { collection.count }
    package var location: String? { nil }
    package var fixedKBReason: String? { nil }

    package func run(_ source: SourceText, parameters: [String: Value], cancel: CancellationToken, keepGoing: Bool,
                     emit: (EngineOutcome) -> Void) -> EngineRun {
        let diagnostics = session.run(source, parameters: parameters, limits: .none, cancel: cancel, keepGoing: keepGoing) { outcome in
            switch outcome {
            case .result(let table): emit(.result(table))
            case .bound(let name, let rows): emit(.bound(name: name, rows: rows))
            case .warning(let w): emit(.warning(w))
            }
        }
        return EngineRun(diagnostics: diagnostics)
    }

    package func completions(for text: String, cursor: Int) -> (replaceFrom: Int, candidates: [String]) {
        Completion.candidates(for: text, cursor: cursor, session: session)
    }

    /// `.load`: `kb` instead of the current KB, with nothing attached and no `let` names.
    package func replace(with kb: KnowledgeBase) {
        attachments = []
        base = kb
        session = Session(kb: kb)
    }

    /// Puts `other`'s collections beside the session's; returns the label `.detach` takes
    /// and the collections added.
    package func attachKB(_ other: KnowledgeBase, as name: String?) throws(AttachError) -> (String, [String]) {
        let label = name ?? other.name
        if attachments.contains(where: { $0.label == label }) {
            throw AttachError(message: "'\(label)' is already attached", notes: ["attach it under another name: .attach FILE as NAME, or .detach \(label) first"])
        }
        let kb = try session.kb.attaching(other, as: name)
        let before = Set(session.kb.collections.map(\.name))
        attachments.append((label, other, name))
        session = Session(kb: kb)
        return (label, kb.collections.map(\.name).filter { !before.contains($0) })
    }

    /// The current KB without what `.attach` added as `label`; false when nothing was.
    package func detach(_ label: String) throws(AttachError) -> Bool {
        guard let i = attachments.firstIndex(where: { $0.label == label }) else { return false }
        // The base is the KB before the first attachment; the others are attached again.
        var kb = base
        for a in attachments where a.label != label { kb = try kb.attaching(a.kb, as: a.name) }
        attachments.remove(at: i)
        session = Session(kb: kb)
        return true
    }
}
