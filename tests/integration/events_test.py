#!/usr/bin/env python3
"""Integration tests of events besides crashes (issue 11) with real
processes: tests/progs/eventprog sends messages, events and dumps of
itself through the public API; the watchdog writes them into the spool
and (with a target) the uploader delivers them to the loopback collector
(tests/collector/collector.py).

  events_test.py --prog EVENTPROG --cli CRASHWATCH --case NAME

Every case checks the program's exit status (0: it went on) and the
number of reports. Work happens in a fresh directory under $CW_TEST_TMP.
Breakpad's minidump_stackwalk ($CW_MINIDUMP_STACKWALK, else on PATH)
reads the dumps when it is installed; without it that check is skipped
with a message and the dump is read by this script's own reader of the
minidump's thread list and exception streams, and by `crashwatch dump`.
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from cw_check import CollectorProcess, check, failures, finish

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTOR = os.path.join(SRC, "tests", "collector", "collector.py")
PROG = CLI = None


def wait_for(fn, what, timeout=60):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            check(False, "timed out waiting for " + what)
            return v
        time.sleep(0.05)


def reports(spool):
    """Event reports: not the session-only ones a run with a release
    leaves at its end (docs/sessions.md)."""
    if not os.path.isdir(spool):
        return []
    return sorted(d for d in os.listdir(spool)
                  if not d.startswith(".") and d != "failed"
                  and os.path.isdir(os.path.join(spool, d))
                  and os.listdir(os.path.join(spool, d)) != ["session"])


def event_records(col):
    """The collector's requests that carry an event (each run with a
    release and a DSN also sends its session update, alone)."""
    return [r for r in col.records()
            if "parse_error" in r or "envelope" not in r or
            any(i["header"]["type"] == "event"
                for i in r["envelope"]["items"])]


def env_for(spool, extra=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith(("CRASHWATCH_", "SENTRY_")) or k == "TRACEPARENT":
            env.pop(k)
    env.update({"CRASHWATCH_SPOOL": spool,
                "CRASHWATCH_PRINT_SUMMARY": "0",
                "CRASHWATCH_SYMBOLIZE_BUDGET_MS": "5000",
                "ASAN_OPTIONS": "detect_leaks=0"})
    env.update(extra or {})
    return env


def run(work, spool, args, extra=None, want_reports=1):
    """Runs eventprog; returns (stdout, [event dicts]) once the watchdog
    has written want_reports reports (it works after the program exits)."""
    err = os.path.join(work, "stderr")
    with open(err, "ab") as ef:
        p = subprocess.run([PROG] + args, env=env_for(spool, extra),
                           stdout=subprocess.PIPE, stderr=ef,
                           stdin=subprocess.DEVNULL, timeout=120)
    out = p.stdout.decode()
    check(p.returncode == 0, "%s: exit status %d (the program must go on); "
          "stdout %r stderr:\n%s" % (args, p.returncode, out, open(err).read()))
    if want_reports is None:  # an uploader may be taking them already
        return out, []
    wait_for(lambda: len(reports(spool)) >= want_reports,
             "%d report(s) of %s" % (want_reports, args))
    time.sleep(0.3)  # a report too many would show now
    rs = reports(spool)
    check(len(rs) == want_reports, "%s: want %d report(s), have %d" %
          (args, want_reports, len(rs)))
    evs = []
    for r in rs:
        with open(os.path.join(spool, r, "event.json")) as f:
            evs.append(json.load(f))
        check(evs[-1]["event_id"] == r, "event_id is not the report's name")
    return out, evs


def crumbs(ev):
    return [c.get("message") for c in ev.get("breadcrumbs", {}).get("values", [])]


def scope_checks(ev, what):
    check(ev.get("user") == {"id": "42", "username": "ann"},
          "%s: user %r" % (what, ev.get("user")))
    check(ev["contexts"].get("trace", {}).get("trace_id") ==
          "4bf92f3577b34da6a3ce929d0e0e4736", what + ": no trace context")
    check(crumbs(ev) == ["crumb-1", "crumb-2", "crumb-3"],
          "%s: breadcrumbs %r (the scope as of the call: not crumb-after)" %
          (what, crumbs(ev)))
    check(ev.get("platform") == "native" and ev.get("sdk", {}).get("name") ==
          "crashwatch", what + ": platform/sdk")
    for c in ("os", "device"):
        check(c in ev["contexts"], "%s: no contexts.%s" % (what, c))


def t_message(work):
    spool = os.path.join(work, "spool")
    out, evs = run(work, spool, ["message"],
                   {"SENTRY_RELEASE": "app@1.2.3", "SENTRY_ENVIRONMENT": "prod"})
    check("rc 0" in out, "cw_capture_message: " + out)
    ev = evs[0]
    d = os.path.join(spool, reports(spool)[0])
    check(sorted(os.listdir(d)) == ["event.json"],
          "a message's report holds event.json only: %r" % os.listdir(d))
    check(ev.get("message") == {"formatted": "disk /var is 97% full"},
          "message %r" % ev.get("message"))
    check(ev.get("level") == "warning", "level %r" % ev.get("level"))
    check("exception" not in ev and "threads" not in ev,
          "a message has no exception or threads without attach_stacktrace")
    check(ev.get("release") == "app@1.2.3" and ev.get("environment") == "prod",
          "release/environment")
    check(ev.get("tags") == {"tenant": "acme", "region": "eu-1"},
          "tags %r" % ev.get("tags"))
    check(ev.get("extra", {}).get("batch") == {"size": 7}, "extra")
    scope_checks(ev, "message")


def t_event(work):
    spool = os.path.join(work, "spool")
    out, evs = run(work, spool, ["event"])
    check("rc 0" in out, "cw_capture_event: " + out)
    ev = evs[0]
    check(ev["event_id"] == "0123456789abcdef0123456789abcdef",
          "the app's event_id (lowercased) names the report: " + ev["event_id"])
    check(ev.get("message") == {"formatted": "from the app"}, "message")
    check(ev.get("level") == "warning", "the event's level wins")
    check(ev.get("logger") == "my.logger" and ev.get("transaction") == "GET /x",
          "the event's own members are kept")
    check(ev.get("tags") == {"tenant": "app-wins", "own": "yes",
                             "region": "eu-1"},
          "tags merged key by key, the event's win: %r" % ev.get("tags"))
    check(ev["extra"].get("password") == "[Filtered]",
          "the event's values are scrubbed: %r" % ev["extra"])
    check(ev["extra"].get("n") == [1, 2] and
          ev["extra"].get("batch") == {"size": 7}, "extra merged")
    check(ev["contexts"].get("kafka") == {"topic": "app-topic"},
          "the event's context wins: %r" % ev["contexts"].get("kafka"))
    scope_checks(ev, "event")


def t_bad(work):
    spool = os.path.join(work, "spool")
    out, _ = run(work, spool, ["bad"], want_reports=0)
    for line in ("notobject -4001", "broken -4001", "null -22", "level -22",
                 "toobig -4014"):
        check(line in out, "refusal %r not in %r" % (line, out))


# ---- minidumps ----

def md_streams(data):
    sig, ver, n, rva = struct.unpack_from("<IIII", data, 0)
    check(sig == 0x504D444D, "no MDMP signature")
    out = {}
    for i in range(n):
        t, size, off = struct.unpack_from("<III", data, rva + 12 * i)
        out[t] = (off, size)
    return out


def md_threads_and_exception(path):
    """(thread ids, exception code, exception thread) from the raw streams:
    a reader of our own, independent of crashwatch's."""
    data = open(path, "rb").read()
    st = md_streams(data)
    off, _ = st[3]  # ThreadList
    (n,) = struct.unpack_from("<I", data, off)
    tids = [struct.unpack_from("<I", data, off + 4 + 48 * i)[0]
            for i in range(n)]
    off, _ = st[6]  # Exception: thread_id, align, then MDException code
    tid, _, code = struct.unpack_from("<III", data, off)
    return tids, code, tid


