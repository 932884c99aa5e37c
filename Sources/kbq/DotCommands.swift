import KBQ

/// A shell command: a line starting with a dot, in the REPL and in scripts alike.
struct DotCommand {
    let name: String
    let usage: String
    let summary: String

    static let all: [DotCommand] = [
        DotCommand(name: "help", usage: ".help [TOPIC]", summary: "this text, or the syntax and an example of a clause or statement"),
        DotCommand(name: "schema", usage: ".schema [COLLECTION]", summary: "the collections, or one collection's fields and types"),
        DotCommand(name: "format", usage: ".format table|json|csv|markdown", summary: "how results are printed"),
        DotCommand(name: "load", usage: ".load FILE|article", summary: "load a KB file (JSON, CSV) instead; article: the built-in KB"),
        DotCommand(name: "attach", usage: ".attach FILE [as NAME]", summary: "add a KB file's collections beside the current ones"),
        DotCommand(name: "detach", usage: ".detach NAME", summary: "remove the collections .attach added under NAME"),
        DotCommand(name: "read", usage: ".read SCRIPT", summary: "run the statements and commands in a file"),
        DotCommand(name: "timer", usage: ".timer on|off", summary: "print the time each statement takes"),
        DotCommand(name: "rows", usage: ".rows N|all", summary: "the most rows a table shows in this shell (scripts show all)"),
        DotCommand(name: "quit", usage: ".quit", summary: "leave (also .exit, or Ctrl-D)"),
        DotCommand(name: "exit", usage: ".exit", summary: "leave"),
    ]

    /// Splits a dot-command line into words; "double" or 'single' quotes keep spaces in a
    /// word (file names).
    static func words(_ line: String) -> [String] { scan(line).words.map(\.text) }

    /// The words of a dot-command line with the byte offset each starts at (quotes removed
    /// from the text), whether the line ends inside a word, and the quote it leaves open:
    /// what running the line needs, and what completing its last word needs.
    static func scan(_ line: String) -> (words: [(text: String, start: Int)], inWord: Bool, openQuote: Character?) {
        var words: [(text: String, start: Int)] = []
        var current = ""
        var start = 0, offset = 0
        var quote: Character?
        var inWord = false
        for c in line {
            defer { offset += c.utf8.count }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == " " || c == "\t" {
                if inWord { words.append((current, start)); current = ""; inWord = false }
            } else {
                if !inWord { start = offset }
                inWord = true
                if c == "\"" || c == "'" { quote = c } else { current.append(c) }
            }
        }
        if inWord { words.append((current, start)) }
        return (words, inWord, quote)
    }
}

extension Shell {
    /// Runs a dot-command line. Returns whether it succeeded.
    func runDotCommand(_ line: String, at location: Location) -> Bool {
        let words = DotCommand.words(line)
        guard let first = words.first else { return true }
        let name = String(first.dropFirst())  // the dot
        let args = Array(words.dropFirst())
        let before = failures
        switch name {
        case "help":
            help(args, at: location)
        case "schema":
            schema(args, at: location)
        case "format":
            setFormat(args, at: location)
        case "load":
            load(args, at: location)
        case "attach":
            attach(args, at: location)
        case "detach":
            detach(args, at: location)
        case "read":
            guard args.count == 1 else {
                report("usage: .read SCRIPT", at: location)
                return false
            }
            return readScript(args[0], location: location)
        case "timer":
            switch args.first?.lowercased() {
            case "on" where args.count == 1: timer = true
            case "off" where args.count == 1: timer = false
            case nil: out.write("timer: \(timer ? "on" : "off")\n")
            default: report("usage: .timer on|off", at: location)
            }
        case "rows":
            setRows(args, at: location)
        case "quit", "exit":
            // A word after it is a slip (".quit now" or a pasted line): say so, and stay.
            guard args.isEmpty else {
                report("usage: .\(name) (it takes no arguments)", at: location)
                return false
            }
            quitRequested = true
        default:
            let names = DotCommand.all.map { "." + $0.name }
            report("unknown command '.\(name)'", at: location, suggestion: closestWord(to: "." + name, in: names),
                   notes: [".help lists the commands"])
            return false
        }
        return failures == before
    }

