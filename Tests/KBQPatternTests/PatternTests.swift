import Foundation
import Testing
@testable import KBQPattern
import KBQTestSupport

private func matches(_ pattern: String, _ text: String) throws -> Bool {
    try Pattern(pattern).matches(text)
}

/// (pattern, text, expected)
private typealias Case = (String, String, Bool)

private func check(_ cases: [Case], sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (pattern, text, expected) in cases {
        let got = try matches(pattern, text)
        #expect(got == expected, "\(pattern) on \"\(text)\"", sourceLocation: sourceLocation)
    }
}

private func error(_ pattern: String) -> PatternError? {
    do {
        _ = try Pattern(pattern)
        return nil
    } catch {
        return error
    }
}

@Suite struct PatternSyntaxTests {
    @Test func literals() throws {
        try check([
            ("sanction", "the sanctions regime", true),
            ("sanction", "the sanctuary", false),
            ("", "", true),
            ("", "anything", true),
            ("abc", "", false),
            ("a.c", "xa.cx", true),
            ("a\\.c", "abc", false),
            ("a\\.c", "a.c", true),
            ("\\(x\\)", "f(x)", true),
            ("a{", "a{", true),
            ("a{x}", "a{x}", true),
            ("{}", "{}", true),
            ("x{,3}", "x{,3}", true),
            ("]", "a]b", true),
            ("}", "}", true),
            ("\\n", "a\nb", true),
            ("\\t", "a b", false),
            ("\\x41\\u0042\\x{43}\\u{1F600}", "ABC😀", true),
            ("\\0", "a\u{0}b", true),
            ("\\é", "é", true),
        ])
    }

    @Test func sanctionExample() throws {
        let p = try Pattern("sanction(s|ed)")
        #expect(p.matches("new sanctions on exports"))
        #expect(p.matches("they sanctioned it"))
        #expect(!p.matches("a sanction"))
        #expect(!p.matches("sanctioning"))
    }

    @Test func dot() throws {
        try check([
            ("a.c", "abc", true),
            ("a.c", "ac", false),
            ("a.c", "a\nc", false),
            ("a.c", "a\rc", true),
            ("^.$", "’", true),
            ("^..$", "’", false),
            ("^.$", "😀", true),
            ("^.$", "é", true),           // precomposed: one scalar
            ("^..$", "e\u{301}", true),   // decomposed: two scalars
        ])
    }

    @Test func classes() throws {
        try check([
            ("[abc]", "xxbxx", true),
            ("[abc]", "xyz", false),
            ("^[a-z]+$", "hello", true),
            ("^[a-z]+$", "Hello", false),
            ("^[A-Za-z0-9_]+$", "snake_Case9", true),
            ("[^abc]", "abc", false),
            ("[^abc]", "abcd", true),
            ("^[^a]$", "’", true),
            ("[]a]", "]", true),
            ("[^]a]", "]", false),
            ("[^]a]", "b", true),
            ("[a-]", "-", true),
            ("[-a]", "-", true),
            ("[a\\-z]", "-", true),
            ("[a\\-z]", "b", false),
            ("[\\]]", "]", true),
            ("[\\d.]", "x.y", true),
            ("[\\d-z]", "-", true),
            ("[[]", "[", true),
            ("[’‘]", "it’s", true),
            ("[à-ÿ]", "café", true),
            ("[à-ÿ]", "cafe", false),
            ("[\\x{1F600}-\\x{1F64F}]", "hi 😀", true),
            ("[[:digit:]]+", "abc123", true),
            ("^[[:alpha:]]+$", "abc1", false),
            ("[[:^alpha:]]", "abc", false),
            ("[[:punct:]]", "a,b", true),
            ("[[:upper:][:digit:]]", "aB", true),
            ("[[:x]", ":", true),   // not a POSIX class: plain members
        ])
    }

    @Test func classEscapes() throws {
        try check([
            ("\\d\\d\\d\\d", "in 2024", true),
            ("\\d", "٣", false),            // \d is ASCII only
            ("^\\D+$", "abc", true),
            ("^\\D+$", "ab1", false),
            ("^\\w+$", "Müller", true),
            ("^\\w+$", "naïve_2", true),
            ("^\\w+$", "北京", true),
            ("\\w", "— …", false),
            ("^\\W+$", " —,.", true),
            ("a\\sb", "a b", true),
            ("a\\sb", "a\u{00A0}b", true),
            ("a\\sb", "a\u{3000}b", true),
            ("a\\Sb", "a b", false),
            ("a\\Sb", "axb", true),
        ])
    }

