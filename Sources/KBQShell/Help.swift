import KBQ

extension Shell {
    package func help(_ args: [String], at location: Location) {
        guard !args.isEmpty else {
            out.write(overview())
            return
        }
        let name = args.joined(separator: " ")
        if let command = DotCommand.all.first(where: { "." + $0.name == name || $0.name == name && HelpTopic.find(name) == nil }) {
            out.write("\(command.usage)\n  \(command.summary)\n")
            return
        }
        guard let topic = HelpTopic.find(name) else {
            let names = HelpTopic.all.flatMap(\.names) + DotCommand.all.map { "." + $0.name }
            report("no help on '\(name)'", at: location, suggestion: closestWord(to: name, in: names),
                   notes: ["topics: " + HelpTopic.all.map { $0.names[0] }.joined(separator: ", ")])
            return
        }
        var body = topic.text
        // The scale is the loaded KB's: a --kb file can declare its own words.
        if topic.names[0] == "where" || topic.names[0] == "hedges" {
            body += " Hedges are ordered, strongest first: " + engine.kb.hedges.words.joined(separator: " > ") + "."
        }
        let width = min(tableWidth() ?? 100, 100)
        // A syntax line groups its forms with two spaces: it breaks between groups only.
        var text = Shell.wrapped(topic.syntax, width: width, separator: "  ") + "\n\n" + Shell.wrapped(body, width: width) + "\n\n"
        for e in topic.examples {
            // An example too long for the width goes under its label, wrapped at spaces.
            text += "  example: \(e)".count <= width ? "  example: \(e)\n"
                : "  example:\n" + Shell.wrapped(e, width: width - 4).split(separator: "\n").map { "    " + $0 + "\n" }.joined()
        }
        out.write(text)
    }

    /// `text` broken where `separator` stands into lines of at most `width` characters (a
    /// longer word stands alone on its line).
    package static func wrapped(_ text: String, width: Int, separator: String = " ") -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: separator) {
            if !line.isEmpty && line.count + separator.count + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : separator) + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    private func overview() -> String {
        let commands = DotCommand.all.filter { $0.name != "exit" }
        // Every line fits the width (down to 40 columns): paragraphs wrap at spaces, and a
        // list's text wraps under itself, or goes under its name when the name leaves no room.
        let width = min(tableWidth() ?? 100, 100)
        let paragraph = { (s: String) in Shell.wrapped(s, width: width) + "\n" }
        func list(_ items: [(String, String)]) -> String {
            let labelWidth = items.map(\.0.count).max() ?? 0
            var out = ""
            for (label, text) in items {
                if 2 + labelWidth + 2 + 24 <= width {
                    let lines = Shell.wrapped(text, width: width - labelWidth - 4).split(separator: "\n")
                    for (n, l) in lines.enumerated() {
                        let head = n == 0 ? label : ""
                        out += "  " + head + String(repeating: " ", count: labelWidth - head.count + 2) + l + "\n"
                    }
                } else {
                    out += "  " + label + "\n"
                    for l in Shell.wrapped(text, width: width - 6).split(separator: "\n") { out += "      " + l + "\n" }
                }
            }
            return out
        }
        var text = paragraph("A query starts from a collection or a let name and applies clauses left to right:")
        text += "  estimates where topic = \"containers\"\n    compare source\n\n"
        text += "Statements:\n" + list([
            ("COLLECTION CLAUSE…", "query a collection (.schema lists them) or a let name"),
            ("C1, C2, … CLAUSE…", "several collections at once, with their shared fields"),
            ("let NAME = QUERY", "name a result for later statements"),
            ("describe \"NAME\"", "everything about an entity, by name or alias"),
            ("search \"WORDS\"", "sentences with all the words, anywhere (\"…\" for a phrase)"),
            ("conflicts", "every topic where sources disagree"),
            ("explain QUERY", "the checked plan instead of the rows"),
        ])
        text += "\n" + paragraph("Clauses: where, select, sort by, limit, group by … aggregate, compare, cite, timeline, chart, follow (to the rows a reference points at), referrers (the rows that point at these)")
        text += paragraph(".help TOPIC shows a clause's syntax and examples (topics: "
                          + HelpTopic.all.map { $0.names[0] }.joined(separator: ", ") + ").")
        text += "\nCommands:\n" + list(commands.map { ($0.usage, $0.summary) })
        text += "\n" + paragraph("""
            Habits of other shells work too: help, quit, exit; psql's \\q, \\d [NAME] (.schema), \\x \
            (.expanded), \\o FILE (.output); sqlite3's .mode, .tables, .headers, .nullvalue, .exit N.
            """)
        text += "\n" + paragraph("""
            Keys: TAB completes names, fields, values, commands and file names; Up and Down recall \
            input; Ctrl-C drops the current input, or stops a query or its printing; Ctrl-D on an \
            empty line leaves, on a continuation line (...>) drops the unfinished statement.
            """)
        text += "\n" + paragraph("""
            Several lines: a statement goes on while a quote or bracket is open (the prompt shows \
            it: ...\"> ) or a line ends with a backslash. Pasted lines are read as a file's are: a \
            line starting with a clause word or | continues the statement above it, and the paste \
            is checked whole before any of it runs.
            """)
        return text
    }
}
