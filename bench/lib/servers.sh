# shellcheck shell=bash
# Starting and stopping what a benchmark talks to: a throwaway MariaDB, haproxy in TCP mode
# and uniqgate. Sourced after common.sh. Every process started here is registered with
# bench_track so the caller's EXIT trap stops it; the MariaDB sandbox is stopped by
# bench_mariadb_stop (also from the trap).

BENCH_APP_USER=app
BENCH_APP_PASSWORD=app_pw
BENCH_APP_DB=shop

# Runs SQL as the app user over TCP, without TLS like sysbench: bench_sql PORT "SQL".
bench_sql() {
    mariadb --no-defaults --skip-ssl --protocol=TCP -h127.0.0.1 -P"$1" \
        -u"$BENCH_APP_USER" -p"$BENCH_APP_PASSWORD" -N -B "$BENCH_APP_DB" -e "$2"
}

# --- MariaDB ----------------------------------------------------------------------------
# bench_mariadb_start DIR: starts a sandbox in DIR and sets DB_PORT, DB_PID, DB_SOCKET.
# Uses scripts/sandbox-mariadb.sh when it exists, else starts one inline the same way.
BENCH_DB_DIR=
BENCH_DB_MODE=

bench_mariadb_start() {
    local dir=$1 sandbox="$BENCH_REPO/scripts/sandbox-mariadb.sh" out
    mkdir -p "$dir"
    BENCH_DB_DIR=$dir
    if [[ -x "$sandbox" && -z "${BENCH_INLINE_MARIADB:-}" ]]; then
        BENCH_DB_MODE=script
        bench_log "starting MariaDB sandbox with scripts/sandbox-mariadb.sh in $dir"
        out=$("$sandbox" start "$dir") || bench_die "sandbox-mariadb.sh start failed: $out"
        DB_PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$out" | tail -n1)
        DB_PID=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$out" | tail -n1)
        DB_SOCKET=$(sed -n 's/.*socket=\([^ ]*\).*/\1/p' <<<"$out" | tail -n1)
        [[ -n "$DB_PORT" && -n "$DB_PID" ]] || bench_die "cannot parse sandbox output: $out"
    else
        BENCH_DB_MODE=inline
        bench_mariadb_start_inline "$dir"
    fi
    bench_mariadb_tune
}

bench_mariadb_start_inline() {
    local dir=$1 deadline
    bench_free_port DB_PORT
    DB_SOCKET="$dir/mysqld.sock"
    bench_log "starting MariaDB inline in $dir on port $DB_PORT"
    mariadb-install-db --no-defaults --datadir="$dir/data" --user=root \
        --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 \
        || { tail -n 20 "$dir/install.log" >&2; bench_die "mariadb-install-db failed"; }
    mariadbd --no-defaults --datadir="$dir/data" --user=root \
        --bind-address=127.0.0.1 --port="$DB_PORT" --socket="$DB_SOCKET" \
        --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
        --skip-name-resolve --skip-log-bin >/dev/null 2>&1 &
    DB_PID=$!
    bench_track "$DB_PID" mariadbd
    deadline=$((SECONDS + 60))
    until mariadb-admin --no-defaults --socket="$DB_SOCKET" -uroot ping >/dev/null 2>&1; do
        kill -0 "$DB_PID" 2>/dev/null || { tail -n 20 "$dir/error.log" >&2; bench_die "mariadbd exited"; }
        ((SECONDS < deadline)) || bench_die "mariadbd did not come up in 60 s"
        sleep 0.2
    done
    mariadb --no-defaults --socket="$DB_SOCKET" -uroot -e "
        CREATE DATABASE IF NOT EXISTS $BENCH_APP_DB;
        CREATE USER '$BENCH_APP_USER'@'%' IDENTIFIED BY '$BENCH_APP_PASSWORD';
        GRANT ALL PRIVILEGES ON *.* TO '$BENCH_APP_USER'@'%' WITH GRANT OPTION;"
    printf 'port=%s\npid=%s\nsocket=%s\n' "$DB_PORT" "$DB_PID" "$DB_SOCKET" >"$dir/env"
}

# Benchmark-only settings, applied at run time so they are the same whichever way the
# server was started, and identical for all legs: the redo log is flushed once a second
# instead of at every commit (the box's disk would otherwise dominate oltp_insert), and
# the buffer pool holds every table so reads never wait for the disk.
bench_mariadb_tune() {
    bench_sql "$DB_PORT" "
        SET GLOBAL innodb_flush_log_at_trx_commit = 2;
        SET GLOBAL innodb_buffer_pool_size = 1073741824;
        SET GLOBAL max_connections = GREATEST(@@max_connections, 400);" \
        || bench_die "cannot tune MariaDB (does user $BENCH_APP_USER have all privileges?)"
}

bench_mariadb_stop() {
    [[ -n "$BENCH_DB_DIR" ]] || return 0
    if [[ "$BENCH_DB_MODE" == script ]]; then
        "$BENCH_REPO/scripts/sandbox-mariadb.sh" stop "$BENCH_DB_DIR" >/dev/null 2>&1 \
            || bench_log "sandbox-mariadb.sh stop $BENCH_DB_DIR failed"
        # Interrupted during `start`, before the script wrote DIR/env: its server is only
        # known by the pid file in DIR; stop it if it really serves this datadir.
        local pid
        pid=$(cat "$BENCH_DB_DIR/mariadbd.pid" 2>/dev/null) || pid=
        if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--datadir=$BENCH_DB_DIR/data "; then
            bench_log "stopping sandbox mariadbd pid $pid left by an interrupted start"
            kill -TERM "$pid" 2>/dev/null || true
            local i
            for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    elif [[ -n "${DB_PID:-}" ]]; then
        bench_stop_pid "$DB_PID" mariadbd   # TERM = clean shutdown
        bench_untrack "$DB_PID"
    fi
    BENCH_DB_DIR=
}

