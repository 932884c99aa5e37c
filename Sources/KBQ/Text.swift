// String helpers written for concrete types, for start-up time.
//
// Why: the standard library's `joined(separator:)` on an array of strings is not inlined into
// kbq, so every call goes through its generic entry point, and the first one makes the Swift
// runtime look up the array's conformances by searching every conformance record in the binary
// (about 0.15 million instructions; `kbq -e QUERY` needs about 2 million in all). Declared on
// `Array` itself, this one is chosen over the library's for every `[String]` in the engine.

extension Array where Element == String {
    /// The strings one after another, `separator` between each two.
    func joined(separator: String = "") -> String {
        guard let first else { return "" }
        var out = first
        for s in self[1...] {
            out += separator
            out += s
        }
        return out
    }
}
