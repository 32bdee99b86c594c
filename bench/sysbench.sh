#!/usr/bin/env bash
# sysbench through uniqgate's relay path, compared in the same run with a direct connection
# and with haproxy in TCP mode (the target in ../shared/DESIGN.md, "Targets"). See README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_REPO/bench/lib/common.sh"
source "$BENCH_REPO/bench/lib/servers.sh"
source "$BENCH_REPO/bench/lib/report.sh"

usage() {
    cat <<'EOF'
Usage: bench/sysbench.sh [options]

Starts a throwaway MariaDB, uniqgate (no rules: pure relay path) and haproxy (mode tcp) on free
loopback ports, prepares the sysbench tables once, then for every workload and thread count runs
sysbench against direct MariaDB, uniqgate and haproxy back to back (interleaved), measuring the
CPU time each proxy process used. Then, head to head, it runs the same workloads through uniqgate
and haproxy at the same time (one sysbench each), so both proxies meet the same load and the same
noise from the rest of the box. Prints two Markdown tables; stops everything it started on exit.

Options:
  --time N             seconds per sysbench run (default 10)
  --rounds N           repeat each direct/uniqgate/haproxy triple N times, report medians
                       (default 1; the leg order rotates from one round to the next)
  --workloads "W ..."  sysbench workloads (default "oltp_point_select oltp_read_write oltp_insert")
  --threads "N ..."    client thread counts (default "1 16 64")
  --tables N           tables to prepare (default 4)
  --table-size N       rows per table at prepare time (default 10000)
  --ps-mode MODE       sysbench --db-ps-mode: auto (default: server-side prepared statements)
                       or disable (text protocol)
  --warmup N           seconds of direct oltp_read_write before the first measured run
                       (default 5)
  --haproxy-nbthread N haproxy threads (default 1; see README.md)
  --uniqgate PATH      uniqgate binary (default $UNIQGATE or build-main/proxy/uniqgate)
  --uniqgate-args "A"  extra uniqgate arguments, e.g. "--threads 2" (default none: 1 loop)
  --skip-uniqgate      leave the uniqgate leg out (its columns show –)
  --no-head-to-head    leave out the head-to-head stage
  --head-to-head-only  leave out the interleaved stage (direct, uniqgate, haproxy one by one)
  --syscalls           also count each proxy's recvfrom, sendto, epoll_wait and epoll_ctl
                       calls per query (perf stat on the syscall tracepoints; needs perf and
                       root) and log them with the run
  --quick              smoke run: 1 table of 1000 rows, 3 s per run, 1 s warm-up
  --out FILE           also write the table (with the run's parameters) to FILE
  --workdir DIR        where the sandbox, configs and logs go; kept afterwards, minus the
                       data directory (default: a new /tmp/uniqgate-bench.* dir, removed on
                       success, kept minus the data directory on failure)
  --keep               keep the work directory at the end, data directory included
  -h, --help           this text

Environment:
  UNIQGATE             uniqgate binary (same as --uniqgate)
  UNIQGATE_CMD         replaces the uniqgate command: "haproxy" runs a second haproxy as a
                       stand-in (to test the script); anything else runs as `exec $UNIQGATE_CMD`
                       with UG_CONFIG, UG_LISTEN_PORT, UG_BACKEND_PORT, UG_DIR set; it must stay
                       in the foreground (its pid is the one whose CPU time is measured)
EOF
}

# --- options ----------------------------------------------------------------------------
TIME=10
ROUNDS=1
WORKLOADS="oltp_point_select oltp_read_write oltp_insert"
THREADS="1 16 64"
TABLES=4
TABLE_SIZE=10000
PS_MODE=auto
WARMUP=5
HAPROXY_NBTHREAD=1
UNIQGATE=${UNIQGATE:-$BENCH_REPO/build-main/proxy/uniqgate}
UNIQGATE_ARGS=
SKIP_UNIQGATE=
HEAD_TO_HEAD=1
INTERLEAVED=1
SYSCALLS=
OUT=
WORKDIR=
KEEP=
quick=
time_set='' tables_set='' size_set='' warmup_set=

need_arg() { [[ $# -ge 2 && -n "$2" ]] || bench_die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --time) need_arg "$@"; TIME=$2; time_set=1; shift ;;
        --rounds) need_arg "$@"; ROUNDS=$2; shift ;;
        --workloads) need_arg "$@"; WORKLOADS=$2; shift ;;
        --threads) need_arg "$@"; THREADS=$2; shift ;;
        --tables) need_arg "$@"; TABLES=$2; tables_set=1; shift ;;
        --table-size) need_arg "$@"; TABLE_SIZE=$2; size_set=1; shift ;;
        --ps-mode) need_arg "$@"; PS_MODE=$2; shift ;;
        --warmup) need_arg "$@"; WARMUP=$2; warmup_set=1; shift ;;
        --haproxy-nbthread) need_arg "$@"; HAPROXY_NBTHREAD=$2; shift ;;
        --uniqgate) need_arg "$@"; UNIQGATE=$2; shift ;;
        --uniqgate-args) need_arg "$@"; UNIQGATE_ARGS=$2; shift ;;
        --skip-uniqgate) SKIP_UNIQGATE=1 ;;
        --no-head-to-head) HEAD_TO_HEAD= ;;
        --head-to-head-only) INTERLEAVED= ;;
        --syscalls) SYSCALLS=1 ;;
        --quick) quick=1 ;;
        --out) need_arg "$@"; OUT=$2; shift ;;
        --workdir) need_arg "$@"; WORKDIR=$2; shift ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) bench_die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
