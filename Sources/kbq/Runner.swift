#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ

/// Runs what the command line asks for and says how it went.
enum Runner {
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

        let shell = Shell(session: Session(kb: kbs[0]), format: options.format, parameters: parameters,
                          keepGoing: options.keepGoing, interactive: interactive)
        for (other, path) in zip(kbs.dropFirst(), options.kbPaths.dropFirst()) {
            do {
                _ = try shell.attachKB(other, as: nil)
            } catch {
                err.write("kbq: cannot attach \(sanitizeForTerminal(path)): \(error.description)\n")
                return .usage
            }
        }
        if interactive { return Repl.run(shell) }
        for script in scripts {
            let ok = shell.runScript(script.text, name: script.name, file: script.file)
            if shell.quitRequested || !ok && !options.keepGoing { break }
        }
        return shell.status
    }
}
