import KBQ

/// One piece of input for the script runner, in command-line order.
enum ScriptInput: Equatable {
    /// A script file (`-` for standard input).
    case file(String)
    /// The text of a `-e` option; `index` counts the `-e` options from 1.
    case expression(String, index: Int)
}

/// What the command line asks for.
struct Options: Equatable {
    var inputs: [ScriptInput] = []
    /// `--kb` in order: the first is the KB (`article` is the built-in one), the others are
    /// attached beside it.
    var kbPaths: [String] = []
    var format: OutputFormat = .table
    var parameters: [(name: String, value: String)] = []
    var keepGoing = false
    var showVersion = false

    static func == (a: Options, b: Options) -> Bool {
        a.inputs == b.inputs && a.kbPaths == b.kbPaths && a.format == b.format && a.keepGoing == b.keepGoing
            && a.showVersion == b.showVersion
            && a.parameters.map(\.name) == b.parameters.map(\.name) && a.parameters.map(\.value) == b.parameters.map(\.value)
    }
}

/// How the fast parser answered.
enum ParsedCommandLine {
    case run(Options)
    /// `--help`, completion scripts, or anything the fast parser does not accept: handed to
    /// swift-argument-parser, which prints help or a precise usage error.
    case delegate
}

/// Reads the command line without swift-argument-parser.
///
/// Why: calling into swift-argument-parser costs about 1 ms of start-up (it initialises
/// FoundationEssentials), a third of what `kbq -e QUERY` may take in all. The common flags
/// are read here; help, completion scripts and every usage error go to ``KBQCommand``, so
/// the user still sees its messages. A test checks that both parsers agree.
enum FastOptionParser {
    static func parse(_ arguments: [String]) -> ParsedCommandLine {
        var options = Options()
        var expressions = 0
        var i = 0
        var onlyFiles = false

        // The value of an option: `--option=value` or the next argument, the two forms
        // swift-argument-parser accepts too.
        func value(_ argument: String, _ name: String) -> String? {
            if argument.hasPrefix(name + "=") { return String(argument.dropFirst(name.count + 1)) }
            guard argument == name, i + 1 < arguments.count else { return nil }
            i += 1
            return arguments[i]
        }
        func matches(_ argument: String, _ short: String?, _ long: String) -> String? {
            if argument == long || argument.hasPrefix(long + "=") { return long }
            if let short, argument == short { return short }
            return nil
        }

        while i < arguments.count {
            let a = arguments[i]
            defer { i += 1 }
            if onlyFiles || a == "-" || !a.hasPrefix("-") {
                options.inputs.append(.file(a))
                continue
            }
            if a == "--" { onlyFiles = true; continue }
            if a == "-k" || a == "--keep-going" { options.keepGoing = true; continue }
            if a == "--version" { options.showVersion = true; continue }
            if let n = matches(a, "-e", "--execute") {
                guard let v = value(a, n) else { return .delegate }
                expressions += 1
                options.inputs.append(.expression(v, index: expressions))
            } else if let n = matches(a, nil, "--kb") {
                guard let v = value(a, n) else { return .delegate }
                options.kbPaths.append(v)
            } else if let n = matches(a, "-f", "--format") {
                guard let v = value(a, n), let f = OutputFormat(rawValue: v) else { return .delegate }
                options.format = f
            } else if let n = matches(a, "-p", "--param") {
                // A name given twice is refused by the full parser's validation.
                guard let v = value(a, n), let p = parameter(v), !options.parameters.contains(where: { $0.name == p.name })
                else { return .delegate }
                options.parameters.append(p)
            } else {
                return .delegate
            }
        }
        return .run(options)
    }

    /// `name=value` (a leading `$` on the name is allowed, as the query writes it).
    static func parameter(_ text: String) -> (name: String, value: String)? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        var name = Substring(text[..<eq])
        if name.hasPrefix("$") { name = name.dropFirst() }
        // The same names the query language reads after `$`.
        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || b == UInt8(ascii: "_") }
        guard let first = name.utf8.first, isLetter(first),
              name.utf8.allSatisfy({ isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) })
        else { return nil }
        return (String(name), String(text[text.index(after: eq)...]))
    }
}
