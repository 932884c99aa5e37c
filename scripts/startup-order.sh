#!/bin/sh
# `make startup-order`: rewrites scripts/startup-order.txt, the functions kbq runs when it
# starts, which the release link (the Makefile's RELEASE_FLAGS) places side by side.
#
# Why: a fresh `kbq -e QUERY` spends more time in the kernel than in its own code, mostly
# mapping the executable's pages as it first touches them. The kernel maps 64 KiB around
# each page that faults, so the ~500 KiB of code start-up runs, scattered over 11 MiB of
# text, cost about 85 faults and 1,300 pages mapped; placed together (each function in its
# own section, -function-sections, ordered by lld's --symbol-ordering-file) about 40 faults.
# docs/PERFORMANCE.md has the figures.
#
# The list is made by running the release kbq under callgrind on the start-up cases below
# and keeping every function that ran and that the executable defines. Names the code no
# longer has are skipped by the linker (--no-warn-symbol-ordering) and new functions are
# placed as if unlisted, so a stale list costs speed, never correctness: run this after
# changes to what start-up runs, then `make release` again.
#
# Usage: scripts/startup-order.sh KBQ_BINARY LINK_MAP   (needs valgrind and nm)
# LINK_MAP is lld's -Map of the link that made KBQ_BINARY (`make startup-order` makes both).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: scripts/startup-order.sh KBQ_BINARY LINK_MAP"
kbq=${1:?$usage}
map=${2:?$usage}
out="$here/scripts/startup-order.txt"
for tool in valgrind nm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "startup-order: $tool is needed (apt-get install valgrind binutils)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The start-up cases: the benchmark's query (docs/PERFORMANCE.md), the README's first
# query, a script file, and a session on a pipe.
printf '.schema estimates\nconflicts\n.quit\n' > "$work/session"
run() {
    n=$1; shift
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.$n" "$kbq" "$@" \
        < "$work/session" >/dev/null 2>&1 || true
}
run 1 -e 'estimates where topic = "containers"'
run 2 -e 'estimates where topic = "containers" compare source'
run 3 "$here/Examples/01-container-discrepancy.kbq"
run 4

# Callgrind names each function once in full, as `fn=(id) name` or `cfn=(id) name`.
sed -n 's/^c\{0,1\}fn=([0-9]*) //p' "$work"/cg.* | sort -u > "$work/ran"
# Functions and IFUNC resolvers (a static program runs every resolver as it starts).
nm --defined-only "$kbq" | awk '$2 ~ /^[tTwWi]$/ { print $3 }' | sort -u > "$work/defined"
# A function that shares an input section over 64 KiB with others (the standard
# library's own .text is one of 1.6 MiB) is left out: placing it would move the whole
# section between the others and spread them apart again. In the map, an input section's
# line (address, size, alignment, `file:(section)`) comes before its symbols' lines.
awk 'function hex(s,  n, i) { n = 0; for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return n }
     $5 ~ /:\(/ { big = hex($3) > 65536; next }
     NF == 5 && big { print $5 }' "$map" | sort -u > "$work/in-big-sections"
comm -12 "$work/ran" "$work/defined" | comm -23 - "$work/in-big-sections" > "$out"
echo "startup-order: $(wc -l < "$out") functions written to $out"
