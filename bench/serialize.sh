#!/usr/bin/env bash
# Protected inserts (issue 4): uniqgate's serialize mode compared in the same run with direct
# MariaDB (unprotected) and with direct MariaDB plus a unique index over a generated "live key"
# column (the best a schema change can do). Targets in ../shared/DESIGN.md, "Targets".
# Workload: bench/soft_delete.lua. See README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_REPO/bench/lib/common.sh"
source "$BENCH_REPO/bench/lib/servers.sh"
source "$BENCH_REPO/bench/lib/report.sh"

usage() {
    cat <<'EOF'
Usage: bench/serialize.sh [options]

Starts a throwaway MariaDB and uniqgate (one rule on shop.sb_ug (name, model), live rows:
delete_status = 0, mode serialize or dedup) on free loopback ports, creates three identical soft-delete tables
(one per leg; sb_unique also has a UNIQUE index over a generated live-key column), then for
every mode and thread count runs bench/soft_delete.lua against:
  direct    MariaDB, table sb_direct, unprotected
  unique    MariaDB, table sb_unique: UNIQUE (name, model, live_flag),
            live_flag = IF(delete_status = 0, 1, NULL)
  uniqgate  through uniqgate, table sb_ug, mode: serialize (or dedup, with its dedup table
            sb_ug__uniq, emptied with sb_ug before each run)
back to back (interleaved, leg order rotating per round), emptying the leg's table before each
run, and counts live duplicate keys after it. With --relay-leg a fourth leg runs the same workload
through the same uniqgate on table sb_relay, which no rule names: what a plain relay keeps of
direct on this workload, the ceiling for the uniqgate leg. Prints a Markdown table; stops everything it
started on exit.

Options:
  --time N             seconds per sysbench run (default 10)
  --rounds N           repeat each direct/unique/uniqgate triple N times, report medians (default 2)
  --modes "M ..."      distinct and/or hot (default "distinct hot")
  --threads "N ..."    client threads for distinct mode (default "1 16 64")
  --hot-threads "N ..." client threads for hot mode (default "64")
  --hot-keys N         keys in hot mode (default 100)
  --delete-pct N       hot mode: % of events that soft-delete a random key's live row (default 20)
  --rule-mode M        the uniqgate leg's rule mode: serialize or dedup (default serialize)
  --ps                 every leg uses server-side prepared statements (soft_delete.lua --ps:
                       INSERT and soft-delete UPDATE prepared once per thread, bound and executed
                       per event; sysbench runs with --db-ps-mode=auto, which --ps needs: with
                       disable, sysbench emulates con:prepare on the client and sends text)
  --tx                 every event is START TRANSACTION, the statement, COMMIT (ROLLBACK after an
                       error), as PHP PDO / node mysql2 beginTransaction() send it (soft_delete.lua --tx)
  --lock-backend B     uniqgate lock backend: local or mysql (default: uniqgate's default, local)
  --warmup N           seconds of direct distinct inserts before the first measured run (default 3)
  --uniqgate PATH      uniqgate binary (default $UNIQGATE or build-main/proxy/uniqgate)
  --uniqgate-args "A"  extra uniqgate arguments, e.g. "--threads 2"
  --skip-uniqgate      leave the uniqgate leg out (its columns show –)
  --relay-leg          add the relay leg (uniqgate, table sb_relay, no rule): two more columns
  --compare-ps         prepared statements against text in one run (issue 6): the legs are direct
                       and uniqgate as text and direct_ps and uniqgate_ps with --ps, interleaved
                       (no unique-index leg); the table shows both ratios to direct and their
                       quotient (ps ratio / text ratio)
  --quick              smoke run: 3 s per run, 1 round, threads "1 16", 1 s warm-up
  --out FILE           also write the table (with the run's parameters) to FILE, raw results
                       to FILE with .tsv in place of .md
  --workdir DIR        where the sandbox, configs and logs go (default: a new
                       /tmp/uniqgate-serialize.* dir, removed on success, kept minus the data
                       directory on failure)
  --keep               keep the work directory at the end, data directory included
  -h, --help           this text

Environment:
  UNIQGATE             uniqgate binary (same as --uniqgate)
  UNIQGATE_CMD         replaces the uniqgate command, as in sysbench.sh (UG_CONFIG etc. set)
EOF
}

# --- options ----------------------------------------------------------------------------
TIME=10
ROUNDS=2
MODES="distinct hot"
THREADS="1 16 64"
HOT_THREADS="64"
HOT_KEYS=100
DELETE_PCT=20
LOCK_BACKEND=
RULE_MODE=serialize
PS=
TX=
WARMUP=3
UNIQGATE=${UNIQGATE:-$BENCH_REPO/build-main/proxy/uniqgate}
UNIQGATE_ARGS=
SKIP_UNIQGATE=
RELAY=
COMPARE_PS=
OUT=
WORKDIR=
KEEP=
quick=
time_set='' rounds_set='' threads_set='' warmup_set=

need_arg() { [[ $# -ge 2 && -n "$2" ]] || bench_die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --time) need_arg "$@"; TIME=$2; time_set=1; shift ;;
        --rounds) need_arg "$@"; ROUNDS=$2; rounds_set=1; shift ;;
        --modes) need_arg "$@"; MODES=$2; shift ;;
        --threads) need_arg "$@"; THREADS=$2; threads_set=1; shift ;;
        --hot-threads) need_arg "$@"; HOT_THREADS=$2; shift ;;
        --hot-keys) need_arg "$@"; HOT_KEYS=$2; shift ;;
        --delete-pct) need_arg "$@"; DELETE_PCT=$2; shift ;;
        --lock-backend) need_arg "$@"; LOCK_BACKEND=$2; shift ;;
        --rule-mode) need_arg "$@"; RULE_MODE=$2; shift ;;
        --ps) PS=1 ;;
        --tx) TX=1 ;;
        --warmup) need_arg "$@"; WARMUP=$2; warmup_set=1; shift ;;
        --uniqgate) need_arg "$@"; UNIQGATE=$2; shift ;;
        --uniqgate-args) need_arg "$@"; UNIQGATE_ARGS=$2; shift ;;
        --skip-uniqgate) SKIP_UNIQGATE=1 ;;
        --relay-leg) RELAY=1 ;;
        --compare-ps) COMPARE_PS=1 ;;
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
    [[ -n "$rounds_set" ]] || ROUNDS=1
    [[ -n "$threads_set" ]] || THREADS="1 16"
    [[ -n "$warmup_set" ]] || WARMUP=1
