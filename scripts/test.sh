#!/usr/bin/env bash
# Runs every test uniqgate has, the way CI does (.ci/run calls this script):
#   1. installs what is missing (scripts/install-deps.sh)
#   2. a warnings-as-errors build; unit + integration tests (a sandbox MariaDB is
#      started and stopped by the CTest fixtures)
#   3. an ASan+UBSan build of the unit tests, run; and of uniqgate, under which the
#      shutdown-under-load scenario runs again
#   4. libFuzzer targets (clang), each for a bounded time
# Options: --quick (skip 3 and 4), --no-install, FUZZ_SECONDS=N (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
install=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-30}
stage() { printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

if [ "$install" = 1 ]; then
  stage "dependencies"
  bash scripts/install-deps.sh
fi

stage "build (warnings are errors)"
cmake -S . -B build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNIQGATE_WERROR=ON >/dev/null
cmake --build build/ci -j"$jobs"

stage "unit and integration tests"
ctest --test-dir build/ci --output-on-failure --timeout 600 -j1

if [ "$quick" = 1 ]; then exit 0; fi

stage "ASan+UBSan build of the unit tests and uniqgate"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DUNIQGATE_SANITIZE=ON -DUNIQGATE_WERROR=ON \
  -DUNIQGATE_BENCH=OFF >/dev/null
unit_targets=$(cmake --build build/asan --target help | sed -n 's/^\.\.\. \(unit_[a-z_]*\).*/\1/p')
# shellcheck disable=SC2086
cmake --build build/asan -j"$jobs" --target $unit_targets uniqgate
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -L unit --output-on-failure -j"$jobs"
# What only shows when sessions are torn down mid-check: a use after free there goes
# unnoticed in the plain build.
UG_SERIALIZE_BIN="$PWD/build/asan/proxy/uniqgate" ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/ci -R '^it\.serialize\.shutdown_under_load$' --output-on-failure --timeout 300

stage "fuzzing (${fuzz_seconds}s per target)"
CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNIQGATE_FUZZ=ON \
  -DUNIQGATE_BENCH=OFF >/dev/null
fuzz_targets=$(cmake --build build/fuzz --target help | sed -n 's/^\.\.\. \(fuzz_[a-z_]*\).*/\1/p')
if [ -n "$fuzz_targets" ]; then
  # shellcheck disable=SC2086
  cmake --build build/fuzz -j"$jobs" --target $fuzz_targets
  for target in $fuzz_targets; do
    corpus="build/fuzz/corpus/$target"
    mkdir -p "$corpus"
    seeds="tests/fuzz/corpus/$target"
    [ -d "$seeds" ] || seeds=""
    echo "fuzz: $target"
    "build/fuzz/tests/fuzz/$target" -max_total_time="$fuzz_seconds" -print_final_stats=0 \
      -artifact_prefix="build/fuzz/$target-" "$corpus" $seeds 2>&1 | tail -n 2
  done
fi
echo
echo "test.sh: all stages passed"
