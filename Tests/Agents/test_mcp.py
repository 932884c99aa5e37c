"""`kbq mcp` driven end to end by the official MCP Python client (PyPI `mcp`), as an agent
drives it: the real kbq binary, over stdio, on the built-in article KB.

KBQ_BIN names the kbq executable (make test sets it); kbq-mcp must be beside it.
"""
import json
import os
import select
import subprocess
import sys
import tempfile
import time

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KBQ = os.environ.get("KBQ_BIN") or os.path.join(ROOT, ".build", "debug", "kbq")


def run(coro):
    return anyio.run(coro)


async def with_session(body, args=("mcp",)):
    params = StdioServerParameters(command=KBQ, args=list(args))
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            init = await s.initialize()
            return await body(s, init)


def answer(result):
    """The JSON a tool answered, checked to be the same as text and as structured content."""
    assert len(result.content) == 1 and result.content[0].type == "text"
    data = json.loads(result.content[0].text)
    assert result.structured_content == data
    return data


def test_initialize_and_list_everything():
    async def body(s, init):
        assert init.server_info.name == "kbq"
        assert "cite" in (init.instructions or "").lower()
        tools = {t.name: t for t in (await s.list_tools()).tools}
        assert set(tools) == {"query", "describe", "search", "conflicts", "schema", "explain"}
        for t in tools.values():
            assert len(t.description) > 60, t.name
            assert t.input_schema["type"] == "object"
        assert tools["query"].input_schema["required"] == ["query"]
        assert "compare source" in tools["query"].description
        resources = {r.uri: r for r in (await s.list_resources()).resources}
        for uri in ["kbq://article", "kbq://reference", "kbq://schema", "kbq://sentences/p4.3", "kbq://sentences/p15.2"]:
            assert uri in resources, uri
        assert len([u for u in resources if u.startswith("kbq://sentences/")]) == 57
        templates = (await s.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["kbq://sentences/{id}"]
        p43 = (await s.read_resource("kbq://sentences/p4.3")).contents[0].text
        assert "over 16,500 munitions containers by some estimates" in p43
        article = (await s.read_resource("kbq://article")).contents[0].text
        assert "[p4.3] U.S. and South Korean intelligence suggest" in article
        assert article.count("\n\n") >= 20
        reference = (await s.read_resource("kbq://reference")).contents[0].text
        assert "### `describe \"NAME\"`" in reference
        schema = json.loads((await s.read_resource("kbq://schema")).contents[0].text)
        assert "estimates" in [c["name"] for c in schema["collections"]]
        prompts = {p.name: p for p in (await s.list_prompts()).prompts}
        assert set(prompts) == {"compare-sources", "not-said"}
        got = await s.get_prompt("compare-sources", {"topic": "containers"})
        assert 'estimates where topic = "containers" compare source' in got.messages[0].content.text
        got = await s.get_prompt("not-said", {"subject": "troop numbers"})
        assert "outside knowledge" in got.messages[0].content.text
    run(lambda: with_session(body))


def test_headline_question_gives_both_estimates_with_their_sentences():
    async def body(s, init):
        result = await s.call_tool("query", {"query": 'estimates where topic = "containers" compare source'})
        assert not result.is_error
        data = answer(result)
        [table] = data["results"]
        rows = {r["source"]: r for r in table["rows"]}
        assert set(rows) == {"U.S. intelligence", "South Korea"}
        us, sk = rows["U.S. intelligence"], rows["South Korea"]
        # The U.S. attribution is the KB's reading of p15.2, and says so; South Korea's is stated.
        assert us["inferred"] == ["source"] and us["citation"]["inferred"] == ["source"] and sk["inferred"] == []
        assert any(n.startswith("inferred: the source of e3 (U.S. intelligence)") for n in table["notes"])
        assert us["value"]["qualifier"] == "over" and us["value"]["low"] == 16500 and us["value"]["text"] == "over 16,500"
        assert sk["value"] == 13000
        [us_sentence] = us["citation"]["sentences"]
        assert us_sentence["id"] == "p4.3" and "over 16,500 munitions containers" in us_sentence["text"]
        assert us["citation"]["hedge"] == "by some estimates"
        [sk_sentence] = sk["citation"]["sentences"]
        assert sk_sentence["id"] == "p15.2" and "South Korea’s estimate of 13,000" in sk_sentence["text"]
        [summary] = table["summaries"]
        assert summary["figures"]["spread"] == 3500
        assert "cannot both be right" in summary["verdict"]
    run(lambda: with_session(body))


def test_rows_that_are_stored_rows_cite_their_own_row():
    async def body(s, init):
        data = answer(await s.call_tool("query", {"query": "claims where hedge >= stated sort by id limit 3 select id, text"}))
        rows = data["results"][0]["rows"]
        assert [r["id"] for r in rows] == [r["citation"]["id"] for r in rows]
        for r in rows:
            assert r["citation"]["collection"] == "claims"
            assert r["citation"]["sentences"][0]["id"].startswith("p")
            assert r["citation"]["hedge"] == "stated"
            assert "inferred" in r["citation"]
    run(lambda: with_session(body))


def test_a_typo_returns_the_positioned_error_and_the_suggestion():
    async def body(s, init):
        result = await s.call_tool("query", {"query": 'estimates where topc = "containers"'})
        assert result.is_error
        data = answer(result)
        [p] = data["problems"]
        assert (p["kind"], p["line"], p["column"], p["suggestion"]) == ("unknown-field", 1, 17, "topic")
        assert "^~~~" in p["rendered"] and "did you mean 'topic'?" in data["error"]
        # The model fixes its query from that, and the server is still there.
        fixed = answer(await s.call_tool("query", {"query": 'estimates where topic = "containers"'}))
        assert len(fixed["results"][0]["rows"]) == 2
    run(lambda: with_session(body))


def test_over_the_untrusted_limits_is_a_limit_error():
    async def text_budget(s, init):
        # Each replace multiplies the text; past 16 MiB made in one run, Limits.untrusted stops it.
        q = 'sentences select replace(replace(replace(text, "e", text), "e", text), "e", text)'
        result = await s.call_tool("query", {"query": q})
        assert result.is_error
        [p] = answer(result)["problems"]
        assert p["kind"] == "limit-exceeded", p
    run(lambda: with_session(text_budget))

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.csv")
        with open(path, "w") as f:
            f.write("id,n\n")
            for i in range(10_001):
                f.write(f"r{i},{i}\n")

        async def too_many_rows(s, init):
            result = await s.call_tool("query", {"query": "big"})
            assert result.is_error
            [p] = answer(result)["problems"]
            assert p["kind"] == "too-many-rows" and "10,000" in p["message"].replace("10000", "10,000")
            ok = answer(await s.call_tool("query", {"query": "big where n < 3", "rows": 2}))
            assert ok["results"][0]["row_count"] == 3 and len(ok["results"][0]["rows"]) == 2
            assert "showing 2 of 3" in ok["results"][0]["truncated"]
        run(lambda: with_session(too_many_rows, args=("mcp", "--kb", path)))


def test_a_damaged_compiled_kb_answers_with_the_problems_kind():
    """A column found damaged when first read fails the call with invalid-kb, and the KB
    problem's stable kind beside it (docs/KB-FORMAT.md, Errors)."""
    import struct
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "article.kbqdb")
        subprocess.run([KBQ, "build", "-o", path, "--kb", "article"], check=True, capture_output=True)
        with open(path, "rb") as f:
            data = bytearray(f.read())
        # The header and schema are checked when the file is opened; the sections between
        # them (the columns) when first read. Damage every section.
        schema_offset = struct.unpack_from("<Q", data, 32)[0]
        for i in range(128, schema_offset, 64):
            data[i] ^= 0x10
        with open(path, "wb") as f:
            f.write(data)

        async def damaged(s, init):
            # A scan reads its columns whole, and checks them whole the first time (a query
            # that prints a row or two checks only the values it reads: docs/KB-FORMAT.md).
            result = await s.call_tool("query", {"query": "sentences where text contains \"Pyongyang\""})
            assert result.is_error
            [p] = answer(result)["problems"]
            assert p["kind"] == "invalid-kb" and p["problem"] == "damaged", p
        run(lambda: with_session(damaged, args=("mcp", "--kb", path)))


