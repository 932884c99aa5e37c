#!/usr/bin/env python3
"""PostgreSQL rows of `make bench` (run by scripts/bench.sh after scripts/bench.py).

Starts a throwaway PostgreSQL server (scripts/pg-test-server.sh), pushes each size's CSV with
`kbq push`, and measures Q1-Q5 as fresh processes: `kbq --db URL -e …` beside psql running the
hand-written ../shared/bench/q*.sql on the same server and the same tables. Each kbq answer is
first checked to be the one kbq gives from the CSV file. Writes its own section of
docs/PERFORMANCE.md, between the bench-pg markers.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import QUESTIONS, hyperfine, ms, run, sh_quote, write_block  # noqa: E402

BEGIN, END = "<!-- bench-pg:begin (scripts/bench-pg.py writes this part) -->", "<!-- bench-pg:end -->"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def close(x, y):
    """Whether two typed answers agree, numbers to 12 significant digits."""
    if isinstance(x, float) or isinstance(y, float):
        return isinstance(x, (int, float)) and isinstance(y, (int, float)) and \
            math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(close(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(close(a, b) for a, b in zip(x, y))
    return x == y


def same_json(a, b):
    """Whether kbq's JSON answers (one document a line) agree, numbers to 12 digits."""
    docs = lambda text: [json.loads(l) for l in text.splitlines() if l.strip()]
    return close(docs(a), docs(b))


def kbq_cmd(kbq, source, q):
    """kbq answering question q: source is ["--db", URL] or ["--kb", CSV]."""
    parts = [kbq] + source
    for s in QUESTIONS[q]:
        parts += ["-e", s]
    return " ".join(sh_quote(p) for p in parts)


def psql_cmd(url, peers, q):
    return " ".join(["psql", "-X", "-q", "-d", sh_quote(url), "-f", sh_quote(os.path.join(peers, q.lower() + ".sql"))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kbq", required=True)
    ap.add_argument("--peers", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--doc", required=True)
    ap.add_argument("--port", type=int, default=55632)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split()]
    server = tempfile.mkdtemp(prefix="kbq-bench-pg.")
    os.chmod(server, 0o755)
    script = os.path.join(HERE, "scripts", "pg-test-server.sh")
    env = dict(l.split("=", 1) for l in run([script, "start", server, str(a.port), "1"]).splitlines() if "=" in l)
    base = env["KBQ_TEST_PG"].rsplit("/", 1)[0]
    results, pushes, plans = {}, {}, {}
    try:
        for n in sizes:
            csv = os.path.join(a.data, str(n), "estimates.csv")
            url = "%s/kbq_bench_%d" % (base, n)
            run(["psql", "-X", "-q", "-d", env["KBQ_TEST_PG"], "-c", "DROP DATABASE IF EXISTS kbq_bench_%d" % n,
                 "-c", "CREATE DATABASE kbq_bench_%d" % n])
            started = time.monotonic()
            run([a.kbq, "push", url, "--kb", csv])
            pushes[n] = time.monotonic() - started
            # Statistics for the planner, for kbq's statements and psql's alike.
            run(["psql", "-X", "-q", "-d", url, "-c", "ANALYZE"])
            print("== PostgreSQL, %d rows (pushed in %s)" % (n, ms(pushes[n])), flush=True)
            for q in QUESTIONS:
                want = run(kbq_cmd(a.kbq, ["--kb", csv], q))
                got = run(kbq_cmd(a.kbq, ["--db", url], q))
                # A mean is a sum of floating-point numbers, added in another order by the
                # server: a mean on a rounding tie (a sum of tenths over 96 rows ends in …875)
                # can print one last digit apart. Then the typed answers must agree to 12
                # significant digits, as the tests hold them (DatabaseLargeKBTests).
                if got != want and not same_json(run(kbq_cmd(a.kbq, ["--kb", csv, "--format", "json"], q)),
                                                 run(kbq_cmd(a.kbq, ["--db", url, "--format", "json"], q))):
                    raise SystemExit("bench: kbq --db answers %s differently from the file at %d rows" % (q, n))
                cmds = [("kbq", kbq_cmd(a.kbq, ["--db", url], q) + " >/dev/null"), ("psql", psql_cmd(url, a.peers, q) + " >/dev/null")]
                runs = 5 if a.quick else 15
                results[(n, q)] = hyperfine(cmds, runs, 2)
                r = results[(n, q)]
                print("  %-8d %s  kbq --db %s  psql %s  ratio %.2f" % (n, q, ms(r["kbq"]), ms(r["psql"]), r["kbq"] / r["psql"]),
                      flush=True)
    finally:
        subprocess.run([script, "stop", server], check=False)

    L = [BEGIN, "", "### PostgreSQL: `kbq --db` beside psql running the hand-written SQL", ""]
    L.append("A throwaway PostgreSQL server (PostgreSQL %s; scripts/pg-test-server.sh: loopback, fsync off) on this machine; each "
             "size's CSV pushed with `kbq push URL --kb estimates.csv` (tables, indexes, COPY, one transaction), then "
             "`ANALYZE`. kbq: `kbq --db URL -e …` (kbq hands over to kbq-db, which reads the KB's schema from "
             "kbq_meta, checks, translates and runs one SQL statement per query); psql: `psql -X -q -d URL -f qN.sql`, "
             "the hand-written SQL of ../shared/bench on the same tables. Both fresh processes, output to /dev/null; "
             "hyperfine medians of %d runs. Every kbq answer was first checked to be the one kbq gives from the CSV (the same text, or where a mean printed one last digit apart, the same typed answer to 12 significant digits)."
             % (run(["psql", "--version"]).strip().split()[-1], 5 if a.quick else 15))
    L.append("")
    L.append("| rows | push | question | kbq --db | psql | kbq/psql |")
    L.append("|---|---|---|---|---|---|")
    for n in sizes:
        for q in QUESTIONS:
            r = results[(n, q)]
            L.append("| %s | %s | %s | %s | %s | %.2f |" % ("{:,}".format(n), ms(pushes[n]) if q == "Q1" else "", q,
                                                         ms(r["kbq"]), ms(r["psql"]), r["kbq"] / r["psql"]))
    L.append("")
    missed = [(n, q) for (n, q), r in results.items() if r["kbq"] / r["psql"] > 1.2]
    L.append("- kbq/psql at most 1.2 for every question and size: %s." % (
        "met" if not missed else "**missed** for " + ", ".join("%s at %s rows" % (q, "{:,}".format(n)) for n, q in missed)))
    L.append("")
    L.append(END)
    section = "\n".join(L)
    print()
    print(section)
    write_block(a.doc, BEGIN, END, section)


if __name__ == "__main__":
    main()
