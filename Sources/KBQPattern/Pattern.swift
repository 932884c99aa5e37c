/// Why a pattern was refused: a syntax error, a feature the engine does not have, or a
/// bound exceeded.
public struct PatternError: Error, Sendable, Equatable {
    /// What is wrong, in a few words (`unbalanced '('`), without the position.
    public let message: String
    /// Byte offset into the pattern's UTF-8, so diagnostics can point at the bad byte.
    public let offset: Int

    /// Makes an error; the engine makes them, hosts compare against them.
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
}

/// A compiled regular expression: the engine behind kbq's `matches` operator.
///
/// Patterns arrive in query text, possibly from untrusted users, so matching never
/// backtracks. The pattern compiles to a Thompson NFA whose set of live states is
/// simulated over the input one Unicode scalar at a time; the work is bounded by
/// (input length) × (program size) whatever the pattern, and the program size is bounded
/// by `maxStates`. Parsing uses an explicit stack, and group/quantifier nesting is capped,
/// so no recursion depth depends on the input beyond a fixed bound.
///
/// Matching has search semantics: `matches` is true when any substring matches, unless
/// `^`/`$` pin the match. It works on UTF-8 bytes: `.` and classes consume one whole scalar;
/// bytes that are not valid UTF-8 read as U+FFFD.
///
/// Syntax:
/// - literals; `\` before punctuation or a non-ASCII scalar makes it literal
/// - `.` any scalar except `\n`
/// - `^`/`\A` start of input, `$`/`\z` end of input, `\b` word boundary, `\B` not one
/// - groups `( )`, `(?: )`, `(?<name> )`, `(?P<name> )`; alternation `|`
/// - `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` with counts ≤ 1000; quantifiers may stack
///   (`a{2}{3}` is `(?:a{2}){3}`). A `{` not followed by a digit is a literal.
/// - classes `[abc]`, `[a-z]`, `[^…]`, POSIX `[:alpha:]` (ASCII) inside them
/// - `\d` ASCII digit; `\w` Unicode word scalar (letters, marks, decimal digits,
///   connector punctuation); `\s` Unicode white space; `\D \W \S` their complements
/// - `\n \t \r \f \v \a \e \0`, `\xHH`, `\x{H…}`, `\uHHHH`, `\u{H…}`
/// - `(?i)` makes the rest of the enclosing group case-insensitive (`(?-i)` undoes it,
///   `(?i:…)` scopes it), using Unicode simple case folding of single scalars
///
/// Refused with a `PatternError`: lazy and possessive quantifiers, backreferences,
/// lookaround, atomic groups, `\p` properties, flags other than `i`.
public struct Pattern: Sendable {
    /// The longest pattern compiled, in UTF-8 bytes.
    public static let maxPatternBytes = 4096
    /// The most states a compiled pattern may have once repeats are expanded: with the
    /// input's length it bounds the work of one match.
    public static let maxStates = 10_000
    /// The largest count in `{m,n}`.
    public static let maxRepeatCount = 1000
    /// Caps group nesting plus quantifier stacking, which bounds the compiler's recursion.
    public static let maxNesting = 100
    /// How many simulation steps pass between two calls of a match's `interrupt`.
    static let stepsPerInterrupt = 1 << 16

    private let insts: [Inst]
    /// Per class, the bitmap of its ASCII members (two words each): the common case costs
    /// one shift instead of a search.
    private let asciiBits: [UInt64]
    /// First `classCount + 1` entries: where each class's non-ASCII lo/hi pairs start in
    /// this same array; then the pairs.
    private let classRanges: [UInt32]
    /// Non-ASCII word scalars as lo/hi pairs, copied in only when `\b`/`\B` need them at
    /// match time (avoids a lazy-global check per scalar).
    private let wordRanges: [UInt32]
    private let needsWordContext: Bool
    /// Every match starts at offset 0, so the simulation can stop as soon as it runs dry.
    private let anchoredStart: Bool
    /// Set when every alternative is a plain literal (optionally between `^`/`$`): then
    /// byte search answers and no NFA runs.
    private let pureLiterals: [PureLiteral]?
    /// Text every match begins with: idle stretches of the input are skipped by searching
    /// for it rather than by stepping the NFA.
    private let prefix: Literal?
    /// Every match contains one of these, checked once up front because most inputs
    /// fail it. Empty when nothing useful is known.
    private let required: [Literal]
    /// For each byte, whether a match can begin with it; empty when no prefix is known
    /// and the set is not selective.
    private let firstBytes: [Bool]

    /// Compiles `source`, or explains with a byte offset why it cannot.
    public init(_ source: String) throws(PatternError) {
        let bytes = Array(source.utf8)
        guard bytes.count <= Self.maxPatternBytes else {
            throw PatternError(message: "pattern is longer than \(Self.maxPatternBytes) bytes",
                               offset: Self.maxPatternBytes)
        }
        var parser = Parser(bytes)
        let root = try parser.parse()
        let sets = parser.sets

        var compiler = Compiler()
        try compiler.compile(root)
        try compiler.emit(Inst(.match), at: root.offset)
        insts = compiler.insts

        var bits: [UInt64] = []
        var offsets: [UInt32] = []
        var pairs: [UInt32] = []
        bits.reserveCapacity(sets.count * 2)
        for set in sets {
            var lo: UInt64 = 0, hi: UInt64 = 0
            offsets.append(UInt32(pairs.count))
            for (a, b) in set.pairs {
                if a < 128 {
                    for c in a...min(b, 127) {
                        if c < 64 { lo |= 1 << UInt64(c) } else { hi |= 1 << UInt64(c - 64) }
                    }
                }
                if b >= 128 { pairs += [max(a, 128), b] }
            }
            bits += [lo, hi]
        }
        offsets.append(UInt32(pairs.count))
        let base = UInt32(offsets.count)
        classRanges = offsets.map { $0 + base } + pairs
        asciiBits = bits

        let usesWord = insts.contains {
            $0.op == .assert && ($0.arg == Assertion.wordBoundary.rawValue || $0.arg == Assertion.notWordBoundary.rawValue)
        }
        needsWordContext = usesWord
        wordRanges = usesWord ? Tables.word.bounds : []

        anchoredStart = Self.isAnchoredAtStart(insts)
        let alternatives: [Node]
        if case .alt(let xs) = root.kind { alternatives = xs } else { alternatives = [root] }
        let facts = alternatives.map { Self.literalFacts($0, sets: sets) }
        let pure = facts.compactMap(\.pure)
        pureLiterals = pure.count == facts.count ? pure : nil
        let start = facts.count == 1 ? facts[0].prefix : nil
        prefix = start
        let longest = facts.compactMap(\.longest)
        if longest.count < facts.count {
            required = []
        } else if let start, facts.count == 1, longest[0].count <= start.count {
            // The skip search already insists on the prefix.
            required = []
        } else {
            required = longest
        }
        firstBytes = start == nil ? Self.firstBytes(insts, sets: sets) : []
    }

