import KBQ

extension Shell {
    func help(_ args: [String], at location: Location) {
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
            body += " Hedges are ordered, strongest first: " + session.kb.hedges.words.joined(separator: " > ") + "."
        }
        let width = min(tableWidth() ?? 100, 100)
        // A syntax line groups its forms with two spaces: it breaks between groups only.
        var text = Shell.wrapped(topic.syntax, width: width, separator: "  ") + "\n\n" + Shell.wrapped(body, width: width) + "\n\n"
        for e in topic.examples { text += "  example: \(e)\n" }
        out.write(text)
    }

    /// `text` broken where `separator` stands into lines of at most `width` characters (a
    /// longer word stands alone on its line).
    static func wrapped(_ text: String, width: Int, separator: String = " ") -> String {
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
        let width = commands.map(\.usage.count).max() ?? 0
        // Wrapped like the topics' text: on a narrow terminal a long line would break inside words.
        let topics = Shell.wrapped(".help TOPIC shows a clause's syntax and examples (topics: "
                                   + HelpTopic.all.map { $0.names[0] }.joined(separator: ", ") + ").",
                                   width: min(tableWidth() ?? 100, 100))
        var text = """
            A query starts from a collection or a let name and applies clauses left to right:
              estimates where topic = "containers" compare source

            Statements:
              COLLECTION CLAUSE…        query a collection (.schema lists them) or a let name
              C1, C2, … CLAUSE…         several collections at once, with their shared fields
              let NAME = QUERY          name a result for later statements
              describe "NAME"           everything about an entity, by name or alias
              search "WORDS"            sentences with all the words, anywhere ("…" for a phrase)
              conflicts                 every topic where sources disagree
              explain QUERY             the checked plan instead of the rows

            Clauses: where, select, sort by, limit, group by … aggregate, compare, cite, timeline, chart
            \(topics)

            Commands:

            """
        for c in commands {
            text += "  " + c.usage + String(repeating: " ", count: width - c.usage.count + 2) + c.summary + "\n"
        }
        text += """

            Keys: TAB completes names, fields, values, commands and file names; Up and Down recall input;
            Ctrl-C drops the current input; Ctrl-D on an empty line leaves.

            """
        return text
    }
}