    @Test func anchors() throws {
        try check([
            ("^abc", "abcdef", true),
            ("^abc", "xabc", false),
            ("abc$", "xxabc", true),
            ("abc$", "abcx", false),
            ("^abc$", "abc", true),
            ("^abc$", "abcabc", false),
            ("^$", "", true),
            ("^$", "x", false),
            ("^", "anything", true),
            ("$", "anything", true),
            ("\\Aab\\z", "ab", true),
            ("\\Aab\\z", "ab\n", false),
            ("a^b", "a^b", false),
            ("a$b", "ab", false),
            ("^a|b$", "xxb", true),
            ("^a|b$", "xax", false),
            ("^(a|b)c", "bc", true),
            ("(^a|b)c", "xbc", true),
            ("(^a|b)c", "xac", false),
            ("x^*y", "xy", true),
        ])
    }

    @Test func wordBoundary() throws {
        try check([
            ("\\bcat\\b", "the cat sat", true),
            ("\\bcat\\b", "concatenate", false),
            ("\\bcat\\b", "cat", true),
            ("\\bcat", "bobcat", false),
            ("cat\\B", "cats", true),
            ("cat\\B", "cat.", false),
            ("\\bJong\\b", "Kim Jong‑un", true),      // U+2011 is not a word scalar
            ("\\bller\\b", "Müller", false),           // ü is one
            ("\\bMüller\\b", "Herr Müller’s", true),
            ("\\bñu", "ññu", false),                  // skipping to a candidate must see the ñ before it
            ("\\bñu", "ññu ñu", true),
            ("\\Bñu", "ññu", true),
            ("\\b’s", "it’s", true),
            ("\\b’s", "it ’s", false),
            ("^\\b", "", false),
            ("^\\B$", "", true),
            ("\\b", "   ", false),
            ("\\b", "  a ", true),
        ])
    }

    @Test func alternation() throws {
        try check([
            ("cat|dog", "hotdog", true),
            ("cat|dog", "cow", false),
            ("^(cat|dog)s?$", "dogs", true),
            ("^(cat|dog)s?$", "cats!", false),
            ("a|", "zzz", true),
            ("|a", "zzz", true),
            ("^(?:x|y|z)+$", "xyzzy", true),
            ("^(?:x|y|z)+$", "xyzw", false),
            ("^(a|ab)(c|bcd)$", "abcd", true),
            ("(?<name>ab|cd)e", "cde", true),
            ("(?P<n2>ab)c", "abc", true),
        ])
    }

    @Test func star() throws {
        try check([
            ("^ab*c$", "ac", true),
            ("^ab*c$", "abbbbc", true),
            ("^ab*c$", "abxc", false),
            ("^(ab)*$", "ababab", true),
            ("^(ab)*$", "ababa", false),
            ("^a**$", "aaa", true),
            ("^(a*)*$", "aa", true),
        ])
    }

    @Test func plus() throws {
        try check([
            ("^ab+c$", "ac", false),
            ("^ab+c$", "abc", true),
            ("^ab+c$", "abbbc", true),
            ("^(ab)+$", "", false),
            ("^(ab)+$", "abab", true),
            ("^[’']+$", "’'’", true),
        ])
    }

    @Test func question() throws {
        try check([
            ("^colou?r$", "color", true),
            ("^colou?r$", "colour", true),
            ("^colou?r$", "colouur", false),
            ("^(ab)?c$", "abc", true),
            ("^(ab)?c$", "c", true),
            ("^(ab)?c$", "ac", false),
        ])
    }

    @Test func boundedRepeats() throws {
        try check([
            ("^a{3}$", "aaa", true),
            ("^a{3}$", "aa", false),
            ("^a{3}$", "aaaa", false),
            ("^a{2,}$", "a", false),
            ("^a{2,}$", "aa", true),
            ("^a{2,}$", "aaaaaaa", true),
            ("^a{2,4}$", "a", false),
            ("^a{2,4}$", "aaa", true),
            ("^a{2,4}$", "aaaaa", false),
            ("^a{0}$", "", true),
            ("^a{0}b$", "b", true),
            ("^a{0,1}b$", "ab", true),
            ("^(ab){2}$", "abab", true),
            ("^(ab){2}$", "ab", false),
            ("^\\d{4}-\\d{2}-\\d{2}$", "2024-02-29", true),
            ("^\\d{4}-\\d{2}-\\d{2}$", "2024-2-29", false),
            ("^a{2}{3}$", "aaaaaa", true),
            ("^a{2}{3}$", "aaaaa", false),
            ("^.{3}$", "a’😀", true),
            ("^(){1000}{1000}{1000}$", "", true),
            ("^a{1000}$", String(repeating: "a", count: 1000), true),
            ("^a{1000}$", String(repeating: "a", count: 999), false),
        ])
    }

