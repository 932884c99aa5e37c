import KBQ
import KBQShell

/// `kbq build -o FILE.kbqdb [--kb FILE…]`: writes the KB that `--kb` chooses (as everywhere:
/// the article KB by default, further ones attached beside the first) as a compiled KB file,
/// which `--kb FILE.kbqdb` then opens without parsing (docs/KB-FORMAT.md). `kbq build
/// --verify FILE.kbqdb` checks every byte of one against its checksums.
enum BuildCommand {
    static let usage = "usage: kbq build -o FILE.kbqdb [--kb FILE…]   (the KB as a compiled file; default: the article KB)\n"
        + "       kbq build --verify FILE.kbqdb         (check every byte of a compiled file against its checksums)\n"

    static func run(_ arguments: [String]) -> ExitStatus {
        let out = Output.standardOutput, err = Output.standardError
        var output: String?
        var kbPaths: [String] = []
        var verify: String?
        var i = 0
        // `-o FILE`, `-o=FILE`, `--output FILE`, `--output=FILE`; the same for `--kb`.
        func value(_ a: String, _ names: [String]) -> String?? {
            for n in names {
                if a == n {
                    guard i < arguments.count else { return .some(nil) }
                    i += 1
                    return .some(arguments[i - 1])
                }
                if a.hasPrefix(n + "=") { return .some(String(a.dropFirst(n.count + 1))) }
            }
            return nil
        }
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            if a == "-h" || a == "--help" { out.write(usage); return .ok }
            if let v = value(a, ["-o", "--output"]) {
                guard let v, !v.isEmpty else { err.write("kbq build: -o needs a file name\n" + usage); return .usage }
                output = v
            } else if let v = value(a, ["--verify"]) {
                guard let v, !v.isEmpty else { err.write("kbq build: --verify needs a file name\n" + usage); return .usage }
                verify = v
            } else if let v = value(a, ["--kb"]) {
                guard let v, !v.isEmpty else { err.write("kbq build: --kb needs a file name\n" + usage); return .usage }
                kbPaths.append(v)
            } else {
                err.write("kbq build: unexpected argument '\(sanitizeForTerminal(a))'\n" + usage)
                return .usage
            }
        }
        if let verify {
            guard output == nil, kbPaths.isEmpty else { err.write("kbq build: --verify takes one file and no -o or --kb\n" + usage); return .usage }
            do throws(KBLoadError) {
                try KnowledgeBase.verifyCompiledFile(verify)
            } catch {
                let text = String(describing: error)
                err.write(text.hasSuffix("\n") ? text : text + "\n")
                return .usage
            }
            out.write("\(sanitizeForTerminal(verify)): every section has the checksum it was written with\n")
            return .ok
        }
        guard let output else { err.write("kbq build: say where to write the file with -o FILE.kbqdb\n" + usage); return .usage }
        var kb: KnowledgeBase?
        for path in kbPaths.isEmpty ? ["article"] : kbPaths {
            do {
                let next = try Shell.openKB(path)
                kb = try kb.map { try $0.attaching(next) } ?? next
            } catch {
                let text = String(describing: error)
                err.write(text.hasSuffix("\n") ? text : text + "\n")
                return .usage
            }
        }
        guard let kb else { return .usage }
        do throws(KBWriteError) {
            try kb.writeCompiled(to: output)
        } catch {
            err.write("kbq build: \(error.description)\n")
            return .usage
        }
        let rows = kb.collections.reduce(0) { $0 + $1.count }
        out.write("wrote \(sanitizeForTerminal(output)): \(kb.collections.count) collection\(kb.collections.count == 1 ? "" : "s"), "
                  + "\(formatNumber(Double(rows))) row\(rows == 1 ? "" : "s")\n")
        return .ok
    }
}
