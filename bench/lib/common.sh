# shellcheck shell=bash
# Shared helpers for the bench scripts: logging, free ports, process CPU time,
# and tracking of every process the script starts so the EXIT trap can stop them.
# Sourced, not executed; the caller sets `set -euo pipefail`.

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Sets variable $1 to a TCP port on 127.0.0.1 that nothing listens on right now, picked at
# random from a range below the ephemeral ports. Not run in $(...) so that the list of ports
# already handed out survives between calls.
bench_free_port() {
    local port tries=0
    while ((tries++ < 200)); do
        port=$((20000 + RANDOM % 12000))
        # Also skip ports handed out earlier in this run (their owner may not be listening yet).
        [[ " ${BENCH_PORTS_TAKEN:-} " == *" $port "* ]] && continue
        if [[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]; then
            BENCH_PORTS_TAKEN="${BENCH_PORTS_TAKEN:-} $port"
            printf -v "$1" '%s' "$port"
            return 0
        fi
    done
    bench_die "no free loopback port found"
}

# Is process $1 running? (kill -0 alone also succeeds for a child that has exited but not
# been reaped yet.)
bench_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat:0:1}" != Z ]]
}

# Waits until something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp),
# giving up after $2 seconds or as soon as process $3 (if given) has exited.
bench_wait_port() {
    local port=$1 pid=${3:-} deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if [[ -n "$pid" ]] && ! bench_alive "$pid"; then
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# CPU time (user + system, all threads) a process has used so far, in clock ticks.
# Fields 14 and 15 of /proc/PID/stat; the command name (field 2) may contain spaces and
# parentheses, so the line is cut after its last ')'.
bench_cpu_ticks() {
    local stat rest
    local -a f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 1; }
    rest=${stat##*) }
    # rest starts at field 3 (state): utime is its 12th word, stime its 13th.
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
}

# Microseconds of CPU per query: $1 clock ticks (two bench_cpu_ticks apart) over $2 queries.
bench_us_per_query() {
    awk -v d="$1" -v hz="$BENCH_CLK_TCK" -v q="$2" 'BEGIN { printf "%.2f", d / hz * 1e6 / q }'
}

# Context switches (voluntary + involuntary) of all threads of process $1 so far: most
# of a relay's CPU is kernel time, and its wake-ups say whether a change moved it.
bench_context_switches() {
    awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }' "/proc/$1"/task/*/status 2>/dev/null || echo 0
}

# shellcheck disable=SC2034  # used by the scripts that source this file
BENCH_CLK_TCK=$(getconf CLK_TCK)

# --- process tracking -------------------------------------------------------------------
# Each started background process is recorded as "pid:name"; bench_stop_all stops them in
# reverse order (TERM, then KILL after a grace period). Only these pids are ever signalled.
BENCH_PIDS=()

bench_track() { BENCH_PIDS+=("$1:$2"); }

bench_untrack() {
    local keep=() entry
    for entry in "${BENCH_PIDS[@]}"; do
        [[ "${entry%%:*}" == "$1" ]] || keep+=("$entry")
    done
    BENCH_PIDS=("${keep[@]}")
}

bench_stop_pid() {
    local pid=$1 name=${2:-process} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        bench_log "$name (pid $pid) ignored TERM for 10 s; sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

bench_stop_all() {
    local i entry
    for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
        entry=${BENCH_PIDS[i]}
        bench_stop_pid "${entry%%:*}" "${entry#*:}"
    done
    BENCH_PIDS=()
}

# The scripts' EXIT trap: stops sysbench ($SB_PID), the proxies and the sandbox, then
# keeps or removes $WORKDIR ($KEEP, $WORKDIR_OURS) and exits with `rc`.
bench_cleanup() {
    local rc=$1
    trap - EXIT INT TERM
    set +e
    [[ -n "${SB_PID:-}" ]] && bench_stop_pid "$SB_PID" sysbench
    bench_stop_all          # proxies first (started last), then an inline mariadbd
    bench_mariadb_stop
    if [[ -n "${KEEP:-}" ]]; then
        bench_log "work directory kept: $WORKDIR"
    elif ((rc != 0)) || [[ -z "${WORKDIR_OURS:-}" ]]; then
        # Keep the logs to look at, drop the (large) data directory.
        find "$WORKDIR/db" \( -name '*.err' -o -name 'error.log' \) -exec cp {} "$LOGS/" \; 2>/dev/null
        rm -rf "$WORKDIR/db"
        ((rc == 0)) || bench_log "failed (exit $rc); logs kept in $WORKDIR"
    else
        rm -rf "$WORKDIR"
    fi
    exit "$rc"
}

# Sets WORKDIR (a new /tmp/PREFIX.XXXXXX unless --workdir gave one), WORKDIR_OURS (set only
# for a directory this run created: only that is ever removed whole), LOGS and RAW.
bench_make_workdir() {
    WORKDIR_OURS=
    if [[ -z "$WORKDIR" ]]; then
        WORKDIR=$(mktemp -d "/tmp/$1.XXXXXX")
        WORKDIR_OURS=1
    else
        mkdir -p "$WORKDIR"
        WORKDIR=$(cd "$WORKDIR" && pwd)
    fi
    LOGS="$WORKDIR/logs"
    mkdir -p "$LOGS"
    RAW="$WORKDIR/results.tsv"
}