    @Test func caseInsensitive() throws {
        try check([
            ("(?i)sanction", "SANCTIONS", true),
            ("(?i)SaNcTiOn", "sanction", true),
            ("sanction", "SANCTION", false),
            ("(?i)^[a-c]+$", "AbC", true),
            ("(?i)[^a]", "A", false),
            ("(?i)[^a]", "Ab", true),
            ("(?i)\\bkim jong.un\\b", "KIM JONG‑UN visited", true),
            ("(?i)é", "É", true),
            ("(?i)straße", "STRAẞE", true),
            ("(?i)σ", "Σ", true),
            ("(?i)σ", "ς", true),
            ("(?i)k", "\u{212A}", true),       // KELVIN SIGN folds with k
            ("(?i)i", "ı", false),             // dotless i stays apart outside Turkic
            ("(?i)[[:lower:]]", "Q", true),
            ("a(?i)b", "aB", true),
            ("a(?i)b", "AB", false),
            ("(?i:a)b", "Ab", true),
            ("(?i:a)b", "AB", false),
            ("(?i)a(?-i)b", "Ab", true),
            ("(?i)a(?-i)b", "AB", false),
            ("((?i)a)b", "AB", false),
        ])
    }

    @Test func unicodeText() throws {
        try check([
            ("Kim Jong-un", "Kim Jong-un said", true),
            ("Kim Jong‑un", "Kim Jong‑un said", true),       // U+2011 non-breaking hyphen
            ("Kim Jong-un", "Kim Jong‑un said", false),
            ("Kim Jong.un", "Kim Jong‑un said", true),
            ("Kim Jong[-‑–]un", "Kim Jong–un", true),
            ("’", "it’s", true),
            ("’", "it's", false),
            ("it[’']s", "it’s", true),
            ("it.s", "it’s", true),
            ("^\\w+’s$", "Müller’s", true),
            ("🇺🇦", "flag 🇺🇦", true),
            ("^..$", "🇺🇦", true),       // one character, two scalars
            ("^.$", "😀", true),          // four bytes, one scalar
            ("^[а-я]+$", "путин", true),  // a range of Cyrillic scalars
            ("^[а-я]+$", "Путин", false),
            ("(?i)^[а-я]+$", "Путин", true),
            ("(?i)путин", "ПУТИН", true),
            ("\\x{1F1FA}\\x{1F1E6}", "🇺🇦", true),
            ("Jong\\u2011un", "Jong‑un", true),
            ("Jong\\u{2011}un", "Jong-un", false),
            ("^\\w+$", "Путин", true),
            ("e\\u0301", "cafe\u{0301}", true),  // a combining mark is its own scalar
            ("^caf.$", "cafe\u{0301}", false),    // so é written as two scalars is two dots
            ("^é$", "e\u{0301}", false),          // and no normalisation is applied
        ])
    }

    @Test func byteBuffers() throws {
        let p = try Pattern("b.d")
        let hit: [UInt8] = Array("abcde".utf8)
        #expect(hit.withUnsafeBufferPointer { p.matches($0) })
        #expect(![UInt8]().withUnsafeBufferPointer { p.matches($0) })
        #expect(try Pattern("^$").matches(UnsafeBufferPointer(start: nil, count: 0)))
        // Invalid UTF-8 reads as U+FFFD, one byte at a time.
        let bad: [UInt8] = [0x62, 0xFF, 0x64]
        #expect(bad.withUnsafeBufferPointer { p.matches($0) })
        // A truncated sequence is one U+FFFD per byte, so "b", 2 × U+FFFD, "d".
        let truncated: [UInt8] = [0x62, 0xE2, 0x80, 0x64]
        #expect(!truncated.withUnsafeBufferPointer { p.matches($0) })
        let twoAny = try Pattern("b..d")
        #expect(truncated.withUnsafeBufferPointer { twoAny.matches($0) })
        let boundary = try Pattern("\\ba")
        #expect([UInt8(0x80), 0x61].withUnsafeBufferPointer { boundary.matches($0) })
    }
}

