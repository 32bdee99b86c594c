#!/usr/bin/env bash
# The README's first command: installs what is missing, builds uniqgate, starts a
# sandbox MariaDB (in .sandbox/, loopback only) and runs uniqgate in front of it
# with examples/uniqgate.yaml, in the foreground. Ctrl-C stops both.
#   UNIQGATE_PORT=3307   where uniqgate listens
#   ADMIN_PORT=9307      where /metrics and /healthz are served
set -euo pipefail
cd "$(dirname "$0")/.."
listen_port=${UNIQGATE_PORT:-3307}
admin_port=${ADMIN_PORT:-9307}
sandbox=$PWD/.sandbox

bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DUNIQGATE_BENCH=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target uniqgate

mkdir -p "$sandbox"
bash scripts/sandbox-mariadb.sh start "$sandbox/mariadb" >/dev/null
# shellcheck disable=SC1091
. "$sandbox/mariadb/env"
trap 'bash scripts/sandbox-mariadb.sh stop "$sandbox/mariadb" >/dev/null 2>&1 || true' EXIT

mariadb --no-defaults --socket="$socket" -uroot shop <<'SQL'
CREATE TABLE IF NOT EXISTS product (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  model VARCHAR(100) NOT NULL,
  price DECIMAL(10,2) NOT NULL DEFAULT 0,
  delete_status TINYINT NOT NULL DEFAULT 0,
  KEY idx_name_model (name, model)
) ENGINE=InnoDB;
SQL

sed -e "s/^listen: .*/listen: 127.0.0.1:${listen_port}/" \
    -e "s/^  port: 3306$/  port: ${port}/" examples/uniqgate.yaml >"$sandbox/uniqgate.yaml"
printf '\nadmin: { listen: 127.0.0.1:%s }\ncontrol: { user: uniqgate, password_env: UNIQGATE_PASSWORD }\n' \
  "$admin_port" >>"$sandbox/uniqgate.yaml"
export UNIQGATE_PASSWORD=uniqgate_pw  # the sandbox's control user (scripts/sandbox-mariadb.sh)

cat <<EOT

  sandbox MariaDB on 127.0.0.1:${port} (datadir $sandbox/mariadb)
  uniqgate on 127.0.0.1:${listen_port}, config $sandbox/uniqgate.yaml

  connect through uniqgate:  mariadb -h127.0.0.1 -P${listen_port} -uapp -papp_pw shop
  try a duplicate:           INSERT INTO product (name, model) VALUES ('widget', 'x1');  -- twice
  live duplicates report:    UNIQGATE_PASSWORD=uniqgate_pw build/release/proxy/uniqgate check --config $sandbox/uniqgate.yaml
  metrics:                   curl -s http://127.0.0.1:${admin_port}/metrics
  Ctrl-C stops uniqgate and the sandbox.

EOT
build/release/proxy/uniqgate --config "$sandbox/uniqgate.yaml"
