@_spi(Snapshot) import KBQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Writes Sources/KBQ/Article/ArticleKBSnapshot.swift: the article KB, decoded from
// the JSON compiled into this build, as the snapshot kbq starts from (see
// Sources/KBQ/Snapshot/KBSnapshot.swift). scripts/embed-article-kb.sh runs it after
// embedding the JSON, then rebuilds.
//
//   kbq-snapshot [OUTPUT]

func fail(_ message: String) -> Never {
    var m = "kbq-snapshot: " + message + "\n"
    m.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

let output = CommandLine.arguments.dropFirst().first ?? "Sources/KBQ/Article/ArticleKBSnapshot.swift"
let text: String
do {
    text = try KnowledgeBase.articleSnapshotSource()
} catch {
    fail("the article KB does not load:\n\(error)")
}
guard let file = fopen(output, "w") else {
    fail("cannot write \(output): \(String(cString: strerror(errno)))")
}
var bytes = Array(text.utf8)
let written = fwrite(&bytes, 1, bytes.count, file)
if fclose(file) != 0 || written != bytes.count {
    fail("cannot write \(output)")
}
print("kbq-snapshot: wrote \(output) (\(bytes.count) bytes)")