@Suite struct PatternErrorTests {
    static let cases: [(String, String, Int)] = [
        (")", "unbalanced ')'", 0),
        ("a)b", "unbalanced ')'", 1),
        ("é)", "unbalanced ')'", 2),                        // offsets count bytes
        ("(ab", "unbalanced '('", 0),
        ("a(b(c)", "unbalanced '('", 1),
        ("(?i", "unbalanced '('", 0),
        ("*a", "nothing to repeat before '*'", 0),
        ("a|+b", "nothing to repeat before '+'", 2),
        ("(?a", "unsupported flag 'a' (only 'i' is supported)", 2),
        ("(?m)x", "unsupported flag 'm' (only 'i' is supported)", 2),
        ("(*a)", "nothing to repeat before '*'", 1),
        ("?", "nothing to repeat before '?'", 0),
        ("{2}", "nothing to repeat before '{'", 0),
        ("(?i)*", "nothing to repeat before '*'", 4),
        ("[abc", "unterminated character class", 0),
        ("x[]", "unterminated character class", 1),
        ("x[^]", "unterminated character class", 1),
        ("[a-", "unterminated character class", 0),
        ("[z-a]", "invalid range z-a", 1),
        ("ab[0-9x-a]", "invalid range x-a", 6),
        ("[\\x7a-\\x61]", "invalid range \\x7a-\\x61", 1),
        ("[a-\\d]", "invalid range endpoint '\\d'", 3),
        ("[[:foo:]]", "unknown POSIX class '[:foo:]'", 1),
        ("(a)\\1", "backreferences are not supported", 3),
        ("\\k<x>", "backreferences are not supported", 0),
        ("(?P=x)", "backreferences are not supported", 0),
        ("a*?", "lazy quantifiers are not supported", 2),
        ("a+?", "lazy quantifiers are not supported", 2),
        ("a??", "lazy quantifiers are not supported", 2),
        ("a{2}?", "lazy quantifiers are not supported", 4),
        ("a*+", "possessive quantifiers are not supported", 2),
        ("a{1001}", "repeat count in {1001} is above the limit of 1000", 1),
        ("a{2,1001}", "repeat count in {2,1001} is above the limit of 1000", 1),
        ("a{99999999999999999999}", "repeat count in {99999999999999999999} is above the limit of 1000", 1),
        ("a{3,2}", "invalid repeat {3,2}: maximum is below minimum", 1),
        ("a{2", "malformed repeat: expected '}'", 1),
        ("a{2,x}", "malformed repeat: expected '}'", 1),
        ("ab\\", "trailing backslash", 2),
        ("\\q", "unknown escape '\\q'", 0),
        ("[\\q]", "unknown escape '\\q'", 1),
        ("\\xZZ", "malformed \\x escape", 0),
        ("\\x{}", "malformed \\x escape", 0),
        ("\\x{12", "malformed \\x escape", 0),
        ("\\u12", "malformed \\u escape", 0),
        ("\\x{110000}", "\\x escape is not a Unicode scalar", 0),
        ("\\uD800", "\\u escape is not a Unicode scalar", 0),
        ("\\01", "octal escapes are not supported", 0),
        ("[\\b]", "'\\b' is not allowed in a character class", 1),
        ("[\\A]", "'\\A' is not allowed in a character class", 1),
        ("\\p{L}", "Unicode property classes (\\p) are not supported", 0),
        ("\\P{L}", "Unicode property classes (\\P) are not supported", 0),
        ("(?=a)", "lookaround assertions are not supported", 0),
        ("(?!a)", "lookaround assertions are not supported", 0),
        ("x(?<=a)", "lookaround assertions are not supported", 1),
        ("x(?<!a)", "lookaround assertions are not supported", 1),
        ("(?>a)", "atomic groups are not supported", 0),
        ("(?#note)", "unsupported group syntax '(?#'", 0),
        ("(?)", "unsupported group syntax '(?)'", 0),
        ("(?<1a>x)", "invalid group name", 3),
        ("(?<a", "invalid group name", 3),
        ("Путин)", "unbalanced ')'", 10),                   // after five two-byte letters
        ("[я-а]", "invalid range я-а", 1),
        ("é{1001}", "repeat count in {1001} is above the limit of 1000", 2),
    ]

