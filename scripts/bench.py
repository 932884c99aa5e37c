#!/usr/bin/env python3
"""kbq beside sqlite3 and DuckDB on the peer questions (../shared/bench): run by scripts/bench.sh.

Checks that kbq answers each question as sqlite3 does, then measures, in one run:
  - start-up: `kbq -e QUERY` on the article KB against `sqlite3 :memory: 'select 1'`;
  - each question as a fresh process that loads the CSV, for 10k/100k/1M rows (hyperfine);
  - peak memory of each of those processes (/usr/bin/time);
  - the library benchmark (kbq-bench: CSV loaded once) against DuckDB's own `.timer on`;
  - prepared-query runs per second on the article KB.
Prints the tables and writes them into docs/PERFORMANCE.md between the bench markers.
"""
import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

QUESTIONS = {
    "Q1": ['estimates where topic = "topic-0042" sort by id'],
    "Q2": ['estimates where topic = "topic-0042" select source, value group by source aggregate count() as n, min(value) as lo, '
           'max(value) as hi, avg(stated(value)) as mean',
           'estimates where topic = "topic-0042" select value aggregate count() as n, spread(value) as spread'],
    "Q3": ['estimates group by topic aggregate count() as n sort by n desc, topic limit 10'],
    "Q4": ['estimates where text contains "artillery" aggregate count() as n'],
    "Q5": ['estimates where date between 2024-06-01 and 2024-10-31 and unit = "containers" sort by date, id limit 20'],
}
STARTUP_QUERY = 'estimates where topic = "containers"'
# Sizes above this get the large-data measurements only (see main).
LARGE = 1000000
BEGIN, END = "<!-- bench:begin (scripts/bench.sh writes this part) -->", "<!-- bench:end -->"


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def run(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, capture_output=True, text=True, **kw).stdout


class Tools:
    def __init__(self, a):
        self.kbq, self.bench, self.duckdb = a.kbq, a.kbq_bench, a.duckdb
        self.build_flags = a.build_flags
        self.peers = a.peers

    def kbq_cmd(self, csv, q, fmt=None, binary=None):
        parts = [binary or self.kbq, "--kb", csv]
        for s in QUESTIONS[q]:
            parts += ["-e", s]
        if fmt:
            parts += ["--format", fmt]
        return " ".join(sh_quote(p) for p in parts)

    def sqlite_cmd(self, csv, q, json_out=False):
        schema, qfile = os.path.join(self.peers, "schema.sql"), os.path.join(self.peers, q.lower() + ".sql")
        mode = ['".mode json"'] if json_out else []
        return " ".join(["sqlite3", ":memory:", sh_quote(".read " + schema), '".mode csv"',
                         sh_quote(".import --skip 1 " + csv + " estimates")] + mode + [sh_quote(".read " + qfile)])

    def duckdb_sql(self, csv, q):
        qtext = open(os.path.join(self.peers, q.lower() + ".sql")).read()
        return "create table estimates as select * from read_csv(%s); %s" % ("'" + csv + "'", qtext)

    def duckdb_cmd(self, csv, q):
        return " ".join([sh_quote(self.duckdb), "-c", sh_quote(self.duckdb_sql(csv, q))])


# ---------------------------------------------------------------------------------------
# Answers: kbq must say what sqlite3 says.

def number(v):
    if isinstance(v, dict):
        return v.get("value")
    return v


def kbq_answers(tools, csv, q):
    out = run(tools.kbq_cmd(csv, q, "json"))
    # One JSON object per statement, back to back.
    dec, i, results = json.JSONDecoder(), 0, []
    while i < len(out):
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            break
        obj, i = dec.raw_decode(out, i)
        results.append(obj["rows"])
    return results


def sqlite_answers(tools, csv, q):
    # sqlite3 prints one JSON array per statement.
    return json_values(run(tools.sqlite_cmd(csv, q, json_out=True)))


def json_values(out):
    """The JSON values printed one after another in `out` (one per statement)."""
    dec, i, results = json.JSONDecoder(), 0, []
    while i < len(out):
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            break
        obj, i = dec.raw_decode(out, i)
        results.append(obj)
    return results


def duckdb_answers(tools, csv, q):
    """DuckDB's answers, for sizes where sqlite3's .import would take minutes (10M rows)."""
    qtext = open(os.path.join(tools.peers, q.lower() + ".sql")).read()
    script = "create table estimates as select * from read_csv('%s');\n.mode json\n%s" % (csv, qtext)
    out = subprocess.run([tools.duckdb], input=script, capture_output=True, text=True, check=True).stdout
    # DuckDB's json mode prints dates as text and decimals as numbers, as sqlite3's does.
    return json_values(out)


