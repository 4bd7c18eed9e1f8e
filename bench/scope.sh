#!/bin/sh
# scope.sh BUILD_DIR [--rounds R] [--calls N] [--wall] — ns per call of
# cw_add_breadcrumb, cw_set_tag (existing and new key) and cw_set_extra from
# 1 and 2 threads (medians and minimums; no assertions). Targets (issue
# 10): <= 30 ns per breadcrumb and per cw_set_tag on an existing key from
# one thread. CPU time per thread by default (time spent descheduled on a
# busy machine is not counted); --wall times as ../shared/peers/run.sh
# times sentry-native's calls. Run it on an otherwise idle machine.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exec "$build/bench/bench_scope" "$@"
