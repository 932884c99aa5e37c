#!/usr/bin/env python3
"""Validate the built-in article KB (Sources/KBQ/Article/article.kb.json).

Checks, with a JSON path for every problem:
  * the KB format (docs/KB-FORMAT.md): top-level members, hedge list, collection
    members, field types, every row giving exactly the declared fields (in the declared
    order), value types, dates (strings and date objects), hedge words, interval
    qualifiers, unique non-null keys, references that resolve;
  * the article KB schema: the nine collections and their fields, as agreed;
  * the article itself: the `sentences` rows, joined with one space per paragraph,
    reproduce every line of article.txt exactly (paragraph = 1-based line number);
  * content rules: estimate `text` is a phrase of its sentence, quoted phrases of claims
    occur in their sentence, recommendations are their bullet, entity names/aliases occur
    in their first-mention sentence and no earlier one, aliases are unambiguous, the
    required estimate rows are present, and every sentence backs at least one fact row
    unless it is listed as pure framing.

Usage: scripts/check-article-kb.py [--kb FILE] [--article FILE] [-q]
Exit status: 0 when the KB passes, 1 when there are errors, 2 on usage errors.
Python 3 standard library only.
"""

import argparse
import calendar
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_KB = os.path.join(ROOT, "Sources", "KBQ", "Knowledge", "Article", "article.kb.json")
ARTICLE_CANDIDATES = [
    os.path.join(ROOT, "Sources", "KBQ", "Knowledge", "Article", "article.txt"),
    "/work/shared/article.txt",
]

DEFAULT_HEDGES = ["confirmed", "stated", "reportedly", "by some estimates", "likely", "claimed", "unknown"]
SCALAR_TYPES = {"string", "number", "percent", "date", "bool", "hedge", "list", "null"}
QUALIFIERS = {"exactly", "over", "more than", "at least", "under", "less than", "up to", "at most",
              "about", "around", "approximately", "some", "nearly", "between"}
DATE_BY = {"days", "weeks", "months", "years"}
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Sentences that assert nothing of their own (pure framing); they may back no fact row.
FRAMING_SENTENCES = {"p2.3"}

# The agreed schema of the article KB: collection -> ordered fields.
REF = lambda c: {"ref": c}
EXPECTED_SCHEMA = {
    "documents": [("id", "string"), ("title", "string"), ("date", "date"), ("note", "string")],
    "sentences": [("id", "string"), ("paragraph", "number"), ("position", "number"), ("text", "string"),
                  ("document", REF("documents"))],
    "entities": [("id", "string"), ("name", "string"), ("kind", "string"), ("aliases", {"list": "string"}),
                 ("description", "string"), ("sentence", REF("sentences"))],
    "sources": [("id", "string"), ("name", "string"), ("kind", "string"), ("entity", REF("entities")),
                ("aliases", {"list": "string"})],
    "events": [("id", "string"), ("date", "date"), ("actor", REF("entities")), ("action", "string"),
               ("target", REF("entities")), ("place", REF("entities")), ("description", "string"),
               ("source", REF("sources")), ("hedge", "hedge"), ("reported", "date"), ("sentence", REF("sentences"))],
    "estimates": [("id", "string"), ("topic", "string"), ("subject", REF("entities")),
                  ("value", {"type": "number", "qualifier": "qualifier", "upper": "value_high"}),
                  ("value_high", "number"), ("qualifier", "string"), ("unit", "string"), ("period", "date"),
                  ("source", REF("sources")), ("hedge", "hedge"), ("reported", "date"), ("text", "string"),
                  ("sentence", REF("sentences"))],
    "claims": [("id", "string"), ("topic", "string"), ("subject", REF("entities")), ("predicate", "string"),
               ("object", "string"), ("text", "string"), ("source", REF("sources")), ("hedge", "hedge"),
               ("reported", "date"), ("sentence", REF("sentences"))],
    "relations": [("id", "string"), ("from", REF("entities")), ("relation", "string"), ("to", REF("entities")),
                  ("since", "date"), ("source", REF("sources")), ("hedge", "hedge"), ("sentence", REF("sentences"))],
    "recommendations": [("id", "string"), ("number", "number"), ("title", "string"), ("text", "string"),
                        ("actor", REF("entities")), ("sentence", REF("sentences"))],
}
FACT_COLLECTIONS = ["events", "estimates", "claims", "relations", "recommendations"]

