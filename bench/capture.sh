#!/bin/sh
# capture.sh BUILD_DIR — crash capture figures (medians; no assertions).
set -eu
build=${1:-build}
exec "$build/bench/bench_capture" --runs "${CW_BENCH_RUNS:-9}"
