#!/bin/sh
# `make bench`: kbq beside sqlite3 and DuckDB on the peer questions of ../shared/bench.
#
# Builds kbq and kbq-bench in release, installs what is missing (hyperfine and GNU time
# from apt, DuckDB's CLI from PyPI), generates 10k/100k/1M rows with ../shared/bench/gen.py
# into /tmp/kbbench, checks that kbq answers every question as sqlite3 does, then measures
# everything in one run and writes the tables into docs/PERFORMANCE.md (scripts/bench.py).
# Then the PostgreSQL rows: `kbq --db` beside psql on a server of its own (scripts/bench-pg.py,
# at KBQ_BENCH_PG_SIZES rows; by default KBQ_BENCH_SIZES when set, else 1M and 10M).
#
# Environment: KBQ_BENCH_DATA (default /tmp/kbbench), KBQ_BENCH_SIZES (default
# "10000 100000 1000000 10000000"; ten million rows are measured against DuckDB only:
# load + Q2 from CSV, NDJSON and a JSON array, Q1–Q5 on the loaded table, and data at rest;
# generating them takes about 4 minutes of one core and 7 GB in $KBQ_BENCH_DATA, once), KBQ_BENCH_QUICK=1 for fewer runs, KBQ_BENCH_SCRATCH to build in
# another scratch folder, KBQ_BENCH_PEERS for a bench folder elsewhere than ../shared/bench,
# KBQ_RELEASE_FLAGS for the build (`make bench` passes the Makefile's RELEASE_FLAGS: the
# static executable that `make release` builds), KBQ_BENCH_SECTIONS=at-rest to measure only
# the data-at-rest section (printed, PERFORMANCE.md left alone; no JSON copies written).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
peers=${KBQ_BENCH_PEERS:-"$here/../shared/bench"}
data=${KBQ_BENCH_DATA:-/tmp/kbbench}
sizes=${KBQ_BENCH_SIZES:-"10000 100000 1000000 10000000"}

say() { printf 'bench: %s\n' "$*"; }

if [ ! -f "$peers/gen.py" ] || [ ! -f "$peers/q1.sql" ]; then
    say "the benchmark's data generator and peer queries are missing: expected $peers/gen.py and q1.sql … q5.sql"
    say "(they live in ../shared/bench beside the repository; see its README.md)"
    exit 1
fi

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
apt_install() {
    say "installing $*"
    $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$@" >/dev/null
}
command -v hyperfine >/dev/null 2>&1 || apt_install hyperfine
command -v sqlite3 >/dev/null 2>&1 || apt_install sqlite3
[ -x /usr/bin/time ] || apt_install time
command -v python3 >/dev/null 2>&1 || apt_install python3

duckdb_path() {
    python3 -c 'import duckdb_cli, os; print(os.path.join(os.path.dirname(duckdb_cli.__file__), "duckdb"))' 2>/dev/null || true
}
duckdb=$(duckdb_path)
if [ -z "$duckdb" ] || [ ! -x "$duckdb" ]; then
    say "installing DuckDB's CLI (pip install duckdb-cli)"
    python3 -m pip install -q duckdb-cli >/dev/null
    duckdb=$(duckdb_path)
fi
[ -x "$duckdb" ] || { say "DuckDB's CLI is not at $duckdb after pip install duckdb-cli"; exit 1; }

scratch=${KBQ_BENCH_SCRATCH:+--scratch-path $KBQ_BENCH_SCRATCH}
# The Makefile's RELEASE_FLAGS when run on its own.
flags=${KBQ_RELEASE_FLAGS:-$(make -s -C "$here" release-flags)}
say "building release (swift build $flags)"
# $flags and $scratch are lists of words: split on purpose.
swift build $flags $scratch --product kbq
swift build $flags $scratch --product kbq-bench
bin=$(swift build $flags $scratch --show-bin-path)

