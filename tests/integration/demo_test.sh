#!/bin/sh
# demo_test.sh BUILD_DIR — `make demo` end to end: examples/run-demo.sh
# crashes the example daemon (spool in a temp dir) and must report the
# SIGSEGV and the crashing thread's stack by function name.
set -u
build=$1
spool=$(mktemp -d "${CW_TEST_TMP:-/tmp}/demo-XXXXXX")
rc=0
out=$(CRASHWATCH_SPOOL=$spool/reports "${CW_SOURCE_DIR:?}/examples/run-demo.sh" \
      "$build" 2>&1) || rc=$?
echo "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ $rc -eq 0 ] || fail "run-demo.sh exited with $rc"
echo "$out" | grep -q 'died by signal 11' || fail "no 'died by signal 11'"
echo "$out" | grep -Eq '#0 +0x[0-9a-f]+ +parse_session' ||
  fail "frame #0 is not parse_session"
echo "$out" | grep -Eq '#2 +0x[0-9a-f]+ +handle_request' ||
  fail "frame #2 is not handle_request"
n=$(find "$spool/reports" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' | wc -l)
[ "$n" -eq 1 ] || fail "$n reports in $spool/reports, want 1"
rm -rf "$spool"
echo "ok: demo"
