import ArgumentParser
import KBQ
import KBQShell

/// The command line as swift-argument-parser sees it: the source of `--help`, of the shell
/// completion scripts (`--generate-completion-script bash|zsh|fish`) and of usage errors.
///
/// Most runs never come here: ``FastOptionParser`` reads the common flags itself, because
/// calling into this library costs about a millisecond of start-up.
struct KBQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kbq",
        abstract: "Query a knowledge base of sourced claims.",
        discussion: """
            With no script and a terminal on standard input, kbq starts an interactive shell \
            (type .help there). Otherwise it runs the scripts given, the -e queries, or the \
            statements on standard input, and exits with status 0 when all went well, 1 when a \
            query had an error, 2 for a usage error or a knowledge base that cannot be loaded.

            kbq fmt [--check] [FILE…] lays scripts out the canonical way; kbq lsp [--kb FILE] is a \
            language server for editors (docs/EDITORS.md).

            kbq build -o FILE.kbqdb [--kb FILE…] writes the KB (the article KB by default) as a \
            compiled file, which --kb FILE.kbqdb opens without parsing; a truncated or damaged \
            one, or one of another format version, is refused with exit status 2 \
            (docs/KB-FORMAT.md, "Compiled KB files").

            Lines starting with a dot are shell commands (.help, .schema, .format, .load, \
            .read, .timer, .rows, .output, .once, .pager, .headers, .nullvalue, .expanded, \
            .tables, .show, .quit) in scripts as in the interactive shell.

            Databases (docs/ENGINES.md; run by kbq-db, beside kbq): kbq push URL [--kb FILE] \
            puts a KB into PostgreSQL; kbq --db URL [-e QUERY | SCRIPT …] runs queries there; \
            kbq --sql [--dialect postgres|spark|duckdb|sqlite] -e QUERY prints their SQL; \
            kbq export DIR [--dialect D] writes the tables as CSV.

            Environment: KBQ_HISTORY names the history file (empty: keep no history); \
            otherwise it is $XDG_STATE_HOME/kbq/history or ~/.local/state/kbq/history. \
            NO_COLOR turns colour off. PAGER is the pager for results taller than the \
            terminal (less -SFX when unset; empty: none).
            """,
        version: "kbq \(kbqVersion)"
    )

    @Option(name: [.customShort("e"), .customLong("execute")],
            help: ArgumentHelp("Run a query (may be repeated).", valueName: "query"))
    var expressions: [String] = []

    @Option(name: .customLong("kb"),
            help: ArgumentHelp("Load this knowledge base instead of the built-in article KB: a KB file (docs/KB-FORMAT.md), a compiled .kbqdb file (kbq build), or bare rows as CSV, NDJSON or JSON, types inferred. Given again, each further KB is attached beside the first (`--kb article` is the built-in one).", valueName: "file"),
            completion: .file(extensions: ["json", "csv", "tsv", "kbqdb"]))
    var kb: [String] = []

    @Option(name: [.customShort("f"), .long], help: "The output format.")
    var format: FormatOption = .table

    @Flag(name: [.customLong("json"), .customLong("json", withSingleDash: true)], help: "Shorthand for --format json (NDJSON: one object a line per result).")
    var json = false
    @Flag(name: [.customLong("csv"), .customLong("csv", withSingleDash: true)], help: "Shorthand for --format csv.")
    var csv = false
    @Flag(name: [.customLong("markdown"), .customLong("markdown", withSingleDash: true)], help: "Shorthand for --format markdown.")
    var markdown = false
    @Flag(name: [.customLong("table"), .customLong("table", withSingleDash: true)], help: "Shorthand for --format table.")
    var table = false

    @Option(name: [.customShort("p"), .customLong("param")],
            help: ArgumentHelp("Bind a query parameter: $name in the query (may be repeated). The value reads as a literal: 14000, 76.6%, 2024-06, \"text\", [\"a\", \"b\"]; anything else is text.", valueName: "name=value"))
    var parameters: [String] = []

    @Flag(name: [.customShort("k"), .long], help: "Run the statements after an error too.")
    var keepGoing = false

    @Argument(help: ArgumentHelp("Scripts to run ('-' is standard input).", valueName: "script"),
              completion: .file(extensions: ["kbq"]))
    var scripts: [String] = []

    mutating func validate() throws {
        var given: [String: String] = [:]
        for p in parameters {
            guard let (name, value) = FastOptionParser.parameter(p) else {
                throw ValidationError("--param expects name=value, where name is a parameter name; got '\(p)'.")
            }
            // The last one silently winning would run the query on a value the user may not mean.
            if let first = given[name] {
                throw ValidationError("--param \(name) is given twice ('\(first)' and '\(value)'); give each parameter once.")
            }
            given[name] = value
        }
    }

    /// The parsed options, in the shape the runner uses. swift-argument-parser does not keep
    /// the order between scripts and `-e` options, so it is read again from `arguments`: a
    /// line such as `-kf json -e A b.kbq` must run A before b.kbq, as the fast parser does.
    func options(arguments: [String]) -> Options {
        var o = Options()
        let files = scripts.map { ScriptInput.file($0) }
        let queries = expressions.enumerated().map { ScriptInput.expression($1, index: $0 + 1) }
        if let order = KBQCommand.inputOrder(arguments), order.count == files.count + queries.count,
           order.filter({ $0 }).count == queries.count {
            var f = files[...], q = queries[...]
            o.inputs = order.map { $0 ? q.popFirst()! : f.popFirst()! }
        } else {
            o.inputs = files + queries
        }
        o.kbPaths = kb
        o.format = format.outputFormat
        // The last format given wins (-f csv --json is JSON), as the fast parser reads them.
        if json || csv || markdown || table {
            var i = 0
            while i < arguments.count {
                let a = arguments[i]
                i += 1
                if a == "--" { break }
                if ["-e", "--execute", "-p", "--param", "--kb"].contains(a) {
                    i += 1
                } else if a == "-f" || a == "--format", i < arguments.count {
                    if let f = OutputFormat(rawValue: arguments[i].lowercased()) { o.format = f }
                    i += 1
                } else if a.hasPrefix("--format="), let f = OutputFormat(rawValue: a.dropFirst(9).lowercased()) {
                    o.format = f
                } else if let f = FastOptionParser.formatShorthand(a) {
                    o.format = f
                }
            }
        }
        o.parameters = parameters.compactMap(FastOptionParser.parameter)
        o.keepGoing = keepGoing
        return o
    }

    /// Parses with swift-argument-parser. Prints help, the version or a completion script and
    /// exits 0 when asked for one; prints a usage error and exits 2 when the line is wrong.
    static func options(from arguments: [String]) -> Options {
        do {
            var command = try parseAsRoot(arguments)
            if let kbq = command as? KBQCommand { return kbq.options(arguments: arguments) }
            // `kbq help` comes back as the library's help command, which prints the help.
            try command.run()
            terminate(.ok)
        } catch {
            // The message quotes what was typed (`--x\e[2J`, `-p t=\e]0;X\a`): escaped, line
            // by line, so an argument cannot drive the terminal it is shown on.
            let message = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false)
                .map { sanitizeForTerminal(String($0)) }.joined(separator: "\n")
            if exitCode(for: error).isSuccess {
                Output.standardOutput.write(message.hasSuffix("\n") ? message : message + "\n")
                terminate(.ok)
            }
            Output.standardError.write(message.hasSuffix("\n") ? message : message + "\n")
            terminate(.usage)
        }
    }
}