def close(a, b):
    return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def check(tools, csv, q, peer="sqlite3"):
    """Returns a list of differences (empty when kbq answers as the peer does)."""
    k = kbq_answers(tools, csv, q)
    s = sqlite_answers(tools, csv, q) if peer == "sqlite3" else duckdb_answers(tools, csv, q)
    diffs = []
    if len(k) != len(s):
        return ["%d results from kbq, %d from %s" % (len(k), len(s), peer)]
    if q in ("Q1", "Q5"):
        ki, si = [r["id"] for r in k[0]], [r["id"] for r in s[0]]
        if ki != si:
            diffs.append("ids differ: kbq %d rows %s…, sqlite3 %d rows %s…" % (len(ki), ki[:3], len(si), si[:3]))
        for kr, sr in zip(k[0], s[0]):
            if not close(number(kr["value"]), sr["value"]) or str(kr["date"]) != str(sr["date"]) or kr["topic"] != sr["topic"]:
                diffs.append("row %s differs: %s / %s" % (sr["id"], kr, sr))
                break
    elif q == "Q2":
        kg = {r["source"]: r for r in k[0]}
        if len(k[0]) != len(s[0]):
            diffs.append("%d sources from kbq, %d from sqlite3" % (len(k[0]), len(s[0])))
        for sr in s[0]:
            kr = kg.get(sr["source"])
            if kr is None or kr["n"] != sr["n"] or not all(close(number(kr[c]), sr[c]) for c in ("lo", "hi", "mean")):
                diffs.append("source %s: kbq %s, sqlite3 %s" % (sr["source"], kr, sr))
                break
        if k[1][0]["n"] != s[1][0]["n"] or not close(number(k[1][0]["spread"]), s[1][0]["spread"]):
            diffs.append("overall: kbq %s, sqlite3 %s" % (k[1][0], s[1][0]))
    elif q == "Q3":
        kt, st = [(r["topic"], r["n"]) for r in k[0]], [(r["topic"], r["n"]) for r in s[0]]
        if kt != st:
            diffs.append("top 10: kbq %s, sqlite3 %s" % (kt, st))
    elif q == "Q4":
        if k[0][0]["n"] != s[0][0]["n"]:
            diffs.append("count: kbq %s, sqlite3 %s" % (k[0][0]["n"], s[0][0]["n"]))
    return diffs


# ---------------------------------------------------------------------------------------
# Measurements.

def hyperfine(commands, runs, warmup, shell=True):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    cmd = ["hyperfine", "--style", "none", "-r", str(runs), "-w", str(warmup), "--export-json", path]
    if not shell:
        cmd.append("-N")
    cmd += [c for _, c in commands]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = json.load(open(path))["results"]
    os.unlink(path)
    return {name: r["median"] for (name, _), r in zip(commands, results)}


