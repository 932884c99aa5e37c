#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ
import KBQShell

/// Runs what the command line asks for and says how it went.
enum Runner {
    /// Whether a script argument that cannot be read is more likely a query: it has a space
    /// or a quote in it, or is a collection's name, and no file of that name exists.
    static func looksLikeQuery(_ argument: String) -> Bool {
        guard access(argument, F_OK) != 0 else { return false }
        if argument.contains(" ") || argument.contains("\"") { return true }
        return KnowledgeBase.article.collections.contains { $0.name == argument } || argument == "conflicts"
    }

    static func run(_ options: Options) -> ExitStatus {
        let err = Output.standardError
        let interactive = options.inputs.isEmpty && isatty(0) == 1

        // Every script is read before anything runs: a missing file is a usage error, and
        // no half of the work is done before it is found.
        var scripts: [(name: String, text: String, file: FileIdentity?)] = []
        let expressionCount = options.inputs.reduce(0) { n, i in if case .expression = i { n + 1 } else { n } }
        for input in options.inputs {
            switch input {
            case .file(let path):
                do {
                    scripts.append((path == "-" ? "<stdin>" : path, try Files.readText(path), path == "-" ? nil : Files.identity(path)))
                } catch {
                    err.write("kbq: \(sanitizeForTerminal(error.description))\n")
                    // `kbq 'claims limit 1'`: a query given where a file name goes.
                    if Runner.looksLikeQuery(path) {
                        err.write("  = help: to run it as a query: kbq -e '\(sanitizeForTerminal(path.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")))'\n")
                    }
                    return .usage
                }
            case .expression(let text, let index):
                scripts.append((expressionCount == 1 ? "-e" : "-e#\(index)", text, nil))
            }
        }
        if options.inputs.isEmpty && !interactive {
            do {
                scripts.append(("<stdin>", try Files.readText("-"), nil))
            } catch {
                err.write("kbq: \(sanitizeForTerminal(error.description))\n")
                return .usage
            }
        }

        var parameters: [String: Value] = [:]
        for p in options.parameters { parameters[p.name] = Value.parse(literal: p.value) }

        // The first --kb is the KB; each later one is attached beside it.
        var kbs: [KnowledgeBase] = []
        for path in options.kbPaths.isEmpty ? ["article"] : options.kbPaths {
            do {
                kbs.append(try Shell.openKB(path))
            } catch {
                let text = String(describing: error)
                err.write(text.hasSuffix("\n") ? text : text + "\n")
                return .usage
            }
        }

        let files = SessionEngine(kb: kbs[0])
        let shell = Shell(engine: files, format: options.format, parameters: parameters,
                          keepGoing: options.keepGoing, interactive: interactive)
        // An index loop, not zip: a zip of two slices costs every start 0.2 million
        // instructions of runtime metadata lookup, even when there is nothing to attach.
        for i in 1..<kbs.count where i < options.kbPaths.count {
            let (other, path) = (kbs[i], options.kbPaths[i])
            do {
                _ = try files.attachKB(other, as: nil)
            } catch {
                err.write("kbq: cannot attach \(sanitizeForTerminal(path)): \(error.description)\n")
                return .usage
            }
        }
        var status = ExitStatus.ok
        if interactive {
            status = Repl.run(shell)
        } else {
            for script in scripts {
                let ok = shell.runScript(script.text, name: script.name, file: script.file)
                if shell.quitRequested || !ok && !options.keepGoing { break }
            }
            status = shell.status
        }
        // A file of `.output` still open is complete now.
        shell.closeResultFile()
        if let asked = shell.exitStatus { exit(asked) }
        return interactive ? status : shell.status
    }
}
