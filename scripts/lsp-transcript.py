#!/usr/bin/env python3
"""Records a session with `kbq lsp` and times its answers.

    scripts/lsp-transcript.py [KBQ] [--rounds N]

Drives the server over pipes the way an editor does (initialize, didOpen, diagnostics,
completion, hover, shutdown, exit), prints every message sent and received, then times
completion and hover on the article KB: N rounds at several cursor positions of
Examples/17-let-pipeline.kbq, each the time from writing the request to reading the answer.
"""
import json
import pathlib
import statistics
import subprocess
import sys
import time

root = pathlib.Path(__file__).resolve().parents[1]
args = [a for a in sys.argv[1:] if not a.startswith("--")]
kbq = args[0] if args else str(root / ".build" / "release" / "kbq")
rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 200

server = subprocess.Popen([kbq, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
next_id = 0


def send(method, params=None, notification=False, show=True):
    global next_id
    message = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if not notification:
        next_id += 1
        message["id"] = next_id
    body = json.dumps(message).encode()
    if show:
        print("-->", json.dumps(message)[:400])
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()


def receive(show=True):
    length = None
    while True:
        line = server.stdout.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    message = json.loads(server.stdout.read(length))
    if show:
        print("<--", json.dumps(message)[:600])
    return message


path = root / "Examples" / "17-let-pipeline.kbq"
uri = path.as_uri()
text = path.read_text()


def position(needle, after=None):
    i = text.index(needle) + (len(needle) if after is None else after)
    line = text.count("\n", 0, i)
    return {"line": line, "character": i - (text.rfind("\n", 0, i) + 1)}


send("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
receive()
send("initialized", {}, notification=True)
typo = text.replace("where hedge >= stated", "where hedg >= stated")
send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "kbq", "version": 1, "text": typo}}, notification=True)
receive()  # publishDiagnostics
send("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": {"start": position("where hedg", 6), "end": position("where hedg", 10)},
                                 "context": {"diagnostics": []}})
receive()
send("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}, notification=True)
receive()
send("textDocument/completion", {"textDocument": {"uri": uri}, "position": position("shipments where hedge >= ", len("shipments where "))})
receive()
send("textDocument/hover", {"textDocument": {"uri": uri}, "position": position("shipments where hedge >= stated", len("shipments where hedge >= st"))})
receive()
send("textDocument/hover", {"textDocument": {"uri": uri}, "position": position("\nshipments compare", 3)})
receive()


def timed(method, params):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        send(method, params, show=False)
        receive(show=False)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times


print()
print(f"timings over {rounds} requests each (ms: min / median / 95th percentile / max)")
for label, method, pos in [
    ("completion after 'where '", "textDocument/completion", position("shipments where hedge", len("shipments where "))),
    ("completion of a value after '= '", "textDocument/completion", position("topic in [", len("topic in ["))),
    ("completion of a clause", "textDocument/completion", position("let firm = shipments where hedge >= stated")),
    ("completion at a statement's start", "textDocument/completion", position("\nshipments compare", 1)),
    ("hover on a hedge word", "textDocument/hover", position("hedge >= stated", 10)),
    ("hover on a let name", "textDocument/hover", position("\nshipments compare", 3)),
]:
    t = timed(method, {"textDocument": {"uri": uri}, "position": pos})
    print(f"  {label:36} {t[0]:6.2f} / {statistics.median(t):6.2f} / {t[int(len(t) * 0.95) - 1]:6.2f} / {t[-1]:6.2f}")

send("shutdown")
receive()
send("exit", notification=True)
print("exit status", server.wait())