fi
for v in TIME ROUNDS HOT_KEYS DELETE_PCT WARMUP; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || bench_die "${v,,} must be a whole number, not '${!v}'"
done
((TIME > 0 && ROUNDS > 0 && HOT_KEYS > 0 && DELETE_PCT <= 100)) || bench_die "time, rounds, hot-keys must be > 0, delete-pct <= 100"
for m in $MODES; do [[ "$m" == distinct || "$m" == hot ]] || bench_die "bad mode '$m' (distinct or hot)"; done
for t in $THREADS $HOT_THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || bench_die "bad thread count '$t'"; done
[[ "$RULE_MODE" == serialize || "$RULE_MODE" == dedup ]] || bench_die "--rule-mode is serialize or dedup"
[[ -z "$LOCK_BACKEND" || "$LOCK_BACKEND" == local || "$LOCK_BACKEND" == mysql ]] || bench_die "--lock-backend is local or mysql"
command -v sysbench >/dev/null || bench_die "sysbench is not installed (scripts/install-deps.sh)"
LUA="$BENCH_REPO/bench/soft_delete.lua"
[[ -f "$LUA" ]] || bench_die "missing $LUA"
if [[ -n "$OUT" ]]; then
    OUT=$(realpath -m "$OUT")
    mkdir -p "$(dirname "$OUT")"
fi

UNIQGATE=$(realpath -m "$UNIQGATE")
LEGS=(direct unique)
[[ -n "$SKIP_UNIQGATE" ]] || LEGS=(direct unique uniqgate)
[[ -z "$RELAY" || -n "$SKIP_UNIQGATE" ]] || LEGS+=(relay)
if [[ -n "$COMPARE_PS" ]]; then
    [[ -z "$PS$SKIP_UNIQGATE$RELAY" ]] || bench_die "--compare-ps runs both protocols itself: not with --ps, --skip-uniqgate or --relay-leg"
    LEGS=(direct uniqgate direct_ps uniqgate_ps)
fi
if [[ -z "$SKIP_UNIQGATE" && -z "${UNIQGATE_CMD:-}" && ! -x "$UNIQGATE" ]]; then
    bench_die "no uniqgate binary at $UNIQGATE (build it, pass --uniqgate PATH, or use --skip-uniqgate)"
