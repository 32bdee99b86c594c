#!/usr/bin/env bash
# Authentication through the mariadb CLI: ed25519 (client_ed25519 plugin) and
# mysql_native_password, with and without TLS, plus the errors a failed login gives.
# Run by harness/run.py (compare).
set -uo pipefail

try() {  # try LABEL ARGS... : connect, run one query, print the result or the error
  local label=$1; shift
  local out rc
  out=$(mariadb --no-defaults -h "$UG_HOST" -P "$UG_PORT" --batch --connect-timeout=10 "$@" \
        -e 'SELECT CURRENT_USER() AS who, DATABASE() AS db, @@version_comment IS NOT NULL AS ok' 2>&1)
  rc=$?
  echo "-- $label (exit $rc)"
  echo "$out"
}

for ssl in --ssl --skip-ssl; do
  echo "==== $ssl"
  try "ed25519 user" "$ssl" -u app_ed -ped_pw
  try "ed25519 user, default database" "$ssl" -u app_ed -ped_pw -D shop
  try "ed25519 user, explicit client plugin" "$ssl" -u app_ed -ped_pw --default-auth=client_ed25519
  try "ed25519 user, wrong password" "$ssl" -u app_ed -pnot_it
  try "native user" "$ssl" -u app -papp_pw -D shop
  try "native user, wrong password" "$ssl" -u app -pwrong
  try "native user, no password" "$ssl" -u app
  try "unknown user" "$ssl" -u nobody_here -px
  try "unknown database" "$ssl" -u app -papp_pw -D no_such_db
  try "second user (app2)" "$ssl" -u app2 -papp2_pw -D shop
done