def stackwalk():
    p = os.environ.get("CW_MINIDUMP_STACKWALK") or shutil.which(
        "minidump_stackwalk")
    return p if p and os.access(p, os.X_OK) else None


def dump_checks(work, spool, ev, nthreads, message):
    rs = reports(spool)
    d = os.path.join(spool, rs[0])
    md = os.path.join(d, "minidump.dmp")
    check(os.path.exists(md), "a dump's report has minidump.dmp")
    check(ev.get("level") == "error", "a dump's level is error")
    check(ev.get("message") == {"formatted": message},
          "message %r" % ev.get("message"))
    check("exception" not in ev, "a live dump has no exception")
    th = ev.get("threads", {}).get("values", [])
    check(len(th) == nthreads, "event: %d threads, want %d" % (len(th), nthreads))
    cur = [t for t in th if t.get("current")]
    check(len(cur) == 1 and not any(t.get("crashed") for t in th),
          "one current thread, none crashed")
    fn = lambda t: [f.get("function") for f in t.get("stacktrace", {})
                    .get("frames", [])]
    workers = [t for t in th if not t.get("current")]
    check(all("worker_parked_here" in fn(t) for t in workers),
          "every worker's stack holds worker_parked_here: %r" %
          [fn(t) for t in workers])
    if not os.path.exists(md):
        return
    tids, code, etid = md_threads_and_exception(md)
    check(len(tids) == nthreads, "minidump: %d threads, want %d" %
          (len(tids), nthreads))
    check(code == 0xFFFFFFFF, "exception code 0x%x, want DUMP_REQUESTED" % code)
    check(etid == cur[0]["id"] if cur else False,
          "the exception stream names the current thread")
    j = subprocess.run([CLI, "dump", "--json", md], capture_output=True,
                       text=True)
    check(j.returncode == 0, "crashwatch dump: " + j.stderr)
    if j.returncode == 0:
        dj = json.loads(j.stdout)
        check(len(dj["threads"]) == nthreads and dj["errors"] == [],
              "crashwatch dump reads %d threads, errors %r" %
              (len(dj["threads"]), dj["errors"]))
    sw = stackwalk()
    if sw is None:
        print("SKIP (partly): Breakpad's minidump_stackwalk is not installed "
              "(set CW_MINIDUMP_STACKWALK); the dump was read by this "
              "script and by crashwatch dump")
        return
    p = subprocess.run([sw, "-m", md], capture_output=True, text=True)
    check(p.returncode == 0, "minidump_stackwalk failed: " + p.stderr[-2000:])
    walked = {l.split("|")[0] for l in p.stdout.splitlines()
              if l[:1].isdigit() and "|" in l}
    check(len(walked) == nthreads, "minidump_stackwalk: %d threads" %
          len(walked))
    check("DUMP_REQUESTED" in p.stdout, "minidump_stackwalk: no DUMP_REQUESTED")