def peak_kib(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", "sh", "-c", "exec " + cmd + " >/dev/null"], capture_output=True, text=True)
    lines = [l for l in out.stderr.strip().splitlines() if l.strip().isdigit()]
    return int(lines[-1]) if lines else None


def kbq_library(tools, csv, seconds, cpu=False):
    """kbq-bench's load and per-question times in seconds: wall-clock, or with cpu the CPU
    time of all of kbq's threads (which a parallel scan adds up, and the machine's load
    does not change)."""
    out = run([tools.bench, "--csv", csv, "--seconds", str(seconds), "--only", "Q1,Q2,Q3,Q4,Q5"] + (["--cpu"] if cpu else []))
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "load":
            res["load"] = float(f[3]) / 1000
        elif f[0] in QUESTIONS:
            res[f[0]] = float(f[1]) / 1000
    return res


def kbq_prepared(tools, seconds):
    """Runs per second of the prepared query on one thread: the median of five rounds of
    seconds/5 each, so that one round slowed by something else on the machine does not
    decide the figure."""
    rounds = []
    for _ in range(5):
        out = run([tools.bench, "--only", "prepared", "--prepared-seconds", str(seconds / 5)])
        f = out.strip().split("\t")
        rounds.append((int(f[1]), float(f[2])))
    rounds.sort()
    return rounds[2]


def duckdb_library(tools, csv, reps):
    """Median of DuckDB's own `.timer on` for each question, the table already loaded."""
    script = ["create table estimates as select * from read_csv('%s');" % csv, ".mode trash", ".timer on"]
    order = []
    for _ in range(reps):
        for q in QUESTIONS:
            text = open(os.path.join(tools.peers, q.lower() + ".sql")).read()
            script.append(text)
            order += [q] * text.count(";")
    out = subprocess.run([tools.duckdb], input="\n".join(script) + "\n", capture_output=True, text=True, check=True).stdout
    times = [float(m) for m in re.findall(r"Run Time \(s\): real ([0-9.]+)", out)]
    if len(times) != len(order):
        raise SystemExit("bench: could not read DuckDB's timings (%d for %d statements)" % (len(times), len(order)))
    per = {}
    # A question's time is the sum of its statements' times within one repetition.
    i = 0
    for _ in range(reps):
        for q in QUESTIONS:
            n = open(os.path.join(tools.peers, q.lower() + ".sql")).read().count(";")
            per.setdefault(q, []).append(sum(times[i:i + n]))
            i += n
    return {q: statistics.median(v) for q, v in per.items()}


# ---------------------------------------------------------------------------------------
# JSON rows and ten million rows: load + Q2 against DuckDB, peak memory beside each.

def json_cases(a, n):
    d = os.path.join(a.data, str(n))
    cases = [("one JSON array", os.path.join(d, "estimates.json"), "array"),
             ("NDJSON", os.path.join(d, "estimates.ndjson"), "newline_delimited")]
    if n <= LARGE:
        cases.insert(0, ("gen.py's kb.json", os.path.join(d, "kb.json"), None))
    return cases


def measure_json(tools, a, sizes, csvs):
    """Each JSON shape of the rows, for every size from a million (else the largest): kbq's
    Q2 from it must be the CSV's, then kbq and DuckDB load it and answer Q2."""
    print("== fresh process: load JSON rows and answer Q2", flush=True)
    json_sizes = [n for n in sizes if n >= LARGE] or [max(sizes)]
    res, mem = {}, {}
    for n in json_sizes:
        want = run(tools.kbq_cmd(csvs[n], "Q2"))
        for label, path, duck_format in json_cases(a, n):
            try:
                got = run(tools.kbq_cmd(path, "Q2"))
            except subprocess.CalledProcessError as e:
                # kbq refuses one JSON file over its size bound (CSV and NDJSON have none):
                # a figure of the table, not the end of the run.
                if "the limit for one JSON" not in (e.stderr or ""):
                    raise
                res[(n, label)] = {"_size": os.path.getsize(path), "_refused": True}
                mem[(n, label)] = {}
                print("  %-8d %-16s kbq refuses it (over its limit for one JSON file)" % (n, label), flush=True)
                continue
            if got != want:
                raise SystemExit("bench: kbq answers Q2 differently from %s than from the CSV" % path)
            cmds = [("kbq", tools.kbq_cmd(path, "Q2"))]
            if duck_format:
                qtext = open(os.path.join(a.peers, "q2.sql")).read()
                sql = "create table estimates as select * from read_json('%s', format='%s'); %s" % (path, duck_format, qtext)
                cmds.append(("duckdb", " ".join([sh_quote(a.duckdb), "-c", sh_quote(sql)])))
            r = hyperfine(cmds, 2 if a.quick or n > LARGE else 3, 1)
            r["_size"] = os.path.getsize(path)
            res[(n, label)] = r
            mem[(n, label)] = {name: peak_kib(cmd) for name, cmd in cmds}
            print("  %-8d %-16s kbq %s  duckdb %s" % (n, label, ms(r["kbq"]), ms(r.get("duckdb"))), flush=True)
    return json_sizes, res, mem


def measure_large(tools, a, large, csvs):
    """Past a million rows: the CSV loaded and Q2 answered, kbq against DuckDB."""
    res, mem = {}, {}
    for n in large:
        print("== fresh process, %s rows: load the CSV and answer Q2" % "{:,}".format(n), flush=True)
        cmds = [("kbq", tools.kbq_cmd(csvs[n], "Q2")), ("duckdb", tools.duckdb_cmd(csvs[n], "Q2"))]
        res[n] = hyperfine(cmds, 2 if a.quick else 3, 1)
        mem[n] = {name: peak_kib(cmd) for name, cmd in cmds}
        print("  %-8d Q2  kbq %s  duckdb %s" % (n, ms(res[n]["kbq"]), ms(res[n]["duckdb"])), flush=True)
    return res, mem


def report_json(json_sizes, res, mem):
    L = ["### Fresh process: load JSON rows, answer Q2", "",
         "kbq: `kbq --kb FILE -e …` (bare JSON rows, types inferred; the answer checked against the CSV's); "
         "DuckDB: `create table estimates as select * from read_json(FILE, format=…)`, then q2.sql. DuckDB does not "
         "read gen.py's `{\"collections\": …}` shape as a table.", "",
         "| rows | file | size | kbq | DuckDB | kbq/DuckDB | peak kbq | peak DuckDB |",
         "|---|---|---|---|---|---|---|---|"]
    for (n, label), r in res.items():
        m = mem[(n, label)]
        if r.get("_refused"):
            L.append("| %s | %s | %s | refused: over kbq's limit for one JSON file | | | | |" % (
                "{:,}".format(n), label, mib(r["_size"] / 1024)))
            continue
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            "{:,}".format(n), label, mib(r["_size"] / 1024) if "_size" in r else "", ms(r["kbq"]), ms(r.get("duckdb")),
            ratio(r["kbq"], r["duckdb"]) if "duckdb" in r else "", mib(m["kbq"]), mib(m.get("duckdb"))))
    L.append("")
    return L


