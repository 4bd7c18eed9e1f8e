#!/usr/bin/env python3
"""Integration tests of the scope (issue 10) with real crashing children:
tests/progs/scopeprog fills the scope through the public API and crashes;
the watchdog merges the scope into the report, scrubs it, copies the
attachments, and (with a target) the uploader delivers it to the loopback
collector (tests/collector/collector.py).

  scope_test.py --prog PATH --case NAME

Every case checks: death by SIGSEGV, exactly one committed report, and
event.json is one valid JSON object. Work happens in a fresh directory
under $CW_TEST_TMP (or the system's temporary directory).

CW_SCOPE_HAMMER_RUNS sets the runs of the `hammer` case (default 50; the
sanitizer build sets fewer to stay within the suite's time budget).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from cw_check import CollectorProcess

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTOR = os.path.join(SRC, "tests", "collector", "collector.py")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
TAIL = 256 * 1024
CLI = None  # the crashwatch command (--cli), for `crashwatch dump`


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(fn, what, timeout=30):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise Fail("timed out waiting for " + what)
        time.sleep(0.05)


def reports(spool):
    if not os.path.isdir(spool):
        return []
    return sorted(d for d in os.listdir(spool)
                  if not d.startswith(".") and d not in ("failed",)
                  and os.path.isdir(os.path.join(spool, d)))


def env_for(spool, extra=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("CRASHWATCH_") or k.startswith("SENTRY_") or \
                k == "TRACEPARENT":
            env.pop(k)
    env.update({
        "CRASHWATCH_SPOOL": spool,
        "CRASHWATCH_SYMBOLIZE_BUDGET_MS": "0",
        "CRASHWATCH_PRINT_SUMMARY": "0",
        "ASAN_OPTIONS": "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                        "handle_sigill=0:handle_abort=0:detect_leaks=0:"
                        "allow_user_segv_handler=1",
    })
    env.update(extra or {})
    return env


def crash(prog, work, spool, args, extra=None):
    """Runs prog with args; returns (the report's directory, its event)."""
    with open(os.path.join(work, "stderr"), "ab") as err:
        p = subprocess.run([prog] + args, env=env_for(spool, extra),
                           stdout=subprocess.DEVNULL, stderr=err,
                           stdin=subprocess.DEVNULL, timeout=60)
    check(p.returncode == -signal.SIGSEGV,
          "%s: exit status %d, not SIGSEGV; stderr:\n%s" %
          (args, p.returncode, open(os.path.join(work, "stderr")).read()))
    rs = reports(spool)
    check(len(rs) == 1, "%s: want exactly one report, have %r" % (args, rs))
    d = os.path.join(spool, rs[0])
    raw = open(os.path.join(d, "event.json"), "rb").read()
    try:
        ev = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise Fail("%s: event.json is not valid JSON: %s\n%r" % (args, e, raw[:2000]))
    check(isinstance(ev, dict), "event.json is not an object")
    return d, ev, raw


def fresh(work, name):
    d = os.path.join(work, name)
    os.makedirs(d)
    return d, os.path.join(d, "spool")


def crashpad_annotations(path):
    """The simple annotations of a minidump's Crashpad info stream."""
    data = open(path, "rb").read()
    check(data[:4] == b"MDMP", "not a minidump")
    count, rva = struct.unpack_from("<II", data, 8)
    for i in range(count):
        typ, size, srva = struct.unpack_from("<III", data, rva + 12 * i)
        if typ != 0x43500001:
            continue
        dsize, drva = struct.unpack_from("<II", data, srva + 36)
        n = struct.unpack_from("<I", data, drva)[0]
        out = []
        for k in range(n):
            kr, vr = struct.unpack_from("<II", data, drva + 4 + 8 * k)

            def s(r):
                ln = struct.unpack_from("<I", data, r)[0]
                return data[r + 4:r + 4 + ln].decode("utf-8")
            out.append((s(kr), s(vr)))
        return out
    return None


# ---- cases ----------------------------------------------------------------

def t_all(prog, work):
    # After setting each kind of context, the event carries it exactly.
    sub, spool = fresh(work, "all")
    d, ev, _ = crash(prog, sub, spool, ["all"], {
        "SENTRY_RELEASE": "app@1.2.3", "SENTRY_ENVIRONMENT": "staging",
        "SENTRY_DIST": "b7"})
    check(ev.get("tags") == {"tenant": "acme", "region": "eu-west-1"},
          "tags %r" % ev.get("tags"))
    extra = ev.get("extra", {})
    check(extra.get("order") == {"id": 7, "items": [1, 2, 3], "ok": True},
          "extra.order %r" % extra.get("order"))
    check(extra.get("ratio") == 0.5, "extra.ratio %r" % extra.get("ratio"))
    check("gone" not in extra, "a removed extra is in the event")
    check(all(k in ("order", "ratio") or k.startswith("crashwatch.")
              for k in extra), "extra keys %r" % list(extra))
    check(ev.get("user") == {"id": "42", "email": "ann@example.com",
                             "username": "ann"}, "user %r" % ev.get("user"))
    ctx = ev.get("contexts", {})
    check(ctx.get("kafka") == {"topic": "orders", "partition": 3,
                               "offset": 12345}, "kafka %r" % ctx.get("kafka"))
    check(ctx.get("trace") == {"trace_id": TRACE_ID, "span_id": SPAN_ID,
                               "type": "trace"}, "trace %r" % ctx.get("trace"))
    check("gone" not in ctx, "a removed context is in the event")
    check("os" in ctx and "device" in ctx, "crashwatch's own contexts lost")
    check(ev.get("fingerprint") == ["{{ default }}", "db-pool"],
          "fingerprint %r" % ev.get("fingerprint"))
    check(ev.get("level") == "error", "level %r" % ev.get("level"))
    check(ev.get("transaction") == "GET /orders",
          "transaction %r" % ev.get("transaction"))
    check(ev.get("release") == "app@1.2.3", "release %r" % ev.get("release"))
    check(ev.get("environment") == "staging",
          "environment %r" % ev.get("environment"))
    check(ev.get("dist") == "b7", "dist %r" % ev.get("dist"))
    check(ev.get("server_name") == socket.gethostname(),
          "server_name %r" % ev.get("server_name"))
    crumbs = ev.get("breadcrumbs", {}).get("values")
    check(isinstance(crumbs, list) and len(crumbs) == 2, "crumbs %r" % crumbs)
    for c in crumbs:
        check(ISO.match(c.get("timestamp", "")), "timestamp %r" % c)
    strip = [{k: v for k, v in c.items() if k != "timestamp"} for c in crumbs]
    check(strip == [{"type": "http", "category": "net", "message": "GET /orders",
                     "level": "info", "data": {"status": 200}},
                    {"category": "db", "message": "pool exhausted",
                     "level": "warning"}], "crumbs %r" % strip)
    check(crumbs[0]["timestamp"] <= crumbs[1]["timestamp"], "crumb order")
    # The exception is still there, and the keys appear once each.
    check(ev["exception"]["values"][0]["type"] == "SIGSEGV", "exception")
    # The minidump carries the release and tags for Breakpad-style readers.
    ann = crashpad_annotations(os.path.join(d, "minidump.dmp"))
    check(ann is not None, "no Crashpad info stream in the minidump")
    check(dict(ann) == {"release": "app@1.2.3", "environment": "staging",
                        "dist": "b7", "tenant": "acme", "region": "eu-west-1"},
          "annotations %r" % ann)
    if CLI:
        out = subprocess.run([CLI, "dump", d], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=60).stdout.decode()
        check("Annotations:" in out and "  tenant = acme" in out and
              "  release = app@1.2.3" in out, "crashwatch dump:\n" + out)


def t_crumbs250(prog, work):
    # 250 breadcrumbs with the default ring: the newest 100, oldest first.
    sub, spool = fresh(work, "crumbs")
    _, ev, _ = crash(prog, sub, spool, ["crumbs", "250"])
    crumbs = ev.get("breadcrumbs", {}).get("values", [])
    msgs = [c.get("message") for c in crumbs]
    check(msgs == ["crumb-%d" % i for i in range(150, 250)],
          "messages %r" % msgs)
    check([c.get("data") for c in crumbs] ==
          [{"i": i} for i in range(150, 250)], "data")
    ts = [c["timestamp"] for c in crumbs]
    check(ts == sorted(ts), "timestamps not oldest first")


def hammer_check(ev, run):
    tags = ev.get("tags", {})
    for k, v in tags.items():
        check(re.match(r"^t[0-7]$", k), "run %d: tag key %r" % (run, k))
        m = re.match(r"^v(\d+)-(\d+)$", v)
        check(m and m.group(1) == m.group(2),
              "run %d: torn tag %s=%r" % (run, k, v))
    crumbs = ev.get("breadcrumbs", {}).get("values", [])
    check(len(crumbs) <= 100, "run %d: %d crumbs" % (run, len(crumbs)))
    last = {}
    for c in crumbs:
        m = re.match(r"^w([0-7])-(\d+)$", c.get("message", ""))
        check(m, "run %d: torn crumb %r" % (run, c))
        k, i = int(m.group(1)), int(m.group(2))
        check(c.get("data") == {"k": k, "i": i},
              "run %d: crumb %r: data does not match its message" % (run, c))
        check(c.get("category") == "hammer" and c.get("level") == "debug" and
              c.get("type") == "default", "run %d: crumb %r" % (run, c))
        check(ISO.match(c.get("timestamp", "")), "run %d: %r" % (run, c))
        check(i > last.get(k, -1),
              "run %d: thread %d's crumbs out of order (%d after %d)" %
              (run, k, i, last.get(k, -1)))
        last[k] = i


def t_hammer(prog, work):
    # Eight threads hammer tags and breadcrumbs while a ninth crashes: each
    # event is valid JSON with internally consistent entries.
    runs = int(os.environ.get("CW_SCOPE_HAMMER_RUNS", "50"))
    for run in range(runs):
        sub, spool = fresh(work, "hammer%d" % run)
        _, ev, _ = crash(prog, sub, spool, ["hammer"])
        hammer_check(ev, run)
        check(len(ev.get("breadcrumbs", {}).get("values", [])) > 0,
              "run %d: no breadcrumbs" % run)
        shutil.rmtree(sub)
    sys.stdout.write("hammer: %d runs consistent\n" % runs)


def t_secret(prog, work):
    # Secrets in extra, tags, contexts and breadcrumb data arrive
    # "[Filtered]"; CRASHWATCH_SCRUB_KEYS adds patterns, and
    # CRASHWATCH_SCRUB_DEFAULTS=0 turns the defaults off.
    sub, spool = fresh(work, "secret")
    _, ev, raw = crash(prog, sub, spool, ["secret"],
                       {"CRASHWATCH_SCRUB_KEYS": "pin"})
    F = "[Filtered]"
    extra = ev["extra"]
    check(extra.get("db") == {"host": "db1", "password": F}, "db %r" % extra.get("db"))
    check(extra.get("api_token") == F, "api_token %r" % extra.get("api_token"))
    check(extra.get("tenant_pin") == F, "tenant_pin %r" % extra.get("tenant_pin"))
    check(ev["tags"].get("session_id") == F, "tags %r" % ev["tags"])
    check(ev["contexts"].get("auth") == {"user": F, "scheme": F},
          "contexts.auth %r" % ev["contexts"].get("auth"))
    data = ev["breadcrumbs"]["values"][0]["data"]
    check(data == {"url": "/login", "headers": {"Cookie": F}}, "data %r" % data)
    for secret in (b"hunter2", b"tok-123456", b"sess-abcdef", b"s3cr3tc00kie",
                   b"9876"):
        check(secret not in raw, "%r in event.json" % secret)
    # Defaults off, no list: everything as set.
    sub, spool = fresh(work, "secret-off")
    _, ev, raw = crash(prog, sub, spool, ["secret"],
                       {"CRASHWATCH_SCRUB_DEFAULTS": "0"})
    check(ev["extra"]["db"]["password"] == "hunter2", "defaults still on")
    check(ev["extra"]["tenant_pin"] == "9876", "tenant_pin %r" % ev["extra"])


def t_pii(prog, work):
    # send_default_pii off (the default): crashwatch adds no user data and
    # no IP address; on: the address is left to Sentry ("{{auto}}").
    sub, spool = fresh(work, "pii-off")
    _, ev, raw = crash(prog, sub, spool, ["user-noip"])
    check(ev.get("user") == {"id": "7", "username": "bob"}, "user %r" % ev.get("user"))
    check(b"ip_address" not in raw, "an ip_address in the event")
    sub, spool = fresh(work, "pii-crumbs")
    _, ev, raw = crash(prog, sub, spool, ["crumbs", "3"])
    check("user" not in ev, "a user without cw_set_user: %r" % ev.get("user"))
    sub, spool = fresh(work, "pii-on")
    _, ev, _ = crash(prog, sub, spool, ["user-noip"],
                     {"CRASHWATCH_SEND_DEFAULT_PII": "1"})
    check(ev.get("user") == {"id": "7", "username": "bob",
                             "ip_address": "{{auto}}"}, "user %r" % ev.get("user"))


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


def make_log(path, size):
    line = b"".join(b"%08d log line of the application, padded to a width\n" % i
                    for i in range(4096))
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(line[:left])
            left -= min(left, len(line))
    return open(path, "rb").read()


def t_attach(prog, work):
    # An attachment of a 10 MB log: its last 256 KiB in the report, and in
    # the upload the loopback collector receives, both as a Sentry envelope
    # (DSN) and as a Breakpad-style multipart upload (URL); a FIFO and a
    # missing file registered beside it are noted and do not stop the
    # report.
    log = os.path.join(work, "app.log")
    data = make_log(log, 10 * 1000 * 1000)
    tail = data[-TAIL:]
    fifo = os.path.join(work, "pipe")
    os.mkfifo(fifo)
    missing = os.path.join(work, "missing.log")
    for target in ("envelope", "multipart"):
        sub, spool = fresh(work, target)
        col = Collector(sub)
        try:
            extra = {"SENTRY_RELEASE": "app@2.0"}
            if target == "envelope":
                extra["SENTRY_DSN"] = "http://pubkey@127.0.0.1:%d/42" % col.port
            else:
                extra["CRASHWATCH_UPLOAD_URL"] = \
                    "http://127.0.0.1:%d/minidump" % col.port
            with open(os.path.join(sub, "stderr"), "wb") as err:
                p = subprocess.run([prog, "attach", log, fifo, missing],
                                   env=env_for(spool, extra),
                                   stdout=subprocess.DEVNULL, stderr=err,
                                   stdin=subprocess.DEVNULL, timeout=60)
            check(p.returncode == -signal.SIGSEGV, "exit %d: %s" % (
                p.returncode, open(os.path.join(sub, "stderr")).read()))
            recs = wait_for(lambda: col.records(), "the upload", 60)
            wait_for(lambda: reports(spool) == [], "the report to be delivered")
            check(len(recs) == 1, "%d requests" % len(recs))
            r = recs[0]
            check("parse_error" not in r, "collector: %s" % r.get("parse_error"))
            if target == "envelope":
                items = r["envelope"]["items"]
                atts = [i["header"] for i in items
                        if i["header"].get("attachment_type") == "event.attachment"]
                check(len(atts) == 1, "attachments %r" % atts)
                h = atts[0]
                check(h.get("filename") == "app.log" and
                      h.get("content_type") == "text/plain" and
                      h.get("length") == TAIL, "attachment header %r" % h)
                eid = r["envelope"]["header"]["event_id"]
            else:
                mp = r["multipart"]
                files = mp["files"]
                check("app.log" in files, "files %r" % list(files))
                f = files["app.log"]
                check(f["filename"] == "app.log" and
                      f.get("content_type") == "text/plain" and
                      f["length"] == TAIL, "part %r" % f)
                check("upload_file_minidump" in files, "no minidump part")
                fields = mp["fields"]
                check(fields.get("release") == "app@2.0",
                      "release field %r" % fields)
                check(fields.get("tenant") == "acme", "tag field %r" % fields)
                ev = json.loads(fields["sentry"])
                eid = ev["event_id"]
                check(ev.get("tags", {}).get("tenant") == "acme",
                      "tags %r" % ev.get("tags"))
            got = open(os.path.join(col.save, eid, "app.log"), "rb").read()
            check(got == tail, "%s: the uploaded attachment is not the log's "
                  "last %d bytes (%d bytes)" % (target, TAIL, len(got)))
        finally:
            col.stop()
    # And in the report itself, with no target: the same tail, and what
    # became of each registered file.
    sub, spool = fresh(work, "local")
    d, ev, _ = crash(prog, sub, spool, ["attach", log, fifo, missing])
    got = open(os.path.join(d, "app.log"), "rb").read()
    check(got == tail, "report: not the last %d bytes" % TAIL)
    check(sorted(os.listdir(d)) == ["app.log", "event.json", "minidump.dmp"],
          "report files %r" % sorted(os.listdir(d)))
    notes = ev["extra"].get("crashwatch.attachments")
    check(notes == [
        {"path": log, "file": "app.log", "size": len(data),
         "kept_bytes": TAIL, "truncated": True},
        {"path": fifo, "error": "a FIFO"},
        {"path": missing, "error": "no such file"}],
        "crashwatch.attachments %r" % notes)


CASES = {"all": t_all, "crumbs250": t_crumbs250, "hammer": t_hammer,
         "secret": t_secret, "pii": t_pii, "attach": t_attach}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli")
    a = ap.parse_args()
    global CLI
    CLI = a.cli
    work = tempfile.mkdtemp(prefix="cw-scope-",
                            dir=os.environ.get("CW_TEST_TMP") or None)
    try:
        CASES[a.case](a.prog, work)
    except Fail as e:
        sys.stdout.write("FAIL: %s\n(work dir kept: %s)\n" % (e, work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
