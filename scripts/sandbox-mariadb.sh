#!/usr/bin/env bash
# A throwaway MariaDB for tests, the README quick start and CI.
#
#   sandbox-mariadb.sh start DIR [PORT]   start (or find running) a server under DIR
#   sandbox-mariadb.sh stop DIR           stop it (by its recorded pid) and remove its datadir
#   sandbox-mariadb.sh status DIR         exit 0 if it is running and answering
#
# Loopback only. `start` prints `port=<n> pid=<pid> socket=<path>` and writes them (and a few
# more) to DIR/env as shell assignments. Users it creates:
#   root@localhost  via unix socket only
#   app             mysql_native_password 'app_pw', ALL on *.*  (from '%', 127.0.0.1, localhost)
#   app2            mysql_native_password 'app2_pw', ALL on shop.*  (change-user tests)
#   app_ed          ed25519 'ed_pw', ALL on *.*
#   uniqgate        mysql_native_password 'uniqgate_pw', ALL on *.*  (the proxy's control user)
# and the database `shop`. TLS is on (certs in DIR: ca.pem, server-cert.pem, server-key.pem).
set -euo pipefail

die() { echo "sandbox-mariadb: $*" >&2; exit 1; }

usage() { die "usage: $0 start DIR [PORT] | stop DIR | status DIR"; }

# Is $1 a live mariadbd that serves datadir $2? (Never trust a stale pid file blindly.)
is_our_server() {
  local pid=$1 datadir=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "mariadbd.*--datadir=$datadir "
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

answers() { mariadb-admin --no-defaults --socket="$1" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

make_certs() {
  local dir=$1
  [ -s "$dir/server-cert.pem" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=uniqgate-test-ca" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
    -CAcreateserial -days 3650 -extfile "$dir/san.ext" -out "$dir/server-cert.pem" 2>/dev/null
  rm -f "$dir/server.csr" "$dir/san.ext"
}

print_env() {
  # shellcheck disable=SC1091
  . "$1/env"
  echo "port=$port pid=$pid socket=$socket"
}

setup_sql() {
  cat <<'SQL'
INSTALL SONAME 'auth_ed25519';
CREATE USER 'app'@'%' IDENTIFIED WITH mysql_native_password USING PASSWORD('app_pw');
CREATE USER 'app'@'127.0.0.1' IDENTIFIED WITH mysql_native_password USING PASSWORD('app_pw');
CREATE USER 'app'@'localhost' IDENTIFIED WITH mysql_native_password USING PASSWORD('app_pw');
GRANT ALL PRIVILEGES ON *.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'app'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'app'@'localhost';
CREATE USER 'app2'@'%' IDENTIFIED WITH mysql_native_password USING PASSWORD('app2_pw');
CREATE USER 'app2'@'127.0.0.1' IDENTIFIED WITH mysql_native_password USING PASSWORD('app2_pw');
GRANT ALL PRIVILEGES ON shop.* TO 'app2'@'%';
GRANT ALL PRIVILEGES ON shop.* TO 'app2'@'127.0.0.1';
CREATE USER 'app_ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed_pw');
CREATE USER 'app_ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('ed_pw');
GRANT ALL PRIVILEGES ON *.* TO 'app_ed'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'app_ed'@'127.0.0.1';
CREATE USER 'uniqgate'@'%' IDENTIFIED WITH mysql_native_password USING PASSWORD('uniqgate_pw');
CREATE USER 'uniqgate'@'127.0.0.1' IDENTIFIED WITH mysql_native_password USING PASSWORD('uniqgate_pw');
GRANT ALL PRIVILEGES ON *.* TO 'uniqgate'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'uniqgate'@'127.0.0.1';
CREATE DATABASE shop;
FLUSH PRIVILEGES;
SQL
}

cmd_start() {
  local dir=$1 port=${2:-}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local datadir="$dir/data" socket="$dir/mysqld.sock" log="$dir/error.log"
  # The unix socket path must stay under 108 bytes.
  [ "${#socket}" -lt 100 ] || die "socket path too long: $socket (use a shorter DIR)"

  if [ -f "$dir/env" ]; then
    local pid=""
    pid=$(sed -n 's/^pid=//p' "$dir/env")
    if is_our_server "$pid" "$datadir" && answers "$socket"; then
      print_env "$dir"
      return 0
    fi
    rm -f "$dir/env"
  fi

  if [ -z "$port" ]; then
    port=$(free_port)
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is already in use"
  fi

  make_certs "$dir"
  rm -rf "$datadir" "$socket"
  mkdir -p "$datadir"
  # A throwaway server never needs its writes on disk: skipping fsync saves seconds per start.
  local nosync=(--innodb-flush-method=nosync --innodb-doublewrite=0 --sync-frm=0)
  if ! mariadb-install-db --no-defaults --user=root --datadir="$datadir" \
        --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve "${nosync[@]}" \
        >"$dir/install.log" 2>&1; then
    tail -n 30 "$dir/install.log" >&2
    die "mariadb-install-db failed (log: $dir/install.log)"
  fi

  : >"$log"
  # setsid: the server must outlive the shell (and CTest) that started it.
  setsid mariadbd --no-defaults --user=root \
    --datadir="$datadir" --socket="$socket" --pid-file="$dir/mariadbd.pid" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$log" \
    --local-infile=1 --max-allowed-packet=64M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --ssl-ca="$dir/ca.pem" --ssl-cert="$dir/server-cert.pem" --ssl-key="$dir/server-key.pem" \
    --innodb-buffer-pool-size=256M --innodb-log-file-size=256M \
    --innodb-flush-log-at-trx-commit=2 "${nosync[@]}" \
    --max-connections=500 \
    </dev/null >>"$log" 2>&1 &
  local pid=$!

  local _
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log" >&2
      die "mariadbd exited during start-up (log: $log)"
    fi
    answers "$socket" && break
    sleep 0.2
  done
  if ! answers "$socket"; then
    tail -n 30 "$log" >&2
    kill "$pid" 2>/dev/null || true
    die "mariadbd did not answer within 60 s (log: $log)"
  fi

  if ! setup_sql | mariadb --no-defaults --socket="$socket" -uroot >"$dir/setup.log" 2>&1; then
    cat "$dir/setup.log" >&2
    kill "$pid" 2>/dev/null || true
    die "creating test users failed"
  fi

  cat >"$dir/env" <<EOF
port=$port
pid=$pid
socket=$socket
host=127.0.0.1
datadir=$datadir
error_log=$log
ssl_ca=$dir/ca.pem
EOF
  print_env "$dir"
}

cmd_stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/env" ] || return 0
  local pid datadir
  pid=$(sed -n 's/^pid=//p' "$dir/env")
  datadir=$(sed -n 's/^datadir=//p' "$dir/env")
  if is_our_server "$pid" "$datadir"; then
    kill -TERM "$pid"
    local _
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "sandbox-mariadb: pid $pid did not stop in 30 s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/env"
  rm -rf "$datadir"
}

cmd_status() {
  local dir=$1
  [ -f "$dir/env" ] || return 1
  local pid datadir socket
  pid=$(sed -n 's/^pid=//p' "$dir/env")
  datadir=$(sed -n 's/^datadir=//p' "$dir/env")
  socket=$(sed -n 's/^socket=//p' "$dir/env")
  is_our_server "$pid" "$datadir" && answers "$socket" && print_env "$dir"
}

[ $# -ge 2 ] || usage
case "$1" in
  start) [ $# -le 3 ] || usage; cmd_start "$2" "${3:-}" ;;
  stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  status) [ $# -eq 2 ] || usage; cmd_status "$2" ;;
  *) usage ;;
esac