    /// The bounds' messages, asserted with their positions by the tests below.
    static let bounds = ["pattern is longer than 4096 bytes", "pattern is too large: more than 10000 states once repeats are expanded",
                         "groups nested too deeply", "quantifiers nested too deeply"]

    /// Every message the engine can refuse a pattern with is asserted, with its position,
    /// by a case above or a bound below: read from the engine's source, so that a new
    /// error cannot go untested.
    @Test func everyErrorOfTheEngineIsCovered() throws {
        let source = try String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/KBQPatternTests/PatternTests.swift",
                                                                               with: "Sources/KBQPattern/Pattern.swift"), encoding: .utf8)
        let said = try Regex(#"(?:fail\(|message: )"((?:[^"\\]|\\.)*)""#)
        // The message before its first interpolation, unescaped enough to compare.
        let messages = Set(source.matches(of: said).compactMap { m -> String? in
            guard let text = m.output[1].substring else { return nil }
            return String(text.split(separator: "\\(", maxSplits: 1, omittingEmptySubsequences: false)[0])
                .replacingOccurrences(of: "\\\\", with: "\\")
        })
        #expect(messages.count >= 30)
        let covered = Self.cases.map(\.1) + Self.bounds
        // parseEscape refuses \b, \B, \A and \z inside a class before the class sees an
        // assertion, so this one is a guard that no input reaches.
        let unreachable: Set = ["assertion not allowed in a character class"]
        for m in messages.subtracting(unreachable) {
            #expect(covered.contains { $0.hasPrefix(m) }, "no test asserts the error '\(m)…'")
        }
    }

    @Test(arguments: cases)
    func reportsWhatAndWhere(_ pattern: String, _ message: String, _ offset: Int) {
        #expect(error(pattern) == PatternError(message: message, offset: offset), "\(pattern)")
    }

    @Test func patternLength() {
        #expect(error(String(repeating: "a", count: Pattern.maxPatternBytes)) == nil)
        #expect(error(String(repeating: "a", count: Pattern.maxPatternBytes + 1))
            == PatternError(message: "pattern is longer than 4096 bytes", offset: 4096))
        // The bound is in bytes, not characters.
        #expect(error(String(repeating: "é", count: 2049))?.message == "pattern is longer than 4096 bytes")
    }

    @Test func programSize() throws {
        let tooLarge = "pattern is too large: more than 10000 states once repeats are expanded"
        #expect(error("a{1000}{1000}") == PatternError(message: tooLarge, offset: 7))
        #expect(error("x(?:a{100}){101}") == PatternError(message: tooLarge, offset: 11))
        #expect(error("(a{5000})")?.message == "repeat count in {5000} is above the limit of 1000")
        #expect(error("((((a{10}){10}){10}){10})") == PatternError(message: tooLarge, offset: 20))
        #expect(error("[^a]{1000}.{1000}\\w{1000}") == nil)     // classes cost one state whatever their size
        #expect(error("(?:a{100}){99}") == nil)
        #expect(try Pattern("(?:ab{9}){999}$").matches(String(repeating: "abbbbbbbbb", count: 999)))
    }

    @Test func nesting() throws {
        let deep = String(repeating: "(", count: Pattern.maxNesting) + "a" + String(repeating: ")", count: Pattern.maxNesting)
        #expect(try Pattern(deep).matches("a"))
        let tooDeep = String(repeating: "(", count: Pattern.maxNesting + 1) + "a" + String(repeating: ")", count: Pattern.maxNesting + 1)
        #expect(error(tooDeep) == PatternError(message: "groups nested too deeply", offset: Pattern.maxNesting))
        #expect(error(String(repeating: "(?:", count: 200))?.message == "groups nested too deeply")
        #expect(error("a" + String(repeating: "*", count: 100)) == nil)
        #expect(error("a" + String(repeating: "*", count: 101)) == PatternError(message: "quantifiers nested too deeply", offset: 101))
        #expect(error(String(repeating: "(", count: 60) + "a" + String(repeating: ")*", count: 60))
            == PatternError(message: "quantifiers nested too deeply", offset: 60 + 1 + 2 * 40 + 1))
        // Wide but shallow stays fine: alternation and concatenation are flat.
        #expect(error(Array(repeating: "ab", count: 1300).joined(separator: "|")) == nil)
    }
}