fi
# HAPROXY_NBTHREAD is read by bench_uniqgate_start when UNIQGATE_CMD=haproxy.
HAPROXY_NBTHREAD=1

# --- work directory and cleanup ---------------------------------------------------------
bench_make_workdir uniqgate-serialize
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
# The control user uniqgate connects as (the sandbox script creates it; an inline server not).
[[ "$BENCH_DB_MODE" != inline ]] || bench_sql "$DB_PORT" "
    CREATE USER IF NOT EXISTS 'uniqgate'@'%' IDENTIFIED BY 'uniqgate_pw';
    CREATE USER IF NOT EXISTS 'uniqgate'@'127.0.0.1' IDENTIFIED BY 'uniqgate_pw';
    GRANT ALL PRIVILEGES ON *.* TO 'uniqgate'@'%';
    GRANT ALL PRIVILEGES ON *.* TO 'uniqgate'@'127.0.0.1';" || bench_die "cannot create the control user"

leg_table() {
    case $1 in direct | direct_ps) echo sb_direct ;; unique) echo sb_unique ;; uniqgate | uniqgate_ps) echo sb_ug ;; relay) echo sb_relay ;; esac
}

# soft_delete.lua sends only its own statements (no sysbench BEGIN/COMMIT): --db-ps-mode
# decides whether its con:prepare is a server-side prepare (auto) or emulated as text (disable).
text_args=(--db-ps-mode=disable)
prepared_args=(--db-ps-mode=auto --ps=on)
ps_args=("${text_args[@]}")
[[ -z "$PS" ]] || ps_args=("${prepared_args[@]}")
tx_args=()
[[ -z "$TX" ]] || tx_args=(--tx=on)
sysbench_common=(
    --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user="$BENCH_APP_USER"
    --mysql-password="$BENCH_APP_PASSWORD" --mysql-db="$BENCH_APP_DB"
    --mysql-ssl=off "${tx_args[@]}" --hot-keys="$HOT_KEYS" --delete-pct="$DELETE_PCT"
)
# The protocol of a leg: --ps for all, or (--compare-ps) the *_ps legs.
leg_protocol_args() {
    case $1 in *_ps) printf '%s\n' "${prepared_args[@]}" ;; *) printf '%s\n' "${ps_args[@]}" ;; esac
}

run_sysbench() {
    local limit=$1 log=$2 rc=0
    shift 2
    timeout -k 5 "$limit" sysbench "$@" >"$log" 2>&1 &
    SB_PID=$!
    wait "$SB_PID" || rc=$?
    SB_PID=
    return "$rc"
}

# The tables exist before uniqgate starts (it reads the rule table's schema).
for leg in direct unique uniqgate ${RELAY:+relay}; do
    extra=()
    [[ $leg != unique ]] || extra=(--with-live-unique=on)
    run_sysbench 120 "$LOGS/prepare-$leg.log" "$LUA" "${sysbench_common[@]}" "${ps_args[@]}" --mysql-port="$DB_PORT" \
        --table="$(leg_table "$leg")" "${extra[@]}" prepare \
        || { tail -n 20 "$LOGS/prepare-$leg.log" >&2; bench_die "creating table $(leg_table "$leg") failed"; }
done
bench_log "tables: $(bench_sql "$DB_PORT" "SHOW CREATE TABLE sb_unique" | tr '\n\t' '  ' | sed 's/\\n/ /g')"
# mode: dedup needs its dedup table (what `uniqgate migrate` creates for an empty source).
[[ $RULE_MODE != dedup ]] || bench_sql "$DB_PORT" "DROP TABLE IF EXISTS sb_ug__uniq;
    CREATE TABLE sb_ug__uniq (name VARCHAR(64) NOT NULL, model VARCHAR(64) NOT NULL,
        PRIMARY KEY (name, model)) ENGINE=InnoDB" || bench_die "cannot create sb_ug__uniq"

UNIQGATE_PORT='' UNIQGATE_PID=
if [[ -z "$SKIP_UNIQGATE" ]]; then
    lock_line=
    [[ -z "$LOCK_BACKEND" ]] || lock_line="lock: { backend: $LOCK_BACKEND }"$'\n'
    BENCH_UNIQGATE_EXTRA_CONFIG="control: { user: uniqgate, password: uniqgate_pw }