def t_dump(work):
    spool = os.path.join(work, "spool")
    out, evs = run(work, spool, ["dump", "6"])
    check("rc 0" in out and "alive 1" in out,
          "cw_capture_dump returned and the threads went on: %r" % out)
    dump_checks(work, spool, evs[0], 6, "wedged queue")
    th = [t for t in evs[0]["threads"]["values"] if t.get("current")]
    fns = [f.get("function") for f in th[0]["stacktrace"]["frames"]] if th else []
    check(fns[-2:] == ["main", "cw_capture_dump"],
          "the current thread's stack starts at cw_capture_dump, from main: %r"
          % fns)
    scope_checks(evs[0], "dump")


def t_sigdump(work):
    spool = os.path.join(work, "spool")
    out, evs = run(work, spool, ["sigdump", "6"])
    check("rc 0" in out and "alive 1" in out,
          "after SIGQUIT the program went on: %r" % out)
    dump_checks(work, spool, evs[0], 6, "Dump requested by signal SIGQUIT")


def t_cap(work):
    # 40 messages against a cap of 5 per minute: 5 reports, 35 refused with
    # CW_ERATELIMIT and counted (10 if the burst straddled a minute).
    spool = os.path.join(work, "spool")
    err = os.path.join(work, "stderr")
    p = subprocess.run([PROG, "burst", "40"], stdout=subprocess.PIPE,
                       stderr=open(err, "ab"), timeout=120,
                       env=env_for(spool, {"CRASHWATCH_MAX_EVENTS_PER_MINUTE": "5"}))
    out = p.stdout.decode().split("\n")
    check(p.returncode == 0, "exit %d" % p.returncode)
    pattern, dropped = out[0], int(out[1].split()[1])
    sent = pattern.count("S")
    check(sent in (5, 10) and pattern.count("L") == 40 - sent and
          pattern.startswith("SSSSS"), "pattern %r" % pattern)
    check(dropped == 40 - sent, "dropped %d" % dropped)
    wait_for(lambda: len(reports(spool)) >= sent, "%d reports" % sent)
    time.sleep(0.3)
    check(len(reports(spool)) == sent, "%d reports, want %d" %
          (len(reports(spool)), sent))