def test_parameters_empty_answers_and_the_other_tools():
    async def body(s, init):
        data = answer(await s.call_tool("query", {"query": "estimates where topic = $t", "params": {"t": "containers"}}))
        assert len(data["results"][0]["rows"]) == 2
        empty = answer(await s.call_tool("query", {"query": 'claims where text contains "submarine"'}))
        assert empty["results"][0]["rows"] == [] and "does not say" in empty["results"][0]["empty"]
        assert "warnings" not in empty
        # A value that no row has is warned about, with the nearest values, beside the rows.
        warned = answer(await s.call_tool("query", {"query": 'estimates where topic = "shells"'}))
        [w] = warned["warnings"]
        assert w["line"] == 1 and w["column"] == 25 and "artillery shells" in json.dumps(w)
        described = answer(await s.call_tool("describe", {"name": "Pyongyang"}))
        assert described["results"][0]["row_count"] > 5
        found = answer(await s.call_tool("search", {"text": "Kursk"}))
        assert {r["citation"]["sentences"][0]["id"] for r in found["results"][0]["rows"]} >= {"p1.2", "p3.2"}
        conflicts = answer(await s.call_tool("conflicts", {}))
        assert conflicts["results"][0]["rows"][0]["topic"] == "containers"
        schema = answer(await s.call_tool("schema", {}))
        assert schema["hedges"]["strongest_first"][:2] == ["confirmed", "stated"]
        estimates = [c for c in schema["collections"] if c["name"] == "estimates"][0]
        assert estimates["fields"]["value"] == "quantity" and "containers" in estimates["values"]["topic"]
        plan = answer(await s.call_tool("explain", {"query": "estimates where value > 1000"}))
        # The checked plan, whatever its layout: it names the filter, and nothing ran.
        assert "1000" in json.dumps(plan["results"][0]) and "value" in json.dumps(plan["results"][0])
        bad = await s.call_tool("explain", {"query": "estimats"})
        assert bad.is_error and answer(bad)["problems"][0]["suggestion"] == "estimates"
        # Text an agent sends stays one string literal: quotes cannot end it.
        odd = await s.call_tool("describe", {"name": 'x" conflicts "'})
        assert odd.is_error and answer(odd)["problems"][0]["kind"] == "unknown-entity"
        # No file access from queries: dot-commands are not part of the query language.
        nofile = await s.call_tool("query", {"query": ".load /etc/passwd"})
        assert nofile.is_error and "root:" not in nofile.content[0].text
        wrong = await s.call_tool("query", {"query": "estimates", "params": {"t": {"a": 1}}})
        assert wrong.is_error
        unknown = await s.call_tool("nonesuch", {})
        assert unknown.is_error and "query" in unknown.content[0].text
    run(lambda: with_session(body))


