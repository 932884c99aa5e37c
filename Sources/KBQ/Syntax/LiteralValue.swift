extension Value {
    /// Reads a value the way a literal is written in a query, for `--param name=value`:
    /// numbers (`16500`, `3e6`, `76.6%`), dates (`2024-06`), `true`/`false`, `null`, a quoted
    /// string, a list of those (`["a", "b"]`, `[1, 2]`), or else the text itself as a string.
    public static func parse(literal: String) -> Value {
        let (tokens, diags) = Lexer.tokenize(literal)
        guard diags.isEmpty, let last = tokens.last, case .end = last.kind else { return .string(literal) }
        let body = tokens.dropLast()
        if let v = literalValue(body) { return v }
        // A list: `$p` after `in` needs one, and the command line had no other way to give it.
        guard body.count >= 2, let open = body.first, let close = body.last,
              case .symbol("[") = open.kind, case .symbol("]") = close.kind else { return .string(literal) }
        let inner = body.dropFirst().dropLast()
        if inner.isEmpty { return .list([]) }
        var items: [Value] = []
        for piece in inner.split(omittingEmptySubsequences: false, whereSeparator: { $0.kind == .symbol(",") }) {
            guard let v = literalValue(piece) else { return .string(literal) }
            items.append(v)
        }
        return .list(items)
    }

    /// The value of one literal's tokens (`-` and a number count as one), nil for anything else.
    private static func literalValue(_ tokens: ArraySlice<Token>) -> Value? {
        guard let first = tokens.first, let last = tokens.last else { return nil }
        if tokens.count == 2, case .symbol("-") = first.kind, case .number(let n) = last.kind { return .number(-n) }
        guard tokens.count == 1 else { return nil }
        switch first.kind {
        case .number(let n): return .number(n)
        case .percent(let n): return .percent(n)
        case .date(let d): return .date(d)
        case .string(let s): return .string(s)
        case .keyword(.true): return .bool(true)
        case .keyword(.false): return .bool(false)
        case .keyword(.null): return .null
        default: return nil
        }
    }
}
