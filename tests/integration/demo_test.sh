#!/bin/sh
# demo_test.sh BUILD_DIR CMAKE — `make demo` end to end, as the README's
# quick start runs it (make -C SOURCE demo BUILD=BUILD_DIR):
#   - it crashes the example daemon and reports the SIGSEGV and the
#     crashing thread's stack by function name, with exactly one report;
#   - the report goes to the demo's own spool ($CW_DEMO_SPOOL here, a temp
#     dir), never to the user's: CRASHWATCH_SPOOL and HOME point at
#     directories that must stay empty;
#   - no make or CMake chatter on the terminal (the build goes to a log);
#   - the commands it prints at the end work as printed;
#   - the demo's targets build none of the tests, benchmarks or fuzzers
#     (ninja -t commands in a freshly configured tree).
set -u
build=$1 cmake=$2
src=${CW_SOURCE_DIR:?}
work=$(mktemp -d "${CW_TEST_TMP:-/tmp}/demo-XXXXXX")
fail() { echo "FAIL: $*" >&2; echo "work dir kept: $work" >&2; exit 1; }
mkdir -p "$work/user-spool" "$work/home"
rc=0
out=$(CW_DEMO_SPOOL=$work/reports CRASHWATCH_SPOOL=$work/user-spool \
      HOME=$work/home XDG_STATE_HOME= make -C "$src" --no-print-directory \
      demo BUILD="$build" 2>&1) || rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "make demo exited with $rc"
echo "$out" | grep -q 'died by signal 11' || fail "no 'died by signal 11'"
echo "$out" | grep -Eq '#0 +0x[0-9a-f]+ +parse_session' ||
  fail "frame #0 is not parse_session"
echo "$out" | grep -Eq '#2 +0x[0-9a-f]+ +handle_request' ||
  fail "frame #2 is not handle_request"
n=$(find "$work/reports" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' | wc -l)
[ "$n" -eq 1 ] || fail "$n reports in $work/reports, want 1"
echo "$out" | grep -qF "$work/reports" || fail "the demo does not say where its report went"
[ -z "$(find "$work/user-spool" "$work/home" -mindepth 1)" ] ||
  fail "the demo wrote into the user's spool or home: $(find "$work/user-spool" "$work/home")"

# No chatter: make's directory lines, CMake's progress and commands.
chatter=$(echo "$out" | grep -E '^make(\[[0-9]+\])?:|^\[ *[0-9]+%\]|Built target|Scanning dependencies|^cmake |^-- |^gcc |^cc ')
[ -z "$chatter" ] || fail "make demo printed build chatter: $chatter"

# The commands printed after "== Next", run exactly as printed.
cmds=$(echo "$out" | sed -n '/^== Next/,$p' | sed -n 's|^   \(/.*\)$|\1|p')
[ "$(echo "$cmds" | grep -c .)" -ge 2 ] || fail "no commands after '== Next': $cmds"
echo "$cmds" | while IFS= read -r c; do
  r=0
  o=$(cd / && env -i PATH=/usr/bin:/bin sh -c "$c" 2>&1) || r=$?
  [ $r -eq 0 ] || { echo "FAIL: '$c' exited $r: $o" >&2; exit 1; }
  case $c in
  *" symbolize "*) echo "$o" | grep -q parse_session ||
    { echo "FAIL: '$c' lacks parse_session: $o" >&2; exit 1; } ;;
  esac
done || fail "a printed command does not work"

# Only the demo's targets: every command Ninja would run to build them in
# a fresh tree (ninja -t commands: the whole dependency graph, nothing
# run) compiles nothing of tests/, bench/ or fuzz/.
targets=$(sed -n 's/^DEMO_TARGETS *= *//p' "$src/Makefile")
[ -n "$targets" ] || fail "no DEMO_TARGETS in the Makefile"
command -v ninja >/dev/null 2>&1 || fail "no ninja (ninja-build is in the Makefile's PACKAGES)"
"$cmake" -S "$src" -B "$work/fresh" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$work/configure.log" 2>&1 || fail "configure: $(tail -n 20 "$work/configure.log")"
# shellcheck disable=SC2086
ninja -C "$work/fresh" -t commands $targets >"$work/commands.log" 2>&1 ||
  fail "ninja -t commands: $(tail -n 20 "$work/commands.log")"
grep -q 'examples/daemon.c' "$work/commands.log" || fail "the demo does not build the daemon"
grep -q 'cli/main.c' "$work/commands.log" || fail "the demo does not build crashwatch"
grep -q 'handler/init.c' "$work/commands.log" || fail "the demo does not build libcrashwatch"
extra=$(grep -Eo "$src/(tests|bench|fuzz)/[^ ]+\.c" "$work/commands.log" | sort -u)
[ -z "$extra" ] || fail "make demo would build: $extra"
rm -rf "$work"
echo "ok: demo"
