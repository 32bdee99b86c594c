#!/usr/bin/env bash
# sysbench oltp_read_write (prepare, a few seconds of run with 4 threads, cleanup) against UG_PORT,
# plain and with TLS. Prints only deterministic lines (the statistics go to stderr) and fails on
# any sysbench error, reconnect, or a run without transactions. Run by harness/run.py (compare).
# (No TLS run: sysbench 1.0 reads fixed client-cert file names from its working directory.)
set -euo pipefail
db=sbtest_it
secs=${UG_SYSBENCH_SECONDS:-4}
common=(--db-driver=mysql --mysql-host="$UG_HOST" --mysql-port="$UG_PORT" --mysql-user="$UG_USER"
        --mysql-password="$UG_PASSWORD" --mysql-db="$db" --tables=2 --table-size=5000)

mariadb --no-defaults -h "$UG_HOST" -P "$UG_PORT" -u "$UG_USER" -p"$UG_PASSWORD" --skip-ssl \
  -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"

run() {  # run LABEL ssl ARGS... : prints LABEL ok, or the output and exits 1
  local label=$1 ssl=$2; shift 2
  local out
  if ! out=$(sysbench oltp_read_write "${common[@]}" --mysql-ssl="$ssl" "$@" 2>&1); then
    echo "$out" >&2
    echo "sysbench $label failed" >&2
    exit 1
  fi
  if grep -qE 'FATAL|ALERT' <<<"$out"; then
    echo "$out" >&2
    echo "sysbench $label reported errors" >&2
    exit 1
  fi
  RUN_OUTPUT=$out
  echo "$label: ok"
}

check_run() {  # the statistics of a `run`: transactions > 0, no reconnects, no real errors
  local label=$1 tx ignored reconnects
  tx=$(sed -nE 's/^ *transactions: *([0-9]+).*/\1/p' <<<"$RUN_OUTPUT")
  ignored=$(sed -nE 's/^ *ignored errors: *([0-9]+).*/\1/p' <<<"$RUN_OUTPUT")
  reconnects=$(sed -nE 's/^ *reconnects: *([0-9]+).*/\1/p' <<<"$RUN_OUTPUT")
  echo "$label: transactions=$tx ignored_errors=$ignored reconnects=$reconnects" >&2
  [ "${tx:-0}" -gt 0 ] || { echo "$RUN_OUTPUT" >&2; echo "$label: no transactions" >&2; exit 1; }
  [ "${reconnects:-1}" -eq 0 ] || { echo "$label: $reconnects reconnects" >&2; exit 1; }
  # oltp_read_write retries deadlocks (1213) and lock wait timeouts itself ("ignored errors");
  # with 4 threads on 2 x 5000 rows they are rare but legitimate. More than 1% is not.
  [ "${ignored:-0}" -le $((tx / 100)) ] || { echo "$label: too many ignored errors ($ignored of $tx)" >&2; exit 1; }
  echo "$label: transactions > 0, no reconnects, no errors"
}

run "prepare" off --threads=2 prepare
run "run" off --threads=4 --time="$secs" --report-interval=0 run
check_run "run"
run "cleanup" off cleanup
mariadb --no-defaults -h "$UG_HOST" -P "$UG_PORT" -u "$UG_USER" -p"$UG_PASSWORD" --skip-ssl -e "DROP DATABASE $db"
