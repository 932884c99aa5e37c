/// What `search "…"` looks for: every word, anywhere in a sentence, in any case (each found
/// where a word starts, so "shell" finds "shells" and "4" is not found in "2024"); a part in
/// double quotes is one exact phrase. `search "deterrent nuclear"` finds the sentence that
/// says "nuclear deterrent"; `search '"nuclear deterrent"'` only the ones with the phrase.
struct SearchTerms: Sendable, Hashable {
    /// The words and phrases, folded (lower case, straight quote marks), in the order given,
    /// each once.
    let terms: [String]
    /// How the notes name them: `"deterrent" and "nuclear"`.
    let original: [String]

    /// Splits `text` into words and quoted phrases; straight and curly double quotes both
    /// mark a phrase, and an unclosed one runs to the end.
    init(_ text: String) {
        var terms: [String] = [], original: [String] = []
        func add(_ s: Substring) {
            let t = String(s).trimmingSpaces
            guard !t.isEmpty else { return }
            let f = foldingQuoteMarks(t).lowercased()
            if !terms.contains(f) { terms.append(f); original.append(t) }
        }
        var current = Substring(), inPhrase = false
        var rest = Substring(foldingQuoteMarks(text))
        while let c = rest.first {
            rest = rest.dropFirst()
            if c == "\"" {
                if inPhrase { add(current) } else { for w in current.split(whereSeparator: \.isWhitespace) { add(w) } }
                current = Substring()
                inPhrase.toggle()
            } else {
                current.append(c)
            }
        }
        if inPhrase { add(current) } else { for w in current.split(whereSeparator: \.isWhitespace) { add(w) } }
        self.terms = terms
        self.original = original
    }

    /// The terms as notes show them.
    var described: String {
        let quoted = original.map { "\"\($0)\"" }
        if quoted.count <= 1 { return quoted.first ?? "\"\"" }
        return quoted.dropLast().joined(separator: ", ") + " and " + (quoted.last ?? "")
    }

    /// `s` with every occurrence of every term marked «like this», when all the terms occur
    /// in it; nil otherwise. Overlapping matches are marked as one.
    func marked(_ s: String) -> String? {
        let chars = Array(s)
        let lower = chars.map { Character(foldingQuoteMarks(String($0)).lowercased()) }
        var covered = [Bool](repeating: false, count: chars.count)
        for term in terms {
            let n = Array(term)
            guard !n.isEmpty, lower.count >= n.count else { return nil }
            var found = false
            var i = 0
            while i + n.count <= lower.count {
                // A term starts a word: "4" is not found in "2024", "shell" is in "shells".
                let starts = i == 0 || !(lower[i - 1].isLetter || lower[i - 1].isNumber) || !(n[0].isLetter || n[0].isNumber)
                if starts, lower[i] == n[0], Array(lower[i..<(i + n.count)]) == n {
                    for k in i..<(i + n.count) { covered[k] = true }
                    found = true
                    i += n.count
                } else {
                    i += 1
                }
            }
            if !found { return nil }
        }
        var out = ""
        for (i, c) in chars.enumerated() {
            if covered[i] && (i == 0 || !covered[i - 1]) { out += "«" }
            out.append(c)
            if covered[i] && (i == chars.count - 1 || !covered[i + 1]) { out += "»" }
        }
        return out
    }
}
