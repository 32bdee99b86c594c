#!/usr/bin/env bash
# Memory per open connection: how much each proxy's resident set grows for every client
# connection that has run a query and now waits for its next one (most connections of a
# pooled application, most of the time). uniqgate against haproxy in mode tcp. See README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_REPO/bench/lib/common.sh"
source "$BENCH_REPO/bench/lib/servers.sh"

usage() {
    cat <<'EOF'
Usage: bench/idle_memory.sh [options]

Starts a throwaway MariaDB, haproxy (mode tcp) and uniqgate (no rules) on free loopback ports.
For each proxy, opens N client connections through it (PyMySQL, one process), runs one query
on each that returns a 4 KiB row, and reads the proxy's VmRSS from /proc before the
connections open and while they all sit idle. Prints a Markdown table of KiB per
connection; stops everything it started on exit.

Options:
  --connections N      client connections per proxy (default 400; the sandbox allows 500)
  --uniqgate PATH      uniqgate binary (default $UNIQGATE or build-main/proxy/uniqgate)
  --out FILE           also write the table to FILE
  --workdir DIR        where the sandbox, configs and logs go (default: a new
                       /tmp/uniqgate-idle.* dir, removed on success)
  --keep               keep the work directory at the end
  -h, --help           this text

Needs Debian's python3-pymysql (scripts/install-deps.sh) for /usr/bin/python3.
EOF
}

CONNECTIONS=400
UNIQGATE=${UNIQGATE:-$BENCH_REPO/build-main/proxy/uniqgate}
OUT=
WORKDIR=
KEEP=  # read by bench_cleanup
need_arg() { [[ $# -ge 2 && -n "$2" ]] || bench_die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --connections) need_arg "$@"; CONNECTIONS=$2; shift ;;
        --uniqgate) need_arg "$@"; UNIQGATE=$2; shift ;;
        --out) need_arg "$@"; OUT=$2; shift ;;
        --workdir) need_arg "$@"; WORKDIR=$2; shift ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) bench_die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || bench_die "--connections must be a whole number > 0"
((CONNECTIONS <= 480)) || bench_die "--connections: at most 480 (the sandbox's max_connections is 500)"
UNIQGATE=$(realpath -m "$UNIQGATE")
[[ -x "$UNIQGATE" ]] || bench_die "no uniqgate binary at $UNIQGATE (build it or pass --uniqgate PATH)"
/usr/bin/python3 -c 'import pymysql' 2>/dev/null || bench_die "python3-pymysql is missing (scripts/install-deps.sh)"
[[ -z "$OUT" ]] || { OUT=$(realpath -m "$OUT"); mkdir -p "$(dirname "$OUT")"; }

bench_make_workdir uniqgate-idle
CLIENT_PID=
cleanup() {
    local rc=$?
    [[ -z "$CLIENT_PID" ]] || kill "$CLIENT_PID" 2>/dev/null || true
    bench_cleanup "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_mariadb_start "$WORKDIR/db"
HAPROXY_NBTHREAD=1
bench_free_port HAPROXY_PORT
bench_haproxy_start haproxy "$HAPROXY_PORT" "$DB_PORT" "$HAPROXY_NBTHREAD" "$WORKDIR"
bench_free_port UNIQGATE_PORT
bench_uniqgate_start "$UNIQGATE_PORT" "$DB_PORT" "$WORKDIR"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Opens the connections, runs a query on each, prints "idle", and keeps them open until
# its stdin closes.
CLIENT=$(cat <<'PY'
import sys, pymysql
port, count, user, password, db = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
conns = []
for _ in range(count):
    c = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=db)
    with c.cursor() as cur:
        cur.execute("SELECT REPEAT('x', 4096)")
        assert len(cur.fetchone()[0]) == 4096
    conns.append(c)
print("idle", flush=True)
sys.stdin.read()
for c in conns:
    c.close()
PY
)

# measure LEG PORT PID: prints "leg<TAB>rss before<TAB>rss idle"
measure() {
    local leg=$1 port=$2 pid=$3 before idle line
    before=$(rss_kib "$pid")
    coproc CLIENT_PROC { exec /usr/bin/python3 -c "$CLIENT" "$port" "$CONNECTIONS" \
        "$BENCH_APP_USER" "$BENCH_APP_PASSWORD" "$BENCH_APP_DB" 2>"$LOGS/client-$leg.log"; }
    CLIENT_PID=$CLIENT_PROC_PID
    if ! read -r -t 300 line <&"${CLIENT_PROC[0]}" || [[ "$line" != idle ]]; then
        cat "$LOGS/client-$leg.log" >&2
        bench_die "the $leg client did not open its $CONNECTIONS connections"
    fi
    sleep 1
    idle=$(rss_kib "$pid")
    eval "exec ${CLIENT_PROC[1]}>&-"  # end of its stdin: it closes the connections
    wait "$CLIENT_PID" || bench_die "the $leg client failed (log: $LOGS/client-$leg.log)"
    CLIENT_PID=
    bench_log "$leg: VmRSS $before KiB before, $idle KiB with $CONNECTIONS idle connections"
    printf '%s\t%s\t%s\n' "$leg" "$before" "$idle"
}

results=$(
    measure uniqgate "$UNIQGATE_PORT" "$UNIQGATE_PID"
    measure haproxy "$HAPROXY_PORT" "$HAPROXY_PID"
)

table=$(
    echo "## Proxy memory per idle connection"
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), $(/usr/sbin/haproxy -v | head -n1 | cut -d' ' -f1-3) (mode tcp), uniqgate: $UNIQGATE"
    echo "- $CONNECTIONS connections per proxy, each after one query returning a 4 KiB row"
    echo
    echo "| proxy | VmRSS before (KiB) | VmRSS with the connections idle (KiB) | KiB per connection |"
    echo "|---|---:|---:|---:|"
    while IFS=$'\t' read -r leg before idle; do
        printf '| %s | %s | %s | %.1f |\n' "$leg" "$before" "$idle" "$(awk -v i="$idle" -v b="$before" -v n="$CONNECTIONS" 'BEGIN { print (i - b) / n }')"
    done <<<"$results"
)
echo "$table"
[[ -z "$OUT" ]] || { echo "$table" >"$OUT"; bench_log "table written to $OUT"; }