def t_sample(work):
    # Sample rate 0.5 with a fixed seed, no cap: the sent events carry the
    # drops since the one before (crashwatch.dropped_events); sampling 0
    # sends nothing, 1 everything.
    spool = os.path.join(work, "spool")
    err = os.path.join(work, "stderr")
    p = subprocess.run([PROG, "burst", "200"], stdout=subprocess.PIPE,
                       stderr=open(err, "ab"), timeout=120,
                       env=env_for(spool, {"CRASHWATCH_MAX_EVENTS_PER_MINUTE": "0",
                                           "CRASHWATCH_SPOOL_MAX_REPORTS": "0",
                                           "SENTRY_SAMPLE_RATE": "0.5",
                                           "EVENTPROG_SEED": "12345"}))
    out = p.stdout.decode().split("\n")
    pattern, dropped = out[0], int(out[1].split()[1])
    check("[" not in pattern, "unexpected return codes: %r" % pattern)
    # F: sampled in, but the socket was full (the watchdog behind): a drop
    # too, but not the sampler's.
    sent = pattern.count("S")
    kept = sent + pattern.count("F")
    check(60 <= kept <= 140 and pattern.count("D") == 200 - kept,
          "rate 0.5: %d of 200 kept (%r)" % (kept, pattern))
    check(dropped == 200 - sent, "dropped %d" % dropped)
    wait_for(lambda: len(reports(spool)) >= sent, "%d reports" % sent)
    time.sleep(0.3)
    evs = []
    for r in reports(spool):
        with open(os.path.join(spool, r, "event.json")) as f:
            evs.append(json.load(f))
    check(len(evs) == sent, "%d reports, want %d" % (len(evs), sent))
    # Each sent event carries the drops just before it.
    want = {}
    run_ = 0
    for i, c in enumerate(pattern):
        if c in "DF":
            run_ += 1
        else:
            want["burst %d" % i] = run_
            run_ = 0
    for ev in evs:
        m = ev["message"]["formatted"]
        got = ev.get("extra", {}).get("crashwatch.dropped_events", 0)
        check(got == want.get(m), "%s: dropped_events %r, want %r" %
              (m, got, want.get(m)))
    # The same seed, the same choices.
    p2 = subprocess.run([PROG, "burst", "200"], stdout=subprocess.PIPE,
                        stderr=open(err, "ab"), timeout=120,
                        env=env_for(os.path.join(work, "spool2"),
                                    {"CRASHWATCH_MAX_EVENTS_PER_MINUTE": "0",
                                     "SENTRY_SAMPLE_RATE": "0.5",
                                     "EVENTPROG_SEED": "12345"}))
    norm = lambda p: p.replace("F", "S")
    check(norm(p2.stdout.decode().split("\n")[0]) == norm(pattern),
          "a fixed seed samples the same events")
    for rate, want_s in (("0", 0), ("1", 50)):
        sp = os.path.join(work, "spool-rate" + rate)
        p3 = subprocess.run([PROG, "burst", "50"], stdout=subprocess.PIPE,
                            stderr=open(err, "ab"), timeout=120,
                            env=env_for(sp, {"CRASHWATCH_MAX_EVENTS_PER_MINUTE": "0",
                                             "SENTRY_SAMPLE_RATE": rate}))
        check(p3.stdout.decode().split("\n")[0].count("S") == want_s,
              "rate %s: %r" % (rate, p3.stdout))


def t_stack(work):
    spool = os.path.join(work, "spool")
    out, evs = run(work, spool, ["stack"])
    check("rc 0" in out, "attach_stacktrace: " + out)
    th = evs[0].get("threads", {}).get("values", [])
    check(len(th) == 1 and th[0].get("current"), "one current thread: %r" % th)
    fns = [f.get("function") for f in th[0].get("stacktrace", {}).get("frames", [])] if th else []
    check("nested_message_here" in fns and "main" in fns and
          fns[-1] == "cw_capture_message",
          "the caller's stack, symbolized: %r" % fns)
    check(fns.count("nested_message_here") >= 2,
          "the nested calls: %r" % fns)
    check(len(evs[0].get("debug_meta", {}).get("images", [])) > 0,
          "debug_meta images")


class Collector(CollectorProcess):
    def __init__(self, work):
        self.log = os.path.join(work, "collector.jsonl")
        self.save = os.path.join(work, "saved")
        pf = os.path.join(work, "port")
        open(self.log, "w").close()
        self.out = open(os.path.join(work, "collector.out"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, COLLECTOR, "--log", self.log, "--port-file", pf,
             "--mode", "200", "--save-dir", self.save, "--port", "0",
             "--no-fsync"], stdout=self.out, stderr=self.out,
            stdin=subprocess.DEVNULL)
        self.port = int(wait_for(lambda: os.path.exists(pf) and open(pf).read(),
                                 "the collector to listen", 10))


