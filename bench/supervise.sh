#!/bin/sh
# supervise.sh BUILD_DIR [--runs N] [--signals N] [--restarts N] — what
# `crashwatch run` costs (medians; no assertions). See bench/supervise.py.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
exec python3 "$(dirname "$0")/supervise.py" --build "$build" "$@"
