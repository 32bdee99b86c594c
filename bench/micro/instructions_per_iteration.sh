#!/usr/bin/env bash
# Instructions per iteration of one micro-benchmark, counted by callgrind: independent of
# load, and works where perf has no hardware counters (most VMs, this build box included).
#   bench/micro/instructions_per_iteration.sh build/bench/micro/micro_rules analyse_insert 'analyse_insert/10$' rules::analyse_write
#   bench/micro/instructions_per_iteration.sh build/bench/micro/micro_rules classify 'classify/select$' RuleSet::classify
# Counts everything the benchmark function runs (inclusive), divided by the calls of
# `per_call`, a function the loop calls once per iteration. Set-up outside the loop
# (rule set, schema, SQL text) is included but is well under 1% of the total.
set -euo pipefail
binary=$1 bench_function=$2 filter=$3 per_call=$4
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/cg" --toggle-collect="*::${bench_function}(benchmark::State&*" \
    "$binary" --benchmark_filter="$filter" --benchmark_min_time=0.5 >/dev/null 2>"$out/log"
callgrind_annotate --tree=caller --threshold=100 "$out/cg" >"$out/tree"
python3 - "$out/tree" "$per_call" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
total = next(int(l.split()[0].replace(",", "")) for l in lines if "PROGRAM TOTALS" in l)
calls = 0
for i, line in enumerate(lines):
    if re.search(r"\*\s+\S*[ :]" + re.escape(sys.argv[2]) + r"\(", line):
        j = i - 1
        while j >= 0 and "<" in lines[j]:  # the callers of this function, with call counts
            calls += int(re.search(r"\(([\d,]+)x\)", lines[j]).group(1).replace(",", ""))
            j -= 1
print(f"instructions={total} calls={calls} per_iteration={total // calls if calls else 'n/a'}")
PY