/// The linear-time guarantee, counted in the engine's own steps rather than timed: a match
/// asks its `interrupt` once per `Pattern.stepsPerInterrupt` steps, so the number of times
/// it asks is the work it did, whatever else the machine is busy with. The classic patterns
/// that make a backtracking engine take exponential time are run on inputs built to defeat
/// the literal prefilters, so that the state machine walks the whole text.
@Suite struct PatternLinearTimeTests {
    static let size = 100_000

    /// The answer, and how many times the match asked `interrupt`.
    private func counted(_ p: Pattern, _ text: String) -> (Bool, Int) {
        var asked = 0
        let answer = p.matches(text) { asked += 1; return false }
        return (answer, asked)
    }

    /// `source` on `text(size)` and on `text(2 * size)`: the right answer both times, work
    /// within (scalars) × (2 × states + 1) steps, and twice the input costs at most twice
    /// the work (a quadratic engine would take four times, a backtracking one far more).
    private func linear(_ source: String, _ text: (Int) -> String, expect expected: Bool,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let p = try Pattern(source)
        let small = text(Self.size), large = text(2 * Self.size)
        let (a1, w1) = counted(p, small), (a2, w2) = counted(p, large)
        #expect(a1 == expected && a2 == expected, "\(source)", sourceLocation: sourceLocation)
        func bound(_ s: String) -> Int { s.unicodeScalars.count * (2 * p.programSize + 1) / Pattern.stepsPerInterrupt + 1 }
        #expect(w1 <= bound(small) && w2 <= bound(large), "\(source): \(w1), \(w2) askings", sourceLocation: sourceLocation)
        #expect(w2 <= 2 * w1 + 2, "\(source): \(w1) then \(w2) askings for twice the input", sourceLocation: sourceLocation)
        // The state machine really walked the text: the prefilters did not answer alone.
        #expect(w1 > 0, "\(source): no steps counted", sourceLocation: sourceLocation)
    }

    @Test func nestedStarBeforeALiteral() throws {
        // (a*)*b on a long run of a: 2^n ways to split the run for a backtracking engine.
        let a = { (n: Int) in String(repeating: "a", count: n) }
        try linear("(a*)*b$", { "b" + a($0) }, expect: false)
        try linear("(a*)*b", { a($0) + "c" + "b" }, expect: true)
        try linear("^(a*)*b", { a($0) + "cb" }, expect: false)
        // With no b anywhere, the required-literal check answers before any step.
        let p = try Pattern("(a*)*b")
        #expect(counted(p, a(Self.size)) == (false, 0))
    }

    @Test func nestedPlus() throws {
        let a = { (n: Int) in String(repeating: "a", count: n) }
        try linear("(a+)+$", { a($0) + "!" }, expect: false)
        try linear("^(a+)+$", { a($0) + "!" }, expect: false)
        try linear("(a+)+$", { a($0) }, expect: true)
    }

    @Test func alternationStar() throws {
        let a = { (n: Int) in String(repeating: "a", count: n) }
        try linear("(a|aa)*b$", { "b" + a($0) }, expect: false)
        try linear("^(a|aa)*$", { a($0) + "c" }, expect: false)
        try linear("^(a|aa)*$", { a($0) }, expect: true)
    }

    @Test func otherClassics() throws {
        try linear("(x*)*y$", { "y" + String(repeating: "x", count: $0) }, expect: false)
        try linear("(a*)*(b|c)$", { String(repeating: "a", count: $0) + "d" }, expect: false)
        try linear("(.*a){20}x", { "x" + String(repeating: "ab", count: $0 / 2) }, expect: false)
        try linear("(\\w+\\s?)+$", { String(repeating: "word ", count: $0 / 5) + "!" }, expect: false)
        // Non-ASCII text: steps are per scalar, not per byte.
        try linear("^(é|ée)*$", { String(repeating: "é", count: $0) + "!" }, expect: false)
    }

    @Test func aLargeProgramIsStillBoundedByItsSize() throws {
        // Near the state bound, each scalar may cost thousands of steps, never more than
        // the program's size allows; and `interrupt` can end it early.
        let p = try Pattern("(?:[ab]{1,1000}){3}c$")
        #expect(p.programSize <= Pattern.maxStates)
        let text = "c" + String(repeating: "ab", count: 5_000) + "d"
        let (answer, asked) = counted(p, text)
        #expect(!answer)
        #expect(asked > 0 && asked <= text.unicodeScalars.count * (2 * p.programSize + 1) / Pattern.stepsPerInterrupt + 1)
        var calls = 0
        #expect(!p.matches(text) { calls += 1; return calls == 3 })
        #expect(calls == 3, "the match stopped when interrupt said so")
    }
}

