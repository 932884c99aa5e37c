"""The VS Code extension's TextMate grammar (Editors/vscode/syntaxes/kbq.tmLanguage.json),
run over every Example by a small TextMate tokenizer: every non-blank character of every line
gets a scope, and every token class of the language is recognised."""
import json
import re

from conftest import ROOT

GRAMMAR = json.loads((ROOT / "Editors" / "vscode" / "syntaxes" / "kbq.tmLanguage.json").read_text())


def resolve(patterns):
    out = []
    for p in patterns:
        if "include" in p:
            out.extend(resolve([GRAMMAR["repository"][p["include"][1:]]]))
        else:
            out.append(p)
    return out


TOP = resolve(GRAMMAR["patterns"])


def compile_(pattern):
    # Oniguruma's (?i) at the start reads the same in Python.
    return re.compile(pattern)


def scopes(text):
    """(scope, piece) for every scoped piece of `text`, and the characters left unscoped,
    as a TextMate engine assigns them: at each point the pattern whose match starts first
    (the first listed on a tie); begin/end rules keep their state across lines."""
    found, unscoped = [], []
    stack = []  # open begin/end rules
    for line in text.split("\n"):
        pos = 0
        while pos <= len(line):
            patterns = resolve(stack[-1].get("patterns", [])) if stack else TOP
            best = None
            for p in patterns:
                rx = compile_(p.get("match") or p["begin"])
                m = rx.search(line, pos)
                if m and (best is None or m.start() < best[1].start()):
                    best = (p, m)
            end = compile_(stack[-1]["end"]).search(line, pos) if stack else None
            if end and (best is None or end.start() <= best[1].start()):
                found.append((stack[-1]["name"], line[pos:end.end()]))
                stack.pop()
                pos = end.end()
                continue
            if stack:
                if best is None:
                    found.append((stack[-1]["name"], line[pos:]))
                    break
                found.append((stack[-1]["name"], line[pos:best[1].start()]))
            elif best is None:
                unscoped.append(line[pos:])
                break
            else:
                unscoped.append(line[pos:best[1].start()])
            p, m = best
            if "begin" in p:
                stack.append(p)
                found.append((p["name"], m.group(0)))
            elif "captures" in p:
                for group, capture in p["captures"].items():
                    if m.group(int(group)):
                        found.append((capture["name"], m.group(int(group))))
                if p.get("name"):
                    found.append((p["name"], m.group(0)))
            else:
                found.append((p["name"], m.group(0)))
            if m.end() == pos and "begin" not in p:
                pos += 1  # an empty match must not stop the line
            else:
                pos = m.end()
            if pos >= len(line) and not stack:
                break
    return found, [u for u in unscoped if u.strip()]


def test_no_example_line_is_left_unscoped():
    examples = sorted((ROOT / "Examples").glob("*.kbq"))
    assert len(examples) >= 20
    for path in examples:
        for number, line in enumerate(path.read_text().split("\n"), 1):
            _, unscoped = scopes(line)
            assert not unscoped, f"{path.name}:{number}: unscoped {unscoped!r} in {line!r}"


def classes(text):
    return {scope for scope, _ in scopes(text)[0]}


def test_every_token_class_appears_in_the_examples():
    text = "\n".join(p.read_text() for p in sorted((ROOT / "Examples").glob("*.kbq")))
    seen = classes(text)
    for scope in [
        "comment.line.number-sign.kbq",
        "string.quoted.double.kbq",
        "constant.numeric.kbq",
        "constant.numeric.date.kbq",
        "keyword.control.clause.kbq",
        "keyword.other.statement.kbq",
        "keyword.operator.word.kbq",
        "keyword.operator.kbq",
        "constant.language.kbq",
        "support.function.kbq",
        "variable.other.kbq",
        "punctuation.separator.kbq",
    ]:
        assert scope in seen, scope


def test_what_the_examples_do_not_use_is_scoped_too():
    sample = (
        ".load my-kb.json\n"
        "  .format json\n"
        "claims where `limit` = 'it\\'s' and value > $x and share >= 76.6% and n = 1e6 and m = .5\n"
        'claims where text matches "\\\\bsanction" select concat(source.name, ": ") as said\n'
    )
    found, unscoped = scopes(sample)
    assert not unscoped, unscoped
    seen = {scope for scope, _ in found}
    for scope in ["keyword.other.dot-command.kbq", "string.unquoted.argument.kbq", "variable.other.quoted.kbq",
                  "string.quoted.single.kbq", "variable.parameter.kbq", "constant.character.escape.kbq"]:
        assert scope in seen, scope
    pieces = dict((piece, scope) for scope, piece in found)
    assert pieces["76.6%"] == "constant.numeric.kbq"
    assert pieces["$x"] == "variable.parameter.kbq"
    assert pieces["concat"] == "support.function.kbq"


def test_keywords_inside_names_and_strings_are_not_keywords():
    found, _ = scopes('estimates where topic = "select where" select topic_where, wherever\n')
    keywords = [piece for scope, piece in found if scope == "keyword.control.clause.kbq"]
    assert keywords == ["where", "select"]
    assert any(scope == "string.quoted.double.kbq" and "select where" in piece for scope, piece in found)
    assert ("variable.other.kbq", "topic_where") in found
    assert ("variable.other.kbq", "wherever") in found
