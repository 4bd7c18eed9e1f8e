#!/bin/sh
# chain.sh BUILD_DIR — what staying in the chain costs: pthread_create+join
# per thread and 10,000 recovered SIGSEGVs, each without crashwatch
# (plain), with libcrashwatch.so linked but not initialized (linked), and
# after cw_init (cw_init). Rounds interleaved; medians of
# $CW_BENCH_RUNS (default 9). No assertions.
set -eu
build=${1:-build}
runs=${CW_BENCH_RUNS:-9}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CRASHWATCH_SPOOL="$tmp/spool"
i=0
while [ $i -lt "$runs" ]; do
  for what in threads recover recover-ctx; do
    "$build/bench/bench_chain_plain" $what >> "$tmp/out"
    "$build/bench/bench_chain" $what 0 >> "$tmp/out"
    "$build/bench/bench_chain" $what 0 init >> "$tmp/out"
  done
  i=$((i + 1))
done
awk '{ k = $1; v[k] = v[k] " " $2; u[k] = $3 }
     END { for (k in v) {
       n = split(v[k], a, " "); 
       for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
         if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
       printf "%-40s %10.2f %s (median of %d)\n", k, a[int((n + 1) / 2)], u[k], n } }' \
  "$tmp/out" | sort
