#!/usr/bin/env bash
# The mariadb CLI runs workload.sql and prints `\s`; TLS on (`tls`) or off (`plain`).
# Run by harness/run.py (compare): UG_HOST/UG_PORT/UG_USER/UG_PASSWORD come from the environment.
set -euo pipefail
mode=${1:?usage: cli_test.sh tls|plain}
here=$(cd "$(dirname "$0")" && pwd)
work="$UG_IT_STATE/work/cli_$mode"
mkdir -p "$work"

case "$mode" in
  tls) ssl=(--ssl) ;;
  plain) ssl=(--skip-ssl) ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
cli=(mariadb --no-defaults -h "$UG_HOST" -P "$UG_PORT" -u "$UG_USER" -p"$UG_PASSWORD" "${ssl[@]}"
     --local-infile=1 --default-character-set=utf8mb4)

for i in $(seq 1 500); do echo "row$i,M$((i % 7)),$i.$((i % 100))"; done >"$work/data.csv"
sed -e "s/@T@/cli_$mode/g" -e "s|@DATA@|$work/data.csv|g" "$here/workload.sql" >"$work/workload.sql"

echo "== workload"
# --force: keep going after the expected errors; errors go to stdout so they are compared too.
"${cli[@]}" -D shop --force --show-warnings --table <"$work/workload.sql" 2>&1

echo "== status"
# Keep the lines of `\s` that do not vary between connections; the cipher name is the TLS
# library's choice, so only whether TLS is in use is compared.
status=$("${cli[@]}" -D shop -e '\s' 2>&1)
echo "$status" | grep -E '^(Current database|Current user|SSL|Server|Server version|Protocol version|Connection|Server characterset|Db     characterset|Client characterset|Conn\.  characterset):' \
  | sed -E 's/(Cipher in use is ).*/\1<cipher>/'
if [ "$mode" = tls ]; then
  echo "$status" | grep -q 'SSL:.*Cipher in use is ' || { echo "TLS is not in use" >&2; exit 1; }
else
  echo "$status" | grep -q 'SSL:.*Not in use' || { echo "TLS is in use with --skip-ssl" >&2; exit 1; }
fi