extension KBQCommand {
    /// For each script and `-e` query on a line swift-argument-parser accepted, in order,
    /// whether it is a query: options are read as that parser reads them (grouped short
    /// flags `-ke Q`, `-e=Q`, `--execute=Q`, `--` before file names). `nil` when the line
    /// has a shape this does not know.
    static func inputOrder(_ arguments: [String]) -> [Bool]? {
        let valued: Set<Character> = ["e", "f", "p"]
        let valuedLong = ["--execute", "--kb", "--format", "--param"]
        var order: [Bool] = []
        var i = 0
        var onlyFiles = false
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            if onlyFiles || a == "-" || !a.hasPrefix("-") {
                order.append(false)
            } else if a == "--" {
                onlyFiles = true
            } else if a.hasPrefix("--") {
                let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
                guard valuedLong.contains(name) else { continue }
                if !a.contains("=") { i += 1 }
                if name == "--execute" { order.append(true) }
            } else {
                // A group of short options: the one that takes a value ends it.
                for (n, c) in a.dropFirst().enumerated() {
                    guard valued.contains(c) else { continue }
                    let rest = a.dropFirst(n + 2)
                    guard rest.isEmpty || rest.hasPrefix("=") else { return nil }
                    if rest.isEmpty { i += 1 }
                    if c == "e" { order.append(true) }
                    break
                }
            }
        }
        return order
    }
}

/// `--format`'s values, in any case (`-f CSV`).
enum FormatOption: String, CaseIterable, ExpressibleByArgument {
    case table, json, csv, markdown

    init?(argument: String) {
        self.init(rawValue: argument.lowercased())
    }

    var outputFormat: OutputFormat {
        switch self {
        case .table: return .table
        case .json: return .json
        case .csv: return .csv
        case .markdown: return .markdown
        }
    }
}
