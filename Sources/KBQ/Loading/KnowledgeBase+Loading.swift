extension KnowledgeBase {
    /// Loads a KB file: a JSON KB document (docs/KB-FORMAT.md); or bare data, with field
    /// types inferred from its rows: a `.csv` or `.ndjson`/`.jsonl` file (one collection
    /// named after the file), a JSON array of row objects, or `{"collections": {"NAME":
    /// [row objects]}}`; or a compiled KB file (`.kbqdb`, or any file that starts as one),
    /// opened as ``init(contentsOfCompiledFile:)`` opens it.
    ///
    /// Throws a ``KBLoadError`` listing every problem with its JSON path; nothing is
    /// half-loaded.
    public convenience init(contentsOfFile path: String) throws(KBLoadError) {
        let lower = path.lowercased()
        if lower.hasSuffix(".kbqdb") || CompiledFile.looksCompiled(path) {
            try self.init(contentsOfCompiledFile: path)
            return
        }
        if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
            let kb = try CSVInference.load(path: path)
            self.init(name: kb.name, title: kb.title, collections: kb.collections, hedges: kb.hedges)
            return
        }
        if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") {
            let kb = try JSONInference.loadNDJSON(path: path)
            self.init(name: kb.name, title: kb.title, collections: kb.collections, hedges: kb.hedges)
            return
        }
        let input = try FileInput(path: path)
        var loader = KBLoader(file: path, baseDirectory: directoryOf(path))
        let stem = path.split(separator: "/").last.map(String.init) ?? path
        let kb = try input.withBytes(limit: KBLoader.maxJSONBytes, mappedLimit: KBLoader.maxBareJSONBytes) { (data, release) throws(KBLoadError) -> KnowledgeBase in
            try loader.load(json: data, name: String(stem.split(separator: ".").first ?? Substring(stem)), release: release)
        }
        self.init(name: kb.name, title: kb.title, collections: kb.collections, hedges: kb.hedges)
    }

    /// Loads a KB from the bytes of a JSON KB document. Collections that name a `file` are
    /// read relative to `baseDirectory` (and refused when it is `nil`).
    public convenience init(json: some Sequence<UInt8>, name: String = "kb", baseDirectory: String? = nil) throws(KBLoadError) {
        var loader = KBLoader(file: name, baseDirectory: baseDirectory)
        let kb = try loader.load(json: Array(json), name: name)
        self.init(name: kb.name, title: kb.title, collections: kb.collections, hedges: kb.hedges)
    }
}
