#!/usr/bin/env bash
# run-demo.sh BUILD_DIR — `make demo`: crash the example daemon and show
# what crashwatch left behind. No server needed. The report goes to a spool
# of the demo's own, BUILD_DIR/demo/reports (or $CW_DEMO_SPOOL), never to
# the user's ($CRASHWATCH_SPOOL, ~/.local/state/crashwatch/reports), and
# the commands printed at the end work as printed (absolute paths).
set -uo pipefail
build=${1:-build}
daemon="$build/examples/crashwatch-example-daemon"
if [ ! -x "$daemon" ]; then
  echo "run-demo: $daemon not found; build first (make demo builds it)" >&2
  exit 1
fi
build=$(cd "$build" && pwd)
daemon="$build/examples/crashwatch-example-daemon"
spool=${CW_DEMO_SPOOL:-$build/demo/reports}
mkdir -p "$spool" && chmod 700 "$spool" "$(dirname "$spool")" 2>/dev/null
spool=$(cd "$spool" && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/crashwatch-demo.XXXXXX")
trap 'rm -f "$log"' EXIT

echo "== Running $daemon"
echo "   Its reports go to the demo's own spool, $spool"
echo "   (not to yours: the demo sets CRASHWATCH_SPOOL for the daemon alone)."
echo "   A worker thread will dereference NULL in parse_session()."
echo
# The pipe stays open until the watchdog exits, so when tee ends the
# report is committed. The subshell's own stderr is dropped: that is only
# bash announcing "Segmentation fault", which the lines below explain.
statusf=$(mktemp "${TMPDIR:-/tmp}/crashwatch-demo-status.XXXXXX")
trap 'rm -f "$log" "$statusf"' EXIT
(
  env -u SENTRY_DSN -u CRASHWATCH_UPLOAD_URL CRASHWATCH_SPOOL="$spool" \
    "$daemon" 2>&1
  echo $? >"$statusf"
) 2>/dev/null | tee "$log"
status=$(cat "$statusf")
echo
if [ "$status" -gt 128 ]; then
  echo "== The daemon died by signal $((status - 128)) ($(kill -l $((status - 128)) 2>/dev/null || echo ?)), as it would without crashwatch."
else
  echo "== The daemon exited with status $status (expected a crash)." >&2
  exit 1
fi

report=$(sed -n 's/^crashwatch: report written to //p' "$log" | tail -n 1)
[ -n "$report" ] || report=$(sed -n 's/^crashwatch: crash report .* written to //p' "$log" | tail -n 1)
if [ -z "$report" ] || [ ! -d "$report" ]; then
  echo "run-demo: no report found in the watchdog's output" >&2
  exit 1
fi
echo "== Report: $report"
ls -l "$report"
echo
echo "== Crashing thread's stack (from event.json):"
python3 - "$report/event.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
exc = (ev.get("exception") or {}).get("values") or [{}]
e = exc[0]
mech = ((e.get("mechanism") or {}).get("meta") or {}).get("signal") or {}
print("   %s (signal %s) in thread %s" %
      (e.get("type") or mech.get("name"), mech.get("number"),
       e.get("thread_id")))
frames = (e.get("stacktrace") or {}).get("frames") or []
if not frames:
    for t in (ev.get("threads") or {}).get("values") or []:
        if t.get("crashed"):
            frames = (t.get("stacktrace") or {}).get("frames") or []
for i, f in enumerate(reversed(frames)):
    where = ""
    if f.get("filename"):
        where = " at %s:%s" % (f["filename"], f.get("lineno", "?"))
    print("   #%-2d %s  %s%s (%s)" % (i, f.get("instruction_addr", "?"),
                                     f.get("function") or "??", where,
                                     (f.get("package") or "?").rsplit("/", 1)[-1]))
PY
cli="$build/cli/crashwatch"
if [ -x "$cli" ]; then
  echo
  echo "== crashwatch dump $report (first lines):"
  "$cli" dump "$report" 2>&1 | head -n 25
fi
echo
echo "== Next: the report again (its whole story, the crashing thread"
echo "   symbolized, the minidump's streams):"
if "$cli" help show >/dev/null 2>&1; then
  printf '   %q show latest --spool %q\n' "$cli" "$spool"
fi
printf '   %q symbolize %q\n' "$cli" "$report"
printf '   %q dump %q\n' "$cli" "$report"
echo "   ('make install' puts crashwatch on your PATH and its manual pages"
echo "   in MANPATH: man crashwatch. Set SENTRY_DSN to upload reports.)"