# --- haproxy ----------------------------------------------------------------------------
# bench_haproxy_start NAME LISTEN_PORT BACKEND_PORT NBTHREAD DIR: sets the variable
# "<NAME>_PID" (NAME upper-cased, e.g. HAPROXY_PID).
bench_haproxy_start() {
    local name=$1 listen=$2 backend=$3 nbthread=$4 dir=$5 cfg pid
    cfg="$dir/$name.cfg"
    cat >"$cfg" <<EOF
# Generated by bench/sysbench.sh: a plain TCP relay, the baseline uniqgate is compared with.
global
    nbthread $nbthread
    maxconn 4096

defaults
    mode tcp
    timeout connect 5s
    # A benchmark connection is never idle for long; generous, so none is cut mid-run.
    timeout client 1h
    timeout server 1h

frontend mysql_in
    bind 127.0.0.1:$listen
    default_backend mysql_out

backend mysql_out
    server mariadb 127.0.0.1:$backend
EOF
    /usr/sbin/haproxy -c -q -f "$cfg" || bench_die "haproxy rejects $cfg"
    # -db: stay in the foreground (no daemon, no master process), so $! is the relaying process.
    /usr/sbin/haproxy -db -f "$cfg" >"$dir/$name.log" 2>&1 &
    pid=$!
    bench_track "$pid" "$name"
    bench_wait_port "$listen" 10 "$pid" \
        || { tail -n 20 "$dir/$name.log" >&2; bench_die "$name did not start listening on $listen"; }
    printf -v "${name^^}_PID" '%s' "$pid"
    bench_log "$name (nbthread $nbthread) pid $pid listening on 127.0.0.1:$listen"
}

# --- uniqgate ---------------------------------------------------------------------------
# bench_uniqgate_start LISTEN_PORT BACKEND_PORT DIR: sets UNIQGATE_PID.
# BENCH_UNIQGATE_EXTRA_CONFIG, if set, is appended to the generated config (YAML lines such as
# `control:` and `rules:`, used by serialize.sh); without it the config has no rules.
# UNIQGATE_CMD overrides the command: "haproxy" runs a second haproxy instead (to test this
# script before the proxy works); anything else is run as `exec $UNIQGATE_CMD` by bash with
# UG_CONFIG, UG_LISTEN_PORT, UG_BACKEND_PORT and UG_DIR in the environment. It must stay in
# the foreground: its pid is the one whose CPU time is measured.
bench_uniqgate_start() {
    local listen=$1 backend=$2 dir=$3 cfg admin pid
    cfg="$dir/uniqgate.yaml"
    if [[ "${UNIQGATE_CMD:-}" == haproxy ]]; then
        bench_haproxy_start uniqgate "$listen" "$backend" "$HAPROXY_NBTHREAD" "$dir"
        return
    fi
    bench_free_port admin
    local what="no rules, so every statement takes the relay path."
    [[ -z "${BENCH_UNIQGATE_EXTRA_CONFIG:-}" ]] || what="the rules at the end come from the script."
    cat >"$cfg" <<EOF
# Generated by bench/$(basename "$0"): $what
listen: 127.0.0.1:$listen
backend: { host: 127.0.0.1, port: $backend }
client_tls: { mode: disabled }
backend_tls: { mode: disabled }
admin: { listen: 127.0.0.1:$admin }
EOF
    [[ -z "${BENCH_UNIQGATE_EXTRA_CONFIG:-}" ]] || printf '%s\n' "$BENCH_UNIQGATE_EXTRA_CONFIG" >>"$cfg"
    if [[ -n "${UNIQGATE_CMD:-}" ]]; then
        UG_CONFIG=$cfg UG_LISTEN_PORT=$listen UG_BACKEND_PORT=$backend UG_DIR=$dir \
            bash -c "exec $UNIQGATE_CMD" >"$dir/uniqgate.log" 2>&1 &
    else
        [[ -x "$UNIQGATE" ]] || bench_die "no uniqgate binary at $UNIQGATE (build it, set UNIQGATE=path, or use --skip-uniqgate / UNIQGATE_CMD=haproxy)"
        # shellcheck disable=SC2086  # UNIQGATE_ARGS is a list of words
        "$UNIQGATE" --config "$cfg" ${UNIQGATE_ARGS:-} >"$dir/uniqgate.log" 2>&1 &
    fi
    pid=$!
    bench_track "$pid" uniqgate
    bench_wait_port "$listen" 15 "$pid" \
        || { tail -n 20 "$dir/uniqgate.log" >&2; bench_die "uniqgate did not start listening on $listen (log: $dir/uniqgate.log)"; }
    # shellcheck disable=SC2034  # read by sysbench.sh
    UNIQGATE_PID=$pid
    bench_log "uniqgate pid $pid listening on 127.0.0.1:$listen (admin $admin)"
}

# ", built with -O2 -g" from the CMake build tree the binary sits in, if it does; a build
# without optimisation is worth noticing in a benchmark's header.
bench_uniqgate_build_flags() {
    local flags_file opt
    flags_file="$(dirname "$UNIQGATE")/CMakeFiles/uniqgate.dir/flags.make"
    [[ -r "$flags_file" ]] || return 0
    opt=$(grep -o -E -- '(^| )-O[0-3sgz]?( |$)' "$flags_file" | tr -d ' ' | sort -u | tr '\n' ' ')
    if [[ -n "$opt" ]]; then
        printf ', built with %s' "${opt% }"
    else
        printf ', built WITHOUT optimisation (-O): a debug build'
    fi
}