if [[ -n "$quick" ]]; then   # explicit options still win over --quick's defaults
    [[ -n "$time_set" ]] || TIME=3
    [[ -n "$tables_set" ]] || TABLES=1
    [[ -n "$size_set" ]] || TABLE_SIZE=1000
    [[ -n "$warmup_set" ]] || WARMUP=1
fi
for v in TIME ROUNDS TABLES TABLE_SIZE WARMUP HAPROXY_NBTHREAD; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || bench_die "${v,,} must be a whole number, not '${!v}'"
done
((TIME > 0 && ROUNDS > 0 && TABLES > 0 && HAPROXY_NBTHREAD > 0)) || bench_die "time, rounds, tables and nbthread must be > 0"
[[ "$PS_MODE" == auto || "$PS_MODE" == disable ]] || bench_die "--ps-mode is auto or disable"
for t in $THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || bench_die "bad thread count '$t'"; done
for w in $WORKLOADS; do
    [[ -f "/usr/share/sysbench/$w.lua" ]] || bench_die "no sysbench workload '$w' in /usr/share/sysbench"
done
[[ -z "$SYSCALLS" ]] || command -v perf >/dev/null || bench_die "--syscalls needs perf (apt install linux-perf)"
command -v sysbench >/dev/null || bench_die "sysbench is not installed (scripts/install-deps.sh)"
[[ -x /usr/sbin/haproxy ]] || bench_die "/usr/sbin/haproxy is not installed (scripts/install-deps.sh)"
[[ -z "$SKIP_UNIQGATE" ]] || HEAD_TO_HEAD=   # head to head is uniqgate against haproxy
[[ -n "$INTERLEAVED" || -n "$HEAD_TO_HEAD" ]] \
    || bench_die "nothing to run: --head-to-head-only with --no-head-to-head or --skip-uniqgate"
if [[ -n "$OUT" ]]; then
    OUT=$(realpath -m "$OUT")
    mkdir -p "$(dirname "$OUT")"
fi

UNIQGATE=$(realpath -m "$UNIQGATE")
LEGS=(direct haproxy)
[[ -n "$SKIP_UNIQGATE" ]] || LEGS=(direct uniqgate haproxy)
if [[ -z "$SKIP_UNIQGATE" && -z "${UNIQGATE_CMD:-}" && ! -x "$UNIQGATE" ]]; then
    bench_die "no uniqgate binary at $UNIQGATE (build it, pass --uniqgate PATH, or use --skip-uniqgate / UNIQGATE_CMD=haproxy)"
fi

# --- work directory and cleanup ---------------------------------------------------------
bench_make_workdir uniqgate-bench
SB_PID=
FAILED_RUNS=0
declare -A DEAD_LEGS=()

