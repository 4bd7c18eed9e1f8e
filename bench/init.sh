#!/bin/sh
# init.sh BUILD_DIR [--runs N] — cw_init() in a fresh process with a new
# spool directory, from the memfd copy and from the image as `make install`
# puts it (medians; no assertions).
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exec "$build/bench/bench_init" --image "$build/handler/crashwatch-watchdog.bin" "$@"