# gen.py stops at 9,999,999 rows (its ids have seven digits): past that its rows are
# written by its own rows() here, the same data with longer ids at the end.
gen_large() {
    python3 - "$peers" "$1" "$2" <<'PY'
import csv, json, os, sys
sys.path.insert(0, sys.argv[1])
import gen
n, out = int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
with open(os.path.join(out, "estimates.csv"), "w", newline="", encoding="utf-8") as fc, \
     open(os.path.join(out, "kb.json"), "w", encoding="utf-8") as fj:
    w = csv.writer(fc, lineterminator="\n")
    w.writerow(gen.FIELDS)
    fj.write('{"collections":{"estimates":[\n')
    sep = ""
    for r in gen.rows(n, 7):
        w.writerow([r[f] for f in gen.FIELDS])
        fj.write(sep + dumps(r))
        sep = ",\n"
    fj.write("\n]}}\n")
PY
}
# Generated once into a folder of its own and renamed into place: an interrupted run leaves
# no half-written rows for the next to measure.
generate() {
    [ -s "$data/$1/estimates.csv" ] && return 0
    say "generating $1 rows into $data/$1"
    rm -rf "$data/$1.partial"
    if [ "$1" -gt 9999999 ]; then gen_large "$1" "$data/$1.partial"; else python3 "$peers/gen.py" --n "$1" --out "$data/$1.partial" >/dev/null; fi
    rm -rf "$data/$1"
    mv "$data/$1.partial" "$data/$1"
}
for n in $sizes; do generate "$n"; done
# The same rows as JSON for the JSON case (sizes from 1M, else the largest), from gen.py's
# kb.json (one row per line inside {"collections":{"estimates":[ … ]}}): one row object per
# line, and one top-level array, the two shapes DuckDB's read_json takes.
for n in $sizes; do largest=$n; done
for n in $sizes; do
    [ "${KBQ_BENCH_SECTIONS:-all}" = all ] || continue
    [ "$n" -ge 1000000 ] || [ "$n" = "$largest" ] || continue
    if [ ! -s "$data/$n/estimates.ndjson" ] || [ ! -s "$data/$n/estimates.json" ]; then
        say "writing $n rows as NDJSON and as a JSON array"
        sed -e '1d;$d' -e 's/,$//' "$data/$n/kb.json" > "$data/$n/estimates.ndjson"
        { echo "["; sed '$!s/$/,/' "$data/$n/estimates.ndjson"; echo "]"; } > "$data/$n/estimates.json"
    fi
done

python3 "$here/scripts/bench.py" --kbq "$bin/kbq" --build-flags "$flags" --kbq-bench "$bin/kbq-bench" \
    --duckdb "$duckdb" --peers "$peers" --data "$data" --sizes "$sizes" --doc "$here/docs/PERFORMANCE.md" \
    ${KBQ_BENCH_QUICK:+--quick} --sections "${KBQ_BENCH_SECTIONS:-all}"
[ "${KBQ_BENCH_SECTIONS:-all}" = all ] || exit 0

# PostgreSQL rows (scripts/bench-pg.py): `kbq --db` beside psql on a throwaway server, at
# KBQ_BENCH_PG_SIZES rows (default: the sizes above from 1M up, so 1M and 10M). kbq-db is
# built as `make release` builds it (dynamically linked against libpq, in a scratch folder of
# its own) and put beside kbq. bench-pg.py starts and stops a server of its own.
pg_sizes=${KBQ_BENCH_PG_SIZES:-$(for n in $sizes; do [ "$n" -lt 1000000 ] || printf '%s ' "$n"; done)}
[ -n "$pg_sizes" ] || pg_sizes=1000000
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install postgresql libpq-dev
say "building kbq-db (swift build -c release)"
swift build -c release --scratch-path "${KBQ_BENCH_SCRATCH:-$here/.build}/kbq-db" --product kbq-db
cp "$(swift build -c release --scratch-path "${KBQ_BENCH_SCRATCH:-$here/.build}/kbq-db" --show-bin-path)/kbq-db" "$bin/kbq-db"
for n in $pg_sizes; do generate "$n"; done
python3 "$here/scripts/bench-pg.py" --kbq "$bin/kbq" --peers "$peers" --data "$data" --sizes "$pg_sizes" \
    --doc "$here/docs/PERFORMANCE.md" ${KBQ_BENCH_QUICK:+--quick}