def report_large(large, csvs, res, mem):
    if not large:
        return []
    L = ["### Fresh process past a million rows: load the CSV, answer Q2", "",
         "kbq: `kbq --kb estimates.csv -e …`; DuckDB: `read_csv`, then q2.sql (sqlite3 is left out: its `.import` "
         "alone takes minutes). The JSON shapes of the same rows are in the table above; the questions on the loaded "
         "table in the library table below.", "",
         "| rows | CSV size | kbq | DuckDB | kbq/DuckDB | peak kbq | peak DuckDB |", "|---|---|---|---|---|---|---|"]
    for n in large:
        r, m = res[n], mem[n]
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % ("{:,}".format(n), mib(os.path.getsize(csvs[n]) / 1024), ms(r["kbq"]),
                                                      ms(r["duckdb"]), ratio(r["kbq"], r["duckdb"]), mib(m["kbq"]), mib(m["duckdb"])))
    L.append("")
    return L


def large_targets(sizes, json_sizes, json_res, json_mem, large, res, mem, csvs, lib, duck):
    def verdict(ok):
        return "met" if ok else "**missed**"
    L = []
    for (n, label), r in json_res.items():
        if r.get("_refused"):
            L.append("- %s rows as %s, load + Q2 at most DuckDB's time: **missed** (kbq refused the file as over its limit for one JSON file; "
                     "the same rows load as NDJSON or CSV)." % ("{:,}".format(n), label))
            continue
        if "duckdb" not in r:
            continue
        size_kib = r["_size"] / 1024
        k = json_mem[(n, label)]["kbq"]
        L.append("- %s rows as %s, load + Q2 at most DuckDB's time: %s (%s against %s, ratio %.2f); peak memory below "
                 "the file's size (%s): %s (%s)." % ("{:,}".format(n), label, verdict(r["kbq"] <= r["duckdb"]), ms(r["kbq"]),
                                                   ms(r["duckdb"]), r["kbq"] / r["duckdb"], mib(size_kib),
                                                   verdict(k is not None and k < size_kib), mib(k)))
    for n in large:
        r, m = res[n], mem[n]
        L.append("- %s rows, load the CSV + Q2 faster than DuckDB: %s (ratio %.2f); peak memory below the CSV's size: %s (%s)." % (
            "{:,}".format(n), verdict(r["kbq"] <= r["duckdb"]), r["kbq"] / r["duckdb"],
            verdict(m["kbq"] is not None and m["kbq"] < os.path.getsize(csvs[n]) / 1024), mib(m["kbq"])))
        slower = [q for q in QUESTIONS if not (lib[n].get(q) and duck[n].get(q) and lib[n][q] < duck[n][q])]
        L.append("- %s rows already loaded, Q1–Q5 each faster than DuckDB in-process: %s%s." % (
            "{:,}".format(n), verdict(not slower), (" (not: " + ", ".join(slower) + ")") if slower else ""))
        below = [m_ for m_ in sizes if m_ < n]
        if below:
            b = max(below)
            growth = ", ".join("%s ×%.1f" % (q, lib[n][q] / lib[b][q]) for q in QUESTIONS if lib[n].get(q) and lib[b].get(q))
            L.append("- Cost from %s to %s rows (×%g), already loaded, wall clock: %s; load ×%.1f." % (
                "{:,}".format(b), "{:,}".format(n), n / b, growth, lib[n]["load"] / lib[b]["load"]))
            cn, cb = lib[n].get("_cpu"), lib[b].get("_cpu")
            if cn and cb:
                grows = {q: cn[q] / cb[q] for q in QUESTIONS if cn.get(q) and cb.get(q)}
                grows["load"] = cn["load"] / cb["load"]
                # Linear: within a quarter of the rows' growth (a sort adds its log factor).
                over = [q for q, g in grows.items() if g > 1.25 * n / b]
                L.append("- Cost stays linear from %s to %s rows in CPU time (each within 1.25× of ×%g): %s (%s)." % (
                    "{:,}".format(b), "{:,}".format(n), n / b, verdict(not over),
                    ", ".join("%s ×%.1f" % (q, g) for q, g in grows.items())))
    return L


# Data at rest: a fresh process answering from a database file built beforehand — kbq's
# compiled KB (`kbq build`), sqlite3's database with indexes, DuckDB's own database file —
# instead of loading the CSV. Kept apart from the rest so the sections of other work merge.

AT_REST_INDEXES = ["create index estimates_topic on estimates(topic);",
                   "create index estimates_date on estimates(date);"]


def at_rest_sizes(sizes):
    """1M rows and up (10M when KBQ_BENCH_SIZES has it); else the largest size asked for."""
    return [n for n in sizes if n >= 1000000] or [max(sizes)]


def newer(path, than):
    return os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(than)