def t_upload(work):
    # With a DSN the watchdog's uploader sends each report as an envelope:
    # a message as one event item, a dump with its minidump as an
    # event.minidump attachment; the collector's envelope parser checks
    # the framing (lengths, headers).
    col = Collector(work)
    dsn = "http://pub@127.0.0.1:%d/42" % col.port
    spool = os.path.join(work, "spool")
    extra = {"SENTRY_DSN": dsn, "SENTRY_RELEASE": "app@2"}
    run(work, spool, ["message"], extra, want_reports=None)
    wait_for(lambda: reports(spool) == [] and len(event_records(col)) >= 1,
             "the message's upload")
    spool2 = os.path.join(work, "spool2")
    run(work, spool2, ["dump", "6"], extra, want_reports=None)
    wait_for(lambda: reports(spool2) == [] and len(event_records(col)) >= 2,
             "the dump's upload")
    col.stop()
    recs = event_records(col)
    check(len(recs) == 2, "%d requests, want 2" % len(recs))
    for r in recs:
        check("parse_error" not in r, "collector: %s" % r.get("parse_error"))
    if len(recs) != 2 or any("parse_error" in r for r in recs):
        return
    m_items = recs[0]["envelope"]["items"]
    check([i["header"]["type"] for i in m_items] == ["event"],
          "the message's envelope: %r" % [i["header"] for i in m_items])
    ev = m_items[0]["json"]
    check(ev["message"]["formatted"] == "disk /var is 97% full" and
          ev.get("tags", {}).get("tenant") == "acme" and
          crumbs(ev) == ["crumb-1", "crumb-2", "crumb-3"],
          "the uploaded message with its scope: %r" % ev)
    check(recs[0]["envelope"]["header"]["event_id"] == ev["event_id"],
          "envelope event_id")
    d_items = recs[1]["envelope"]["items"]
    check([i["header"]["type"] for i in d_items] == ["event", "attachment"] and
          d_items[1]["header"].get("attachment_type") == "event.minidump",
          "the dump's envelope: %r" % [i["header"] for i in d_items])


def t_multipart(work):
    # To a Breakpad-style collector (an upload URL, no DSN) a dump goes as
    # multipart with upload_file_minidump; a message, which has no
    # minidump, cannot: it moves to failed/ saying why.
    col = Collector(work)
    url = "http://127.0.0.1:%d/submit" % col.port
    spool = os.path.join(work, "spool")
    extra = {"CRASHWATCH_UPLOAD_URL": url}
    run(work, spool, ["message"], extra, want_reports=None)
    failed = os.path.join(spool, "failed")
    wait_for(lambda: reports(spool) == [] and os.path.isdir(failed) and
             os.listdir(failed), "the message moved to failed/")
    reason = ""
    for root, _, files in os.walk(failed):
        for f in files:
            if "reason" in f:
                reason += open(os.path.join(root, f)).read()
    check("no minidump" in reason, "failed/ reason: %r" % reason)
    spool2 = os.path.join(work, "spool2")
    run(work, spool2, ["dump", "6"], extra, want_reports=None)
    wait_for(lambda: reports(spool2) == [] and len(col.records()) >= 1,
             "the dump's upload")
    col.stop()
    recs = col.records()
    check(len(recs) == 1, "%d requests, want 1 (the dump)" % len(recs))
    if recs:
        check("upload_file_minidump" in recs[0].get("multipart", {})
              .get("files", {}), "multipart without the minidump")


CASES = {"message": t_message, "event": t_event, "bad": t_bad,
         "dump": t_dump, "sigdump": t_sigdump, "cap": t_cap,
         "sample": t_sample, "stack": t_stack, "upload": t_upload,
         "multipart": t_multipart}


def main():
    global PROG, CLI
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    a = ap.parse_args()
    PROG, CLI = a.prog, a.cli
    work = tempfile.mkdtemp(prefix="events-%s-" % a.case,
                            dir=os.environ.get("CW_TEST_TMP"))
    CASES[a.case](work)
    return finish(work, "events %s: ok" % a.case)


if __name__ == "__main__":
    sys.exit(main())
