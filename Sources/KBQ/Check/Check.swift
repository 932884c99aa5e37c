/// The public entry of checking: text to checked statements, with every problem found.

/// Parses and checks `source` against `kb`. `lets` are the `let` names earlier inputs
/// bound (a REPL session's), with the shape of their rows.
///
/// Every statement is checked, even after one with an error, so that one call reports
/// every independent problem; a statement with an error is left out of the result.
public func check(source: String, kb: KnowledgeBase, lets: [String: RowShape] = [:]) -> CheckedScript {
    let (statements, syntax) = Parser.parse(source)
    var checker = Checker(kb: kb, lets: lets)
    var checked: [CheckedStatement] = []
    for st in statements {
        if let c = try? checker.check(st) { checked.append(c) }
    }
    let all = (syntax + checker.diagnostics).sorted { ($0.range?.start ?? 0) < ($1.range?.start ?? 0) }
    return CheckedScript(statements: checked, parameters: checker.checkedParameters, diagnostics: all, warnings: checker.warnings)
}
