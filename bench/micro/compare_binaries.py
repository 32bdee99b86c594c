#!/usr/bin/env python3
# Runs two micro-benchmark binaries (e.g. before and after a change) in turns, rounds x
# repetitions, and prints per benchmark the median and minimum CPU time over all repetitions
# and the allocations per iteration. Taking turns spreads the load of a shared box evenly.
#   bench/micro/compare_binaries.py OLD NEW FILTER ROUNDS [REPETITIONS]
import json, subprocess, sys, statistics, os
before, after, flt, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
reps = sys.argv[5] if len(sys.argv) > 5 else "5"
res = {before: {}, after: {}}
allocs = {before: {}, after: {}}
loads = []
for r in range(rounds):
    for b in (before, after) if r % 2 == 0 else (after, before):
        out = subprocess.run([b, f"--benchmark_filter={flt}", f"--benchmark_repetitions={reps}", "--benchmark_min_time=0.2",
                              "--benchmark_format=json"], capture_output=True, text=True).stdout
        for bm in json.loads(out)["benchmarks"]:
            if bm.get("run_type") != "iteration": continue
            res[b].setdefault(bm["run_name"], []).append(bm["cpu_time"])
            allocs[b][bm["run_name"]] = bm.get("allocs")
    loads.append(os.getloadavg()[0])
print(f"load average (1 min) during run: {min(loads):.1f} .. {max(loads):.1f}")
print(f"{'benchmark':34} {'before med':>10} {'after med':>10} {'change':>7}  {'before min':>10} {'after min':>10}  allocs")
for name in res[before]:
    a, b = res[before][name], res[after].get(name, [float('nan')])
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name:34} {ma:10.1f} {mb:10.1f} {100*(mb-ma)/ma:+6.1f}%  {min(a):10.1f} {min(b):10.1f}  {allocs[before][name]} -> {allocs[after].get(name)}")
