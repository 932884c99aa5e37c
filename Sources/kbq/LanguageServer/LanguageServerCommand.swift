#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ
import KBQShell

/// `kbq lsp [--kb FILE]`: the language server on standard input and output.
enum LanguageServerCommand {
    static let usage = "usage: kbq lsp [--kb FILE]   (a Language Server Protocol server on standard input and output)\n"

    static func run(_ arguments: [String]) -> ExitStatus {
        let err = Output.standardError
        var kbPath: String?
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            switch a {
            case "--kb":
                guard i < arguments.count else { err.write("kbq lsp: --kb needs a file\n" + usage); return .usage }
                kbPath = arguments[i]
                i += 1
            case "--stdio": break  // what editors pass; standard input and output are all it speaks
            case "-h", "--help": Output.standardOutput.write(usage); return .ok
            default:
                if a.hasPrefix("--kb=") { kbPath = String(a.dropFirst(5)); continue }
                err.write("kbq lsp: unknown argument '\(sanitizeForTerminal(a))'\n" + usage)
                return .usage
            }
        }
        var kb = KnowledgeBase.article
        if let kbPath {
            do {
                kb = try KnowledgeBase(contentsOfFile: kbPath)
            } catch {
                let text = String(describing: error)
                err.write(text.hasSuffix("\n") ? text : text + "\n")
                return .usage
            }
        }
        // A client that goes away mid-write must not kill the server with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let server = LanguageServer(transport: MessageTransport(), kb: kb, kbFromCommandLine: kbPath != nil)
        return server.run()
    }
}
