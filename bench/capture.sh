#!/bin/sh
# capture.sh BUILD_DIR [bench_capture options, e.g. --threads 6] — crash
# capture figures (medians; no assertions).
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exec "$build/bench/bench_capture" --runs "${CW_BENCH_RUNS:-9}" "$@"
