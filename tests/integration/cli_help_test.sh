#!/bin/sh
# cli_help_test.sh CRASHWATCH — the help of the crashwatch command, for
# every command `crashwatch --help` lists (a new command is checked too):
# `-h` prints what `--help` prints, on stdout, with status 0;
# `crashwatch help CMD` prints the same; each help lists its exit status;
# `crashwatch help NOSUCH` and an unknown command exit 2 with the list.
set -u
cli=$1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
work=$(mktemp -d "${CW_TEST_TMP:-/tmp}/help-XXXXXX")

"$cli" --help >"$work/top" 2>"$work/err"; rc=$?
[ $rc -eq 0 ] || bad "crashwatch --help exited $rc"
[ -s "$work/top" ] && [ ! -s "$work/err" ] || bad "crashwatch --help: not on stdout alone"
"$cli" -h >"$work/top-h" 2>&1; rc=$?
[ $rc -eq 0 ] || bad "crashwatch -h exited $rc"
cmp -s "$work/top" "$work/top-h" || bad "crashwatch -h differs from --help"
"$cli" help >"$work/top-help" 2>&1; rc=$?
[ $rc -eq 0 ] && cmp -s "$work/top" "$work/top-help" || bad "crashwatch help (rc $rc) differs from --help"
grep -qi '^exit status' "$work/top" || bad "crashwatch --help lists no exit status"

cmds=$(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$work/top")
[ -n "$cmds" ] || bad "no commands in crashwatch --help"
n=0
for c in $cmds; do
  n=$((n + 1))
  "$cli" "$c" --help >"$work/$c.long" 2>"$work/$c.err"; rc=$?
  [ $rc -eq 0 ] || bad "crashwatch $c --help exited $rc"
  [ ! -s "$work/$c.err" ] || bad "crashwatch $c --help wrote to stderr: $(cat "$work/$c.err")"
  grep -q "crashwatch $c" "$work/$c.long" || bad "crashwatch $c --help does not name the command"
  grep -qi 'exit status' "$work/$c.long" || bad "crashwatch $c --help lists no exit status"
  grep -Eq '^ *(0|[0-9]+) ' "$work/$c.long" || bad "crashwatch $c --help: no exit code listed"
  grep -Eq -- '-h, --help' "$work/$c.long" || bad "crashwatch $c --help does not list -h, --help"
  "$cli" "$c" -h >"$work/$c.short" 2>&1; rc=$?
  [ $rc -eq 0 ] || bad "crashwatch $c -h exited $rc"
  cmp -s "$work/$c.long" "$work/$c.short" || bad "crashwatch $c -h differs from --help"
  "$cli" help "$c" >"$work/$c.help" 2>&1; rc=$?
  [ $rc -eq 0 ] || bad "crashwatch help $c exited $rc"
  cmp -s "$work/$c.long" "$work/$c.help" || bad "crashwatch help $c differs from crashwatch $c --help"
done

"$cli" help no-such-command >"$work/nosuch" 2>&1; rc=$?
[ $rc -eq 2 ] || bad "crashwatch help no-such-command exited $rc, want 2"
grep -q "unknown command 'no-such-command'" "$work/nosuch" || bad "help of an unknown command does not say so"
"$cli" no-such-command >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || bad "crashwatch no-such-command exited $rc, want 2"
"$cli" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || bad "crashwatch without a command exited $rc, want 2"

if [ $fail -ne 0 ]; then echo "work dir kept: $work"; exit 1; fi
rm -rf "$work"
echo "ok: help of $n commands"
