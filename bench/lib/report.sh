# shellcheck shell=bash
# Reading sysbench's output and turning the raw per-run results into the Markdown table.
# Sourced after common.sh.

# bench_parse_sysbench LOG: prints "tps queries p95_ms errors" from a sysbench run's
# report, or fails when the report is incomplete (sysbench died, connection refused ...).
#   transactions:                        47446  (4743.92 per sec.)
#   queries:                             47446  (4743.92 per sec.)
#   ignored errors:                      0      (0.00 per sec.)
#   95th percentile:                        0.26
bench_parse_sysbench() {
    awk '
        /^ *transactions:/   { tps = $3; sub(/^\(/, "", tps) }
        /^ *queries:/        { queries = $2 }
        /^ *ignored errors:/ { errors = $3 }
        /95th percentile:/   { p95 = $3 }
        END {
            if (tps == "" || queries == "" || p95 == "") exit 1
            printf "%s %s %s %s\n", tps, queries, p95, (errors == "" ? 0 : errors)
        }' "$1"
}

# median(list): the median of a space-separated list of numbers, "" for an empty list.
BENCH_AWK_MEDIAN='
    function median(list,    n, v, i, j, t) {
        n = split(list, v, " ")
        for (i = 2; i <= n; i++)            # insertion sort, numeric
            for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        if (n == 0) return ""
        return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'

# bench_report RAW_TSV WORKLOADS THREADS: the Markdown table on stdout, one row per
# workload and thread count (in the order given), medians over rounds.
# RAW_TSV columns: workload threads round leg tps queries p95 cpu_us_per_query
# ("-" where a value is missing; tps "ERR" for a failed run).
bench_report() {
    awk -F'\t' -v workloads="$2" -v threads="$3" "$BENCH_AWK_MEDIAN"'
        function add(key, value) { if (value != "-" && value != "ERR" && value != "") vals[key] = vals[key] " " value }
        function get(key, fmt,    m) { m = median(vals[key]); return m == "" ? "–" : sprintf(fmt, m) }
        function ratio(a, b, fmt) { a = median(vals[a]); b = median(vals[b]); return (a == "" || b == "" || b == 0) ? "–" : sprintf("%.2f", a / b) }
        NR > 1 {
            k = $1 SUBSEP $2 SUBSEP $4
            if ($5 == "ERR") failed[k]++
            add(k SUBSEP "tps", $5); add(k SUBSEP "p95", $7); add(k SUBSEP "cpu", $8)
        }
        END {
            print "| workload | threads | direct tps | uniqgate tps | haproxy tps | uniqgate/direct | haproxy/direct | uniqgate/haproxy | p95 ms (direct / uniqgate / haproxy) | CPU µs/query uniqgate | CPU µs/query haproxy |"
            print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            nw = split(workloads, W, " "); nt = split(threads, T, " ")
            for (w = 1; w <= nw; w++) for (t = 1; t <= nt; t++) {
                b = W[w] SUBSEP T[t] SUBSEP
                tps_d = get(b "direct" SUBSEP "tps", "%.0f") (failed[b "direct"] ? " (" failed[b "direct"] " failed)" : "")
                tps_u = get(b "uniqgate" SUBSEP "tps", "%.0f") (failed[b "uniqgate"] ? " (" failed[b "uniqgate"] " failed)" : "")
                tps_h = get(b "haproxy" SUBSEP "tps", "%.0f") (failed[b "haproxy"] ? " (" failed[b "haproxy"] " failed)" : "")
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s |\n", W[w], T[t], tps_d, tps_u, tps_h,
                    ratio(b "uniqgate" SUBSEP "tps", b "direct" SUBSEP "tps"),
                    ratio(b "haproxy" SUBSEP "tps", b "direct" SUBSEP "tps"),
                    ratio(b "uniqgate" SUBSEP "tps", b "haproxy" SUBSEP "tps"),
                    get(b "direct" SUBSEP "p95", "%.2f"), get(b "uniqgate" SUBSEP "p95", "%.2f"), get(b "haproxy" SUBSEP "p95", "%.2f"),
                    get(b "uniqgate" SUBSEP "cpu", "%.1f"), get(b "haproxy" SUBSEP "cpu", "%.1f")
            }
        }' "$1"
}

# bench_report_head_to_head RAW_TSV WORKLOADS THREADS: the head-to-head table on stdout.
# RAW_TSV columns: workload threads round leg tps queries p95 cpu_us_per_query, one line per
# proxy and round. The ratios are taken within each round, where both proxies shared the
# same seconds, and then their median and range; a round with a failed leg has no ratio.
bench_report_head_to_head() {
    awk -F'\t' -v workloads="$2" -v threads="$3" "$BENCH_AWK_MEDIAN"'
        function fmt(list, f,    m) { m = median(list); return m == "" ? "–" : sprintf(f, m) }
        # "median (lowest–highest)" of the rounds ratios, so the spread is read with the value
        function spread(list,    n, v, i, lo, hi) {
            n = split(list, v, " ")
            if (n < 2) return fmt(list, "%.2f")
            lo = hi = v[1] + 0
            for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
            return sprintf("%.2f (%.2f–%.2f)", median(list), lo, hi)
        }
        function ok(v) { return v != "-" && v != "ERR" && v != "" }
        NR > 1 {
            row = $1 SUBSEP $2; r = row SUBSEP $3
            rounds[row] = rounds[row] " " $3
            if ($5 == "ERR") failed[row]++
            if (ok($5)) { tps[r, $4] = $5; tpsl[row, $4] = tpsl[row, $4] " " $5 }
            if (ok($7)) p95l[row, $4] = p95l[row, $4] " " $7
            if (ok($8)) { cpu[r, $4] = $8; cpul[row, $4] = cpul[row, $4] " " $8 }
        }
        END {
            print "| workload | threads | uniqgate tps | haproxy tps | uniqgate/haproxy | uniqgate ahead | p95 ms (uniqgate / haproxy) | CPU µs/query uniqgate | CPU µs/query haproxy | CPU uniqgate/haproxy | uniqgate cheaper |"
            print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            nw = split(workloads, W, " "); nt = split(threads, T, " ")
            for (w = 1; w <= nw; w++) for (t = 1; t <= nt; t++) {
                row = W[w] SUBSEP T[t]
                tr = ""; cr = ""; nr = 0; nc = 0; ahead = 0; cheaper = 0
                delete seen
                n = split(rounds[row], R, " ")
                for (i = 1; i <= n; i++) {
                    if (R[i] in seen) continue
                    seen[R[i]] = 1; r = row SUBSEP R[i]
                    if ((r, "uniqgate") in tps && (r, "haproxy") in tps && tps[r, "haproxy"] > 0) {
                        tr = tr " " tps[r, "uniqgate"] / tps[r, "haproxy"]; nr++
                        if (tps[r, "uniqgate"] + 0 >= tps[r, "haproxy"] + 0) ahead++
                    }
                    if ((r, "uniqgate") in cpu && (r, "haproxy") in cpu && cpu[r, "haproxy"] > 0) {
                        cr = cr " " cpu[r, "uniqgate"] / cpu[r, "haproxy"]; nc++
                        if (cpu[r, "uniqgate"] + 0 <= cpu[r, "haproxy"] + 0) cheaper++
                    }
                }
                printf "| %s | %s | %s%s | %s | %s | %s | %s / %s | %s | %s | %s | %s |\n", W[w], T[t],
                    fmt(tpsl[row, "uniqgate"], "%.0f"), (failed[row] ? " (" failed[row] " failed)" : ""),
                    fmt(tpsl[row, "haproxy"], "%.0f"), spread(tr), (nr ? ahead " of " nr : "–"),
                    fmt(p95l[row, "uniqgate"], "%.2f"), fmt(p95l[row, "haproxy"], "%.2f"),
                    fmt(cpul[row, "uniqgate"], "%.1f"), fmt(cpul[row, "haproxy"], "%.1f"),
                    spread(cr), (nc ? cheaper " of " nc : "–")
            }
        }' "$1"
}