def at_rest_files(tools, csv):
    """The three database files beside the CSV: kbq's rebuilt every run (its format follows
    the kbq built), sqlite3's and DuckDB's kept while newer than the CSV. Returns their paths
    and kbq's build time."""
    d = os.path.dirname(csv)
    kbqdb, sqlite_db, duck_db = (os.path.join(d, "estimates" + ext) for ext in (".kbqdb", ".sqlite", ".duckdb"))
    t0 = time.time()
    run([tools.kbq, "build", "--kb", csv, "-o", kbqdb])
    build = time.time() - t0
    if not newer(sqlite_db, csv):
        tmp = sqlite_db + ".tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        run(["sqlite3", tmp, ".read " + os.path.join(tools.peers, "schema.sql"), ".mode csv",
             ".import --skip 1 " + csv + " estimates"] + AT_REST_INDEXES + ["analyze;"])
        os.rename(tmp, sqlite_db)
    if not newer(duck_db, csv):
        tmp = duck_db + ".tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        run([tools.duckdb, tmp, "-c", "create table estimates as select * from read_csv('%s');" % csv])
        os.rename(tmp, duck_db)
    return kbqdb, sqlite_db, duck_db, build


def at_rest_open_ms(tools, kbqdb):
    """Median time to open the compiled file (map, header, schema), from kbq-bench --open."""
    f = run([tools.bench, "--open", kbqdb, "--runs", "200", "--seconds", "1"]).strip().split("\t")
    return float(f[2])


def data_at_rest(tools, sizes, csvs, quick):
    print("== data at rest: a fresh process answering from a database file", flush=True)
    res = {}
    for n in at_rest_sizes(sizes):
        kbqdb, sqlite_db, duck_db, build = at_rest_files(tools, csvs[n])
        for q in QUESTIONS:
            if run(tools.kbq_cmd(kbqdb, q, "json")) != run(tools.kbq_cmd(csvs[n], q, "json")):
                raise SystemExit("bench: kbq answers %s differently from %s than from the CSV" % (q, kbqdb))
        times, mem = {}, {}
        for q in QUESTIONS:
            qfile = os.path.join(tools.peers, q.lower() + ".sql")
            cmds = [("kbq", tools.kbq_cmd(kbqdb, q)),
                    ("sqlite3", " ".join(["sqlite3", "-readonly", sh_quote(sqlite_db), sh_quote(".read " + qfile)])),
                    ("duckdb", " ".join([sh_quote(tools.duckdb), "-readonly", sh_quote(duck_db), "-c", sh_quote(open(qfile).read())]))]
            times[q] = hyperfine(cmds, (3 if quick else 10) if n <= 1000000 else (3 if quick else 5), 1 if quick else 2)
            mem[q] = {name: peak_kib(cmd) for name, cmd in cmds}
            print("  %-9d %s  kbq %s  sqlite3 %s  duckdb %s" % (n, q, ms(times[q]["kbq"]), ms(times[q]["sqlite3"]),
                                                           ms(times[q]["duckdb"])), flush=True)
        res[n] = {"times": times, "mem": mem, "open": at_rest_open_ms(tools, kbqdb), "build": build,
                  "size": {k: os.path.getsize(p) for k, p in (("kbq", kbqdb), ("sqlite3", sqlite_db), ("duckdb", duck_db))}}
        print("  %-9d open %.3f ms, build %s" % (n, res[n]["open"], ms(build)), flush=True)
    return res


def data_at_rest_report(res):
    L = ["### Data at rest: a fresh process answers from a database file", "",
         "kbq: `kbq --kb estimates.kbqdb -e …`, the file written beforehand by `kbq build --kb estimates.csv -o "
         "estimates.kbqdb`; sqlite3: `sqlite3 -readonly estimates.sqlite '.read qN.sql'` on the table of schema.sql "
         "with indexes on topic (Q1–Q3) and on date (Q5) (`%s`, then `analyze`); DuckDB: `duckdb -readonly "
         "estimates.duckdb -c …` on a table made by `create table … as select * from read_csv(…)`. Every file in the "
         "page cache (warm-up runs first). kbq's answers from the compiled file were checked to be byte for byte its "
         "answers from the CSV." % " ".join(AT_REST_INDEXES), "",
         "| rows | question | kbq | sqlite3 | DuckDB | kbq/sqlite3 | kbq/DuckDB | peak kbq | peak sqlite3 | peak DuckDB |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in res.items():
        for q in QUESTIONS:
            f, m = r["times"][q], r["mem"][q]
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                "{:,}".format(n), q, ms(f["kbq"]), ms(f["sqlite3"]), ms(f["duckdb"]), ratio(f["kbq"], f["sqlite3"]),
                ratio(f["kbq"], f["duckdb"]), mib(m["kbq"]), mib(m["sqlite3"]), mib(m["duckdb"])))
    L.append("")
    for n, r in res.items():
        L.append("- %s rows: opening the compiled file (map, header, schema; `kbq-bench --open`) %.3f ms; `kbq build` "
                 "%s; files: kbq %s, sqlite3 %s, DuckDB %s." % (
                     "{:,}".format(n), r["open"], ms(r["build"]), mib(r["size"]["kbq"] / 1024),
                     mib(r["size"]["sqlite3"] / 1024), mib(r["size"]["duckdb"] / 1024)))
    L.append("")
    return L


