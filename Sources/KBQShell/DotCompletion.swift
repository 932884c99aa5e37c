#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KBQ

/// TAB on a dot-command line: the engine knows the language, not the shell's commands, so
/// their names and arguments are completed here (collections after `.schema`, formats after
/// `.format`, file names after `.load` and `.read`, as a shell completes paths).
package enum DotCompletion {
    /// The completions for `text` (the whole entry) at byte offset `cursor`, or `nil` when
    /// the cursor is not on a dot-command line.
    package static func candidates(for text: String, cursor: Int, shell: Shell) -> (replaceFrom: Int, candidates: [String])? {
        let bytes = Array(text.utf8.prefix(cursor))
        // A dot-command is a line of its own, at the start of an entry.
        guard !bytes.contains(UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: bytes, as: UTF8.self)
        guard line.utf8.drop(while: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).first == UInt8(ascii: ".") else {
            return nil
        }
        // The words so far, and where the last one starts: quotes keep spaces in a file name.
        let scanned = DotCommand.scan(line)
        let words = scanned.words.map(\.text)
        // The word being typed (empty after a space), without its quote.
        let inWord = scanned.inWord
        let start = inWord ? scanned.words.last?.start ?? bytes.count : bytes.count
        let argumentIndex = inWord ? scanned.words.count - 1 : scanned.words.count
        let typed = inWord ? words.last ?? "" : ""
        let quote = scanned.openQuote.map { String($0) }

        if argumentIndex == 0 {
            return (start, DotCommand.all.map { "." + $0.name }.filter { $0.hasPrefix(typed) })
        }
        let command = String((words.first ?? "").dropFirst())
        // Commands that take one argument get nothing more after it.
        guard argumentIndex == 1 else { return (start, []) }
        let choices: [String]
        switch command {
        case "help":
            choices = HelpTopic.all.map { $0.names[0] } + DotCommand.all.map { "." + $0.name }
        case "schema":
            choices = shell.engine.kb.collections.map(\.name) + shell.engine.letNames
        case "format":
            choices = OutputFormat.allCases.map(\.rawValue)
        case "timer":
            choices = ["on", "off"]
        case "rows":
            choices = ["all"]
        case "detach":
            // The labels .attach gave, newest first: what is detached most often.
            choices = (shell.engine as? SessionEngine)?.attachments.reversed().map(\.label) ?? []
        case "load", "read", "attach":
            // A name with a space is quoted, and a file (not a folder) gets its closing quote.
            // `article` names the built-in KB to .load and .attach (when no file has that name).
            let builtIn = command != "read" && quote == nil && "article".hasPrefix(typed) ? ["article"] : []
            return (start, builtIn + files(startingWith: typed).filter { !builtIn.contains($0) }.map { path in
                guard let q = quote ?? (path.contains(" ") ? "\"" : nil) else { return path }
                return q + path + (path.hasSuffix("/") ? "" : q)
            })
        default:
            choices = []
        }
        return (start, choices.filter { $0.lowercased().hasPrefix(typed.lowercased()) })
    }

    /// The entries of the folder in `typed` whose names start with its last part, each as
    /// the whole path to put on the line; folders end with `/` so TAB can go on into them.
    /// Names starting with a dot are offered only when a dot is typed.
    package static func files(startingWith typed: String) -> [String] {
        let slash = typed.lastIndex(of: "/")
        let folder = slash.map { String(typed[...$0]) } ?? ""
        let prefix = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
        guard let dir = opendir(folder.isEmpty ? "." : folder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name != ".", name != "..", name.hasPrefix(prefix), !name.hasPrefix(".") || prefix.hasPrefix(".") else { continue }
            var info = stat()
            let isFolder = stat(folder + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            names.append(folder + name + (isFolder ? "/" : ""))
            if names.count > 1000 { break }
        }
        return names.sorted()
    }
}
