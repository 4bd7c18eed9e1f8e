#!/usr/bin/env python3
"""Release health end to end (docs/sessions.md): real programs linked with
crashwatch (tests/progs/crashprog.c) against the loopback collector, with
the uploads the library starts by itself.

Usage: session_test.py SCENARIO   (see SCENARIOS at the bottom)

  crash      a crash after cw_init with a release: one envelope carries the
             event, its minidump and the `crashed` session update
  clean      a clean run: exactly one `exited` update (init, started,
             duration), sent when the program has ended (by the watchdog)
  clean_lazy the same with the lazy watchdog (its idle stage sends it)
  abnormal   a run killed with SIGKILL, then a restart: an `abnormal`
             update for the first run, an `exited` one for the second
  norelease  no release: no session anywhere (Sentry needs one)
  optout     CRASHWATCH_AUTO_SESSION_TRACKING=0: no session
  ratelimit  a limit on `session`: the crash is delivered at once, its
             session update is held and sent once the limit has passed

Waits poll for a condition with a generous deadline; nothing depends on
timing.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import upload_test as U  # noqa: E402  (Collector, crash_env, helpers)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  r"[0-9a-f]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def prog_env(work, spool, col, release="app@1.0", extra=None):
    env = U.crash_env(work, spool, {})
    env.pop("SENTRY_RELEASE", None)
    env.pop("SENTRY_ENVIRONMENT", None)
    env.pop("CRASHWATCH_AUTO_SESSION_TRACKING", None)
    if os.environ.get("CRASHWATCH_LAZY_WATCHDOG"):
        env["CRASHWATCH_LAZY_WATCHDOG"] = os.environ["CRASHWATCH_LAZY_WATCHDOG"]
    env["SENTRY_DSN"] = "http://k@127.0.0.1:%d/1" % col.port
    if release is not None:
        env["SENTRY_RELEASE"] = release
        env["SENTRY_ENVIRONMENT"] = "test"
    env.update(extra or {})
    return env


def run(work, env, mode, want):
    p = subprocess.run([os.environ["CW_CRASHPROG"], mode],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, cwd=work, timeout=60)
    check(p.returncode == want, "%s ended with %d, want %d: %s" %
          (mode, p.returncode, want, p.stderr.decode(errors="replace")))


def sessions(col):
    """Every session item the collector received, as (record, json)."""
    out = []
    for r in col.records():
        check("parse_error" not in r, "unparsable request: %r" %
              r.get("parse_error"))
        for it in r.get("envelope", {}).get("items", []):
            if it["header"]["type"] == "session":
                out.append((r, it["json"]))
    return out


def check_session(s, status):
    check(UUID.match(s.get("sid", "")), "sid %r" % s.get("sid"))
    check(s["status"] == status, "status %r, want %s" % (s["status"], status))
    check(s["init"] is True, "init %r" % s.get("init"))
    check(RFC3339.match(s["started"]) and RFC3339.match(s["timestamp"]),
          "times %r %r" % (s["started"], s["timestamp"]))
    check(s["timestamp"] >= s["started"], "ends before it starts: %r" % s)
    check(s["attrs"] == {"release": "app@1.0", "environment": "test"},
          "attrs %r" % s["attrs"])
    check(isinstance(s["errors"], int), "errors %r" % s.get("errors"))


def markers(spool):
    d = os.path.join(spool, ".sessions")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def settle(col, n, what):
    """Waits for n session items, then a little longer to see that no
    more come."""
    U.wait_for(lambda: len(sessions(col)) >= n, what, 60)
    return sessions(col)


def t_crash(work, spool, col):
    run(work, prog_env(work, spool, col), "null", -signal.SIGSEGV)
    recs = U.wait_for(lambda: [r for r in col.records() if "envelope" in r],
                      "the crash's envelope", 60)
    check(len(recs) == 1, "want one envelope, got %d" % len(recs))
    items = [i["header"]["type"] for i in recs[0]["envelope"]["items"]]
    check(items[0] == "event" and items[1] == "session" and
          "attachment" in items[2:], "items %r" % items)
    U.check_envelope_with_dump(col, recs[0])
    s = sessions(col)
    check(len(s) == 1, "one session update")
    check_session(s[0][1], "crashed")
    check("duration" in s[0][1], "a crashed session has its duration")
    check(markers(spool) == [], "the crash left its marker: %r" % markers(spool))
    U.wait_for(lambda: U.reports_in(spool) == [], "the spool to empty", 30)


def t_clean(work, spool, col):
    run(work, prog_env(work, spool, col), "init-only", 0)
    s = settle(col, 1, "the exited update")
    U.wait_for(lambda: U.reports_in(spool) == [], "the spool to empty", 30)
    s = sessions(col)
    check(len(s) == 1, "want exactly one update, got %r" % [x[1] for x in s])
    rec, js = s[0]
    check_session(js, "exited")
    check(js["errors"] == 0 and js["duration"] >= 0, "%r" % js)
    check([i["header"]["type"] for i in rec["envelope"]["items"]] ==
          ["session"], "a session-only envelope")
    check("event_id" not in rec["envelope"]["header"], "event_id in header")
    check(markers(spool) == [], "marker left: %r" % markers(spool))


def t_clean_lazy(work, spool, col):
    os.environ["CRASHWATCH_LAZY_WATCHDOG"] = "1"
    t_clean(work, spool, col)


def t_abnormal(work, spool, col):
    env = prog_env(work, spool, col)
    p = subprocess.Popen([os.environ["CW_CRASHPROG"], "wait-stdin"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env, cwd=work)
    first = U.wait_for(lambda: markers(spool), "the first run's marker", 30)
    check(len(first) == 1, "markers %r" % first)
    p.kill()  # SIGKILL: no exit, no crash
    p.wait()
    check(p.returncode == -signal.SIGKILL, "rc %r" % p.returncode)
    check(sessions(col) == [], "a killed run sent something")
    run(work, env, "init-only", 0)
    s = settle(col, 2, "the abnormal and exited updates")
    U.wait_for(lambda: U.reports_in(spool) == [], "the spool to empty", 30)
    s = sorted((x[1] for x in sessions(col)), key=lambda j: j["status"])
    check([j["status"] for j in s] == ["abnormal", "exited"],
          "statuses %r" % [j["status"] for j in s])
    check_session(s[0], "abnormal")
    check_session(s[1], "exited")
    check(s[0]["sid"] == first[0], "abnormal sid %s, marker %s" %
          (s[0]["sid"], first[0]))
    check(s[1]["sid"] != first[0], "the restart reused the sid")
    check("duration" not in s[0], "an abnormal end has no known duration")
    check(markers(spool) == [], "markers left: %r" % markers(spool))


def no_session(work, spool, col, env):
    run(work, env, "init-only", 0)
    run(work, env, "null", -signal.SIGSEGV)
    U.wait_for(lambda: [r for r in col.records() if "envelope" in r],
               "the crash's envelope", 60)
    U.wait_for(lambda: U.reports_in(spool) == [], "the spool to empty", 30)
    check(sessions(col) == [], "a session was sent: %r" % sessions(col))
    check(markers(spool) == [], "markers %r" % markers(spool))


def t_norelease(work, spool, col):
    no_session(work, spool, col, prog_env(work, spool, col, release=None))


def t_optout(work, spool, col):
    no_session(work, spool, col, prog_env(
        work, spool, col, extra={"CRASHWATCH_AUTO_SESSION_TRACKING": "0"}))


def t_ratelimit(work, spool, col):
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    U.learn_limit(col, spool, dsn, "600:session:project")
    n0 = len(col.records())
    run(work, prog_env(work, spool, col), "null", -signal.SIGSEGV)
    recs = U.wait_for(lambda: col.records()[n0:], "the crash's envelope", 60)
    items = [i["header"]["type"] for i in recs[0]["envelope"]["items"]]
    check(items[0] == "event" and "session" not in items,
          "crash under a session limit sent %r" % items)
    U.check_envelope_with_dump(col, recs[0])
    held = U.wait_for(lambda: [d for d in U.reports_in(spool) if
                               os.listdir(os.path.join(spool, d)) ==
                               ["session"]], "the held session", 30)
    check(len(held) == 1 and U.reports_in(spool) == held,
          "spool %r" % U.reports_in(spool))
    U.expire_limits(spool)
    U.upload("--spool", spool, "--dsn", dsn, check_rc=0)
    s = sessions(col)
    check(len(s) == 1, "sessions %r" % [x[1] for x in s])
    check_session(s[0][1], "crashed")
    check(U.reports_in(spool) == [], "spool %r" % U.reports_in(spool))


SCENARIOS = {
    "crash": t_crash,
    "clean": t_clean,
    "clean_lazy": t_clean_lazy,
    "abnormal": t_abnormal,
    "norelease": t_norelease,
    "optout": t_optout,
    "ratelimit": t_ratelimit,
}


def main():
    name = sys.argv[1]
    work = tempfile.mkdtemp(prefix="session-%s-" % name, dir=U.TMP_ROOT)
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    try:
        col = U.Collector(work)
        SCENARIOS[name](work, spool, col)
    except AssertionError as e:
        print("FAIL %s: %s" % (name, e))
        print("work dir kept: " + work)
        return 1
    finally:
        for c in U.COLLECTORS:
            c.stop()
    shutil.rmtree(work, ignore_errors=True)
    print("PASS " + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