    /// The number of states of the compiled program: a match takes at most about twice
    /// this many steps per scalar of its input.
    var programSize: Int { insts.count }

    /// True when some substring of `s` matches (the whole of `s` only if `^` and `$` say so).
    ///
    /// A long text against a large program can take a while (up to about two steps per
    /// program state per scalar): `interrupt` is asked each time about 65,536 more steps
    /// were taken, and when it answers true the search gives up and returns false. The
    /// caller must then discard the answer (a query run ends with its time limit or
    /// cancellation).
    public func matches(_ s: String, interrupt: () -> Bool = { false }) -> Bool {
        if let r = s.utf8.withContiguousStorageIfAvailable({ matches($0, interrupt: interrupt) }) { return r }
        var copy = s
        return copy.withUTF8 { matches($0, interrupt: interrupt) }
    }

    /// True when some substring of the UTF-8 in `bytes` matches. Invalid UTF-8 reads as
    /// U+FFFD, one byte at a time. `interrupt` is asked as by the `String` form.
    public func matches(_ bytes: UnsafeBufferPointer<UInt8>, interrupt: () -> Bool = { false }) -> Bool {
        guard let text = bytes.baseAddress else {
            var none: UInt8 = 0
            return withUnsafePointer(to: &none) { search($0, 0, interrupt) }
        }
        return search(text, bytes.count, interrupt)
    }

    private func search(_ text: UnsafePointer<UInt8>, _ n: Int, _ interrupt: () -> Bool) -> Bool {
        if let pureLiterals {
            return pureLiterals.contains { $0.matches(text, n) }
        }
        if !required.isEmpty && !required.contains(where: { $0.find(in: text, n, from: 0) != nil }) { return false }
        if anchoredStart, let prefix, !(n >= prefix.count && prefix.occurs(at: 0, in: text)) { return false }
        return simulate(text, n, interrupt)
    }

