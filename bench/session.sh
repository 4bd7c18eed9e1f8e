#!/bin/sh
# session.sh BUILD_DIR [--rounds R] [--inits N] — what a release-health
# session adds to cw_init() and cw_shutdown() (medians; no assertions).
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exec "$build/bench/bench_session" "$@"
