#!/bin/sh
# symbolize.sh BUILD_DIR — `crashwatch symbolize --exe` against
# llvm-symbolizer and addr2line on 20,000 addresses of SQLite built -O2 -g
# (wall time, peak RSS, agreement; no assertions). SQLite's amalgamation is
# fetched from the npm registry at run time (package `sqlite3`); without npm
# the benchmark is skipped.
set -eu
build=${1:-build}
exec python3 "$(dirname "$0")/symbolize.py" --crashwatch "$build/cli/crashwatch" \
  --work "$build/bench-symbolize" "${CW_BENCH_ARGS:-}"