def data_at_rest_targets(res, verdict):
    L = []
    for n, r in res.items():
        worst_s = max(r["times"][q]["kbq"] / r["times"][q]["sqlite3"] for q in QUESTIONS)
        worst_d = max(r["times"][q]["kbq"] / r["times"][q]["duckdb"] for q in QUESTIONS)
        missed = [q for q in QUESTIONS if r["times"][q]["kbq"] > min(r["times"][q]["sqlite3"], r["times"][q]["duckdb"])]
        L.append("- Data at rest, %s rows, Q1–Q5 each at most sqlite3's and DuckDB's time from their own files: %s "
                 "(worst ratios %.2f and %.2f%s); opening the file under 5 ms: %s (%.3f ms)." % (
                     "{:,}".format(n), verdict(not missed), worst_s, worst_d,
                     "; missed on " + ", ".join(missed) if missed else "", verdict(r["open"] < 5), r["open"]))
    return L


# ---------------------------------------------------------------------------------------
# Report.

def ms(s):
    if s is None:
        return "—"
    if s >= 1:
        return "%.2f s" % s
    if s >= 0.01:
        return "%.0f ms" % (s * 1000)
    if s >= 0.001:
        return "%.1f ms" % (s * 1000)
    return "%.2f ms" % (s * 1000)


def mib(k):
    return "—" if k is None else "%.0f MiB" % (k / 1024)


def ratio(a, b):
    return "—" if not a or not b else "%.2f" % (a / b)