cleanup() { bench_cleanup "$?"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- servers ----------------------------------------------------------------------------
bench_mariadb_start "$WORKDIR/db"
bench_log "MariaDB pid $DB_PID on 127.0.0.1:$DB_PORT ($(bench_sql "$DB_PORT" 'SELECT VERSION()'))"

bench_free_port HAPROXY_PORT
bench_haproxy_start haproxy "$HAPROXY_PORT" "$DB_PORT" "$HAPROXY_NBTHREAD" "$WORKDIR"
UNIQGATE_PORT='' UNIQGATE_PID=
if [[ -z "$SKIP_UNIQGATE" ]]; then
    bench_free_port UNIQGATE_PORT
    bench_uniqgate_start "$UNIQGATE_PORT" "$DB_PORT" "$WORKDIR"
fi

leg_port() {
    case $1 in direct) echo "$DB_PORT" ;; uniqgate) echo "$UNIQGATE_PORT" ;; haproxy) echo "$HAPROXY_PORT" ;; esac
}
leg_pid() {
    case $1 in direct) echo "" ;; uniqgate) echo "$UNIQGATE_PID" ;; haproxy) echo "$HAPROXY_PID" ;; esac
}

# Every leg must relay a query before anything is measured.
for leg in "${LEGS[@]}"; do
    if [[ "$(bench_sql "$(leg_port "$leg")" 'SELECT 1' 2>"$LOGS/smoke-$leg.log")" != 1 ]]; then
        cat "$LOGS/smoke-$leg.log" >&2
        pid=$(leg_pid "$leg")
        if [[ -n "$pid" ]]; then
            bench_alive "$pid" || bench_log "$leg (pid $pid) has exited; last lines of its log:"
            tail -n 20 "$WORKDIR/$leg.log" >&2 || true
        fi
        bench_die "a query through the $leg leg failed"
    fi
done

# --- sysbench ---------------------------------------------------------------------------
sysbench_common=(
    --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user="$BENCH_APP_USER"
    --mysql-password="$BENCH_APP_PASSWORD" --mysql-db="$BENCH_APP_DB"
    --tables="$TABLES" --table-size="$TABLE_SIZE" --db-ps-mode="$PS_MODE"
    --mysql-ssl=off   # the sandbox offers TLS; no leg uses it (uniqgate runs with client_tls disabled)
)

# Runs sysbench in the background and waits, so the EXIT trap can stop it; a hung proxy
# cannot hold the script forever (timeout). Usage: run_sysbench TIMEOUT_S LOG ARGS...
run_sysbench() {
    local limit=$1 log=$2 rc=0
    shift 2
    timeout -k 5 "$limit" sysbench "$@" >"$log" 2>&1 &
    SB_PID=$!
    wait "$SB_PID" || rc=$?
    SB_PID=
    return "$rc"
}

bench_log "preparing $TABLES table(s) x $TABLE_SIZE rows"
run_sysbench 3600 "$LOGS/prepare.log" oltp_read_write "${sysbench_common[@]}" --mysql-port="$DB_PORT" \
    --threads="$TABLES" prepare || { tail -n 20 "$LOGS/prepare.log" >&2; bench_die "sysbench prepare failed"; }
if ((WARMUP > 0)); then
    bench_log "warming up for $WARMUP s (direct oltp_read_write, 4 threads)"
    run_sysbench $((WARMUP + 120)) "$LOGS/warmup.log" oltp_read_write "${sysbench_common[@]}" --mysql-port="$DB_PORT" \
        --threads=4 --time="$WARMUP" run || { tail -n 20 "$LOGS/warmup.log" >&2; bench_die "warm-up failed"; }
fi