${lock_line}rules:
  - name: sb_name_model
    table: $BENCH_APP_DB.sb_ug
    key: [name, model]
    soft_delete: { column: delete_status, live: 0 }
    mode: $RULE_MODE"
    bench_free_port UNIQGATE_PORT
    bench_uniqgate_start "$UNIQGATE_PORT" "$DB_PORT" "$WORKDIR"
fi

leg_port() {
    case $1 in direct | direct_ps | unique) echo "$DB_PORT" ;; uniqgate | uniqgate_ps | relay) echo "$UNIQGATE_PORT" ;; esac
}

for leg in "${LEGS[@]}"; do
    if [[ "$(bench_sql "$(leg_port "$leg")" 'SELECT 1' 2>"$LOGS/smoke-$leg.log")" != 1 ]]; then
        cat "$LOGS/smoke-$leg.log" >&2
        [[ $leg != uniqgate ]] || tail -n 20 "$WORKDIR/uniqgate.log" >&2 || true
        bench_die "a query through the $leg leg failed"
    fi
done

if ((WARMUP > 0)); then
    bench_log "warming up for $WARMUP s (direct, distinct inserts, 4 threads)"
    run_sysbench $((WARMUP + 120)) "$LOGS/warmup.log" "$LUA" "${sysbench_common[@]}" "${ps_args[@]}" --mysql-port="$DB_PORT" \
        --table=sb_direct --mode=distinct --run-id=warmup --threads=4 --time="$WARMUP" run \
        || { tail -n 20 "$LOGS/warmup.log" >&2; bench_die "warm-up failed"; }
fi

# Live duplicate groups (keys with more than one live row) in a table, read directly.
live_duplicates() {
    bench_sql "$DB_PORT" "SELECT COUNT(*) FROM (SELECT name, model, COUNT(*) FROM $1
        WHERE delete_status = 0 GROUP BY 1, 2 HAVING COUNT(*) > 1) d"
}