def machine(tools):
    def first(cmd):
        try:
            return run(cmd).strip().splitlines()[0]
        except Exception:
            return "?"
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    return [
        ("date", time.strftime("%Y-%m-%d %H:%M %Z")),
        ("machine", "%s cores (nproc), %s, %s RAM, Linux %s" % (os.cpu_count(), cpu, mem, platform.release())),
        ("load average at start", "%.2f %.2f %.2f" % os.getloadavg()),
        ("kbq", "`swift build %s`; %s" % (tools.build_flags, first("swift --version 2>&1"))),
        ("sqlite3", first("sqlite3 --version").split(" ")[0]),
        ("DuckDB", first(sh_quote(tools.duckdb) + " --version")),
        ("hyperfine", first("hyperfine --version")),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kbq", required=True)
    ap.add_argument("--build-flags", default="-c release", help="how kbq was built (for the report)")
    ap.add_argument("--kbq-bench", required=True)
    ap.add_argument("--duckdb", required=True)
    ap.add_argument("--peers", required=True, help="../shared/bench")
    ap.add_argument("--data", required=True)
    ap.add_argument("--sizes", default="10000 100000 1000000")
    ap.add_argument("--doc", required=True)
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    ap.add_argument("--sections", default="all",
                    help="'all', or 'at-rest': only the data-at-rest section, printed and not written into --doc")
    a = ap.parse_args()
    tools = Tools(a)
    sizes = [int(s) for s in a.sizes.split()]
    csvs = {n: os.path.join(a.data, str(n), "estimates.csv") for n in sizes}
    if a.sections == "at-rest":
        # One section, for work on compiled files: its own answer check (each question from
        # the compiled file against the CSV) is inside data_at_rest.
        res = data_at_rest(tools, sizes, csvs, a.quick)
        print("\n".join(data_at_rest_report(res) + data_at_rest_targets(res, lambda ok: "met" if ok else "NOT met")))
        return
    if a.sections != "all":
        raise SystemExit("bench: --sections takes 'all' or 'at-rest', not %r" % a.sections)
    # Past a million rows only kbq and DuckDB are measured (sqlite3's .import of 10M rows
    # takes minutes per run): load + Q2, and the questions on the loaded table.
    full = [n for n in sizes if n <= LARGE] or sizes[:1]
    large = [n for n in sizes if n not in full]

    print("== checking answers against sqlite3 (DuckDB past %s rows)" % "{:,}".format(LARGE), flush=True)
    bad = []
    for n in sizes:
        peer = "sqlite3" if n in full else "duckdb"
        for q in QUESTIONS:
            diffs = check(tools, csvs[n], q, peer)
            print("  %-8d %s %s" % (n, q, ("same answer as " + peer) if not diffs else "DIFFERENT: " + "; ".join(diffs)), flush=True)
            if diffs:
                bad.append((n, q, diffs))
    if bad:
        raise SystemExit("bench: kbq's answers differ from its peer's; a benchmark of a wrong answer is worthless")

    print("== start-up", flush=True)
    startup_cmds = [("kbq", " ".join(sh_quote(p) for p in [a.kbq, "-e", STARTUP_QUERY])),
                    ("sqlite3", "sqlite3 :memory: 'select 1'"),
                    ("duckdb", sh_quote(a.duckdb) + " :memory: 'select 1'")]
    startup = hyperfine(startup_cmds, 100 if a.quick else 300, 20, shell=False)
    startup_load = os.getloadavg()
    startup_mem = {name: peak_kib(cmd) for name, cmd in startup_cmds}

    print("== fresh process: load the CSV and answer", flush=True)
    fresh, mem = {}, {}
    for n in full:
        runs = ({10000: 5, 100000: 3} if a.quick else {10000: 20, 100000: 10}).get(n, 3 if a.quick else 5)
        warm = 2 if n <= 10000 else 1
        for q in QUESTIONS:
            cmds = [("kbq", tools.kbq_cmd(csvs[n], q)), ("sqlite3", tools.sqlite_cmd(csvs[n], q)),
                    ("duckdb", tools.duckdb_cmd(csvs[n], q))]
            fresh[(n, q)] = hyperfine(cmds, runs, warm)
            mem[(n, q)] = {name: peak_kib(cmd) for name, cmd in cmds}
            print("  %-8d %s  kbq %s  sqlite3 %s  duckdb %s" % (n, q, ms(fresh[(n, q)]["kbq"]), ms(fresh[(n, q)]["sqlite3"]),
                                                          ms(fresh[(n, q)]["duckdb"])), flush=True)

    json_sizes, json_fresh, json_mem = measure_json(tools, a, sizes, csvs)
    large_fresh, large_mem = measure_large(tools, a, large, csvs)

    at_rest = data_at_rest(tools, sizes, csvs, a.quick)

    print("== library: the CSV loaded once", flush=True)
    lib, duck = {}, {}
    for n in sizes:
        lib[n] = kbq_library(tools, csvs[n], 1.0 if a.quick else 2.0)
        duck[n] = duckdb_library(tools, csvs[n], 5 if a.quick else 15)
        print("  %-8d " % n + "  ".join("%s kbq %s duckdb %s" % (q, ms(lib[n].get(q)), ms(duck[n].get(q))) for q in QUESTIONS), flush=True)
        if n >= LARGE:
            # Growth past a million rows is judged on CPU time too: the wall clock there
            # mixes in how well two threads share the memory bus and the caches.
            lib[n]["_cpu"] = kbq_library(tools, csvs[n], 1.0 if a.quick else 2.0, cpu=True)
            print("  %-8d CPU " % n + "  ".join("%s %s" % (q, ms(lib[n]["_cpu"].get(q))) for q in QUESTIONS), flush=True)
    prepared, per_run = kbq_prepared(tools, 2.0 if a.quick else 5.0)

    # ----- the report
    big = max(full)
    csv_kib = os.path.getsize(csvs[big]) / 1024
    L = []
    L.append(BEGIN)
    L.append("")
    L.append("### Machine")
    L.append("")
    for k, v in machine(tools):
        L.append("- %s: %s" % (k, v))
    L.append("")
    L.append("Medians; ratio = kbq's time / the peer's (below 1.00: kbq is faster). Every kbq answer was first checked "
             "against sqlite3's on the same data (ids in order for Q1 and Q5, per-source n/min/max/mean and the overall "
             "spread for Q2, the top-10 list for Q3, the count for Q4).")
    L.append("")
    L.append("### Start-up: one query on the article KB, fresh process")
    L.append("")
    L.append("| command | median | peak memory | kbq / sqlite3 |")
    L.append("|---|---|---|---|")
    for name, cmd in startup_cmds:
        shown = {"kbq": "`kbq -e '%s'`" % STARTUP_QUERY,
                 "sqlite3": "`sqlite3 :memory: 'select 1'`",
                 "duckdb": "`duckdb :memory: 'select 1'`"}[name]
        r = ratio(startup[name], startup["sqlite3"]) if name.startswith("kbq") else ""
        # Two decimals: the start-up figures differ by tenths of a millisecond.
        L.append("| %s | %.2f ms | %s | %s |" % (shown, startup[name] * 1000, mib(startup_mem[name]), r))
    L.append("")
    L.append("`hyperfine -N`, %d runs of each after 20 warm-up runs, the three commands in one run; load average "
             "just after: %.2f %.2f %.2f." % ((100 if a.quick else 300,) + startup_load))
    L.append("")
    L.append("### Fresh process: load the CSV, answer one question")
    L.append("")
    L.append("kbq: `kbq --kb estimates.csv -e …` (types inferred); sqlite3: `.import` into the table of schema.sql, "
             "then the .sql file; DuckDB: `create table estimates as select * from read_csv(…)`, then the .sql file.")
    L.append("")
    L.append("| rows | question | kbq | sqlite3 | DuckDB | kbq/sqlite3 | kbq/DuckDB | peak kbq | peak sqlite3 | peak DuckDB |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for n in full:
        for q in QUESTIONS:
            f, m = fresh[(n, q)], mem[(n, q)]
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                "{:,}".format(n), q, ms(f["kbq"]), ms(f["sqlite3"]), ms(f["duckdb"]), ratio(f["kbq"], f["sqlite3"]),
                ratio(f["kbq"], f["duckdb"]), mib(m["kbq"]), mib(m["sqlite3"]), mib(m["duckdb"])))
    L.append("")
    L += report_json(json_sizes, json_fresh, json_mem)
    L += report_large(large, csvs, large_fresh, large_mem)
    L.append("### Already loaded: kbq's library benchmark against DuckDB's `.timer on`")
    L.append("")
    L.append("kbq: `kbq-bench` times check + plan + run of each statement (no printing) over many runs; DuckDB: the "
             "same statements on the loaded table, its own reported time. Q2 is the sum of its two statements.")
    L.append("")
    L.append("| rows | load (kbq-bench) | " + " | ".join("%s kbq | %s DuckDB" % (q, q) for q in QUESTIONS) + " |")
    L.append("|---|---|" + "---|---|" * len(QUESTIONS))
    for n in sizes:
        L.append("| %s | %s | " % ("{:,}".format(n), ms(lib[n].get("load"))) +
                 " | ".join("%s | %s" % (ms(lib[n].get(q)), ms(duck[n].get(q))) for q in QUESTIONS) + " |")
    L.append("")
    L.append("Prepared query on the article KB (`estimates where topic = $t compare source`, one core): "
             "**{:,} runs/s** ({:.2f} µs a run).".format(prepared, per_run))
    L.append("")
    L += data_at_rest_report(at_rest)
    L.append("### Targets")
    L.append("")

    def verdict(ok):
        return "met" if ok else "**missed**"
    s_ratio = startup["kbq"] / startup["sqlite3"]
    L.append("- Start-up at most sqlite3's time: %s (ratio %.2f)." % (verdict(s_ratio <= 1.0), s_ratio))
    f2, m2 = fresh[(big, "Q2")], mem[(big, "Q2")]
    L.append("- %s rows, load the CSV + Q2 faster than DuckDB: %s (%s against %s, ratio %.2f); peak memory below the "
             "CSV's size (%.0f MiB): %s (%s)." % ("{:,}".format(big), verdict(f2["kbq"] <= f2["duckdb"]), ms(f2["kbq"]),
                                                  ms(f2["duckdb"]), f2["kbq"] / f2["duckdb"], csv_kib / 1024,
                                                  verdict(m2["kbq"] is not None and m2["kbq"] < csv_kib), mib(m2["kbq"])))
    for q, limit in (("Q1", 0.005), ("Q2", 0.005), ("Q3", 0.030), ("Q4", 0.030), ("Q5", 0.005)):
        k, d = lib[big].get(q), duck[big].get(q)
        L.append("- %s already loaded, %s rows: under %s: %s (%s); faster than DuckDB's %s: %s." % (
            q, "{:,}".format(big), ms(limit), verdict(k is not None and k < limit), ms(k), ms(d),
            verdict(k is not None and d is not None and k < d)))
    L.append("- Prepared query at least 500,000 runs/s: %s ({:,} runs/s).".format(prepared) % verdict(prepared >= 500000))
    if len(full) >= 2:
        steps = []
        for a_, b_ in zip(full, full[1:]):
            grow = b_ / a_
            fr = statistics.median([fresh[(b_, q)]["kbq"] / fresh[(a_, q)]["kbq"] for q in QUESTIONS])
            lr = lib[b_]["load"] / lib[a_]["load"]
            steps.append("%s → %s rows (×%g): fresh-process time ×%.1f, load ×%.1f" % (
                "{:,}".format(a_), "{:,}".format(b_), grow, fr, lr))
        L.append("- Linear in rows: " + "; ".join(steps) + ".")
    L += large_targets(sizes, json_sizes, json_fresh, json_mem, large, large_fresh, large_mem, csvs, lib, duck)
    L += data_at_rest_targets(at_rest, verdict)
    L.append("")
    L.append(END)
    section = "\n".join(L)
    print()
    print(section)

    write_block(a.doc, BEGIN, END, section)


def write_block(doc, begin, end, section):
    """Puts `section` (from `begin` to `end`) in place of the doc's block between those
    markers, or at its end when it has none; the rest of the doc stays as it is."""
    text = open(doc).read() if os.path.exists(doc) else "# Performance\n\n" + begin + "\n" + end + "\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    open(doc, "w").write(text)
    print("\nbench: wrote %s" % doc)


if __name__ == "__main__":
    main()