# --syscalls: perf stat on the syscall tracepoints of one proxy process, around one run.
SYSCALL_EVENTS=(recvfrom sendto epoll_wait epoll_ctl)
PERF_PID=
start_syscall_count() {   # pid, output file
    local events
    events=$(printf 'syscalls:sys_enter_%s,' "${SYSCALL_EVENTS[@]}")
    perf stat -x, -e "${events%,}" -p "$1" -o "$2" 2>/dev/null &
    PERF_PID=$!
    bench_track "$PERF_PID" perf
}
stop_syscall_count() {
    [[ -n "$PERF_PID" ]] || return 0
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    bench_untrack "$PERF_PID"
    PERF_PID=
}
syscalls_per_query() {    # output file, queries; prints "  syscalls/q recvfrom 3.40 ..."
    awk -F, -v q="$2" '$3 ~ /sys_enter_/ && $1 ~ /^[0-9]+$/ {
        sub(/.*sys_enter_/, "", $3); out = out sprintf(" %s %.2f", $3, $1 / q) }
        END { if (out != "") printf "  syscalls/q%s", out }' "$1"
}

# One measured run: appends a line to $RAW.
run_leg() {
    local workload=$1 threads=$2 round=$3 leg=$4 port pid log cpu0=0 cpu1=0 db0 db1 parsed
    local tps queries p95 errors cpu_us=- db_us=- switches0=0 switches1=0 per_query="" syscalls_log=""
    port=$(leg_port "$leg")
    pid=$(leg_pid "$leg")
    log="$LOGS/$workload-t$threads-r$round-$leg.log"
    bench_alive "$DB_PID" || bench_die "mariadbd (pid $DB_PID) has exited"
    if [[ -n "$pid" ]] && ! bench_alive "$pid"; then
        # A crashed proxy is a result too: its remaining runs are failures, the others go on.
        if [[ -z "${DEAD_LEGS[$leg]:-}" ]]; then
            DEAD_LEGS[$leg]=1
            bench_log "$leg (pid $pid) has exited; its remaining runs count as failed. Last lines of $WORKDIR/$leg.log:"
            tail -n 20 "$WORKDIR/$leg.log" >&2 || true
        fi
        FAILED_RUNS=$((FAILED_RUNS + 1))
        printf '%s\t%s\t%s\t%s\tERR\t-\t-\t-\t-\t-\n' "$workload" "$threads" "$round" "$leg" >>"$RAW"
        return 0
    fi
    [[ -z "$pid" ]] || { cpu0=$(bench_cpu_ticks "$pid"); switches0=$(bench_context_switches "$pid"); }
    if [[ -n "$pid" && -n "$SYSCALLS" ]]; then
        syscalls_log="$log.syscalls"
        start_syscall_count "$pid" "$syscalls_log"
    fi
    db0=$(bench_cpu_ticks "$DB_PID")
    if run_sysbench $((TIME + 120)) "$log" "$workload" "${sysbench_common[@]}" --mysql-port="$port" \
        --threads="$threads" --time="$TIME" --report-interval=0 --percentile=95 run \
        && parsed=$(bench_parse_sysbench "$log"); then
        stop_syscall_count
        [[ -z "$pid" ]] || { cpu1=$(bench_cpu_ticks "$pid"); switches1=$(bench_context_switches "$pid"); }
        db1=$(bench_cpu_ticks "$DB_PID")
        read -r tps queries p95 errors <<<"$parsed"
        if ((queries > 0)); then
            [[ -z "$pid" ]] || cpu_us=$(bench_us_per_query $((cpu1 - cpu0)) "$queries")
            [[ -z "$pid" ]] || per_query=$(awk -v d=$((switches1 - switches0)) -v q="$queries" 'BEGIN { printf "  context switches %.3f/q", d / q }')
            [[ -z "$syscalls_log" ]] || per_query+=$(syscalls_per_query "$syscalls_log" "$queries")
            db_us=$(bench_us_per_query $((db1 - db0)) "$queries")
        fi
        bench_log "$(printf '%-18s t=%-3s r%s %-8s tps %9.1f  p95 %7.2f ms  proxy CPU %6s µs/q  errors %s%s' \
            "$workload" "$threads" "$round" "$leg" "$tps" "$p95" "$cpu_us" "$errors" "$per_query")"
    else
        stop_syscall_count
        tps=ERR queries=- p95=- errors=-
        FAILED_RUNS=$((FAILED_RUNS + 1))
        bench_log "$workload t=$threads r$round $leg FAILED; last lines of $log:"
        tail -n 5 "$log" >&2 || true
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$threads" "$round" "$leg" \
        "$tps" "$queries" "$p95" "$cpu_us" "$db_us" "$errors" >>"$RAW"
}

