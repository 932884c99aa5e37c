#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ
import KBQShell

// kbq: the interactive shell on a terminal, the script runner otherwise. Start-up time
// matters (`kbq -e QUERY` should be about as quick as `sqlite3 :memory: 'select 1'`), so the
// common flags are read without swift-argument-parser and libedit is touched only by the REPL.

Output.reserveStandardDescriptors()
// A mapped file truncated under kbq ends it with a message and exit 2, not a bare SIGBUS
// (docs/ROBUSTNESS.md, "Files changed while kbq reads them").
_ = kbq_catch_bus_errors()
let arguments = Array(CommandLine.arguments.dropFirst())
// The editor tools are words before any option (a script named `fmt` is run as `./fmt`).
switch arguments.first {
case "fmt": terminate(FormatCommand.run(Array(arguments.dropFirst())))
case "lsp": terminate(LanguageServerCommand.run(Array(arguments.dropFirst())))
case "build": terminate(BuildCommand.run(Array(arguments.dropFirst())))
default: break
}
ExternalCommand.runIfNamed(arguments)
let options: Options
switch FastOptionParser.parse(arguments) {
case .run(let parsed): options = parsed
case .delegate: options = KBQCommand.options(from: arguments)
}
if options.showVersion {
    Output.standardOutput.write("kbq \(kbqVersion)\n")
    terminate(.ok)
}
terminate(Runner.run(options))
