#!/bin/sh
# Builds and runs kbq's libFuzzer targets (Fuzz/*/main.swift):
#
#   query  query text -> lexer, parser, checker, evaluator on the article KB, renderers
#   kb     bytes      -> JSON KB loader, the CSV reader with type inference, compiled KB files
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 60 seconds, both targets)
#        scripts/fuzz.sh build                      (only build)
#        scripts/fuzz.sh corpus                     (only write the seed corpora)
#
# Each target is compiled by swiftc together with the engine's sources into one module
# (SwiftPM does not build with -sanitize=fuzzer), from a snapshot of Sources/KBQ and of the
# modules it imports (Sources/KBQPattern, whose `import` lines are dropped: it is the same
# module here; Sources/CArticleKB, the article KB's bytes, compiled by clang and linked in) so that edits made during a long build do not break it. Binaries go to .build-fuzz/; seed
# corpora are generated (never committed) into fuzz-corpus/<target>/seeds from Grammar/,
# Examples/, README and the article KB; what libFuzzer learns goes to
# fuzz-corpus/<target>/learned; crashes and timeouts are written to fuzz-artifacts/.
# The targets run side by side, one per core, under nice. Exit status 1 if any target
# found a crash or a timeout.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build="$here/.build-fuzz"
corpus="$here/fuzz-corpus"
artifacts="$here/fuzz-artifacts"
targets_all="query kb"

target_dir() {
    case "$1" in
        query) echo Fuzz/QueryFuzzer ;;
        kb) echo Fuzz/KBFuzzer ;;
        *) echo "fuzz.sh: unknown target '$1' (targets: $targets_all)" >&2; exit 2 ;;
    esac
}

build_target() {
    t=$1
    dir=$(target_dir "$t")
    bin="$build/bin/$t-fuzzer"
    stamp="$build/bin/$t-fuzzer.sources"
    if [ -x "$bin" ] && [ -f "$stamp" ] && [ -z "$(find Sources/KBQ Sources/KBQPattern Sources/CArticleKB "$dir" -newer "$stamp" -type f | head -1)" ]; then
        return 0  # built from the sources as they are
    fi
    snap="$build/src-$t"
    rm -rf "$snap" "$stamp"
    mkdir -p "$snap" "$build/bin"
    touch "$stamp.new"
    cp -R Sources/KBQ "$snap/KBQ"
    cp -R Sources/KBQPattern "$snap/KBQPattern"
    # The article KB's compiled bytes (a C module KBQ imports): its object file is linked in,
    # its module map found through -I.
    cp -R Sources/CArticleKB "$snap/CArticleKB"
    nice -n 10 clang -O2 -c -I "$snap/CArticleKB/include" -o "$snap/article_kb.o" "$snap/CArticleKB/article_kb.c"
    find "$snap/KBQ" -name '*.swift' -exec sed -i '/^import KBQPattern$/d' {} +
    cp "$dir/main.swift" "$snap/FuzzMain.swift"
    echo "fuzz.sh: building $t-fuzzer" >&2
    # -g for symbolized stacks in crash reports; lld keeps the ASan link quiet.
    # -package-name: the engine has declarations of package access (JSON, for the kbq tools).
    nice -n 10 swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld -package-name kbq \
        -module-name KBQ -I "$snap/CArticleKB/include" -o "$bin" $(find "$snap" -name '*.swift' | sort) "$snap/article_kb.o"
    mv "$stamp.new" "$stamp"
}

# Writes one file per seed into a folder, named by a hash of its content.
seed() {
    out=$1
    f=$(mktemp)
    cat > "$f"
    if [ -s "$f" ]; then
        mv "$f" "$out/$(cksum < "$f" | cut -d' ' -f1)"
    else
        rm -f "$f"
    fi
}