# One measured run: appends a line to $RAW.
# RAW columns: mode threads round leg tps queries p95_ms max_ms min_1s_tps inserts deletes
#              dup1062 other_errors other_errnos live_dup_keys rows proxy_cpu_us_per_stmt
#              server_cpu_us_per_stmt
run_leg() {
    local mode=$1 threads=$2 round=$3 leg=$4 port table log parsed stats cpu0=0 cpu1=0 cpu_us=- db0 db1 db_us=-
    local tps queries p95 max min1 ins del dup oth errs dups rows protocol_args proxied=
    port=$(leg_port "$leg")
    mapfile -t protocol_args < <(leg_protocol_args "$leg")
    [[ $leg != uniqgate* ]] || proxied=1
    table=$(leg_table "$leg")
    log="$LOGS/$mode-t$threads-r$round-$leg.log"
    bench_alive "$DB_PID" || bench_die "mariadbd (pid $DB_PID) has exited"
    if [[ $leg == uniqgate* || $leg == relay ]] && ! bench_alive "$UNIQGATE_PID"; then
        if [[ -z "${DEAD_LEGS[$leg]:-}" ]]; then
            DEAD_LEGS[$leg]=1
            bench_log "uniqgate (pid $UNIQGATE_PID) has exited; its remaining runs count as failed. Last lines of $WORKDIR/uniqgate.log:"
            tail -n 20 "$WORKDIR/uniqgate.log" >&2 || true
        fi
        FAILED_RUNS=$((FAILED_RUNS + 1))
        printf '%s\t%s\t%s\t%s\tERR\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n' "$mode" "$threads" "$round" "$leg" >>"$RAW"
        return 0
    fi
    # Same starting point for every leg: an empty table (read directly, not through uniqgate).
    bench_sql "$DB_PORT" "TRUNCATE TABLE $table" || bench_die "cannot truncate $table"
    if [[ -n $proxied && $RULE_MODE == dedup ]]; then
        bench_sql "$DB_PORT" "TRUNCATE TABLE ${table}__uniq" || bench_die "cannot truncate ${table}__uniq"
    fi
    [[ -z $proxied ]] || cpu0=$(bench_cpu_ticks "$UNIQGATE_PID")
    db0=$(bench_cpu_ticks "$DB_PID")
    if run_sysbench $((TIME + 120)) "$log" "$LUA" "${sysbench_common[@]}" "${protocol_args[@]}" --mysql-port="$port" \
        --table="$table" --mode="$mode" --run-id="r$round" --threads="$threads" --time="$TIME" \
        --report-interval=1 --percentile=95 run \
        && parsed=$(bench_parse_sysbench "$log"); then
        [[ -z $proxied ]] || cpu1=$(bench_cpu_ticks "$UNIQGATE_PID")
        db1=$(bench_cpu_ticks "$DB_PID")
        read -r tps queries p95 _ <<<"$parsed"
        max=$(awk '/^ *max:/ { print $2; exit }' "$log")
        # Lowest per-second tps (the last interval line can be a partial second; skipped).
        min1=$(awk '/^\[ *[0-9]+s \]/ { for (i = 1; i <= NF; i++) if ($i == "tps:") v[n++] = $(i + 1) }
            END { if (n > 1) n--; m = ""; for (i = 0; i < n; i++) if (m == "" || v[i] + 0 < m + 0) m = v[i]; print (m == "" ? "-" : m) }' "$log")
        stats=$(awk '/^soft_delete_stats / {
                for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
                ins += f["inserts"]; del += f["deletes"]; dup += f["dup1062"]; oth += f["other"]
                if (f["errs"] != "-") { n = split(f["errs"], e, ","); for (j = 1; j <= n; j++) { split(e[j], p, ":"); errs[p[1]] += p[2] } }
                threads++
            }
            END {
                s = ""; for (k in errs) s = s (s == "" ? "" : ",") k ":" errs[k]
                printf "%d %d %d %d %s %d\n", ins, del, dup, oth, (s == "" ? "-" : s), threads
            }' "$log")
        read -r ins del dup oth errs _ <<<"$stats"
        dups=$(live_duplicates "$table")
        rows=$(bench_sql "$DB_PORT" "SELECT COUNT(*) FROM $table")
        if [[ -n $proxied ]] && ((queries > 0)); then
            cpu_us=$(bench_us_per_query $((cpu1 - cpu0)) "$queries")
        fi
        # The server's CPU per client statement: what the legs' own statements and the
        # proxy's checks cost MariaDB, the resource every leg competes for.
        if ((queries > 0)); then
            db_us=$(bench_us_per_query $((db1 - db0)) "$queries")
        fi
        bench_log "$(printf '%-8s t=%-3s r%s %-8s tps %8.1f  p95 %7.2f ms  max %8s ms  min1s %7s  1062 %6s  other %s (%s)  live dups %s  rows %s  ug CPU %s µs/stmt  server CPU %s µs/stmt' \
            "$mode" "$threads" "$round" "$leg" "$tps" "$p95" "$max" "$min1" "$dup" "$oth" "$errs" "$dups" "$rows" "$cpu_us" "$db_us")"
    else
        tps=ERR queries=- p95=- max=- min1=- ins=- del=- dup=- oth=- errs=- dups=- rows=-
        dups=$(live_duplicates "$table" 2>/dev/null) || dups=-
        FAILED_RUNS=$((FAILED_RUNS + 1))
        bench_log "$mode t=$threads r$round $leg FAILED (live dups afterwards: $dups); last lines of $log:"
        tail -n 8 "$log" >&2 || true
        if [[ -n $proxied ]] && ! bench_alive "$UNIQGATE_PID"; then
            bench_log "uniqgate (pid $UNIQGATE_PID) died during this run; log: $WORKDIR/uniqgate.log"
        fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$threads" "$round" "$leg" \
        "$tps" "$queries" "$p95" "$max" "$min1" "$ins" "$del" "$dup" "$oth" "$errs" "$dups" "$rows" "$cpu_us" "$db_us" >>"$RAW"
}

printf 'mode\tthreads\tround\tleg\ttps\tqueries\tp95_ms\tmax_ms\tmin_1s_tps\tinserts\tdeletes\tdup1062\tother_errors\tother_errnos\tlive_dup_keys\trows\tuniqgate_cpu_us_per_stmt\tserver_cpu_us_per_stmt\n' >"$RAW"
mode_threads() { if [[ $1 == hot ]]; then echo "$HOT_THREADS"; else echo "$THREADS"; fi; }
runs=0
for m in $MODES; do for t in $(mode_threads "$m"); do runs=$((runs + ROUNDS * ${#LEGS[@]})); done; done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 0.5) }' \
    && bench_log "warning: load average is $LOAD_BEFORE; other work on this box will skew the results"
bench_log "measuring: $runs runs of $TIME s (legs: ${LEGS[*]})"
for mode in $MODES; do
    for threads in $(mode_threads "$mode"); do
        for ((round = 1; round <= ROUNDS; round++)); do
            for ((i = 0; i < ${#LEGS[@]}; i++)); do
                run_leg "$mode" "$threads" "$round" "${LEGS[(i + round - 1) % ${#LEGS[@]}]}"
                sleep 1
            done
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
bench_log "server counters: $(bench_sql "$DB_PORT" "SELECT GROUP_CONCAT(CONCAT(VARIABLE_NAME, '=', VARIABLE_VALUE))
    FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('COM_STMT_PREPARE', 'COM_STMT_EXECUTE')")"

# --- report -----------------------------------------------------------------------------
# Awk functions both reports use: values per key gathered over the rounds, and their medians.
AWK_MEDIANS="$BENCH_AWK_MEDIAN"'
        function ok(v) { return v != "-" && v != "ERR" && v != "" }
        function add(key, value) { if (ok(value)) vals[key] = vals[key] " " value }
        function get(key, fmt,    m) { m = median(vals[key]); return m == "" ? "–" : sprintf(fmt, m) }
'
# Medians over rounds for tps, p95 and 1062 counts; worst round for live duplicates, max
# latency and the lowest 1-s tps; totals for other errors.
serialize_report() {
    awk -F'\t' -v rows="$1" -v relay="$RELAY" "$AWK_MEDIANS"'
        function ratio(a, b) { a = median(vals[a]); b = median(vals[b]); return (a == "" || b == "" || b == 0) ? "–" : sprintf("%.2f", a / b) }
        function tps(b, leg) { return get(b leg SUBSEP "tps", "%.0f") (failed[b leg] ? " (" failed[b leg] " failed)" : "") }
        function worst(key) { return (key in maxv) ? maxv[key] : "–" }
        function least(key) { return (key in minv) ? sprintf("%.0f", minv[key]) : "–" }
        function pick(key, lowest) { return lowest ? least(key) : worst(key) }
        function trio(b, what, lowest) { return pick(b "direct" SUBSEP what, lowest) " / " pick(b "unique" SUBSEP what, lowest) " / " pick(b "uniqgate" SUBSEP what, lowest) }
        NR > 1 {
            k = $1 SUBSEP $2 SUBSEP $4
            if ($5 == "ERR") failed[k]++
            add(k SUBSEP "tps", $5); add(k SUBSEP "p95", $7); add(k SUBSEP "dup", $12)
            if (ok($15) && (!((k SUBSEP "dups") in maxv) || $15 + 0 > maxv[k SUBSEP "dups"])) maxv[k SUBSEP "dups"] = $15 + 0
            if (ok($8) && (!((k SUBSEP "max") in maxv) || $8 + 0 > maxv[k SUBSEP "max"])) maxv[k SUBSEP "max"] = $8 + 0
            if (ok($9) && (!((k SUBSEP "min1") in minv) || $9 + 0 < minv[k SUBSEP "min1"])) minv[k SUBSEP "min1"] = $9 + 0
            if (ok($13)) { maxv[k SUBSEP "oth"] += $13; if ($14 != "-") errs[k] = errs[k] " " $14 }
            add(k SUBSEP "cpu", $17)
        }
        END {
            printf "| mode | threads | direct tps | unique-index tps | uniqgate tps | uniqgate/direct | unique/direct | p95 ms (direct / unique / uniqgate) | 1062 per run (direct / unique / uniqgate) | live duplicate keys after (direct / unique / uniqgate) | other errors (direct / unique / uniqgate) | max latency ms (direct / unique / uniqgate) | lowest 1-s tps (direct / unique / uniqgate) | uniqgate CPU µs/stmt |%s\n", relay ? " relay tps | relay/direct |" : ""
            printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|%s\n", relay ? "---:|---:|" : ""
            n = split(rows, R, " ")
            for (r = 1; r <= n; r++) {
                split(R[r], mt, ":"); b = mt[1] SUBSEP mt[2] SUBSEP
                printf "| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s | %s |%s\n",
                    mt[1], mt[2], tps(b, "direct"), tps(b, "unique"), tps(b, "uniqgate"),
                    ratio(b "uniqgate" SUBSEP "tps", b "direct" SUBSEP "tps"),
                    ratio(b "unique" SUBSEP "tps", b "direct" SUBSEP "tps"),
                    get(b "direct" SUBSEP "p95", "%.2f"), get(b "unique" SUBSEP "p95", "%.2f"), get(b "uniqgate" SUBSEP "p95", "%.2f"),
                    get(b "direct" SUBSEP "dup", "%.0f"), get(b "unique" SUBSEP "dup", "%.0f"), get(b "uniqgate" SUBSEP "dup", "%.0f"),
                    trio(b, "dups", 0), trio(b, "oth", 0), trio(b, "max", 0), trio(b, "min1", 1),
                    get(b "uniqgate" SUBSEP "cpu", "%.1f"),
                    relay ? " " tps(b, "relay") " | " ratio(b "relay" SUBSEP "tps", b "direct" SUBSEP "tps") " |" : ""
            }
            for (k in errs) { split(k, p, SUBSEP); printf "\nOther errors, %s t=%s %s: errno:count%s", p[1], p[2], p[3], errs[k] }
            print ""
        }' "$RAW"
}
# --compare-ps: per row, each protocol's uniqgate/direct ratio and their quotient.
compare_ps_report() {
    awk -F'\t' -v rows="$1" "$AWK_MEDIANS"'
        function r(a, b) { a = median(vals[a]); b = median(vals[b]); return (a == "" || b == "" || b == 0) ? "" : a / b }
        function show(v) { return v == "" ? "–" : sprintf("%.2f", v) }
        function worst(key) { return (key in maxv) ? maxv[key] : "–" }
        NR > 1 {
            k = $1 SUBSEP $2 SUBSEP $4
            if ($5 == "ERR") failed[k]++
            add(k SUBSEP "tps", $5); add(k SUBSEP "dup", $12); add(k SUBSEP "cpu", $17); add(k SUBSEP "db", $18)
            if (ok($15) && (!((k SUBSEP "dups") in maxv) || $15 + 0 > maxv[k SUBSEP "dups"])) maxv[k SUBSEP "dups"] = $15 + 0
            if (ok($13)) oth[k] += $13
            if (ok($5)) round_tps[$1 SUBSEP $2 SUBSEP $3 SUBSEP $4] = $5
            rounds[$1 SUBSEP $2 SUBSEP $3] = 1
        }
        # The quotient within each round, whose four legs ran back to back: the load of
        # the moment weighs on both ratios alike. Median and range over the rounds.
        function paired(mode, threads,    key, p, list, n, lo, hi, q, d, u, dp, up, m) {
            list = ""; n = 0
            for (key in rounds) {
                split(key, p, SUBSEP)
                if (p[1] != mode || p[2] != threads) continue
                d = round_tps[key SUBSEP "direct"]; u = round_tps[key SUBSEP "uniqgate"]
                dp = round_tps[key SUBSEP "direct_ps"]; up = round_tps[key SUBSEP "uniqgate_ps"]
                if (d == "" || u == "" || dp == "" || up == "" || u + 0 == 0 || dp + 0 == 0) continue
                q = (up / dp) / (u / d)
                list = list " " q; n++
                if (n == 1 || q < lo) lo = q
                if (n == 1 || q > hi) hi = q
            }
            if (n == 0) return "–"
            m = median(list)
            return n == 1 ? sprintf("%.2f", m) : sprintf("%.2f (%.2f–%.2f)", m, lo, hi)
        }
        END {
            print "| mode | threads | direct tps (text / ps) | uniqgate tps (text / ps) | uniqgate/direct, text | uniqgate/direct, ps | ps ratio / text ratio | same, per round: median (range) | 1062 per run, uniqgate (text / ps) | live duplicate keys after, uniqgate (text / ps) | other errors, uniqgate (text / ps) | failed runs | uniqgate CPU µs/stmt (text / ps) | server CPU µs/stmt, direct (text / ps) | server CPU µs/stmt, uniqgate (text / ps) |"
            print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            n = split(rows, R, " ")
            for (i = 1; i <= n; i++) {
                split(R[i], mt, ":"); b = mt[1] SUBSEP mt[2] SUBSEP
                text = r(b "uniqgate" SUBSEP "tps", b "direct" SUBSEP "tps")
                ps = r(b "uniqgate_ps" SUBSEP "tps", b "direct_ps" SUBSEP "tps")
                failures = failed[b "direct"] + failed[b "uniqgate"] + failed[b "direct_ps"] + failed[b "uniqgate_ps"]
                printf "| %s | %s | %s / %s | %s / %s | %s | %s | %s | %s | %s / %s | %s / %s | %d / %d | %d | %s / %s | %s / %s | %s / %s |\n",
                    mt[1], mt[2], get(b "direct" SUBSEP "tps", "%.0f"), get(b "direct_ps" SUBSEP "tps", "%.0f"),
                    get(b "uniqgate" SUBSEP "tps", "%.0f"), get(b "uniqgate_ps" SUBSEP "tps", "%.0f"),
                    show(text), show(ps), (text == "" || ps == "" || text == 0) ? "–" : sprintf("%.2f", ps / text),
                    paired(mt[1], mt[2]),
                    get(b "uniqgate" SUBSEP "dup", "%.0f"), get(b "uniqgate_ps" SUBSEP "dup", "%.0f"),
                    worst(b "uniqgate" SUBSEP "dups"), worst(b "uniqgate_ps" SUBSEP "dups"),
                    oth[b "uniqgate"], oth[b "uniqgate_ps"], failures,
                    get(b "uniqgate" SUBSEP "cpu", "%.1f"), get(b "uniqgate_ps" SUBSEP "cpu", "%.1f"),
                    get(b "direct" SUBSEP "db", "%.1f"), get(b "direct_ps" SUBSEP "db", "%.1f"),
                    get(b "uniqgate" SUBSEP "db", "%.1f"), get(b "uniqgate_ps" SUBSEP "db", "%.1f")
            }
        }' "$RAW"
}
report_rows=
for m in $MODES; do for t in $(mode_threads "$m"); do report_rows+="$m:$t "; done; done
if [[ -z "$SKIP_UNIQGATE" ]]; then
    case ${UNIQGATE_CMD:-} in
        "") uniqgate_desc="$UNIQGATE${UNIQGATE_ARGS:+ $UNIQGATE_ARGS}$(bench_uniqgate_build_flags), mode: $RULE_MODE, lock backend ${LOCK_BACKEND:-default (local)}" ;;
        *) uniqgate_desc="UNIQGATE_CMD=$UNIQGATE_CMD" ;;
    esac
else
    uniqgate_desc="skipped (--skip-uniqgate)"
fi
{
    protocol="text protocol"
    [[ -z "$PS" ]] || protocol="server-side prepared statements: COM_STMT_EXECUTE"
    [[ -z "$COMPARE_PS" ]] || protocol="text protocol and server-side prepared statements, interleaved"
    event_shape="autocommit, 1 statement"
    [[ -z "$TX" ]] || event_shape="START TRANSACTION, 1 statement, COMMIT"
    if [[ -n "$COMPARE_PS" ]]; then
        echo "## serialize.sh --compare-ps: uniqgate's ratio to direct, prepared statements vs text (mode: $RULE_MODE)"
    else
        echo "## serialize.sh: direct vs unique index vs uniqgate (mode: $RULE_MODE${PS:+, prepared statements})"
    fi
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(bench_sql "$DB_PORT" 'SELECT VERSION()'), $(sysbench --version), bench/soft_delete.lua ($protocol, $event_shape per event)"
    echo "- uniqgate: $uniqgate_desc"
    echo "- $TIME s per run, $ROUNDS round(s) (medians; worst round for duplicates, max latency and lowest 1-s tps; totals for other errors); hot mode: $HOT_KEYS keys, $DELETE_PCT % soft-deletes"
    echo "- load average (1/5/15 min) before the runs: $LOAD_BEFORE; after: $LOAD_AFTER"
    echo
    if [[ -n "$COMPARE_PS" ]]; then compare_ps_report "$report_rows"; else serialize_report "$report_rows"; fi
    echo
    echo "tps = statements/s (one INSERT, or in hot mode one INSERT or soft-delete UPDATE, per event; a 1062 counts as a completed event)."
    [[ -z "$RELAY" ]] || echo "relay = the same workload through the same uniqgate on a table no rule names (sb_relay)."
} >"$WORKDIR/table.md"
cat "$WORKDIR/table.md"
if [[ -n "$OUT" ]]; then
    cp "$WORKDIR/table.md" "$OUT"
    cp "$RAW" "${OUT%.md}.tsv"
    bench_log "table written to $OUT (raw results: ${OUT%.md}.tsv)"
fi
if ((FAILED_RUNS > 0)); then
    bench_log "$FAILED_RUNS run(s) failed; see the logs"
    exit 1
fi