def read_message(proc, timeout=10.0):
    """One newline-delimited JSON-RPC message from the server, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, "the server stopped answering"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 1)
            assert chunk, "the server closed its output"
            line += chunk
    return json.loads(line)


def test_a_burst_of_malformed_requests_leaves_the_server_answering():
    proc = subprocess.Popen([KBQ, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        def send(obj_or_bytes):
            data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
            proc.stdin.write(data + b"\n")
            proc.stdin.flush()

        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        assert read_message(proc)["id"] == 1
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        garbage = [b"not json", b"{", b"[]", b"{}", b"\xff\xfe\x00", b'{"jsonrpc":"2.0"}', b"x" * 200_000,
                   json.dumps({"jsonrpc": "2.0", "id": 2, "method": "no/such/method"}).encode(),
                   json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "query"}}).encode(),
                   json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "query", "arguments": {"query": 5}}}).encode(),
                   json.dumps({"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": "kbq://sentences/p99.9"}}).encode(),
                   json.dumps({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "query", "arguments": {"query": "(" * 5000}}}).encode()]
        for g in garbage * 3:
            send(g)
        send({"jsonrpc": "2.0", "id": 100, "method": "tools/call",
              "params": {"name": "query", "arguments": {"query": 'estimates where topic = "containers" compare source'}}})
        while True:
            m = read_message(proc, timeout=20.0)
            if m.get("id") == 100:
                break
        data = json.loads(m["result"]["content"][0]["text"])
        assert len(data["results"][0]["rows"]) == 2
        assert proc.poll() is None
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_latency_per_call_on_the_article_kb():
    """Not a timed assertion (timings belong to `make bench`): prints the figures the note quotes."""
    calls = {"query": {"query": 'estimates where topic = "containers" compare source'},
             "describe": {"name": "Pyongyang"}, "search": {"text": "Kursk"}, "conflicts": {}, "schema": {}}

    async def body(s, init):
        out = {}
        for name, args in calls.items():
            await s.call_tool(name, args)
            times = []
            for _ in range(20):
                t = time.perf_counter()
                result = await s.call_tool(name, args)
                times.append(time.perf_counter() - t)
                assert not result.is_error
            times.sort()
            out[name] = times[len(times) // 2]
        return out
    medians = run(lambda: with_session(body))
    sys.stderr.write("kbq mcp median per-call latency (ms): " +
                     ", ".join(f"{k} {v * 1000:.2f}" for k, v in medians.items()) + "\n")


def test_the_exchange_in_docs_agents_md_is_what_the_server_answers():
    """docs/AGENTS.md shows calls (```json call) each followed by its answer (```json answer):
    each call is made, and its answer must be the one shown. KBQ_RECORD=1 rewrites them."""
    path = os.path.join(ROOT, "docs", "AGENTS.md")
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    blocks = []  # (kind, start, end, json) of each fenced block of those kinds
    pos = 0
    while True:
        start = doc.find("```json ", pos)
        if start < 0:
            break
        line_end = doc.index("\n", start)
        kind = doc[start + len("```json "):line_end].strip()
        end = doc.index("\n```", line_end)
        if kind in ("call", "answer"):
            blocks.append((kind, line_end + 1, end, json.loads(doc[line_end + 1:end])))
        pos = end + 4
    pairs = [(c, a) for c, a in zip(blocks, blocks[1:]) if c[0] == "call" and a[0] == "answer"]
    assert len(pairs) >= 2

    async def body(s, init):
        return [json.loads((await s.call_tool(c[3]["name"], c[3]["arguments"])).content[0].text) for c, _ in pairs]
    answers = run(lambda: with_session(body))
    if os.environ.get("KBQ_RECORD"):
        for (_, (_, start, end, _)), got in reversed(list(zip(pairs, answers))):
            doc = doc[:start] + json.dumps(got, indent=2, ensure_ascii=False) + doc[end:]
        with open(path, "w", encoding="utf-8") as f:
            f.write(doc)
    for (call, shown), got in zip(pairs, answers):
        assert got == shown[3], f"docs/AGENTS.md: the answer to {call[3]} has changed (KBQ_RECORD=1 rewrites it)"
