#!/usr/bin/env bash
# Throwaway PostgreSQL servers for the tests: Debian's postgresql, initdb into a temporary
# folder, pg_ctl on loopback ports. The server refuses to run as root, so as root the data
# folder belongs to the `postgres` user and every server command runs through runuser.
#
#   scripts/pg-test-server.sh start DIR [PORT [N]]   N servers on PORT, PORT+1, …; prints
#                                                     the environment the tests read
#   scripts/pg-test-server.sh stop DIR                stops every server under DIR, removes DIR
#
# The tests find the first server through KBQ_TEST_PG (a libpq connection string) and the
# others (the postgres_fdw shards) through KBQ_TEST_PG_SHARDS (space-separated).
set -euo pipefail

command=${1:-}
dir=${2:-}
port=${3:-55432}
count=${4:-1}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT [N]]" >&2; exit 2; }

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "$0: no PostgreSQL server (apt-get install postgresql)" >&2; exit 2; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    urls=()
    for ((i = 0; i < count; i++)); do
        p=$((port + i)); d="$dir/node$i"
        if [ ! -f "$d/PG_VERSION" ]; then
            as_owner "$bin/initdb" -D "$d" -U kbq -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb$i.log" 2>&1 ||
                { cat "$dir/initdb$i.log" >&2; exit 2; }
        fi
        # fsync off: a test server's data is thrown away, and durability would only slow it.
        as_owner "$bin/pg_ctl" -D "$d" -l "$dir/server$i.log" -w -t 60 \
            -o "-p $p -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null || { cat "$dir/server$i.log" >&2; exit 2; }
        urls+=("postgresql://kbq@127.0.0.1:$p/postgres")
    done
    echo "KBQ_TEST_PG=${urls[0]}"
    echo "KBQ_TEST_PG_SHARDS=\"${urls[*]:1}\""
    ;;
stop)
    for d in "$dir"/node*; do
        [ -f "$d/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR [PORT [N]]" >&2; exit 2 ;;
esac
