import KBQ

/// A shell command: a line starting with a dot, in the REPL and in scripts alike.
package struct DotCommand {
    package let name: String
    package let usage: String
    package let summary: String

    package static let all: [DotCommand] = [
        DotCommand(name: "help", usage: ".help [TOPIC]", summary: "this text, or the syntax and an example of a clause or statement"),
        DotCommand(name: "schema", usage: ".schema [COLLECTION]", summary: "the collections, or one collection's fields and types"),
        DotCommand(name: "format", usage: ".format table|json|csv|markdown", summary: "how results are printed"),
        DotCommand(name: "load", usage: ".load FILE|article", summary: "load a KB file (JSON, CSV) instead; article: the built-in KB"),
        DotCommand(name: "attach", usage: ".attach FILE [as NAME]", summary: "add a KB file's collections beside the current ones"),
        DotCommand(name: "detach", usage: ".detach NAME", summary: "remove the collections .attach added under NAME"),
        DotCommand(name: "read", usage: ".read SCRIPT", summary: "run the statements and commands in a file"),
        DotCommand(name: "timer", usage: ".timer on|off", summary: "print the time each statement takes"),
        DotCommand(name: "rows", usage: ".rows N|all", summary: "the most rows a table shows in this shell (scripts show all)"),
        DotCommand(name: "output", usage: ".output [FILE]", summary: "results go to FILE until .output alone; FILE is written whole or not at all"),
        DotCommand(name: "once", usage: ".once FILE", summary: "the next statement's results go to FILE, kept only if it succeeds"),
        DotCommand(name: "pager", usage: ".pager on|off", summary: "results taller than the screen go through $PAGER (less -SFX; PAGER= for none)"),
        DotCommand(name: "headers", usage: ".headers on|off", summary: "the column names over tables and CSV"),
        DotCommand(name: "nullvalue", usage: ".nullvalue TEXT", summary: "what a null shows as in tables, CSV and Markdown"),
        DotCommand(name: "expanded", usage: ".expanded on|off|auto", summary: "one record at a time (auto: when columns do not fit; \\x toggles)"),
        DotCommand(name: "tables", usage: ".tables", summary: "the names of the collections and let names"),
        DotCommand(name: "show", usage: ".show", summary: "the current settings"),
        DotCommand(name: "quit", usage: ".quit", summary: "leave (also .exit, quit, exit, \\q or Ctrl-D)"),
        DotCommand(name: "exit", usage: ".exit [STATUS]", summary: "leave, with exit status STATUS (0)"),
    ]

    /// Commands of sqlite3 and psql with no kbq equivalent, and what to use instead.
    package static let foreign: [String: String] = [
        "width": "kbq fits columns to the terminal; `.expanded on` shows one record at a time",
        "import": "`.load FILE` loads a CSV or JSON file as a KB",
        "open": "`.load FILE` loads a KB file",
        "dump": "`.format json` then a query prints its rows as JSON",
        "indexes": "kbq has no indexes; `.schema COLLECTION` shows fields",
        "separator": "`.format csv` writes comma-separated values",
        "echo": "kbq does not echo statements",
        "print": "kbq has no .print; a # comment is ignored",
        "bail": "scripts stop at the first error unless run with --keep-going",
    ]

    /// Splits a dot-command line into words; "double" or 'single' quotes keep spaces in a
    /// word (file names).
    package static func words(_ line: String) -> [String] { scan(line).words.map(\.text) }

    /// The words of a dot-command line with the byte offset each starts at (quotes removed
    /// from the text), whether the line ends inside a word, and the quote it leaves open:
    /// what running the line needs, and what completing its last word needs.
    package static func scan(_ line: String) -> (words: [(text: String, start: Int)], inWord: Bool, openQuote: Character?) {
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

extension DotCommand {
    /// What a line in another shell's habit means in kbq: psql's backslash commands (`\\d`,
    /// `\\x`, `\\q`) and the bare words `help`, `exit` and `quit` (when no collection or let
    /// has that name), as the dot-command line to run; or, for a backslash command kbq has no
    /// equivalent of, `.\\NAME`, which the dot-commands answer with what to use.
    package static func equivalent(of line: String, names: () -> [String]) -> String? {
        // Most lines are queries: only a line starting with a backslash or one of the words
        // is looked at further.
        guard let first = line.utf8.first(where: { $0 != 0x20 && $0 != 0x09 }),
              first == UInt8(ascii: "\\") || "hHeEqQ".utf8.contains(first) else { return nil }
        var text = line.trimmingSpaces
        if text.hasSuffix(";") { text.removeLast() }
        text = text.trimmingSpaces
        switch text.lowercased() {
        case "help", "\\?", "\\h", "\\help": return names().contains(text) ? nil : ".help"
        case "exit", "quit", "\\q": return names().contains(text) ? nil : ".quit"
        default: break
        }
        guard text.hasPrefix("\\") else { return nil }
        let words = text.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
        let rest = words.count > 1 ? " " + words[1] : ""
        switch words.first ?? "" {
        case "d", "d+", "dt", "l": return (rest.isEmpty ? ".schema" : ".schema") + rest
        case "x": return ".expanded" + rest
        case "o": return rest.isEmpty ? ".output" : ".output" + rest
        case "i", "ir": return ".read" + rest
        case "timing": return ".timer" + (rest.isEmpty ? " on" : rest)
        default: return "." + text
        }
    }
}

extension Shell {
    /// Runs a dot-command line. Returns whether it succeeded.
    package func runDotCommand(_ line: String, at location: Location) -> Bool {
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
        case "load", "attach", "detach":
            // A database's KB is the one pushed there: these change the KB in memory only.
            guard let files = engine as? SessionEngine else {
                report(".\(name) does not apply here", at: location, notes: [engine.fixedKBReason ?? ""])
                return false
            }
            switch name {
            case "load": load(args, into: files, at: location)
            case "attach": attach(args, to: files, at: location)
            default: detach(args, from: files, at: location)
            }
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
        case "exit" where args.count == 1 && Int32(args[0]).map({ (0...255).contains($0) }) == true:
            exitStatus = Int32(args[0])
            quitRequested = true
        case "quit", "exit":
            // A word after it is a slip (".quit now" or a pasted line): say so, and stay.
            guard args.isEmpty else {
                report(name == "exit" ? "usage: .exit [STATUS] (a number from 0 to 255)" : "usage: .quit (it takes no arguments)", at: location)
                return false
            }
            quitRequested = true
        case "output", "once":
            setOutput(args, once: name == "once", at: location)
        case "pager":
            if let on = onOff(args, usage: ".pager on|off", at: location) { pager = on }
        case "headers", "header":
            if let on = onOff(args, usage: ".headers on|off", at: location) { display.headers = on }
        case "nullvalue":
            guard args.count <= 1 else {
                report("usage: .nullvalue TEXT (quote TEXT with spaces in it)", at: location)
                return false
            }
            display.nullText = args.first ?? ""
        case "expanded", "x":
            setExpanded(args, at: location)
        case "mode":
            setMode(args, at: location)
        case "tables":
            let names = engine.kb.collections.map(\.name) + engine.letNames
            out.write(names.map(sanitizeForTerminal).joined(separator: "  ") + "\n")
        case "show":
            showSettings()
        case let foreignName where DotCommand.foreign[foreignName] != nil:
            report("kbq has no .\(foreignName)", at: location, notes: [DotCommand.foreign[foreignName] ?? ""])
            return false
        case let backslash where backslash.hasPrefix("\\"):
            report("unknown command '\(backslash)'", at: location,
                   notes: ["psql's \\d is .schema, \\x is .expanded, \\o is .output, \\q is .quit; .help lists kbq's commands"])
            return false
        default:
            let names = DotCommand.all.map { "." + $0.name }
            report("unknown command '.\(name)'", at: location, suggestion: closestWord(to: "." + name, in: names),
                   notes: [".help lists the commands"])
            return false
        }
        // `.once FILE` is for the command or statement after it.
        if name != "once" { finishOnce(ok: failures == before) }
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

    /// `on` or `off` (also 1/0, true/false, yes/no, as sqlite3 takes them), or a usage error.
    private func onOff(_ args: [String], usage: String, at location: Location) -> Bool? {
        switch args.count == 1 ? args[0].lowercased() : "" {
        case "on", "1", "true", "yes": return true
        case "off", "0", "false", "no": return false
        default:
            report("usage: \(usage)", at: location)
            return nil
        }
    }

    private func setExpanded(_ args: [String], at location: Location) {
        guard let word = args.first else {
            // psql's \x with no argument toggles.
            display.expanded = display.expanded == .on ? .off : .on
            out.write("expanded: \(display.expanded.rawValue)\n")
            return
        }
        guard args.count == 1, let e = DisplayOptions.Expanded(rawValue: word.lowercased()) else {
            report("usage: .expanded on|off|auto", at: location)
            return
        }
        display.expanded = e
    }

    /// sqlite3's `.mode`: the modes kbq has are its formats; the others say what to use.
    private func setMode(_ args: [String], at location: Location) {
        guard let word = args.first?.lowercased(), args.count == 1 else {
            if args.isEmpty { out.write("format: \(format.rawValue)\n") } else { report("usage: .mode table|json|csv|markdown (kbq calls it .format)", at: location) }
            return
        }
        let formats: [String: OutputFormat] = ["table": .table, "box": .table, "column": .table, "columns": .table,
                                                "json": .json, "csv": .csv, "markdown": .markdown]
        if let f = formats[word] {
            format = f
        } else if word == "line" {
            display.expanded = .on
        } else {
            report("kbq has no '\(word)' mode", at: location,
                   notes: [".format table|json|csv|markdown (or .mode), and .expanded on for one record at a time"])
        }
    }

    private func setOutput(_ args: [String], once: Bool, at location: Location) {
        let usage = once ? ".once FILE" : ".output [FILE]"
        guard args.count <= 1, once ? args.count == 1 : true else {
            report("usage: \(usage)", at: location)
            return
        }
        closeResultFile()
        guard let path = args.first, path != "stdout", path != "-" else { return }
        switch ResultFile.create(path, once: once) {
        case .success(let file): resultFile = file
        case .failure(let e): report(e.message, at: location)
        }
    }

    private func showSettings() {
        var lines = [
            "format: \(format.rawValue)",
            "headers: \(display.headers ? "on" : "off")",
            "nullvalue: \"\(sanitizeForTerminal(display.nullText))\"",
            "expanded: \(display.expanded.rawValue)",
            "rows: \(displayRows.map(String.init) ?? "all")",
            "pager: \(pager ? (TerminalPrinter.pagerCommand().map { "on (\(sanitizeForTerminal($0)))" } ?? "on (PAGER is empty: none)") : "off")",
            "timer: \(timer ? "on" : "off")",
        ]
        lines.append("output: " + (resultFile.map { "'\(sanitizeForTerminal($0.path))'\($0.once ? " (once)" : "")" } ?? "stdout"))
        out.write(lines.joined(separator: "\n") + "\n")
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

    private func load(_ args: [String], into files: SessionEngine, at location: Location) {
        guard args.count == 1 else {
            report("usage: .load FILE", at: location)
            return
        }
        do {
            let kb = try Shell.openKB(args[0])
            let hadLets = !files.letNames.isEmpty
            files.replace(with: kb)
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
            if interactive { err.write("kept the current KB (\(sanitizeForTerminal(files.kb.name)))\n") }
            fail(.usage)
        }
    }

    private func schema(_ args: [String], at location: Location) {
        let kb = engine.kb
        guard let name = args.first else {
            var rows: [[Value]] = kb.collections.map { c in
                [.string(c.name), .number(Double(engine.rowCount(of: c))), .string(c.key ?? ""), .string(c.measure ?? ""),
                 .string(c.fields.map(\.name).joined(separator: ", "))]
            }
            for l in engine.letNames {
                let columns = engine.columns(ofLet: l) ?? []
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
            let count = engine.rowCount(of: c)
            var title = "\(c.name): \(formatNumber(Double(count))) row\(count == 1 ? "" : "s")"
            if let k = c.key { title += ", key \(k)" }
            if let m = c.measure { title += ", measure \(m)" }
            let table = ResultTable(
                columns: [ResultColumn(name: "field", type: .string), ResultColumn(name: "type", type: .string),
                          ResultColumn(name: "role", type: .string)],
                rows: rows, title: title)
            show(table, format: format, width: tableWidth())
        } else if let columns = engine.columns(ofLet: name) {
            let table = ResultTable(
                columns: [ResultColumn(name: "field", type: .string), ResultColumn(name: "type", type: .string)],
                rows: columns.map { [.string($0.name), .string($0.type.description)] }, title: "\(name): a let name")
            show(table, format: format, width: tableWidth())
        } else {
            report("unknown collection '\(name)'", at: location,
                   suggestion: closestWord(to: name, in: kb.collections.map(\.name) + engine.letNames))
        }
    }
}

/// The candidate closest to `word`, when it is close enough to be a slip of the fingers:
/// the engine's own "did you mean", so the shell and the language suggest alike.
package func closestWord(to word: String, in candidates: [String]) -> String? {
    Diagnostic.suggestion(for: word, among: candidates)
}

extension Shell {
    /// The KB a path names: the built-in article KB for `article` (unless a file has that
    /// name), else the file.
    package static func openKB(_ path: String) throws -> KnowledgeBase {
        if path == "article" && Files.identity(path) == nil { return KnowledgeBase.article }
        return try KnowledgeBase(contentsOfFile: path)
    }

    /// `.attach FILE [as NAME]`: the file's collections beside the current KB's.
    fileprivate func attach(_ args: [String], to files: SessionEngine, at location: Location) {
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
            let hadLets = !files.letNames.isEmpty
            let (label, added) = try files.attachKB(other, as: name)
            var message = "attached \(sanitizeForTerminal(label)): " + added.map(sanitizeForTerminal).joined(separator: ", ")
            if hadLets { message += " (let names were cleared)" }
            if interactive { out.write(dim(message) + "\n") }
        } catch {
            report(error.message, at: location, notes: error.notes)
        }
    }

    /// `.detach NAME`: the current KB without what `.attach` added under NAME.
    fileprivate func detach(_ args: [String], from files: SessionEngine, at location: Location) {
        guard args.count == 1 else {
            report("usage: .detach NAME", at: location)
            return
        }
        let labels = files.attachments.map(\.label)
        do {
            guard try files.detach(args[0]) else {
                report("nothing is attached as '\(args[0])'", at: location, suggestion: closestWord(to: args[0], in: labels),
                       notes: [labels.isEmpty ? "nothing is attached" : "attached: " + labels.joined(separator: ", ")])
                return
            }
        } catch {
            report(error.message, at: location, notes: error.notes)
            return
        }
        if interactive { out.write(dim("detached \(sanitizeForTerminal(args[0]))") + "\n") }
    }
}
