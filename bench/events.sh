#!/bin/sh
# events.sh BUILD_DIR — what events besides crashes cost (issue 11):
# the caller's wall time in cw_capture_message (target <= 5 us; also with
# attach_stacktrace, sampled out and over the cap), the app's pause during
# cw_capture_dump at 6 and 64 threads (target <= 2 ms at 6), and events
# per second sustained into the spool (one fsync'd report each). Prints
# figures, asserts nothing. Run it on an otherwise idle machine; the spool
# is a fresh directory under $TMPDIR (its disk sets the sustained rate).
set -eu
build=${1:-build}
b="$build/bench/bench_events"
"$b" message 400
"$b" stack 100
"$b" dump 6 20
"$b" dump 64 10
"$b" rate 2000
