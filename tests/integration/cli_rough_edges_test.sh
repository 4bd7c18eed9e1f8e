#!/bin/sh
# cli_rough_edges_test.sh CRASHWATCH — the rough edges a new user hit
# (issue 13), each with the message and the exit status the help promises:
#   upload with no target says a DSN or URL is needed (not --format);
#   upload --once --watch is a usage error;
#   upload --spool /typo says the spool does not exist, exits 1;
#   symbolize --exe MISSING exits 1 with the reason and prints no "??".
set -u
cli=$1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
work=$(mktemp -d "${CW_TEST_TMP:-/tmp}/rough-XXXXXX")
spool=$work/spool
mkdir -m 700 "$spool"
# No target may leak in from the caller's environment.
unset SENTRY_DSN CRASHWATCH_UPLOAD_URL CRASHWATCH_UPLOAD_FORMAT CRASHWATCH_SPOOL

"$cli" upload --spool "$spool" >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 2 ] || bad "upload without a target exited $rc, want 2"
grep -q "DSN" "$work/err" && grep -q "URL" "$work/err" ||
  bad "upload without a target does not say a DSN or URL is needed: $(cat "$work/err")"
grep -q -- "--format" "$work/err" &&
  bad "upload without a target blames --format: $(cat "$work/err")"
# The same with an empty variable, as a unit file's Environment=SENTRY_DSN= gives.
SENTRY_DSN= "$cli" upload --spool "$spool" >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "DSN" "$work/err" || bad "SENTRY_DSN='': rc $rc $(cat "$work/err")"

for order in "--once --watch" "--watch --once"; do
  # timeout: without the check, --watch would deliver until killed.
  # shellcheck disable=SC2086
  timeout 20 "$cli" upload --spool "$spool" --url http://127.0.0.1:9/submit $order \
    >"$work/out" 2>"$work/err" </dev/null; rc=$?
  [ $rc -eq 2 ] || bad "upload $order exited $rc, want 2"
  grep -q -- "--once and --watch" "$work/err" ||
    bad "upload $order: no message about --once and --watch: $(cat "$work/err")"
done

typo=$work/no-such-spool
"$cli" upload --spool "$typo" --url http://127.0.0.1:9/submit >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] || bad "upload --spool $typo exited $rc, want 1"
grep -q "spool directory $typo does not exist" "$work/err" ||
  bad "upload --spool typo: $(cat "$work/err")"
[ ! -e "$typo" ] || bad "upload created the mistyped spool $typo"

missing=$work/no-such-binary
"$cli" symbolize --exe "$missing" 0x1139 0x2000 >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] || bad "symbolize --exe MISSING exited $rc, want 1"
grep -q "$missing: No such file or directory" "$work/err" ||
  bad "symbolize --exe MISSING: message $(cat "$work/err")"
[ ! -s "$work/out" ] || bad "symbolize --exe MISSING printed: $(cat "$work/out")"
printf '0x1139\n0x2000\n' | "$cli" symbolize --exe "$missing" --output-style=GNU \
  >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && [ ! -s "$work/out" ] ||
  bad "symbolize --exe MISSING (stdin): rc $rc, printed $(cat "$work/out")"
"$cli" symbolize --exe "$missing" --json 0x1139 >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] || bad "symbolize --exe MISSING --json exited $rc, want 1"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert "No such file" in d["error"] and d["addresses"] == [], d
' "$work/out" || bad "symbolize --exe MISSING --json: $(cat "$work/out")"

if [ $fail -ne 0 ]; then echo "work dir kept: $work"; exit 1; fi
rm -rf "$work"
echo "ok: rough edges"
