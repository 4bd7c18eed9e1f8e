#!/bin/sh
# fork.sh BUILD_DIR [--rounds R] [--forks N] — what a fork() costs with
# crashwatch's fork coverage on and off (medians; no assertions).
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exec "$build/bench/bench_fork" "$@"