/// Checks the engine against a tiny backtracking matcher on random small patterns and
/// texts: the prefilters, skips and anchoring shortcuts must never change an answer.
@Suite struct PatternDifferentialTests {
    @Test func agreesWithBacktrackingReference() throws {
        var rng = SplitMix(seed: 0x5EED)
        var checked = 0
        for _ in 0..<4000 {
            let fold = rng.next() % 4 == 0
            let source = (fold ? "(?i)" : "") + RandomPattern.expression(&rng, depth: 3)
            let pattern: Pattern
            do { pattern = try Pattern(source) } catch { Issue.record("\(source): \(error)"); continue }
            guard let reference = Reference(source) else { Issue.record("reference cannot parse \(source)"); continue }
            for _ in 0..<12 {
                let text = RandomPattern.text(&rng)
                let expected = reference.search(text)
                #expect(pattern.matches(text) == expected, "\(source) on \"\(text)\"")
                checked += 1
            }
        }
        #expect(checked == 48_000)
    }
}

/// Random strings of regex punctuation must compile or fail cleanly, never trap, and
/// errors must point inside the pattern.
@Suite struct PatternRobustnessTests {
    @Test func randomSyntaxNeverTraps() {
        let pieces = ["(", ")", "[", "]", "{", "}", "|", "*", "+", "?", "\\", "^", "$", ".", "-", ",", ":",
                      "0", "1", "2", "9", "a", "b", "d", "w", "s", "x", "u", "i", "P", "<", ">", "=", "!", "#",
                      "é", "’", "{1,2}", "{1000}", "(?i)", "(?:", "[^", "[:alpha:]", "\\b", "\\x{41}"]
        var rng = SplitMix(seed: 42)
        var compiled = 0
        let texts = ["", "a", "ab(c)d", "aaaa’é", "1,2:x-y", "[{}]"]
        for _ in 0..<20_000 {
            let source = (0..<rng.below(14)).map { _ in pieces[rng.below(pieces.count)] }.joined()
            do {
                let p = try Pattern(source)
                #expect(p.programSize <= Pattern.maxStates, "\(source)")
                compiled += 1
                for t in texts { _ = p.matches(t) }
            } catch {
                #expect(error.offset >= 0 && error.offset <= source.utf8.count, "\(source): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(compiled > 1000)
    }
}

// MARK: - Reference matcher

private enum RandomPattern {
    static let atoms = ["a", "b", "c", "A", "ab", "abc", "ba", ".", "[ab]", "[^a]", "[a-c]", "\\w", "\\s", " ", "é", "[éa]", "’"]

    static func expression(_ rng: inout SplitMix, depth: Int) -> String {
        let n = 1 + rng.below(3)
        var alternatives: [String] = []
        for _ in 0..<(rng.below(4) == 0 ? 2 : 1) {
            var seq = ""
            for _ in 0..<n { seq += piece(&rng, depth: depth) }
            alternatives.append(seq)
        }
        return alternatives.joined(separator: "|")
    }

    static func piece(_ rng: inout SplitMix, depth: Int) -> String {
        var atom: String
        switch rng.below(10) {
        case 0 where depth > 0: atom = "(" + expression(&rng, depth: depth - 1) + ")"
        case 1: atom = ["^", "$", "\\b", "\\B"][rng.below(4)]
        default: atom = atoms[rng.below(atoms.count)]
        }
        switch rng.below(8) {
        case 0: atom += "*"
        case 1: atom += "+"
        case 2: atom += "?"
        case 3: atom += ["{2}", "{0,2}", "{1,}"][rng.below(3)]
        default: break
        }
        return atom
    }

    static func text(_ rng: inout SplitMix) -> String {
        let alphabet: [Character] = ["a", "b", "c", "A", "B", " ", "’", "é", "É"]
        return String((0..<rng.below(9)).map { _ in alphabet[rng.below(alphabet.count)] })
    }
}

/// A deliberately naive backtracking matcher for the subset RandomPattern produces.
private final class Reference {
    indirect enum Node {
        case char(Character)
        case any
        case set([Character], negated: Bool)
        case word(Bool)
        case space(Bool)
        case start, end, boundary(Bool)
        case seq([Node])
        case alt([Node])
        case rep(Node, Int, Int?)
    }

    let root: Node
    let fold: Bool
    private var chars: [Character] = []

    init?(_ source: String) {
        var s = Substring(source)
        fold = s.hasPrefix("(?i)")
        if fold { s = s.dropFirst(4) }
        var input = Array(s)
        var i = 0
        guard let root = Self.parseAlt(&input, &i), i == input.count else { return nil }
        self.root = root
    }

    private static func parseAlt(_ p: inout [Character], _ i: inout Int) -> Node? {
        var alts: [Node] = []
        var seq: [Node] = []
        while i < p.count {
            let c = p[i]
            if c == ")" { break }
            i += 1
            switch c {
            case "|":
                alts.append(.seq(seq))
                seq = []
                continue
            case "(":
                guard let inner = parseAlt(&p, &i), i < p.count, p[i] == ")" else { return nil }
                i += 1
                seq.append(inner)
            case ".": seq.append(.any)
            case "^": seq.append(.start)
            case "$": seq.append(.end)
            case "[":
                var negated = false
                if p[i] == "^" { negated = true; i += 1 }
                var members: [Character] = []
                while p[i] != "]" {
                    if p[i + 1] == "-" && p[i + 2] != "]" {
                        let lo = p[i].unicodeScalars.first!.value, hi = p[i + 2].unicodeScalars.first!.value
                        for v in lo...hi { members.append(Character(Unicode.Scalar(v)!)) }
                        i += 3
                    } else {
                        members.append(p[i])
                        i += 1
                    }
                }
                i += 1
                seq.append(.set(members, negated: negated))
            case "\\":
                let e = p[i]
                i += 1
                switch e {
                case "w": seq.append(.word(true))
                case "s": seq.append(.space(true))
                case "b": seq.append(.boundary(true))
                case "B": seq.append(.boundary(false))
                default: seq.append(.char(e))
                }
            case "*", "+", "?", "{":
                guard let last = seq.popLast() else { return nil }
                var lo = 0, hi: Int? = nil
                if c == "+" { lo = 1 }
                if c == "?" { hi = 1 }
                if c == "{" {
                    var body = ""
                    while p[i] != "}" { body.append(p[i]); i += 1 }
                    i += 1
                    let parts = body.split(separator: ",", omittingEmptySubsequences: false)
                    lo = Int(parts[0])!
                    hi = parts.count == 1 ? lo : Int(parts[1])
                }
                seq.append(.rep(last, lo, hi))
            default:
                seq.append(.char(c))
            }
        }
        alts.append(.seq(seq))
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    func search(_ text: String) -> Bool {
        chars = Array(text.unicodeScalars.map(Character.init))
        for start in 0...chars.count where match(root, start, { _ in true }) { return true }
        return false
    }

    private func same(_ a: Character, _ b: Character) -> Bool {
        fold ? a.lowercased() == b.lowercased() : a == b
    }

    private func isWord(_ i: Int) -> Bool {
        guard i >= 0 && i < chars.count else { return false }
        return chars[i].isLetter || chars[i].isNumber || chars[i] == "_"
    }

    private func match(_ node: Node, _ i: Int, _ k: (Int) -> Bool) -> Bool {
        func one(_ ok: (Character) -> Bool) -> Bool { i < chars.count && ok(chars[i]) && k(i + 1) }
        switch node {
        case .char(let c): return one { same($0, c) }
        case .any: return one { $0 != "\n" }
        case .set(let members, let negated): return one { c in members.contains { same($0, c) } != negated }
        case .word(let yes): return one { c in (c.isLetter || c.isNumber || c == "_") == yes }
        case .space(let yes): return one { $0.isWhitespace == yes }
        case .start: return i == 0 && k(i)
        case .end: return i == chars.count && k(i)
        case .boundary(let yes): return ((isWord(i - 1) != isWord(i)) == yes) && k(i)
        case .seq(let items):
            func from(_ n: Int, _ j: Int) -> Bool {
                n == items.count ? k(j) : match(items[n], j) { from(n + 1, $0) }
            }
            return from(0, i)
        case .alt(let alts): return alts.contains { match($0, i, k) }
        case .rep(let body, let lo, let hi):
            func count(_ n: Int, _ j: Int) -> Bool {
                if n >= lo && k(j) { return true }
                if let hi, n >= hi { return false }
                // Past the minimum, an iteration must consume something, or `(a*)*` loops.
                return match(body, j) { $0 > j || n < lo ? count(n + 1, $0) : false }
            }
            return count(0, i)
        }
    }
}