# Rows the product's examples depend on (estimates where topic = "containers" compare source).
REQUIRED_CONTAINERS = [
    {"topic": "containers", "subject": "north-korea", "value": 16500, "qualifier": "over", "unit": "containers",
     "source": "us-intelligence", "hedge": "by some estimates", "text": "over 16,500 munitions containers",
     "sentence": "p4.3"},
    {"topic": "containers", "subject": "north-korea", "value": 13000, "qualifier": None, "unit": "containers",
     "source": "south-korean-intelligence", "hedge": "stated", "text": "South Korea\u2019s estimate of 13,000",
     "sentence": "p15.2"},
]
REQUIRED_OTHER = [
    {"topic": "artillery shells", "value": 3000000, "qualifier": "over", "unit": "shells", "hedge": "reportedly",
     "source": "article", "period": {"from": "2022"}},
    {"topic": "troops", "subject": "north-korea", "value": None, "unit": "personnel", "hedge": "unknown"},
    {"topic": "support for nuclear weapons", "value": 76.6, "unit": "percent", "source": "south-korean-polls",
     "hedge": "stated"},
]
RECOMMENDATION_TITLES = ["Enhanced Intelligence Sharing", "Strengthened Military Alliances",
                         "Targeted Sanctions and Diplomatic Channels", "Public Communication"]


class Checker:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def err(self, path, msg):
        self.errors.append(f"{path}: {msg}")

    def warn(self, path, msg):
        self.warnings.append(f"{path}: {msg}")