# One head-to-head round: uniqgate and haproxy each get their own sysbench with the row's
# thread count, started together, so whatever else the box does in those seconds (other
# tenants, where the scheduler puts 2 x threads clients on 2 cores) weighs on both alike.
# Legs run one after the other cannot share that, and on a small shared box it moves a
# leg's throughput by more than the difference between the proxies. Appends two lines to
# $RAW_H2H.
run_head_to_head() {
    local workload=$1 threads=$2 round=$3 leg other rc parsed tps queries p95 errors cpu_us
    local -A log=() pid=() cpu0=() sb=() status=()
    local legs=(uniqgate haproxy)
    ((round % 2)) || legs=(haproxy uniqgate)   # alternate which one starts first
    bench_alive "$DB_PID" || bench_die "mariadbd (pid $DB_PID) has exited"
    for leg in "${legs[@]}"; do
        pid[$leg]=$(leg_pid "$leg")
        log[$leg]="$LOGS/$workload-t$threads-r$round-$leg-head-to-head.log"
        if ! bench_alive "${pid[$leg]}"; then
            bench_log "$workload t=$threads r$round head to head: $leg (pid ${pid[$leg]}) has exited"
            for other in "${legs[@]}"; do
                printf '%s\t%s\t%s\t%s\tERR\t-\t-\t-\t-\n' "$workload" "$threads" "$round" "$other" >>"$RAW_H2H"
            done
            FAILED_RUNS=$((FAILED_RUNS + 1))
            return 0
        fi
        cpu0[$leg]=$(bench_cpu_ticks "${pid[$leg]}")
    done
    for leg in "${legs[@]}"; do
        timeout -k 5 $((TIME + 120)) sysbench "$workload" "${sysbench_common[@]}" --mysql-port="$(leg_port "$leg")" \
            --threads="$threads" --time="$TIME" --report-interval=0 --percentile=95 run >"${log[$leg]}" 2>&1 &
        sb[$leg]=$!
        bench_track "${sb[$leg]}" sysbench
    done
    for leg in "${legs[@]}"; do
        rc=0
        wait "${sb[$leg]}" || rc=$?
        bench_untrack "${sb[$leg]}"
        status[$leg]=$rc
    done
    local line=""
    for leg in "${legs[@]}"; do
        if [[ "${status[$leg]}" == 0 ]] && parsed=$(bench_parse_sysbench "${log[$leg]}"); then
            read -r tps queries p95 errors <<<"$parsed"
            cpu_us=-
            ((queries == 0)) || cpu_us=$(bench_us_per_query $(($(bench_cpu_ticks "${pid[$leg]}") - cpu0[$leg])) "$queries")
            line+=$(printf '  %s tps %.1f p95 %.2f ms CPU %s µs/q' "$leg" "$tps" "$p95" "$cpu_us")
        else
            tps=ERR queries=- p95=- errors=- cpu_us=-
            FAILED_RUNS=$((FAILED_RUNS + 1))
            bench_log "$workload t=$threads r$round head to head: $leg FAILED; last lines of ${log[$leg]}:"
            tail -n 5 "${log[$leg]}" >&2 || true
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$threads" "$round" "$leg" \
            "$tps" "$queries" "$p95" "$cpu_us" "$errors" >>"$RAW_H2H"
    done
    [[ -z "$line" ]] || bench_log "$(printf '%-18s t=%-3s r%s head to head:%s' "$workload" "$threads" "$round" "$line")"
}