    private func setFormat(_ args: [String], at location: Location) {
        guard let word = args.first else {
            out.write("format: \(format.rawValue)\n")
            return
        }
        guard args.count == 1, let f = OutputFormat(rawValue: word.lowercased()) else {
            report("unknown format '\(args.joined(separator: " "))'", at: location,
                   suggestion: closestWord(to: word, in: OutputFormat.allCases.map(\.rawValue)),
                   notes: ["formats: " + OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")])
            return
        }
        format = f
    }

    private func setRows(_ args: [String], at location: Location) {
        switch args.first?.lowercased() {
        case nil:
            out.write("rows: \(displayRows.map(String.init) ?? "all")\n")
        case "all" where args.count == 1:
            displayRows = nil
        case let w? where args.count == 1 && Int(w).map({ $0 > 0 }) == true:
            displayRows = Int(w)
        default:
            report("usage: .rows N|all", at: location)
        }
    }

    private func load(_ args: [String], at location: Location) {
        guard args.count == 1 else {
            report("usage: .load FILE", at: location)
            return
        }
        do {
            let kb = try Shell.openKB(args[0])
            let hadLets = !session.letNames.isEmpty
            attachments = []
            base = kb
            session = Session(kb: kb)
            let rows = kb.collections.reduce(0) { $0 + $1.count }
            // A KB's name is the file's text: shown escaped, as results are.
            var message = "loaded \(sanitizeForTerminal(kb.name)): \(kb.collections.count) collection\(kb.collections.count == 1 ? "" : "s"), \(formatNumber(Double(rows))) row\(rows == 1 ? "" : "s")"
            if hadLets { message += " (let names were cleared)" }
            if interactive { out.write(dim(message) + "\n") }
        } catch {
            // The loader's text is already one `file: error: path: message` line per problem.
            var text = String(describing: error)
            if !text.hasSuffix("\n") { text += "\n" }
            err.write(text)
            if interactive { err.write("kept the current KB (\(sanitizeForTerminal(session.kb.name)))\n") }
            fail(.usage)
        }
    }

    private func schema(_ args: [String], at location: Location) {
        let kb = session.kb
        guard let name = args.first else {
            var rows: [[Value]] = kb.collections.map { c in
                [.string(c.name), .number(Double(c.count)), .string(c.key ?? ""), .string(c.measure ?? ""),
                 .string(c.fields.map(\.name).joined(separator: ", "))]
            }
            for l in session.letNames {
                let columns = session.columns(ofLet: l) ?? []
                rows.append([.string(l), .null, .string("let"), .string(""), .string(columns.map(\.name).joined(separator: ", "))])
            }
            let table = ResultTable(
                columns: [ResultColumn(name: "collection", type: .string), ResultColumn(name: "rows", type: .number()),
                          ResultColumn(name: "key", type: .string), ResultColumn(name: "measure", type: .string),
                          ResultColumn(name: "fields", type: .string)],
                rows: rows, title: "\(kb.name): \(kb.collections.count) collection\(kb.collections.count == 1 ? "" : "s")")
            show(table, format: format, width: tableWidth())
            return
        }
        guard args.count == 1 else {
            report("usage: .schema [COLLECTION]", at: location)
            return
        }
        if let c = kb.collections.first(where: { $0.name == name }) {
            let rows: [[Value]] = c.fields.map { f in
                var role: [String] = []
                if f.name == c.key { role.append("key") }
                if f.name == c.measure { role.append("measure") }
                return [.string(f.name), .string(f.type.description), .string(role.joined(separator: ", "))]
            }
            var title = "\(c.name): \(formatNumber(Double(c.count))) row\(c.count == 1 ? "" : "s")"
            if let k = c.key { title += ", key \(k)" }
            if let m = c.measure { title += ", measure \(m)" }
            let table = ResultTable(
                columns: [ResultColumn(name: "field", type: .string), ResultColumn(name: "type", type: .string),
                          ResultColumn(name: "role", type: .string)],
                rows: rows, title: title)
            show(table, format: format, width: tableWidth())
        } else if let columns = session.columns(ofLet: name) {
            let table = ResultTable(
                columns: [ResultColumn(name: "field", type: .string), ResultColumn(name: "type", type: .string)],
                rows: columns.map { [.string($0.name), .string($0.type.description)] }, title: "\(name): a let name")
            show(table, format: format, width: tableWidth())
        } else {
            report("unknown collection '\(name)'", at: location,
                   suggestion: closestWord(to: name, in: kb.collections.map(\.name) + session.letNames))
        }
    }
}

/// The candidate closest to `word`, when it is close enough to be a slip of the fingers:
/// the engine's own "did you mean", so the shell and the language suggest alike.
func closestWord(to word: String, in candidates: [String]) -> String? {
    Diagnostic.suggestion(for: word, among: candidates)
}

extension Shell {
    /// The KB a path names: the built-in article KB for `article` (unless a file has that
    /// name), else the file.
    static func openKB(_ path: String) throws -> KnowledgeBase {
        if path == "article" && Files.identity(path) == nil { return KnowledgeBase.article }
        return try KnowledgeBase(contentsOfFile: path)
    }

    /// `.attach FILE [as NAME]`: the file's collections beside the current KB's.
    fileprivate func attach(_ args: [String], at location: Location) {
        guard args.count == 1 || args.count == 3 && args[1].lowercased() == "as" else {
            report("usage: .attach FILE [as NAME]", at: location)
            return
        }
        let name = args.count == 3 ? args[2] : nil
        let other: KnowledgeBase
        do {
            other = try Shell.openKB(args[0])
        } catch {
            var text = String(describing: error)
            if !text.hasSuffix("\n") { text += "\n" }
            err.write(text)
            fail(.usage)
            return
        }
        do {
            let hadLets = !session.letNames.isEmpty
            let (label, added) = try attachKB(other, as: name)
            var message = "attached \(sanitizeForTerminal(label)): " + added.map(sanitizeForTerminal).joined(separator: ", ")
            if hadLets { message += " (let names were cleared)" }
            if interactive { out.write(dim(message) + "\n") }
        } catch {
            report(error.message, at: location, notes: error.notes)
        }
    }

    /// Puts `other`'s collections beside the session's; returns the label `.detach` takes
    /// and the collections added.
    func attachKB(_ other: KnowledgeBase, as name: String?) throws(AttachError) -> (String, [String]) {
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

    /// `.detach NAME`: the current KB without what `.attach` added under NAME.
    fileprivate func detach(_ args: [String], at location: Location) {
        guard args.count == 1 else {
            report("usage: .detach NAME", at: location)
            return
        }
        guard let i = attachments.firstIndex(where: { $0.label == args[0] }) else {
            report("nothing is attached as '\(args[0])'", at: location, suggestion: closestWord(to: args[0], in: attachments.map(\.label)),
                   notes: [attachments.isEmpty ? "nothing is attached" : "attached: " + attachments.map(\.label).joined(separator: ", ")])
            return
        }
        attachments.remove(at: i)
        // The base is the KB before the first attachment; the others are attached again.
        var kb = base
        do {
            for a in attachments { kb = try kb.attaching(a.kb, as: a.name) }
        } catch {
            report(error.message, at: location, notes: error.notes)
            return
        }
        session = Session(kb: kb)
        if interactive { out.write(dim("detached \(sanitizeForTerminal(args[0]))") + "\n") }
    }
}