def describe(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool " + ("true" if v else "false")
    if isinstance(v, (int, float)):
        return f"number {v!r}"
    if isinstance(v, str):
        return "string " + json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "array"
    return "object"


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_date_string(s):
    """Return (start, end) as comparable tuples for a partial date, or None if invalid."""
    m = DATE_RE.match(s)
    if not m:
        return None
    y = int(m.group(1))
    if m.group(2) is None:
        return (y, 1, 1), (y, 12, 31)
    mo = int(m.group(2))
    if not 1 <= mo <= 12:
        return None
    last = calendar.monthrange(y, mo)[1]
    if m.group(3) is None:
        return (y, mo, 1), (y, mo, last)
    d = int(m.group(3))
    if not 1 <= d <= last:
        return None
    return (y, mo, d), (y, mo, d)


def check_date(ck, path, v):
    if isinstance(v, str):
        if parse_date_string(v) is None:
            ck.err(path, f"invalid date {json.dumps(v)} (expected YYYY, YYYY-MM or YYYY-MM-DD)")
        return
    if not isinstance(v, dict):
        ck.err(path, f"expected date, found {describe(v)}")
        return
    keys = set(v)
    if keys and keys <= {"from", "to"} and "from" in keys or keys == {"to"}:
        bounds = {}
        for k in ("from", "to"):
            if k in v:
                if not isinstance(v[k], str) or parse_date_string(v[k]) is None:
                    ck.err(f"{path}.{k}", f"invalid date {describe(v[k])}")
                else:
                    bounds[k] = parse_date_string(v[k])
        if "from" in bounds and "to" in bounds and bounds["from"][0] > bounds["to"][1]:
            ck.err(path, "span ends before it starts")
        return
    for anchor in ("after", "before"):
        if keys == {anchor, "by"}:
            if not isinstance(v[anchor], str) or parse_date_string(v[anchor]) is None:
                ck.err(f"{path}.{anchor}", f"invalid date {describe(v[anchor])}")
            if v["by"] not in DATE_BY:
                ck.err(f"{path}.by", f"expected one of {sorted(DATE_BY)}, found {describe(v['by'])}")
            return
    ck.err(path, f"unknown date object with members {sorted(keys)} "
                 "(expected {from[,to]}, {after,by} or {before,by})")


def parse_hedges(ck, raw):
    words, lookup = [], {}
    if raw is None:
        raw = DEFAULT_HEDGES
    if not isinstance(raw, list) or not raw:
        ck.err("$.hedges", "expected a non-empty array")
        raw = DEFAULT_HEDGES
    for i, h in enumerate(raw):
        p = f"$.hedges[{i}]"
        if isinstance(h, str):
            word, aliases = h, []
        elif isinstance(h, dict):
            extra = set(h) - {"word", "aliases"}
            if extra:
                ck.err(p, f"unknown member(s) {sorted(extra)}")
            word, aliases = h.get("word"), h.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                ck.err(f"{p}.aliases", "expected an array of strings")
                aliases = []
        else:
            ck.err(p, f"expected string or object, found {describe(h)}")
            continue
        if not isinstance(word, str) or not word:
            ck.err(f"{p}.word", "expected a non-empty string")
            continue
        words.append(word)
        for w in [word] + aliases:
            if w in lookup:
                ck.err(p, f"hedge word {json.dumps(w)} given twice")
            lookup[w] = word
    if words != DEFAULT_HEDGES:
        ck.err("$.hedges", f"the article KB uses the default hedge words {DEFAULT_HEDGES} (aliases allowed), found {words}")
    return words, lookup


def field_type_ok(ck, path, t, collections):
    if isinstance(t, str):
        if t not in SCALAR_TYPES:
            ck.err(path, f"unknown type {json.dumps(t)}")
        return
    if isinstance(t, dict):
        if set(t) == {"ref"}:
            if t["ref"] not in collections:
                ck.err(path, f"reference to unknown collection {json.dumps(t['ref'])}")
            return
        if set(t) == {"list"}:
            field_type_ok(ck, path + ".list", t["list"], collections)
            return
        if t.get("type") == "number" and set(t) <= {"type", "qualifier", "upper"}:
            return
    ck.err(path, f"invalid type {json.dumps(t)}")


def check_value(ck, path, t, v, hedge_lookup):
    if v is None:
        return
    if isinstance(t, dict) and "ref" in t:
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            ck.err(path, f"expected a key of {t['ref']}, found {describe(v)}")
        return
    if isinstance(t, dict) and "list" in t:
        if not isinstance(v, list):
            ck.err(path, f"expected array, found {describe(v)}")
            return
        for i, x in enumerate(v):
            if x is None:
                ck.err(f"{path}[{i}]", "null inside a list")
            else:
                check_value(ck, f"{path}[{i}]", t["list"], x, hedge_lookup)
        return
    if isinstance(t, dict):  # interval number
        t = "number"
    if t in ("number", "percent"):
        if not is_number(v):
            ck.err(path, f"expected number, found {describe(v)}")
    elif t == "string":
        if not isinstance(v, str):
            ck.err(path, f"expected string, found {describe(v)}")
    elif t == "bool":
        if not isinstance(v, bool):
            ck.err(path, f"expected bool, found {describe(v)}")
    elif t == "date":
        check_date(ck, path, v)
    elif t == "hedge":
        if not isinstance(v, str) or v not in hedge_lookup:
            ck.err(path, f"expected a hedge word, found {describe(v)}")
    elif t == "list":
        if not isinstance(v, list):
            ck.err(path, f"expected array, found {describe(v)}")
    elif t == "null":
        ck.err(path, f"expected null, found {describe(v)}")


def check_format(ck, kb):
    """Generic KB-FORMAT.md validation. Returns (collections, hedge_lookup) as far as usable."""
    if not isinstance(kb, dict):
        ck.err("$", "expected an object")
        return {}, {}
    extra = set(kb) - {"kbq", "name", "title", "hedges", "collections"}
    for k in sorted(extra):
        ck.err(f"$.{k}", "unknown member")
    if kb.get("kbq") != 1 or isinstance(kb.get("kbq"), bool):
        ck.err("$.kbq", f"expected 1, found {describe(kb.get('kbq'))}")
    for k in ("name", "title"):
        if k in kb and not isinstance(kb[k], str):
            ck.err(f"$.{k}", f"expected string, found {describe(kb[k])}")
    _, hedge_lookup = parse_hedges(ck, kb.get("hedges"))
    cols = kb.get("collections")
    if not isinstance(cols, dict) or not cols:
        ck.err("$.collections", "expected a non-empty object")
        return {}, hedge_lookup

    for cname, c in cols.items():
        cp = f"$.collections.{cname}"
        if not IDENT.match(cname):
            ck.err(cp, "collection name is not an identifier")
        if not isinstance(c, dict):
            ck.err(cp, "expected an object")
            continue
        for k in sorted(set(c) - {"fields", "key", "measure", "rows", "file"}):
            ck.err(f"{cp}.{k}", "unknown member")
        if ("rows" in c) == ("file" in c):
            ck.err(cp, "give exactly one of rows or file")
        if "file" in c:
            ck.err(f"{cp}.file", "the article KB keeps its rows inline")
        fields = c.get("fields")
        if not isinstance(fields, dict) or not fields:
            ck.err(f"{cp}.fields", "expected a non-empty object")
            continue
        for fname, t in fields.items():
            if not IDENT.match(fname):
                ck.err(f"{cp}.fields.{fname}", "field name is not an identifier")
            field_type_ok(ck, f"{cp}.fields.{fname}", t, cols)
            if isinstance(t, dict) and t.get("type") == "number":
                q, u = t.get("qualifier"), t.get("upper")
                if q is not None and fields.get(q) != "string":
                    ck.err(f"{cp}.fields.{fname}.qualifier", f"{json.dumps(q)} must name a string field")
                if u is not None and fields.get(u) not in ("number", "percent"):
                    ck.err(f"{cp}.fields.{fname}.upper", f"{json.dumps(u)} must name a number field")
        key = c.get("key")
        if key is not None and key not in fields:
            ck.err(f"{cp}.key", f"unknown field {json.dumps(key)}")
        measure = c.get("measure")
        if measure is not None:
            mt = fields.get(measure)
            if not (mt in ("number", "percent") or (isinstance(mt, dict) and mt.get("type") == "number")):
                ck.err(f"{cp}.measure", f"{json.dumps(measure)} must name a numeric field")
        rows = c.get("rows", [])
        if not isinstance(rows, list):
            ck.err(f"{cp}.rows", "expected an array")
            continue
        seen = {}
        for i, r in enumerate(rows):
            rp = f"{cp}.rows[{i}]"
            if not isinstance(r, dict):
                ck.err(rp, f"expected an object, found {describe(r)}")
                continue
            for k in r:
                if k not in fields:
                    ck.err(f"{rp}.{k}", "unknown field")
            for k in fields:
                if k not in r:
                    ck.err(rp, f"missing field {json.dumps(k)}")
            if set(r) == set(fields) and list(r) != list(fields):
                ck.err(rp, "fields are not in the declared order")
            for k, t in fields.items():
                if k in r:
                    check_value(ck, f"{rp}.{k}", t, r[k], hedge_lookup)
            # interval qualifiers
            for k, t in fields.items():
                if isinstance(t, dict) and t.get("type") == "number" and t.get("qualifier"):
                    q = r.get(t["qualifier"])
                    if q is not None and q not in QUALIFIERS:
                        ck.err(f"{rp}.{t['qualifier']}", f"unknown qualifier {json.dumps(q)}")
                    up = t.get("upper")
                    hi = r.get(up) if up else None
                    if q == "between":
                        if not is_number(hi):
                            ck.err(f"{rp}.{up}", "qualifier \"between\" needs an upper value")
                        elif is_number(r.get(k)) and hi < r[k]:
                            ck.err(f"{rp}.{up}", "upper value is below the value")
                    elif hi is not None:
                        ck.err(f"{rp}.{up}", "an upper value is only meaningful with qualifier \"between\"")
                    if r.get(k) is None and q is not None:
                        ck.err(f"{rp}.{t['qualifier']}", "a qualifier without a value")
            if key is not None and key in r:
                kv = r[key]
                if kv is None:
                    ck.err(f"{rp}.{key}", "key is null")
                elif json.dumps(kv) in seen:
                    ck.err(f"{rp}.{key}", f"duplicate key {describe(kv)} (first at rows[{seen[json.dumps(kv)]}])")
                else:
                    seen[json.dumps(kv)] = i

    # references
    keys = {}
    for cname, c in cols.items():
        if isinstance(c, dict) and isinstance(c.get("rows"), list) and c.get("key"):
            keys[cname] = {r.get(c["key"]) for r in c["rows"] if isinstance(r, dict)}
    for cname, c in cols.items():
        if not isinstance(c, dict) or not isinstance(c.get("fields"), dict) or not isinstance(c.get("rows"), list):
            continue
        for fname, t in c["fields"].items():
            if not (isinstance(t, dict) and "ref" in t):
                continue
            target = t["ref"]
            if target not in keys:
                ck.err(f"$.collections.{cname}.fields.{fname}", f"referenced collection {target} has no key")
                continue
            for i, r in enumerate(c["rows"]):
                if isinstance(r, dict) and r.get(fname) is not None and r[fname] not in keys[target]:
                    ck.err(f"$.collections.{cname}.rows[{i}].{fname}",
                           f"dangling reference {describe(r[fname])} (no such row in {target})")
    return cols, hedge_lookup


def check_schema(ck, cols):
    for cname, expected in EXPECTED_SCHEMA.items():
        c = cols.get(cname)
        cp = f"$.collections.{cname}"
        if not isinstance(c, dict):
            ck.err(cp, "missing collection")
            continue
        got = list((c.get("fields") or {}).items())
        if got != expected:
            ck.err(f"{cp}.fields", f"expected {json.dumps(dict(expected))}, found {json.dumps(dict(got))}")
        if c.get("key") != "id":
            ck.err(f"{cp}.key", "expected \"id\"")
    if isinstance(cols.get("estimates"), dict) and cols["estimates"].get("measure") != "value":
        ck.err("$.collections.estimates.measure", "expected \"value\"")
    for cname in cols:
        if cname not in EXPECTED_SCHEMA:
            ck.err(f"$.collections.{cname}", "collection not in the agreed article schema")


def rows_of(cols, cname):
    c = cols.get(cname)
    if isinstance(c, dict) and isinstance(c.get("rows"), list):
        return [r for r in c["rows"] if isinstance(r, dict)]
    return []


def check_article(ck, cols, article_lines):
    sents = rows_of(cols, "sentences")
    by_para = {}
    for i, s in enumerate(sents):
        p = f"$.collections.sentences.rows[{i}]"
        para, pos, text, sid = s.get("paragraph"), s.get("position"), s.get("text"), s.get("id")
        if not (is_number(para) and is_number(pos) and isinstance(text, str)):
            continue
        if sid != f"p{para}.{pos}":
            ck.err(f"{p}.id", f"expected \"p{para}.{pos}\" for paragraph {para}, position {pos}, found {describe(sid)}")
        if text != text.strip() or not text:
            ck.err(f"{p}.text", "sentence text is empty or has leading/trailing whitespace")
        if s.get("document") != "article":
            ck.err(f"{p}.document", "expected \"article\"")
        by_para.setdefault(int(para), []).append((int(pos), text, i))
    for para, items in sorted(by_para.items()):
        if para < 1 or para > len(article_lines):
            ck.err("$.collections.sentences", f"paragraph {para} does not exist (article has {len(article_lines)} lines)")
    for n, line in enumerate(article_lines, 1):
        items = sorted(by_para.get(n, []))
        positions = [x[0] for x in items]
        if positions != list(range(1, len(items) + 1)):
            ck.err("$.collections.sentences", f"paragraph {n}: positions {positions} are not 1..{len(items)}")
        joined = " ".join(x[1] for x in items)
        if joined != line:
            k = next((j for j in range(min(len(joined), len(line))) if joined[j] != line[j]), min(len(joined), len(line)))
            ck.err("$.collections.sentences",
                   f"paragraph {n} does not reproduce article line {n}: differs at character {k}: "
                   f"KB {json.dumps(joined[k:k + 40], ensure_ascii=False)} vs article {json.dumps(line[k:k + 40], ensure_ascii=False)}")
    # position order of rows: the collection lists sentences in reading order
    order = [(s.get("paragraph"), s.get("position")) for s in sents]
    if order != sorted(order, key=lambda x: (x[0] if is_number(x[0]) else 0, x[1] if is_number(x[1]) else 0)):
        ck.warn("$.collections.sentences", "rows are not in reading order")


def mentions(text, name):
    """Does `name` occur in `text` as a whole word/phrase? Acronyms match case-sensitively."""
    norm = lambda s: s.replace("\u2019", "'")
    text, name = norm(text), norm(name)
    flags = 0 if (name.isupper() or len(name) <= 3) else re.IGNORECASE
    pat = r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])"
    return re.search(pat, text, flags) is not None