printf 'workload\tthreads\tround\tleg\ttps\tqueries\tp95_ms\tproxy_cpu_us_per_query\tmariadbd_cpu_us_per_query\tignored_errors\n' >"$RAW"
RAW_H2H="$WORKDIR/head-to-head.tsv"
printf 'workload\tthreads\tround\tleg\ttps\tqueries\tp95_ms\tproxy_cpu_us_per_query\tignored_errors\n' >"$RAW_H2H"
runs=0 legs_per_round=0
[[ -z "$INTERLEAVED" ]] || legs_per_round=${#LEGS[@]}
[[ -z "$HEAD_TO_HEAD" ]] || legs_per_round=$((legs_per_round + 1))
for w in $WORKLOADS; do for t in $THREADS; do runs=$((runs + ROUNDS * legs_per_round)); done; done
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$LOAD_BEFORE" 'BEGIN { exit !(l > 0.5) }' \
    && bench_log "warning: 1-minute load average is $LOAD_BEFORE; other work on this box will skew the results"
bench_log "measuring: $runs runs of $TIME s (legs: ${INTERLEAVED:+${LEGS[*]}}${HEAD_TO_HEAD:+${INTERLEAVED:+, then }uniqgate and haproxy head to head})"
for workload in $WORKLOADS; do
    for threads in $THREADS; do
        for ((round = 1; round <= ROUNDS; round++)); do
            # Rotate the leg order each round so no leg always runs first (or right after inserts).
            for ((i = 0; ${INTERLEAVED:-0} && i < ${#LEGS[@]}; i++)); do
                run_leg "$workload" "$threads" "$round" "${LEGS[(i + round - 1) % ${#LEGS[@]}]}"
                sleep 1   # let the closed connections' server threads finish
            done
            if [[ -n "$HEAD_TO_HEAD" ]]; then
                run_head_to_head "$workload" "$threads" "$round"
                sleep 1
            fi
        done
    done
done

# --- report -----------------------------------------------------------------------------
if [[ -z "$SKIP_UNIQGATE" ]]; then
    case ${UNIQGATE_CMD:-} in
        "") uniqgate_desc="$UNIQGATE${UNIQGATE_ARGS:+ $UNIQGATE_ARGS}$(bench_uniqgate_build_flags)" ;;
        haproxy) uniqgate_desc="STAND-IN: a second haproxy (UNIQGATE_CMD=haproxy), not uniqgate" ;;
        *) uniqgate_desc="UNIQGATE_CMD=$UNIQGATE_CMD" ;;
    esac
else
    uniqgate_desc="skipped (--skip-uniqgate)"
fi
{
    echo "## sysbench: direct vs uniqgate vs haproxy"
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(bench_sql "$DB_PORT" 'SELECT VERSION()'), $(sysbench --version), $(/usr/sbin/haproxy -v | head -n1 | cut -d' ' -f1-3) (mode tcp, nbthread $HAPROXY_NBTHREAD)"
    echo "- uniqgate: $uniqgate_desc"
    echo "- $TABLES table(s) x $TABLE_SIZE rows, $TIME s per run, $ROUNDS round(s) (medians), --db-ps-mode=$PS_MODE; load average before the runs: $LOAD_BEFORE"
    if [[ -n "$INTERLEAVED" ]]; then
        echo
        echo "### one after the other (direct, uniqgate, haproxy; the order rotates each round)"
        echo
        bench_report "$RAW" "$WORKLOADS" "$THREADS"
        echo
        echo "tps = sysbench transactions/s; ratios are of tps; CPU µs/query = proxy process utime+stime during the run / sysbench's query count."
    fi
    if [[ -n "$HEAD_TO_HEAD" ]]; then
        echo
        echo "### head to head (uniqgate and haproxy under load at the same time, each from its own sysbench with the row's thread count)"
        echo
        bench_report_head_to_head "$RAW_H2H" "$WORKLOADS" "$THREADS"
        echo
        echo "Ratios are the median (and the range) of each round's ratio; \"ahead\" counts the rounds in which uniqgate's tps was at least haproxy's, and \"cheaper\" those in which its CPU per query was at most haproxy's."
    fi
} >"$WORKDIR/table.md"
cat "$WORKDIR/table.md"
if [[ -n "$OUT" ]]; then
    cp "$WORKDIR/table.md" "$OUT"
    cp "$RAW" "${OUT%.md}.tsv"
    cp "$RAW_H2H" "${OUT%.md}-head-to-head.tsv"
    bench_log "table written to $OUT (raw results: ${OUT%.md}.tsv and ${OUT%.md}-head-to-head.tsv)"
fi
if ((FAILED_RUNS > 0)); then
    bench_log "$FAILED_RUNS run(s) failed; see the logs"
    exit 1
fi