    private func simulate(_ text: UnsafePointer<UInt8>, _ n: Int, _ interrupt: () -> Bool) -> Bool {
        let size = insts.count
        // Three state lists (current, next, closure stack) and the marks live on the stack
        // for small programs, so a match allocates nothing.
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * size) { scratch in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { marks in
                guard let lists = scratch.baseAddress, let m = marks.baseAddress else { return false }
                m.initialize(repeating: 0, count: size)
                return insts.withUnsafeBufferPointer { ins in
                    asciiBits.withUnsafeBufferPointer { ascii in
                        classRanges.withUnsafeBufferPointer { ranges in
                            wordRanges.withUnsafeBufferPointer { word in
                                firstBytes.withUnsafeBufferPointer { first in
                                    var machine = Machine(
                                        ins: ins, ascii: ascii, ranges: ranges, word: word, text: text, n: n,
                                        clist: lists, nlist: lists + size, stack: lists + 2 * size, marks: m,
                                        anchored: anchoredStart, needsWord: needsWordContext,
                                        prefix: prefix, firstBytes: first)
                                    return machine.run(interrupt)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Syntax tree

extension Pattern {
    fileprivate enum Assertion: Int32 {
        case start, end, wordBoundary, notWordBoundary
    }

    fileprivate struct Node {
        indirect enum Kind {
            case empty
            /// Index into the parser's `sets`; a literal is a one-scalar set.
            case set(Int)
            case assert(Assertion)
            case concat([Node])
            case alt([Node])
            case rep(Node, min: Int, max: Int?)
        }
        var kind: Kind
        /// Where the node starts in the pattern, for size errors found while compiling.
        var offset: Int
        /// Groups and quantifiers wrapped around the deepest leaf: bounds compiler recursion.
        var nest: Int

        static func sequence(_ items: [Node], at offset: Int) -> Node {
            switch items.count {
            case 0: return Node(kind: .empty, offset: offset, nest: 0)
            case 1: return items[0]
            default: return Node(kind: .concat(items), offset: offset, nest: items.map(\.nest).max() ?? 0)
            }
        }
    }
}

// MARK: - Parser

extension Pattern {
    fileprivate struct Parser {
        private let p: [UInt8]
        private var i = 0
        private(set) var sets: [ScalarSet] = []
        private var setIndex: [ScalarSet: Int] = [:]
        /// Folding a big set such as `\w` costs far more than hashing it, and patterns
        /// repeat the same few sets.
        private var foldCache: [ScalarSet: ScalarSet] = [:]

        init(_ bytes: [UInt8]) { p = bytes }

        /// One open group; the whole pattern is the bottom frame.
        private struct Frame {
            let open: Int
            let depth: Int
            var fold: Bool
            var alternatives: [Node] = []
            var items: [Node] = []

            mutating func endAlternative(at offset: Int) {
                alternatives.append(Node.sequence(items, at: offset))
                items = []
            }

            func finish(at offset: Int) -> Node {
                let last = Node.sequence(items, at: offset)
                if alternatives.isEmpty { return last }
                let all = alternatives + [last]
                return Node(kind: .alt(all), offset: offset, nest: all.map(\.nest).max() ?? 0)
            }
        }

        private enum Escape {
            case scalar(UInt32)
            case set(ScalarSet)
            case assert(Assertion)
        }

        private func peek(_ k: Int = 0) -> UInt8? { i + k < p.count ? p[i + k] : nil }

        private func fail(_ message: String, _ offset: Int) -> PatternError {
            PatternError(message: message, offset: offset)
        }

        private func text(_ r: Range<Int>) -> String { String(decoding: p[r], as: UTF8.self) }

        mutating func parse() throws(PatternError) -> Node {
            var stack = [Frame(open: 0, depth: 0, fold: false)]
            while i < p.count {
                let c = p[i]
                let top = stack.count - 1
                let start = i
                switch c {
                case UInt8(ascii: "("):
                    try openGroup(&stack)
                case UInt8(ascii: ")"):
                    guard stack.count > 1 else { throw fail("unbalanced ')'", i) }
                    let frame = stack.removeLast()
                    var group = frame.finish(at: frame.open)
                    group.nest += 1
                    stack[stack.count - 1].items.append(group)
                    i += 1
                case UInt8(ascii: "|"):
                    stack[top].endAlternative(at: i)
                    i += 1
                case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                    let bounds: (Int, Int?) = c == UInt8(ascii: "*") ? (0, nil) : c == UInt8(ascii: "+") ? (1, nil) : (0, 1)
                    try quantify(&stack[top], bounds.0, bounds.1, at: i)
                    i += 1
                    try refuseLazyOrPossessive()
                case UInt8(ascii: "{"):
                    if let (lo, hi, end) = try repeatBounds() {
                        try quantify(&stack[top], lo, hi, at: i)
                        i = end
                        try refuseLazyOrPossessive()
                    } else {
                        i += 1
                        stack[top].items.append(literal(UInt32(c), fold: stack[top].fold, at: start))
                    }
                case UInt8(ascii: "["):
                    let set = try parseClass(fold: stack[top].fold)
                    stack[top].items.append(node(for: set, at: start))
                case UInt8(ascii: "\\"):
                    switch try parseEscape(inClass: false) {
                    case .scalar(let s): stack[top].items.append(literal(s, fold: stack[top].fold, at: start))
                    case .set(let s): stack[top].items.append(node(for: stack[top].fold ? folded(s) : s, at: start))
                    case .assert(let a): stack[top].items.append(Node(kind: .assert(a), offset: start, nest: 0))
                    }
                case UInt8(ascii: "."):
                    i += 1
                    stack[top].items.append(node(for: Tables.dot, at: start))
                case UInt8(ascii: "^"):
                    i += 1
                    stack[top].items.append(Node(kind: .assert(.start), offset: start, nest: 0))
                case UInt8(ascii: "$"):
                    i += 1
                    stack[top].items.append(Node(kind: .assert(.end), offset: start, nest: 0))
                default:
                    let s = scalar()
                    stack[top].items.append(literal(s, fold: stack[top].fold, at: start))
                }
            }
            guard stack.count == 1 else { throw fail("unbalanced '('", stack[stack.count - 1].open) }
            return stack[0].finish(at: 0)
        }

        /// Decodes the pattern scalar at `i`; the pattern came from a `String`, so it is valid.
        private mutating func scalar() -> UInt32 {
            let b0 = p[i]
            let len = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
            var v = len == 1 ? UInt32(b0) : UInt32(b0) & (0x7F >> UInt32(len))
            var k = 1
            while k < len && i + k < p.count {
                v = v << 6 | UInt32(p[i + k] & 0x3F)
                k += 1
            }
            i += k
            return v
        }

        private mutating func node(for set: ScalarSet, at offset: Int) -> Node {
            let index: Int
            if let known = setIndex[set] {
                index = known
            } else {
                index = sets.count
                sets.append(set)
                setIndex[set] = index
            }
            return Node(kind: .set(index), offset: offset, nest: 0)
        }

        private mutating func folded(_ set: ScalarSet) -> ScalarSet {
            if let known = foldCache[set] { return known }
            let result = set.folded()
            foldCache[set] = result
            return result
        }

        private mutating func literal(_ s: UInt32, fold: Bool, at offset: Int) -> Node {
            let set = ScalarSet(s, s)
            return node(for: fold ? folded(set) : set, at: offset)
        }

        private mutating func openGroup(_ stack: inout [Frame]) throws(PatternError) {
            let start = i
            let top = stack.count - 1
            var fold = stack[top].fold
            i += 1
            if peek() == UInt8(ascii: "?") {
                i += 1
                switch peek() {
                case UInt8(ascii: ":"):
                    i += 1
                case UInt8(ascii: "="), UInt8(ascii: "!"):
                    throw fail("lookaround assertions are not supported", start)
                case UInt8(ascii: "<") where peek(1) == UInt8(ascii: "=") || peek(1) == UInt8(ascii: "!"):
                    throw fail("lookaround assertions are not supported", start)
                case UInt8(ascii: ">"):
                    throw fail("atomic groups are not supported", start)
                case UInt8(ascii: "<"):
                    i += 1
                    try groupName()
                case UInt8(ascii: "P") where peek(1) == UInt8(ascii: "<"):
                    i += 2
                    try groupName()
                case UInt8(ascii: "P") where peek(1) == UInt8(ascii: "="):
                    throw fail("backreferences are not supported", start)
                case nil:
                    throw fail("unbalanced '('", start)
                default:
                    // Inline flags. Only `i` is implemented; refusing the others beats silently
                    // matching differently from what `(?s)` or `(?m)` promise.
                    var on = true, sawFlag = false
                    while let f = peek(), f != UInt8(ascii: ")"), f != UInt8(ascii: ":") {
                        if f == UInt8(ascii: "-") && on {
                            on = false
                        } else if f == UInt8(ascii: "i") {
                            fold = on
                            sawFlag = true
                        } else if (f | 0x20) >= UInt8(ascii: "a") && (f | 0x20) <= UInt8(ascii: "z") {
                            throw fail("unsupported flag '\(Character(Unicode.Scalar(f)))' (only 'i' is supported)", i)
                        } else {
                            throw fail("unsupported group syntax '\(text(start..<i + 1))'", start)
                        }
                        i += 1
                    }
                    guard let end = peek() else { throw fail("unbalanced '('", start) }
                    guard sawFlag else { throw fail("unsupported group syntax '\(text(start..<i + 1))'", start) }
                    i += 1
                    if end == UInt8(ascii: ")") {
                        stack[top].fold = fold
                        return
                    }
                }
            }
            let depth = stack[top].depth + 1
            guard depth <= Pattern.maxNesting else { throw fail("groups nested too deeply", start) }
            stack.append(Frame(open: start, depth: depth, fold: fold))
        }

        /// Names are only checked for form: captures don't matter for a yes/no match.
        private mutating func groupName() throws(PatternError) {
            let start = i
            while let c = peek(), c == UInt8(ascii: "_") || isAlnum(c) { i += 1 }
            guard i > start, !isDigit(p[start]), peek() == UInt8(ascii: ">") else {
                throw fail("invalid group name", start)
            }
            i += 1
        }

        private func quantify(_ frame: inout Frame, _ lo: Int, _ hi: Int?, at offset: Int) throws(PatternError) {
            guard let target = frame.items.popLast() else {
                throw fail("nothing to repeat before '\(Character(Unicode.Scalar(p[offset])))'", offset)
            }
            let nest = target.nest + 1
            guard frame.depth + nest <= Pattern.maxNesting else { throw fail("quantifiers nested too deeply", offset) }
            frame.items.append(Node(kind: .rep(target, min: lo, max: hi), offset: offset, nest: nest))
        }

        /// Refused rather than ignored: users who write them expect semantics this engine
        /// doesn't have, and silently accepting would hide that.
        private func refuseLazyOrPossessive() throws(PatternError) {
            if peek() == UInt8(ascii: "?") { throw fail("lazy quantifiers are not supported", i) }
            if peek() == UInt8(ascii: "+") { throw fail("possessive quantifiers are not supported", i) }
        }

        /// Parses `{m}`, `{m,}`, `{m,n}` at `i`; nil when the `{` is a literal (no digit
        /// follows), so `{` in ordinary text needs no escaping.
        private func repeatBounds() throws(PatternError) -> (Int, Int?, Int)? {
            let start = i
            var j = i + 1
            guard j < p.count, isDigit(p[j]) else { return nil }
            func number(_ j: inout Int) -> Int {
                var v = 0
                while j < p.count, isDigit(p[j]) {
                    v = min(v * 10 + Int(p[j] - UInt8(ascii: "0")), 1_000_000)
                    j += 1
                }
                return v
            }
            let lo = number(&j)
            var hi: Int? = lo
            if j < p.count, p[j] == UInt8(ascii: ",") {
                j += 1
                hi = j < p.count && isDigit(p[j]) ? number(&j) : nil
            }
            guard j < p.count, p[j] == UInt8(ascii: "}") else { throw fail("malformed repeat: expected '}'", start) }
            let written = text(start..<j + 1)
            guard lo <= Pattern.maxRepeatCount, (hi ?? 0) <= Pattern.maxRepeatCount else {
                throw fail("repeat count in \(written) is above the limit of \(Pattern.maxRepeatCount)", start)
            }
            if let hi, hi < lo { throw fail("invalid repeat \(written): maximum is below minimum", start) }
            return (lo, hi, j + 1)
        }

        private mutating func parseClass(fold: Bool) throws(PatternError) -> ScalarSet {
            let start = i
            i += 1
            var negate = false
            if peek() == UInt8(ascii: "^") {
                negate = true
                i += 1
            }
            var set = ScalarSet()
            var first = true
            while true {
                guard let c = peek() else { throw fail("unterminated character class", start) }
                // A `]` right after `[` or `[^` is a member, as in POSIX.
                if c == UInt8(ascii: "]") && !first {
                    i += 1
                    break
                }
                first = false
                if c == UInt8(ascii: "["), peek(1) == UInt8(ascii: ":"), let posix = try posixClass() {
                    set.formUnion(posix)
                    continue
                }
                let loStart = i
                switch try classAtom() {
                case .set(let s):
                    set.formUnion(s)
                case .scalar(let a):
                    // `-` before `]` or at the end is a literal hyphen.
                    guard peek() == UInt8(ascii: "-"), let after = peek(1), after != UInt8(ascii: "]") else {
                        set.insert(a, a)
                        continue
                    }
                    i += 1
                    let hiStart = i
                    guard case .scalar(let b) = try classAtom() else {
                        throw fail("invalid range endpoint '\(text(hiStart..<i))'", hiStart)
                    }
                    guard a <= b else { throw fail("invalid range \(text(loStart..<i))", loStart) }
                    set.insert(a, b)
                case .assert:
                    throw fail("assertion not allowed in a character class", loStart)
                }
            }
            set.normalize()
            if fold { set = folded(set) }
            return negate ? set.inverted() : set
        }

        private mutating func classAtom() throws(PatternError) -> Escape {
            if peek() == UInt8(ascii: "\\") { return try parseEscape(inClass: true) }
            return .scalar(scalar())
        }

        /// `[:name:]` inside a class; nil when the text isn't shaped like one, so `[:` alone
        /// stays literal.
        private mutating func posixClass() throws(PatternError) -> ScalarSet? {
            let start = i
            var j = i + 2
            let negate = j < p.count && p[j] == UInt8(ascii: "^")
            if negate { j += 1 }
            let nameStart = j
            while j < p.count, isAlnum(p[j]) { j += 1 }
            guard j + 1 < p.count, p[j] == UInt8(ascii: ":"), p[j + 1] == UInt8(ascii: "]") else { return nil }
            guard let set = Tables.posix[text(nameStart..<j)] else {
                throw fail("unknown POSIX class '\(text(start..<j + 2))'", start)
            }
            i = j + 2
            return negate ? set.inverted() : set
        }

        private mutating func parseEscape(inClass: Bool) throws(PatternError) -> Escape {
            let start = i
            i += 1
            guard let c = peek() else { throw fail("trailing backslash", start) }
            i += 1
            func char() -> Character { Character(Unicode.Scalar(c)) }
            switch c {
            case UInt8(ascii: "d"): return .set(Tables.digit)
            case UInt8(ascii: "D"): return .set(Tables.notDigit)
            case UInt8(ascii: "w"): return .set(Tables.word)
            case UInt8(ascii: "W"): return .set(Tables.notWord)
            case UInt8(ascii: "s"): return .set(Tables.space)
            case UInt8(ascii: "S"): return .set(Tables.notSpace)
            case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "A"), UInt8(ascii: "z"):
                if inClass { throw fail("'\\\(char())' is not allowed in a character class", start) }
                switch c {
                case UInt8(ascii: "b"): return .assert(.wordBoundary)
                case UInt8(ascii: "B"): return .assert(.notWordBoundary)
                case UInt8(ascii: "A"): return .assert(.start)
                default: return .assert(.end)
                }
            case UInt8(ascii: "n"): return .scalar(0x0A)
            case UInt8(ascii: "t"): return .scalar(0x09)
            case UInt8(ascii: "r"): return .scalar(0x0D)
            case UInt8(ascii: "f"): return .scalar(0x0C)
            case UInt8(ascii: "v"): return .scalar(0x0B)
            case UInt8(ascii: "a"): return .scalar(0x07)
            case UInt8(ascii: "e"): return .scalar(0x1B)
            case UInt8(ascii: "0"):
                if let d = peek(), isDigit(d) { throw fail("octal escapes are not supported", start) }
                return .scalar(0)
            case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"), UInt8(ascii: "g"):
                throw fail("backreferences are not supported", start)
            case UInt8(ascii: "p"), UInt8(ascii: "P"):
                throw fail("Unicode property classes (\\\(char())) are not supported", start)
            case UInt8(ascii: "x"), UInt8(ascii: "u"):
                return .scalar(try hexEscape(start: start, fixed: c == UInt8(ascii: "x") ? 2 : 4))
            default:
                // Escaped letters and digits are reserved for future meanings; anything
                // else stands for itself.
                if isAlnum(c) { throw fail("unknown escape '\\\(char())'", start) }
                i -= 1
                return .scalar(scalar())
            }
        }

        /// `\xHH` / `\uHHHH` (exactly `fixed` digits) or the braced `{H…}` form.
        private mutating func hexEscape(start: Int, fixed: Int) throws(PatternError) -> UInt32 {
            let kind = text(start..<start + 2)
            var value: UInt32 = 0, digits = 0
            let braced = peek() == UInt8(ascii: "{")
            if braced { i += 1 }
            while let h = peek(), let d = hexValue(h), braced ? digits < 8 : digits < fixed {
                value = value << 4 | d
                digits += 1
                i += 1
            }
            if braced {
                guard digits > 0, peek() == UInt8(ascii: "}") else { throw fail("malformed \(kind) escape", start) }
                i += 1
            } else if digits != fixed {
                throw fail("malformed \(kind) escape", start)
            }
            guard value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
                throw fail("\(kind) escape is not a Unicode scalar", start)
            }
            return value
        }
    }
}

// Nested so they cannot collide with module-level helpers of the same name.
extension Pattern {
    fileprivate static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    fileprivate static func isAlnum(_ c: UInt8) -> Bool {
        isDigit(c) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z"))
    }

    fileprivate static func hexValue(_ c: UInt8) -> UInt32? {
        if isDigit(c) { return UInt32(c - UInt8(ascii: "0")) }
        let l = c | 0x20
        if l >= UInt8(ascii: "a") && l <= UInt8(ascii: "f") { return UInt32(l - UInt8(ascii: "a") + 10) }
        return nil
    }
}

// MARK: - Scalar sets

extension Pattern {
    /// A set of Unicode scalars as sorted, disjoint, non-adjacent closed ranges, once
    /// normalized. Ranges rather than members, so `[^a]` and `.` stay small.
    fileprivate struct ScalarSet: Hashable {
        /// lo, hi, lo, hi, …
        private(set) var bounds: [UInt32] = []

        init() {}
        init(_ lo: UInt32, _ hi: UInt32) { bounds = [lo, hi] }
        init(ranges: [ClosedRange<UInt32>]) {
            for r in ranges { bounds += [r.lowerBound, r.upperBound] }
            normalize()
        }

        var pairs: [(UInt32, UInt32)] {
            stride(from: 0, to: bounds.count, by: 2).map { (bounds[$0], bounds[$0 + 1]) }
        }

        mutating func insert(_ lo: UInt32, _ hi: UInt32) { bounds += [lo, hi] }
        mutating func formUnion(_ other: ScalarSet) { bounds += other.bounds }

        mutating func normalize() {
            let sorted = pairs.sorted { $0.0 < $1.0 }
            var out: [UInt32] = []
            out.reserveCapacity(bounds.count)
            for (lo, hi) in sorted {
                if let last = out.last, lo <= last &+ 1 {
                    out[out.count - 1] = max(last, hi)
                } else {
                    out += [lo, hi]
                }
            }
            bounds = out
        }

        func inverted() -> ScalarSet {
            var out = ScalarSet()
            var next: UInt32 = 0
            for (lo, hi) in pairs {
                if lo > next { out.bounds += [next, lo - 1] }
                next = hi + 1
            }
            if next <= 0x10FFFF { out.bounds += [next, 0x10FFFF] }
            return out
        }

        /// Adds every other case form of every member. Folding before negation makes
        /// `(?i)[^a]` exclude both `a` and `A`.
        func folded() -> ScalarSet {
            let orbits = Tables.caseOrbits
            var out = self
            for (lo, hi) in pairs {
                var k = lowerBound(orbits.keys, lo)
                while k < orbits.keys.count, orbits.keys[k] <= hi {
                    let o = Int(orbits.orbitOfKey[k])
                    for m in orbits.members[Int(orbits.orbitStart[o])..<Int(orbits.orbitStart[o + 1])] {
                        out.insert(m, m)
                    }
                    k += 1
                }
            }
            out.normalize()
            return out
        }

        func contains(_ c: UInt32) -> Bool {
            bounds.withUnsafeBufferPointer { rangesContain($0, 0, $0.count, c) }
        }
    }
}

extension Pattern {
    fileprivate static func lowerBound(_ a: [UInt32], _ v: UInt32) -> Int {
        var l = 0, r = a.count
        while l < r {
            let m = (l + r) / 2
            if a[m] < v { l = m + 1 } else { r = m }
        }
        return l
    }

    /// Binary search in the lo/hi pairs stored in `buf[from..<to]`.
    @inline(__always)
    fileprivate static func rangesContain(_ buf: UnsafeBufferPointer<UInt32>, _ from: Int, _ to: Int, _ c: UInt32) -> Bool {
        var l = 0, r = (to &- from) &>> 1
        while l < r {
            let m = (l &+ r) &>> 1
            if buf[from &+ 2 &* m &+ 1] < c { l = m &+ 1 } else { r = m }
        }
        return l < (to &- from) &>> 1 && buf[from &+ 2 &* l] <= c
    }
}

// MARK: - Unicode tables

extension Pattern {
    /// Scalars grouped by case: each orbit is closed under simple lower/upper/title case
    /// mapping, so folding `k` also brings in `K` and KELVIN SIGN.
    fileprivate struct CaseOrbits: Sendable {
        /// Every scalar that has another case form, sorted.
        let keys: [UInt32]
        let orbitOfKey: [Int32]
        let orbitStart: [Int32]
        let members: [UInt32]
    }

    /// Built from the standard library's Unicode data on first use rather than spelled out,
    /// so it follows the toolchain's Unicode version.
    fileprivate enum Tables {
        static let digit = ScalarSet(0x30, 0x39)
        static let notDigit = digit.inverted()
        static let notSpace = space.inverted()
        static let notWord = word.inverted()
        static let dot = ScalarSet(0x0A, 0x0A).inverted()
        static let space = ScalarSet(ranges: [
            0x09...0x0D, 0x20...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
            0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
        ])

        /// Large blocks settled without asking: per-scalar property lookups are what makes
        /// building these tables cost milliseconds. Ideographs and Hangul syllables are
        /// uncased word scalars; surrogates and private use are neither.
        private static let uniformBlocks: [(range: ClosedRange<UInt32>, isWord: Bool)] = [
            (0x3400...0x4DBF, true), (0x4E00...0x9FFF, true), (0xAC00...0xD7A3, true), (0xD800...0xF8FF, false),
        ]

        /// Unicode word scalars: Alphabetic, marks, decimal digits, connector punctuation,
        /// joiners. Planes 0 and 1 are scanned; past them only CJK ideographs (planes 2
        /// and 3) and variation selectors (plane 14) qualify.
        static let word: ScalarSet = {
            var ranges: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A, 0x200C...0x200D]
            var runStart: UInt32?
            var v: UInt32 = 0x80
            while v < 0x20000 {
                if let block = uniformBlocks.first(where: { $0.range.contains(v) }) {
                    if let s = runStart { ranges.append(s...v - 1) }
                    runStart = nil
                    if block.isWord { ranges.append(block.range) }
                    v = block.range.upperBound + 1
                    continue
                }
                var isWord = false
                if let s = Unicode.Scalar(v) {
                    switch s.properties.generalCategory {
                    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                         .letterNumber, .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber,
                         .connectorPunctuation:
                        isWord = true
                    case .otherSymbol:
                        // Circled and squared letters are Alphabetic.
                        isWord = s.properties.isAlphabetic
                    default:
                        break
                    }
                }
                if isWord, runStart == nil { runStart = v }
                if !isWord, let s = runStart {
                    ranges.append(s...v - 1)
                    runStart = nil
                }
                v += 1
            }
            if let s = runStart { ranges.append(s...0x1FFFF) }
            ranges += [0x20000...0x323AF, 0xE0100...0xE01EF]
            return ScalarSet(ranges: ranges)
        }()

        static let posix: [String: ScalarSet] = [
            "alnum": ScalarSet(ranges: [0x30...0x39, 0x41...0x5A, 0x61...0x7A]),
            "alpha": ScalarSet(ranges: [0x41...0x5A, 0x61...0x7A]),
            "ascii": ScalarSet(0x00, 0x7F),
            "blank": ScalarSet(ranges: [0x09...0x09, 0x20...0x20]),
            "cntrl": ScalarSet(ranges: [0x00...0x1F, 0x7F...0x7F]),
            "digit": ScalarSet(0x30, 0x39),
            "graph": ScalarSet(0x21, 0x7E),
            "lower": ScalarSet(0x61, 0x7A),
            "print": ScalarSet(0x20, 0x7E),
            "punct": ScalarSet(ranges: [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]),
            "space": ScalarSet(ranges: [0x09...0x0D, 0x20...0x20]),
            "upper": ScalarSet(0x41, 0x5A),
            "word": ScalarSet(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]),
            "xdigit": ScalarSet(ranges: [0x30...0x39, 0x41...0x46, 0x61...0x66]),
        ]

        static let caseOrbits: CaseOrbits = {
            var parent: [UInt32: UInt32] = [:]
            func root(_ x: UInt32) -> UInt32 {
                var x = x
                while let p = parent[x], p != x { x = p }
                return x
            }
            // Cased scripts all live below U+20000.
            for v in UInt32(0)..<0x20000 where !uniformBlocks.contains(where: { $0.range.contains(v) }) {
                guard let s = Unicode.Scalar(v), s.properties.changesWhenCaseMapped else { continue }
                let p = s.properties
                // Dotless ı upper-cases to I, but case folding keeps it apart from i
                // outside Turkic locales.
                let mappings = v == 0x131 ? [p.lowercaseMapping] : [p.lowercaseMapping, p.uppercaseMapping, p.titlecaseMapping]
                for m in mappings {
                    let us = m.unicodeScalars
                    guard us.count == 1, let t = us.first?.value, t != v else { continue }
                    let a = root(v), b = root(t)
                    parent[a] = a
                    parent[b] = b
                    if a != b { parent[a] = b }
                }
            }
            var groups: [UInt32: [UInt32]] = [:]
            for x in parent.keys { groups[root(x), default: []].append(x) }
            let orbits = groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
            var members: [UInt32] = [], starts: [Int32] = [], keyed: [(UInt32, Int32)] = []
            for (k, orbit) in orbits.enumerated() {
                starts.append(Int32(members.count))
                members += orbit
                for m in orbit { keyed.append((m, Int32(k))) }
            }
            starts.append(Int32(members.count))
            keyed.sort { $0.0 < $1.0 }
            return CaseOrbits(keys: keyed.map(\.0), orbitOfKey: keyed.map(\.1), orbitStart: starts, members: members)
        }()
    }
}

// MARK: - Program

extension Pattern {
    fileprivate enum Op: UInt8 {
        /// Consume one scalar in class `arg`, continue at pc + 1.
        case set
        /// Zero-width test `arg` (an `Assertion`), continue at pc + 1.
        case assert
        case split
        case jump
        case match
    }

    fileprivate struct Inst {
        var op: Op
        var arg: Int32 = 0
        var x: Int32 = 0
        var y: Int32 = 0

        init(_ op: Op, arg: Int32 = 0, x: Int32 = 0, y: Int32 = 0) {
            self.op = op
            self.arg = arg
            self.x = x
            self.y = y
        }
    }

    fileprivate struct Compiler {
        private(set) var insts: [Inst] = []
        /// The outermost repeat being expanded: the construct to blame when the program
        /// outgrows `maxStates`.
        private var expanding: Int?

        @discardableResult
        mutating func emit(_ inst: Inst, at offset: Int) throws(PatternError) -> Int {
            guard insts.count < Pattern.maxStates else {
                throw PatternError(
                    message: "pattern is too large: more than \(Pattern.maxStates) states once repeats are expanded",
                    offset: expanding ?? offset)
            }
            insts.append(inst)
            return insts.count - 1
        }

        private var pc: Int32 { Int32(insts.count) }

        mutating func compile(_ node: Node) throws(PatternError) {
            switch node.kind {
            case .empty:
                break
            case .set(let k):
                try emit(Inst(.set, arg: Int32(k)), at: node.offset)
            case .assert(let a):
                try emit(Inst(.assert, arg: a.rawValue), at: node.offset)
            case .concat(let items):
                for item in items { try compile(item) }
            case .alt(let alternatives):
                var exits: [Int] = []
                for (k, a) in alternatives.enumerated() {
                    if k == alternatives.count - 1 {
                        try compile(a)
                    } else {
                        let split = try emit(Inst(.split, x: pc + 1), at: node.offset)
                        try compile(a)
                        exits.append(try emit(Inst(.jump), at: node.offset))
                        insts[split].y = pc
                    }
                }
                for e in exits { insts[e].x = pc }
            case .rep(let body, let lo, let hi):
                let outermost = expanding == nil
                if outermost { expanding = node.offset }
                defer { if outermost { expanding = nil } }
                try compileRepeat(body, lo, hi, at: node.offset)
            }
        }

        private mutating func compileRepeat(_ body: Node, _ lo: Int, _ hi: Int?, at offset: Int) throws(PatternError) {
            // Mandatory copies; when unbounded, the last one doubles as the loop body.
            let copies = hi == nil && lo > 0 ? lo - 1 : lo
            for k in 0..<copies {
                let before = insts.count
                try compile(body)
                // A body that emits nothing (e.g. `()`) would otherwise cost ~lo^depth
                // iterations for nothing under stacked quantifiers.
                if k == 0 && insts.count == before { break }
            }
            if let hi {
                var exits: [Int] = []
                for _ in lo..<hi {
                    exits.append(try emit(Inst(.split, x: pc + 1), at: offset))
                    try compile(body)
                }
                for e in exits { insts[e].y = pc }
            } else if lo == 0 {
                let loop = try emit(Inst(.split, x: pc + 1), at: offset)
                try compile(body)
                try emit(Inst(.jump, x: Int32(loop)), at: offset)
                insts[loop].y = pc
            } else {
                let top = pc
                try compile(body)
                try emit(Inst(.split, x: top, y: pc + 1), at: offset)
            }
        }
    }
}

// MARK: - Analysis

extension Pattern {
    /// A byte string with per-byte case folding: byte b matches when `b | mask == byte`,
    /// which for an ASCII letter lowered in `bytes` and mask 0x20 accepts both cases.
    fileprivate struct Literal {
        private(set) var bytes: [UInt8] = []
        private(set) var masks: [UInt8] = []
        var count: Int { bytes.count }

        mutating func append(_ unit: (bytes: [UInt8], mask: UInt8)) {
            bytes += unit.bytes
            masks += Array(repeating: unit.mask, count: unit.bytes.count)
        }

        func occurs(at i: Int, in text: UnsafePointer<UInt8>) -> Bool {
            for k in 0..<bytes.count where text[i + k] | masks[k] != bytes[k] { return false }
            return true
        }

        /// First offset ≥ `start` where the literal occurs. Scans for the first byte eight
        /// bytes at a time, since most inputs are rejected here.
        func find(in text: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int? {
            let m = bytes.count
            guard m > 0 else { return start <= n ? start : nil }
            let last = n - m
            guard start <= last else { return nil }
            let b0 = bytes[0], k0 = masks[0]
            let ones: UInt64 = 0x0101_0101_0101_0101
            let needle = ones &* UInt64(b0), fold = ones &* UInt64(k0)
            var i = start
            while i <= last {
                var found = false
                #if _endian(little)
                while i &+ 8 <= n {
                    let w = (UnsafeRawPointer(text + i).loadUnaligned(as: UInt64.self) | fold) ^ needle
                    // Lowest zero byte of w is exact (borrows only corrupt higher bytes).
                    let z = (w &- ones) & ~w & (ones &<< 7)
                    if z != 0 {
                        i &+= z.trailingZeroBitCount &>> 3
                        found = true
                        break
                    }
                    i &+= 8
                }
                #endif
                if !found {
                    while i < n && text[i] | k0 != b0 { i &+= 1 }
                }
                if i > last { return nil }
                if occurs(at: i, in: text) { return i }
                i &+= 1
            }
            return nil
        }
    }

    /// A literal alone, maybe pinned to the start and/or end of the input.
    fileprivate struct PureLiteral {
        let literal: Literal
        let start: Bool
        let end: Bool

        func matches(_ text: UnsafePointer<UInt8>, _ n: Int) -> Bool {
            let m = literal.count
            switch (start, end) {
            case (true, true): return n == m && literal.occurs(at: 0, in: text)
            case (true, false): return n >= m && literal.occurs(at: 0, in: text)
            case (false, true): return n >= m && literal.occurs(at: n - m, in: text)
            case (false, false): return literal.find(in: text, n, from: 0) != nil
            }
        }
    }

    private static func isAnchoredAtStart(_ insts: [Inst]) -> Bool {
        var seen = Set<Int32>(), work: [Int32] = [0]
        while let pc = work.popLast() {
            guard Int(pc) < insts.count, seen.insert(pc).inserted else { continue }
            let inst = insts[Int(pc)]
            switch inst.op {
            case .set, .match: return false
            case .assert: if inst.arg != Assertion.start.rawValue { work.append(pc + 1) }
            case .jump: work.append(inst.x)
            case .split: work += [inst.x, inst.y]
            }
        }
        return true
    }

    /// For each byte, whether a match can start with it; empty when that isn't selective
    /// or a match could start on a continuation byte (skipping there could land inside a
    /// scalar).
    private static func firstBytes(_ insts: [Inst], sets: [ScalarSet]) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        var seen = Set<Int32>(), work: [Int32] = [0]
        while let pc = work.popLast() {
            guard Int(pc) < insts.count, seen.insert(pc).inserted else { continue }
            let inst = insts[Int(pc)]
            switch inst.op {
            case .match: return []
            case .assert: work.append(pc + 1)
            case .jump: work.append(inst.x)
            case .split: work += [inst.x, inst.y]
            case .set:
                let set = sets[Int(inst.arg)]
                // Invalid bytes read as U+FFFD, and those can be continuation bytes.
                if set.contains(0xFFFD) { return [] }
                for (lo, hi) in set.pairs {
                    if lo < 128 {
                        for c in lo...min(hi, 127) { table[Int(c)] = true }
                    }
                    if hi >= 128 {
                        for b in leadByte(max(lo, 128))...leadByte(hi) { table[Int(b)] = true }
                    }
                }
            }
        }
        return table.filter { $0 }.count < 128 ? table : []
    }

    private static func leadByte(_ c: UInt32) -> UInt8 {
        if c < 0x80 { return UInt8(c) }
        if c < 0x800 { return UInt8(0xC0 | c >> 6) }
        if c < 0x10000 { return UInt8(0xE0 | c >> 12) }
        return UInt8(0xF0 | min(c >> 18, 7))
    }

    /// The set as literal text, if it is one scalar or an ASCII letter in both cases.
    private static func literalUnit(_ set: ScalarSet) -> (bytes: [UInt8], mask: UInt8)? {
        let b = set.bounds
        if b.count == 2, b[0] == b[1], b[0] != 0xFFFD, let s = Unicode.Scalar(b[0]) {
            return (Array(String(s).utf8), 0)
        }
        if b.count == 4, b[0] == b[1], b[2] == b[3], b[0] >= 0x41, b[0] <= 0x5A, b[2] == b[0] + 0x20 {
            return ([UInt8(b[2])], 0x20)
        }
        return nil
    }

    /// What one top-level alternative says about literal text: the run every match of
    /// it begins with, the longest run every match contains, and whether it is nothing
    /// but a literal.
    private static func literalFacts(_ node: Node, sets: [ScalarSet])
        -> (pure: PureLiteral?, prefix: Literal?, longest: Literal?)
    {
        var items: [Node] = []
        func flatten(_ node: Node) {
            switch node.kind {
            case .concat(let xs): for x in xs { flatten(x) }
            case .empty: break
            default: items.append(node)
            }
        }
        flatten(node)

        var runs: [Literal] = []
        var current = Literal()
        var prefix: Literal?
        var prefixOpen = true
        var pure = true, start = false, end = false
        func endRun() {
            if prefixOpen && current.count > 0 { prefix = current }
            prefixOpen = false
            if current.count > 0 { runs.append(current) }
            current = Literal()
        }
        for (k, item) in items.enumerated() {
            switch item.kind {
            case .set(let s):
                if let unit = literalUnit(sets[s]) { current.append(unit) } else { pure = false; endRun() }
            case .assert(let a):
                // Zero-width, so the text on either side is still contiguous.
                if a == .start && k == 0 { start = true }
                else if a == .end && k == items.count - 1 { end = true }
                else { pure = false }
            case .rep(let body, let lo, _):
                pure = false
                // `ab+c` needs "ab" and "bc": the first and last copies touch their neighbours.
                if lo >= 1, case .set(let s) = body.kind, let unit = literalUnit(sets[s]) {
                    current.append(unit)
                    endRun()
                    current.append(unit)
                } else {
                    endRun()
                }
            default:
                pure = false
                endRun()
            }
        }
        if pure { return (PureLiteral(literal: current, start: start, end: end), current, current) }
        endRun()
        return (nil, prefix, runs.max { $0.count < $1.count })
    }
}

// MARK: - Simulation

extension Pattern {
    /// What zero-width assertions can see at one position.
    private struct Context {
        var atStart: Bool
        var atEnd: Bool
        var prevWord: Bool
        var nextWord: Bool

        @inline(__always)
        func holds(_ a: Int32) -> Bool {
            switch a {
            case Assertion.start.rawValue: return atStart
            case Assertion.end.rawValue: return atEnd
            case Assertion.wordBoundary.rawValue: return prevWord != nextWord
            default: return prevWord == nextWord
            }
        }
    }

    /// One search over one input. State lists are generation-stamped (`marks[pc] == gen`
    /// means already on the list being built) so nothing is cleared between steps.
    private struct Machine {
        let ins: UnsafeBufferPointer<Inst>
        let ascii: UnsafeBufferPointer<UInt64>
        let ranges: UnsafeBufferPointer<UInt32>
        let word: UnsafeBufferPointer<UInt32>
        let text: UnsafePointer<UInt8>
        let n: Int
        var clist: UnsafeMutablePointer<Int32>
        var nlist: UnsafeMutablePointer<Int32>
        let stack: UnsafeMutablePointer<Int32>
        let marks: UnsafeMutablePointer<Int>
        let anchored: Bool
        let needsWord: Bool
        let prefix: Literal?
        /// Empty when unknown.
        let firstBytes: UnsafeBufferPointer<Bool>

        @inline(__always)
        func inClass(_ k: Int32, _ c: UInt32) -> Bool {
            let k = Int(k)
            if c < 128 { return (ascii[k &* 2 &+ Int(c &>> 6)] &>> UInt64(c & 63)) & 1 != 0 }
            return rangesContain(ranges, Int(ranges[k]), Int(ranges[k &+ 1]), c)
        }

        @inline(__always)
        func isWord(_ c: UInt32) -> Bool {
            if c < 128 {
                return (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F
            }
            return rangesContain(word, 0, word.count, c)
        }

        /// Follows jumps, splits and satisfied assertions from `pc0`, putting the consuming
        /// states reached on `list`. True as soon as `match` is reached: only a yes/no answer
        /// is wanted, so there is no leftmost-longest bookkeeping.
        @inline(__always)
        func add(_ pc0: Int32, _ list: UnsafeMutablePointer<Int32>, _ count: inout Int, _ gen: Int, _ ctx: Context) -> Bool {
            if marks[Int(pc0)] == gen { return false }
            marks[Int(pc0)] = gen
            // Most successors are plain consuming states: skip the stack for them.
            if ins[Int(pc0)].op == .set {
                list[count] = pc0
                count &+= 1
                return false
            }
            stack[0] = pc0
            var sp = 1
            while sp > 0 {
                sp &-= 1
                let pc = stack[sp]
                let inst = ins[Int(pc)]
                var a: Int32 = -1, b: Int32 = -1
                switch inst.op {
                case .set:
                    list[count] = pc
                    count &+= 1
                case .match:
                    return true
                case .jump:
                    a = inst.x
                case .split:
                    a = inst.y
                    b = inst.x
                case .assert:
                    if ctx.holds(inst.arg) { a = pc &+ 1 }
                }
                if a >= 0 && marks[Int(a)] != gen {
                    marks[Int(a)] = gen
                    stack[sp] = a
                    sp &+= 1
                }
                if b >= 0 && marks[Int(b)] != gen {
                    marks[Int(b)] = gen
                    stack[sp] = b
                    sp &+= 1
                }
            }
            return false
        }

        /// Next offset ≥ `i` where a match could start, or `Int.max` if none can.
        func candidate(from i: Int) -> Int {
            if let prefix { return prefix.find(in: text, n, from: i) ?? Int.max }
            if firstBytes.isEmpty { return i }
            var j = i
            while j < n {
                if firstBytes[Int(text[j])] { return j }
                j &+= 1
            }
            return Int.max
        }

        /// The scalar ending at `j`, decoding backwards the way forward decoding would.
        func scalar(before j: Int) -> UInt32 {
            guard j > 0 else { return 0 }
            var k = j - 1
            while k > 0 && j - k < 4 && text[k] & 0xC0 == 0x80 { k -= 1 }
            let (c, len) = decodeScalar(text, k, n)
            return k + len == j ? c : 0xFFFD
        }

        mutating func run(_ interrupt: () -> Bool) -> Bool {
            let skipping = !anchored && (prefix != nil || !firstBytes.isEmpty)
            var ccount = 0
            // Steps since `interrupt` was last asked.
            var steps = 0
            var gen = 1
            var i = 0
            var prevWord = false
            // Where the next match could start; threads are only seeded there, and idle
            // stretches before it are jumped over.
            var next = -1
            while true {
                if skipping && next < i { next = candidate(from: i) }
                if ccount == 0 {
                    if anchored && i > 0 { return false }
                    if skipping {
                        if next == Int.max { return false }
                        if next != i {
                            i = next
                            // Marks made at the old position must not hide states here.
                            gen &+= 1
                            if needsWord { prevWord = isWord(scalar(before: i)) }
                        }
                    }
                }
                var c: UInt32 = 0, len = 0
                if i < n { (c, len) = decodeScalar(text, i, n) }
                let curWord = needsWord && i < n && isWord(c)
                if anchored ? i == 0 : (!skipping || i == next) {
                    let ctx = Context(atStart: i == 0, atEnd: i == n, prevWord: prevWord, nextWord: curWord)
                    if add(0, clist, &ccount, gen, ctx) { return true }
                }
                if i >= n { return false }
                // Live states, and about as many steps again following their splits.
                steps &+= 2 &* ccount &+ 1
                if steps > Pattern.stepsPerInterrupt {
                    steps = 0
                    if interrupt() { return false }
                }
                gen &+= 1
                let j = i &+ len
                var ctx = Context(atStart: false, atEnd: j == n, prevWord: curWord, nextWord: false)
                if needsWord && j < n { ctx.nextWord = isWord(decodeScalar(text, j, n).0) }
                var ncount = 0
                for k in 0..<ccount {
                    let pc = clist[k]
                    if inClass(ins[Int(pc)].arg, c) && add(pc &+ 1, nlist, &ncount, gen, ctx) { return true }
                }
                swap(&clist, &nlist)
                ccount = ncount
                prevWord = curWord
                i = j
            }
        }
    }
}

extension Pattern {
    /// Decodes one scalar at `i`; an invalid or truncated sequence reads as U+FFFD, one byte.
    @inline(__always)
    fileprivate static func decodeScalar(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (UInt32, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        return decodeMultibyte(p, i, n)
    }

    fileprivate static func decodeMultibyte(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (UInt32, Int) {
        let bad: (UInt32, Int) = (0xFFFD, 1)
        func tail(_ k: Int) -> UInt32? {
            i + k < n && p[i + k] & 0xC0 == 0x80 ? UInt32(p[i + k] & 0x3F) : nil
        }
        let b0 = UInt32(p[i])
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = tail(1) else { return bad }
            return ((b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            guard let c1 = tail(1), let c2 = tail(2) else { return bad }
            let v = (b0 & 0x0F) << 12 | c1 << 6 | c2
            guard v >= 0x800, !(0xD800...0xDFFF).contains(v) else { return bad }
            return (v, 3)
        case 0xF0...0xF4:
            guard let c1 = tail(1), let c2 = tail(2), let c3 = tail(3) else { return bad }
            let v = (b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            guard v >= 0x10000, v <= 0x10FFFF else { return bad }
            return (v, 4)
        default:
            return bad
        }
    }
}