def check_content(ck, cols):
    sent = {s.get("id"): s for s in rows_of(cols, "sentences")}
    order = {sid: n for n, sid in enumerate(sent)}
    text_of = lambda sid: (sent.get(sid) or {}).get("text") or ""

    # documents
    docs = rows_of(cols, "documents")
    if len(docs) != 1 or docs[0].get("id") != "article":
        ck.err("$.collections.documents.rows", "expected exactly one row, id \"article\"")
    elif not docs[0].get("note"):
        ck.err("$.collections.documents.rows[0].note", "the note must say how the date was inferred")

    # entities: names/aliases in their first-mention sentence, unambiguous across entities
    owner = {}
    for i, e in enumerate(rows_of(cols, "entities")):
        p = f"$.collections.entities.rows[{i}]"
        eid = e.get("id")
        if isinstance(eid, str) and not re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", eid):
            ck.err(f"{p}.id", "entity ids are kebab-case")
        names = [e.get("name")] + list(e.get("aliases") or [])
        names = [n for n in names if isinstance(n, str)]
        for n in names:
            k = n.replace("\u2019", "'").lower()
            if k in owner and owner[k] != eid:
                ck.err(f"{p}.aliases", f"{json.dumps(n)} also names entity {owner[k]}")
            owner[k] = eid
        sid = e.get("sentence")
        if sid in sent:
            if not any(mentions(text_of(sid), n) for n in names):
                ck.err(f"{p}.sentence", f"{sid} mentions none of {names}")
            earlier = [s for s in sent if order[s] < order[sid] and any(mentions(text_of(s), n) for n in names)]
            if earlier:
                ck.err(f"{p}.sentence", f"first mention is {earlier[0]}, not {sid}")
        for field in ("name", "kind", "description"):
            if not e.get(field):
                ck.err(f"{p}.{field}", "must not be empty")
    for i, s in enumerate(rows_of(cols, "sources")):
        if not s.get("name") or not s.get("kind"):
            ck.err(f"$.collections.sources.rows[{i}]", "name and kind must not be empty")

    # every fact row: non-empty strings where the text gives them
    for cname in ("events", "claims", "estimates"):
        for i, r in enumerate(rows_of(cols, cname)):
            p = f"$.collections.{cname}.rows[{i}]"
            for f in ("source", "hedge", "sentence"):
                if r.get(f) is None:
                    ck.err(f"{p}.{f}", "provenance field must not be null")
            for f in ("topic", "action", "description", "predicate", "object", "text", "unit"):
                if f in r and not r.get(f):
                    ck.err(f"{p}.{f}", "must not be empty")
    for i, r in enumerate(rows_of(cols, "relations")):
        p = f"$.collections.relations.rows[{i}]"
        for f in ("from", "relation", "to", "source", "hedge", "sentence"):
            if r.get(f) is None:
                ck.err(f"{p}.{f}", "must not be null")

    # estimates: text is a phrase of the sentence; null value <=> hedge unknown
    ests = rows_of(cols, "estimates")
    for i, r in enumerate(ests):
        p = f"$.collections.estimates.rows[{i}]"
        if isinstance(r.get("text"), str) and r["text"] not in text_of(r.get("sentence")):
            ck.err(f"{p}.text", f"not a phrase of sentence {r.get('sentence')}")
        if (r.get("value") is None) != (r.get("hedge") == "unknown"):
            ck.err(p, "a null value goes with hedge \"unknown\" and only with it")

    def matches(r, want):
        return all(r.get(k) == v and type(r.get(k)) is type(v) or (is_number(v) and r.get(k) == v)
                   for k, v in want.items())

    containers = [r for r in ests if r.get("topic") == "containers"]
    if len(containers) != 2:
        ck.err("$.collections.estimates", f"topic \"containers\" must have exactly 2 rows, found {len(containers)}")
    for want in REQUIRED_CONTAINERS + REQUIRED_OTHER:
        if not any(matches(r, want) for r in ests):
            ck.err("$.collections.estimates", f"missing required row {json.dumps(want, ensure_ascii=False)}")
    for r in containers:
        if r.get("value_high") is not None:
            ck.err("$.collections.estimates", "container rows have no upper value")

    # claims: quoted phrases (“...”) must occur in the sentence
    for i, r in enumerate(rows_of(cols, "claims")):
        for q in re.findall(r"\u201c([^\u201d]+)\u201d", (r.get("text") or "") + " " + (r.get("object") or "")):
            if q not in text_of(r.get("sentence")):
                ck.err(f"$.collections.claims.rows[{i}]", f"quoted phrase {json.dumps(q, ensure_ascii=False)} is not in {r.get('sentence')}")

    # recommendations: "- TITLE: TEXT" is the sentence
    recs = rows_of(cols, "recommendations")
    if [r.get("number") for r in recs] != [1, 2, 3, 4]:
        ck.err("$.collections.recommendations", "expected numbers 1, 2, 3, 4 in order")
    if [r.get("title") for r in recs] != RECOMMENDATION_TITLES:
        ck.err("$.collections.recommendations", f"expected titles {RECOMMENDATION_TITLES}")
    for i, r in enumerate(recs):
        if f"- {r.get('title')}: {r.get('text')}" != text_of(r.get("sentence")):
            ck.err(f"$.collections.recommendations.rows[{i}]", f"\"- title: text\" is not sentence {r.get('sentence')}")

    # coverage: every sentence backs a fact row, except pure framing
    backed = {}
    for cname in FACT_COLLECTIONS:
        for r in rows_of(cols, cname):
            backed.setdefault(r.get("sentence"), []).append(cname)
    for sid in sent:
        if sid not in backed and sid not in FRAMING_SENTENCES:
            ck.err(f"$.collections.sentences", f"sentence {sid} backs no fact row (and is not listed as framing)")
        if sid in backed and sid in FRAMING_SENTENCES:
            ck.warn(f"$.collections.sentences", f"sentence {sid} is listed as framing but backs rows")
    return backed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kb", default=DEFAULT_KB)
    ap.add_argument("--article", default=None)
    ap.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    a = ap.parse_args()
    article = a.article or next((p for p in ARTICLE_CANDIDATES if os.path.exists(p)), None)
    if article is None:
        print("error: article.txt not found; pass --article FILE", file=sys.stderr)
        return 2

    ck = Checker()
    try:
        raw = open(a.kb, encoding="utf-8").read()
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        kb = json.loads(raw, object_pairs_hook=dup_guard(ck))
    except json.JSONDecodeError as e:
        print(f"{a.kb}: invalid JSON: {e}", file=sys.stderr)
        return 1
    text = open(article, encoding="utf-8").read()
    if text.endswith("\n"):
        text = text[:-1]
    article_lines = text.split("\n")

    cols, _ = check_format(ck, kb)
    check_schema(ck, cols)
    check_article(ck, cols, article_lines)
    check_content(ck, cols)

    for w in ck.warnings:
        print(f"warning: {w}")
    for e in ck.errors:
        print(f"error: {e}")
    if not a.quiet or ck.errors:
        counts = ", ".join(f"{c} {len(rows_of(cols, c))}" for c in cols)
        shown = os.path.relpath(a.kb)
        print(f"{a.kb if shown.startswith('..') else shown}: {counts}")
        print(f"{len(ck.errors)} error(s), {len(ck.warnings)} warning(s)")
    return 1 if ck.errors else 0


def dup_guard(ck):
    def hook(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                ck.err("$", f"duplicate JSON member {json.dumps(k)}")
            d[k] = v
        return d
    return hook


if __name__ == "__main__":
    sys.exit(main())
