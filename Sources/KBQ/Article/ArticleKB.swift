internal import CArticleKB

// The article KB built into kbq. It is in the binary twice: as its JSON (ArticleKBData.swift),
// the source, and as the compiled KB file `kbq build` writes from that JSON (CArticleKB's
// article_kb.c); both are written by `make embed` (scripts/embed-article-kb.sh). Start-up
// opens the compiled bytes where they lie in the binary, as `--kb FILE.kbqdb` opens a mapped
// file: the schema is read, and each collection and column is made ready the first time a
// query reads it, with nothing parsed, copied or decoded. ArticleCompiledTests fails when the
// compiled bytes are not what `kbq build` writes from the JSON, byte for byte.

extension KnowledgeBase {
    /// The article KB built into kbq: North Korea's military support to Russia. Opened on
    /// first use, then shared.
    public static var article: KnowledgeBase { ArticleKB.shared }
}

enum ArticleKB {
    /// What stands for a file name in the errors of the compiled bytes.
    static let name = "the built-in article KB"

    /// The compiled article KB in kbq's binary, on a 64-byte boundary, for as long as the
    /// program runs.
    static var compiled: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: kbq_article_kb_start(), count: kbq_article_kb_size)
    }

    static let shared: KnowledgeBase = open(compiled)

    /// The KB that `bytes` hold, opened in place. Checksums are not computed: these bytes are
    /// the program's own, and the tests check them whole. If they do not open (only a build
    /// mistake can make that happen), the KB decoded from the JSON compiled in beside them.
    static func open(_ bytes: UnsafeRawBufferPointer) -> KnowledgeBase {
        if let kb = try? KnowledgeBase(compiledBytes: bytes, name: name, verifyingChecksums: false) { return kb }
        return fromJSON()
    }

    /// The article KB decoded from its JSON; if even that fails, an empty KB whose name says
    /// why, which the user can still inspect, rather than a crash.
    static func fromJSON() -> KnowledgeBase {
        do throws(KBLoadError) {
            return try KnowledgeBase(json: articleKBJSON.utf8, name: "article")
        } catch {
            return KnowledgeBase(name: "article (failed to load: \(error.problems.first?.description ?? "?"))", title: nil, collections: [], hedges: .standard)
        }
    }
}
