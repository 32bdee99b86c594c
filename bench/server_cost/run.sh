#!/usr/bin/env bash
# What the proxy's own statements cost MariaDB, measured without the proxy: one node mysql2
# connection straight to a throwaway MariaDB, each statement shape run N times per round,
# mariadbd's CPU time divided by the iterations. Prints µs per iteration, three rounds per shape.
#   dedup_writes.js  a dedup-mode INSERT as text (one multi-statement) and as uniqgate's
#                    prepared pipeline (three commands), and variants
#   checks.js        serialize's batched existence check as text and bound (CheckBatcher)
# Usage: bench/server_cost/run.sh [N]   (default 6000; needs node and the test clients' npm
# packages: bash scripts/install-deps.sh)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
N=${1:-6000}
[[ -d "$REPO/tests/integration/clients/node/node_modules/mysql2" ]] \
    || { echo "server_cost: mysql2 missing; run bash scripts/install-deps.sh" >&2; exit 1; }
DIR=$(mktemp -d /tmp/uniqgate-server-cost.XXXXXX)
trap '"$REPO/scripts/sandbox-mariadb.sh" stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$REPO/scripts/sandbox-mariadb.sh" start "$DIR" >/dev/null
# shellcheck disable=SC1091
source "$DIR/env"
echo "## dedup-mode INSERT, server µs per write (3 rounds of $N)"
node "$HERE/dedup_writes.js" "$port" "$pid" "$N"
echo "## batched existence check over shop.t as dedup_writes.js left it, server µs per query (conditions:shape)"
node "$HERE/checks.js" "$port" "$pid" "$N"