query_seeds() {
    out="$corpus/query/seeds"
    rm -rf "$out"
    mkdir -p "$out"
    # Grammar examples: "(* example: … *)" in the EBNF, code blocks in Grammar/*.md.
    for g in Grammar/*.ebnf; do
        [ -f "$g" ] || continue
        sed -n 's/.*(\* example: \(.*\) \*).*/\1/p' "$g" | while IFS= read -r line; do
            printf '%s\n' "$line" | seed "$out"
        done
    done
    # Code blocks of Markdown files, one seed per block and one per line.
    for m in Grammar/*.md README.md docs/*.md; do
        [ -f "$m" ] || continue
        awk -v prefix="$out/md-$(echo "$m" | tr / _)-" '
            /^```/ { if (inblock) { inblock = 0; n++ } else { inblock = 1 }; next }
            inblock { print > (prefix n) }
        ' "$m"
    done
    for b in "$out"/md-*; do
        [ -f "$b" ] || continue
        grep -v '^\s*$' "$b" | while IFS= read -r line; do printf '%s\n' "$line" | seed "$out"; done
        seed "$out" < "$b"
        rm -f "$b"
    done
    # Example scripts, whole and statement by statement.
    for e in Examples/*.kbq; do
        [ -f "$e" ] || continue
        seed "$out" < "$e"
        grep -v '^\s*\(#.*\)\?$' "$e" | while IFS= read -r line; do printf '%s\n' "$line" | seed "$out"; done
    done
    # Hostile shapes a mutator is slow to reach from the examples.
    printf 'estimates where topic matches "(a+)+$"\n' | seed "$out"
    printf 'estimates where value > ((((((1))))))\n' | seed "$out"
    printf 'claims where text contains "\\e[31m" select text\n' | seed "$out"
    printf 'estimates where topic = "containers"\r\ncompare source\r\n' | seed "$out"
    printf 'let a = estimates\nlet b = a where value > $x\nb\n' | seed "$out"
    printf 'estimates where topic = $t and hedge >= $h compare source\n' | seed "$out"
    printf 'claims where text matches $pattern or subject.name in $names limit $n\n' | seed "$out"
    printf 'events where date >= $d and date < $date select date, $p as p, $b as b\n' | seed "$out"
    printf 'describe "Pyongyang"\nsearch "Kursk"\nconflicts\n' | seed "$out"
    printf 'estimates where value > 1e309\n' | seed "$out"
    printf 'events where date >= 2024-06 sort by date timeline\n' | seed "$out"
    printf 'estimates chart topic on value\n' | seed "$out"
    printf 'let s = claims select source sort by source\ns follow source referrers claims.source follow subject referrers claims.about\n' | seed "$out"
    echo "fuzz.sh: $(ls "$out" | wc -l) query seeds" >&2
}

kb_seeds() {
    out="$corpus/kb/seeds"
    rm -rf "$out"
    mkdir -p "$out"
    seed "$out" < Sources/KBQ/Article/article.kb.json
    for k in Tests/KBQTests/Fixtures/* docs/*.kb.json Examples/*.json Examples/*.csv; do
        [ -f "$k" ] && seed "$out" < "$k"
    done
    # JSON KB blocks in docs/KB-FORMAT.md.
    if [ -f docs/KB-FORMAT.md ]; then
        awk -v dir="$out" '
            /^```json/ { inblock = 1; next }
            /^```/ { if (inblock) { inblock = 0; n++ }; next }
            inblock { print > (dir "/kbfmt-" n) }
        ' docs/KB-FORMAT.md
        for b in "$out"/kbfmt-*; do [ -f "$b" ] && { seed "$out" < "$b"; rm -f "$b"; }; done
    fi
    # Small KBs: references (one cycle), intervals, lists, hedges; and CSV files.
    cat <<'EOF' | seed "$out"
{"kbq": 1, "name": "cycle", "hedges": ["confirmed", {"word": "likely", "aliases": ["may"]}, "unknown"],
 "collections": {
  "a": {"key": "id", "fields": {"id": "string", "b": {"ref": "b"}, "n": "number", "hedge": "hedge"},
        "rows": [{"id": "a1", "b": "b1", "n": 1.5e3, "hedge": "may"}]},
  "b": {"key": "id", "fields": {"id": "string", "a": {"ref": "a"}, "d": "date", "l": {"list": "string"}},
        "rows": [{"id": "b1", "a": "a1", "d": "2024-06", "l": ["x", "y\u001b"]}]}}}
EOF
    cat <<'EOF' | seed "$out"
{"kbq": 1, "collections": {"estimates": {"key": "id", "measure": "value",
 "fields": {"id": "string", "topic": "string", "value": {"type": "number", "qualifier": "qualifier", "upper": "high"},
            "qualifier": "string", "high": "number", "share": "percent", "ok": "bool"},
 "rows": [{"id": "e1", "topic": "t", "value": 3e6, "qualifier": "over", "high": null, "share": 76.6, "ok": true},
          {"id": "e2", "topic": "t", "value": 10, "qualifier": "between", "high": 20, "share": null, "ok": false}]}}}
EOF
    # Hedge scales at the bound (250 words, the last one used) and one past it, with aliases.
    for n in 250 251; do
        awk -v n=$n 'BEGIN {
            printf "{\"kbq\": 1, \"hedges\": ["
            for (i = 0; i < n; i++) printf "%s{\"word\": \"h%d\", \"aliases\": [\"a%d\"]}", (i ? ", " : ""), i, i
            printf "], \"collections\": {\"t\": {\"fields\": {\"h\": \"hedge\", \"n\": \"number\"}, \"rows\": ["
            printf "{\"h\": \"h%d\", \"n\": 1}, {\"h\": \"a%d\", \"n\": 2}, {\"h\": \"h0\", \"n\": 3}]}}}\n", n - 1, n - 1
        }' | seed "$out"
    done
    printf 'id,topic,value,qualifier,date,hedge\r\ne1,containers,16500,about,2024-06,reportedly\r\ne2,"shells, ""big""",3e6,over,2024,likely\r\n' | seed "$out"
    printf 'name,n\nx,1\ny,\n"unterminated,2\n' | seed "$out"
    # Rows for the KB whose fields Fuzz/KBFuzzer declares (id, value with qualifier and
    # high, share, date, ok, hedge, tags, other), as CSV and as NDJSON.
    printf 'id,value,qualifier,high,share,date,ok,hedge,tags,other\r\na,3e6,over,,76.6%%,2024-06,true,likely,x,b\r\nb,10,between,20,,2024,false,may,,a\r\n' | seed "$out"
    printf '{"id": "a", "value": 3e6, "qualifier": "over", "high": null, "share": 76.6, "date": "2024-06", "ok": true, "hedge": "may", "tags": ["x"], "other": "b"}\n{"id": "b", "value": 10, "qualifier": "between", "high": 20, "share": null, "date": "2024", "ok": false, "hedge": "unknown", "tags": [], "other": "a"}\n' | seed "$out"
    # Bare JSON rows, which JSONRowScanner reads from their bytes: an array and gen.py's
    # shape, with escapes (a surrogate pair among them), exponents, nulls, a nested value
    # and a field given twice, for the mutator to break in every way.
    printf '[{"id": "a", "value": 1.5e3, "ok": true, "date": "2024-06", "hedge": "likely", "text": "q\\"\\u00e9\\ud83d\\ude00"},\n {"id": "b", "value": -0.0, "ok": null, "date": "2024", "hedge": "stated", "text": ""},\n {"id": "c", "value": null, "ok": false, "date": null, "hedge": null, "text": ["x"], "text": "y"}]\n' | seed "$out"
    printf '{"collections": {"e": [{"id": "a", "value": 1}, {"value": 2E-2, "id": "b"}], "s": [{"id": "x", "name": "\\t"}]}}\n' | seed "$out"
    # Compiled KB files (kbq build) of the article KB and of a CSV seed, when a kbq is built
    # (make test builds one before CI's fuzz run): the target opens its input as one too.
    kbq_bin=
    for b in .build/debug/kbq .build/release/kbq; do [ -x "$b" ] && { kbq_bin=$b; break; }; done
    if [ -n "$kbq_bin" ]; then
        tmp=$(mktemp -d)
        # Topics repeated out of order and dates with ties and nulls: the file then holds
        # postings and a date order for the mutator to break.
        printf 'id,topic,value,qualifier,date,hedge,ok\ne1,containers,16500,about,2024-06,reportedly,true\ne2,shells,3e6,over,2024,likely,\ne3,containers,12,,2024-06-19,stated,false\ne4,shells,,under,,likely,true\ne5,,7,,2024-06,,\n' > "$tmp/rows.csv"
        "$kbq_bin" build -o "$tmp/article.kbqdb" >/dev/null && seed "$out" < "$tmp/article.kbqdb"
        "$kbq_bin" build --kb "$tmp/rows.csv" -o "$tmp/rows.kbqdb" >/dev/null && seed "$out" < "$tmp/rows.kbqdb"
        rm -rf "$tmp"
    else
        echo "fuzz.sh: no kbq built (.build/debug/kbq): no compiled KB seeds" >&2
    fi
    echo "fuzz.sh: $(ls "$out" | wc -l) KB seeds" >&2
}

run_target() {
    t=$1 seconds=$2
    # No leak check: LeakSanitizer cannot follow Swift's tagged pointers to indirect-enum
    # boxes, and reports the article KB's field types (688 bytes, allocated once, reachable
    # from a global) as leaked when the process exits.
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export ASAN_OPTIONS
    mkdir -p "$corpus/$t/learned" "$artifacts/$t"
    log="$artifacts/$t/run.log"
    # -timeout: a single input running 10 s is a hang (queries stop themselves after 1 s).
    # -rss_limit_mb: a runaway allocation is a finding, not a machine brought down.
    nice -n 10 "$build/bin/$t-fuzzer" "$corpus/$t/learned" "$corpus/$t/seeds" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$artifacts/$t/" > "$log" 2>&1
}

summary() {
    t=$1
    log="$artifacts/$t/run.log"
    stats=$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' ')
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p')
    echo "fuzz.sh: $t: ${stats}${cov}" >&2
}

# Builds the targets side by side (one swiftc per core).
build_targets() {
    pids=""
    for t in "$@"; do
        build_target "$t" &
        pids="$pids $!"
    done
    failed=0
    for p in $pids; do wait "$p" || failed=1; done
    [ "$failed" = 0 ] || { echo "fuzz.sh: build failed" >&2; exit 2; }
}

case "${1:-}" in
    build) build_targets $targets_all; exit 0 ;;
    corpus) query_seeds; kb_seeds; exit 0 ;;
esac

seconds=${1:-60}
shift 2>/dev/null || true
targets=${*:-$targets_all}
build_targets $targets
query_seeds
kb_seeds
pids=""
for t in $targets; do
    run_target "$t" "$seconds" &
    pids="$pids $!"
done
status=0
for p in $pids; do wait "$p" || status=1; done
for t in $targets; do
    summary "$t"
    if ls "$artifacts/$t" | grep -q -E '^(crash|timeout|oom|leak)-'; then
        echo "fuzz.sh: $t: findings in $artifacts/$t:" >&2
        ls "$artifacts/$t" | grep -E '^(crash|timeout|oom|leak)-' >&2
        grep -E 'ERROR|SUMMARY|Fatal error|abort' "$artifacts/$t/run.log" | head -5 >&2
        status=1
    fi
done
exit $status
