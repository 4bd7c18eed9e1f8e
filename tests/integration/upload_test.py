#!/usr/bin/env python3
"""Integration tests of `crashwatch upload` against the loopback collector.

Usage: upload_test.py SCENARIO   (see SCENARIOS at the bottom)

Each scenario builds a spool the way the watchdog does (files in .tmp-<id>,
renamed into place), starts tests/collector/collector.py on an ephemeral
port, runs the real crashwatch binary, and checks what the collector parsed
(envelope items, multipart parts, exact attachment bytes) and what is left in
the spool. No assertion depends on timing: waits poll for a condition with a
generous deadline.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from cw_check import CollectorProcess

SRC = os.environ.get("CW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
BIN = os.environ.get("CW_BINARY_DIR", "build")
CRASHWATCH = os.path.join(BIN, "cli", "crashwatch")
COLLECTOR = os.path.join(SRC, "tests", "collector", "collector.py")
TMP_ROOT = os.environ.get("CW_TEST_TMP", tempfile.gettempdir())


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def wait_for(pred, what, deadline=30.0):
    end = time.time() + deadline
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def new_id():
    return os.urandom(16).hex()


def make_report(spool, eid=None, minidump=None, files=None, event=None,
                mtime=None):
    """Writes a report like the watchdog: .tmp-<id>, then rename."""
    eid = eid or new_id()
    tmp = os.path.join(spool, ".tmp-" + eid)
    os.makedirs(tmp, mode=0o700)
    ev = event if event is not None else json.dumps(
        {"event_id": eid, "level": "fatal", "platform": "native",
         "exception": {"values": [{"type": "SIGSEGV", "mechanism":
                                   {"type": "signalhandler"}}]}})
    if ev is not False:
        with open(os.path.join(tmp, "event.json"), "wb") as f:
            f.write(ev.encode() if isinstance(ev, str) else ev)
    if minidump is not None:
        with open(os.path.join(tmp, "minidump.dmp"), "wb") as f:
            f.write(minidump)
    for name, data in (files or {}).items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    final = os.path.join(spool, eid)
    os.rename(tmp, final)
    if mtime is not None:
        os.utime(final, (mtime, mtime))
    return eid


def reports_in(spool):
    if not os.path.isdir(spool):
        return []
    return sorted(n for n in os.listdir(spool)
                  if len(n) == 32 and all(c in "0123456789abcdef" for c in n))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


COLLECTORS = []


class Collector(CollectorProcess):
    def __init__(self, work, mode="200", port=0, tls=None):
        self.work = work
        self.log = os.path.join(work, "collector-%d.jsonl" % id(self))
        self.save = os.path.join(work, "saved")
        pf = os.path.join(work, "port-%d" % id(self))
        args = [sys.executable, COLLECTOR, "--log", self.log, "--port-file", pf,
                "--mode", mode, "--save-dir", self.save, "--port", str(port)]
        if tls:
            args += ["--tls", tls[0], tls[1]]
        open(self.log, "w").close()
        # Its output goes to a file: an inherited pipe would keep CTest
        # waiting if the collector outlived the test.
        self.out = open(os.path.join(work, "collector-%d.out" % id(self)), "wb")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.out,
                                     stdin=subprocess.DEVNULL)
        COLLECTORS.append(self)
        self.port = int(wait_for(lambda: os.path.exists(pf) and open(pf).read(),
                                 "collector to listen", 10))
        self.tls = tls

    def control(self, **cmd):
        import urllib.request
        import ssl
        scheme = "https" if self.tls else "http"
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
        req = urllib.request.Request("%s://127.0.0.1:%d/__control" % (scheme, self.port),
                                     data=json.dumps(cmd).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10, context=ctx).read()


def upload(*args, env=None, check_rc=None, timeout=60):
    e = dict(os.environ)
    for k in ("SENTRY_DSN", "CRASHWATCH_UPLOAD_URL", "CRASHWATCH_SPOOL",
              "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY"):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run([CRASHWATCH, "upload"] + list(args), env=e,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    out = p.stdout.decode() + p.stderr.decode()
    sys.stdout.write("$ crashwatch upload %s\n%s[rc=%d]\n" % (" ".join(args), out, p.returncode))
    if check_rc is not None and p.returncode != check_rc:
        fail("exit status %d, expected %d" % (p.returncode, check_rc))
    return p.returncode, out


def ids_sent(col):
    out = []
    for r in col.records():
        if "envelope" in r:
            out.append(r["envelope"]["header"]["event_id"])
        elif "multipart" in r:
            out.append(json.loads(r["multipart"]["fields"]["sentry"])["event_id"])
    return out


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- scenarios ----------------------------------------------------------

def t_envelope(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    dump = os.urandom(300000) + b"\0" * 200000 + b"\n\n{\"x\":1}\n"
    a = make_report(spool, minidump=dump, files={"app.log": b"line1\nline2\n"})
    b = make_report(spool)
    c = make_report(spool, minidump=b"MDMP" + os.urandom(1000))
    col = Collector(work)
    dsn = "http://pubkey123@127.0.0.1:%d/prefix/42" % col.port
    # The DSN and spool come from the environment here.
    upload("--once", env={"SENTRY_DSN": dsn, "CRASHWATCH_SPOOL": spool},
           check_rc=0)
    col.stop()
    check(reports_in(spool) == [], "spool not empty: %r" % reports_in(spool))
    recs = col.records()
    check(len(recs) == 3, "expected 3 requests, got %d" % len(recs))
    by_id = {}
    for r in recs:
        check("parse_error" not in r, "collector: %s" % r.get("parse_error"))
        check(r["path"] == "/prefix/api/42/envelope/", "path " + r["path"])
        h = r["headers"]
        check(h["content-type"] == "application/x-sentry-envelope", h["content-type"])
        check(h["content-encoding"] == "gzip", "not gzip")
        check(h["user-agent"] == "crashwatch/0.1.0", h["user-agent"])
        check(h["x-sentry-auth"] == "Sentry sentry_version=7, sentry_client="
              "crashwatch/0.1.0, sentry_key=pubkey123", h["x-sentry-auth"])
        env = r["envelope"]
        eh = env["header"]
        check(eh["dsn"] == dsn, "dsn " + eh.get("dsn", ""))
        check(eh["sdk"] == {"name": "crashwatch", "version": "0.1.0"}, str(eh["sdk"]))
        check(len(eh["sent_at"]) == 24 and eh["sent_at"].endswith("Z"), eh["sent_at"])
        items = env["items"]
        check(items[0]["header"]["type"] == "event", "first item not event")
        check(items[0]["json"]["event_id"] == eh["event_id"], "event_id mismatch")
        for it in items:
            check("length" in it["header"], "item without length")
            check(it["header"]["length"] == it["length"], "length mismatch")
        by_id[eh["event_id"]] = items
    check(sorted(by_id) == sorted([a, b, c]), "wrong event ids")
    ia = by_id[a]
    check([i["header"]["type"] for i in ia] == ["event", "attachment", "attachment"],
          str([i["header"] for i in ia]))
    check(ia[1]["header"]["attachment_type"] == "event.minidump", str(ia[1]["header"]))
    check(ia[1]["header"]["filename"] == "minidump.dmp", "filename")
    check(ia[1]["sha256"] == sha(dump), "minidump bytes differ")
    with open(os.path.join(col.save, a, "minidump.dmp"), "rb") as f:
        check(f.read() == dump, "saved minidump differs")
    check(ia[2]["header"]["attachment_type"] == "event.attachment", "attachment type")
    check(ia[2]["header"]["filename"] == "app.log", "attachment name")
    check(ia[2]["sha256"] == sha(b"line1\nline2\n"), "attachment bytes differ")
    check(len(by_id[b]) == 1, "report without files must have one item")


def t_multipart(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    dump = b"MDMP" + os.urandom(70000)
    ev = json.dumps({"event_id": "x", "release": "r1"})
    a = make_report(spool, minidump=dump, event=ev, files={"extra.txt": b"hi"})
    col = Collector(work)
    url = "http://127.0.0.1:%d/submit?token=abc" % col.port
    upload("--spool", spool, "--url", url, "--format", "minidump",
           "--field", "prod=myapp", "--field", "ver=1.2.3", "--field",
           "guid=00000000-0000-0000-0000-000000000001", check_rc=0)
    b = make_report(spool, minidump=dump)
    upload("--spool", spool, "--url", url, "--format", "minidump", "--gzip",
           check_rc=0)
    col.stop()
    recs = col.records()
    check(len(recs) == 2, "expected 2 requests")
    r = recs[0]
    check("parse_error" not in r, r.get("parse_error", ""))
    check(r["path"] == "/submit?token=abc", r["path"])
    check("content-encoding" not in r["headers"], "first upload must not be gzip")
    mp = r["multipart"]
    check(mp["fields"]["prod"] == "myapp" and mp["fields"]["ver"] == "1.2.3" and
          mp["fields"]["guid"].endswith("0001"), str(mp["fields"]))
    check(mp["fields"]["sentry"] == ev, "sentry field differs from event.json")
    f = mp["files"]["upload_file_minidump"]
    check(f["sha256"] == sha(dump) and f["filename"] == "minidump.dmp",
          "minidump bytes differ")
    check(mp["files"]["extra.txt"]["sha256"] == sha(b"hi"), "extra file")
    r = recs[1]
    check(r["headers"].get("content-encoding") == "gzip", "second must be gzip")
    check(r["multipart"]["files"]["upload_file_minidump"]["sha256"] == sha(dump),
          "gzip minidump bytes differ")
    check(reports_in(spool) == [], "spool not empty")


def t_config(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)  # an uploader never creates a spool
    cases = [
        (["--dsn", "https://example.com/1"], "missing public key"),
        (["--dsn", "https://k@example.com/abc"], "is not a number"),
        (["--dsn", "ftp://k@example.com/1"], "not http or https"),
        (["--url", "example.com/submit", "--format", "minidump"], "upload URL: missing \"://\""),
        (["--url", "http://h:99999/x"], "out of range"),
        ([], "no target"),
        (["--dsn", "http://k@h/1", "--format", "zip"], "not envelope or minidump"),
        (["--dsn", "http://k@h/1", "--timeout", "soon"], "not a number of seconds"),
        (["--dsn", "http://k@h/1", "--field", "a=b"], "needs --format minidump"),
        (["--url", "http://h/x", "--field", "novalue"], "expected NAME=VALUE"),
        (["--dsn", "http://k@h/1", "--bogus"], "unknown or incomplete option"),
        (["--dsn", "http://k@h/1", "--ca-bundle", "/nonexistent/ca.pem"], "CA bundle"),
    ]
    for args, hint in cases:
        rc, out = upload("--spool", spool, *args)
        check(rc == 2, "%r: exit %d, expected 2" % (args, rc))
        check(hint in out, "%r: message lacks %r" % (args, hint))
    rc, out = upload("--dsn", "http://k@h/1", env={"SENTRY_DSN": "garbage",
                                                 "CRASHWATCH_SPOOL": spool})
    check(rc == 0, "flag must override a bad SENTRY_DSN")
    rc, out = upload(env={"SENTRY_DSN": "garbage", "CRASHWATCH_SPOOL": spool})
    check(rc == 2 and "DSN:" in out, "bad SENTRY_DSN must be refused")
    rc, out = upload("--help")
    check(rc == 0 and "exit status" in out and "4  some reports" in out, "help")
    # A spool that is a file is unusable: exit 1.
    open(os.path.join(work, "file"), "w").close()
    rc, out = upload("--spool", os.path.join(work, "file"), "--dsn", "http://k@h/1")
    check(rc == 1, "unusable spool must exit 1, got %d" % rc)


def t_permanent(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    a = make_report(spool, minidump=b"MDMP1")
    b = make_report(spool, minidump=b"MDMP2")
    c = make_report(spool)
    col = Collector(work)
    col.control(script=["413", "400"], then="200")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 3, "exit %d, expected 3 (failed)" % rc)
    sent = ids_sent(col)
    check(len(sent) == 3, "3 requests expected")
    failed = os.path.join(spool, "failed")
    reasons = {}
    for n in os.listdir(failed):
        if n.endswith(".reason"):
            reasons[n[:-7]] = open(os.path.join(failed, n)).read()
    check(sorted(reasons) == sorted(sent[:2]), "failed/ holds %r" % sorted(reasons))
    check("HTTP 413" in reasons[sent[0]] and "collector says 413" in reasons[sent[0]],
          reasons[sent[0]])
    check("HTTP 400" in reasons[sent[1]], reasons[sent[1]])
    for i in sent[:2]:
        check(os.path.exists(os.path.join(failed, i, "event.json")), "failed report kept")
    check(reports_in(spool) == [], "spool not empty")
    # Never retried.
    rc, out = upload("--spool", spool, "--dsn", dsn, check_rc=0)
    check(len(col.records()) == 3, "failed reports were retried")
    col.stop()


def t_retry(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    a = make_report(spool, minidump=b"MDMP" * 10)
    col = Collector(work)
    col.control(script=["500", "reset", "hang", "500"], then="200")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    common = ["--spool", spool, "--dsn", dsn, "--retry-base", "0", "--timeout", "2"]
    for expect in ("HTTP 500", "", "imeout"):
        rc, out = upload(*common)
        check(rc == 4, "exit %d, expected 4 (pending)" % rc)
        check(expect in out, "log lacks %r" % expect)
        check(reports_in(spool) == [a], "report must stay")
    st = open(os.path.join(spool, ".state", a + ".retry")).read()
    check("attempts 3" in st, "retry state: " + st)
    # With a real backoff the next run does not send at all.
    rc, out = upload("--spool", spool, "--dsn", dsn, "--retry-base", "3600")
    st = open(os.path.join(spool, ".state", a + ".retry")).read()
    check("attempts 4" in st, "retry state: " + st)
    n = len(col.records())
    rc, out = upload("--spool", spool, "--dsn", dsn, "-v")
    check(rc == 4 and "next attempt in" in out, "backoff not honoured")
    check(len(col.records()) == n, "sent during backoff")
    os.unlink(os.path.join(spool, ".state", a + ".retry"))
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    check(reports_in(spool) == [], "not delivered")
    check(not os.path.exists(os.path.join(spool, ".state", a + ".retry")),
          "retry state left behind")
    col.stop()


def t_down_then_up(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    ids = [make_report(spool, minidump=os.urandom(5000)) for _ in range(5)]
    port = free_port()
    dsn = "http://k@127.0.0.1:%d/1" % port
    up = subprocess.Popen([CRASHWATCH, "upload", "--watch", "--spool", spool,
                           "--dsn", dsn, "--retry-base", "0.2", "--retry-cap",
                           "0.5", "--poll", "1", "-v"],
                          stderr=subprocess.PIPE)
    try:
        # Wait until the uploader has failed at least once against nothing.
        wait_for(lambda: os.path.isdir(os.path.join(spool, ".state")) and
                 any(n.endswith(".retry") for n in os.listdir(os.path.join(spool, ".state"))),
                 "a failed attempt")
        col = Collector(work, port=port)
        # A report arriving while watching is picked up too.
        ids.append(make_report(spool))
        wait_for(lambda: reports_in(spool) == [], "spool to drain")
        up.send_signal(signal.SIGTERM)
        rc = up.wait(timeout=20)
        check(rc in (0, 4), "watch exit %d" % rc)
    finally:
        if up.poll() is None:
            up.kill()
        sys.stdout.write(up.stderr.read().decode())
    sent = ids_sent(col)
    col.stop()
    check(sorted(sent) == sorted(ids), "each report exactly once: sent %r" % sent)


def t_kill9(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    dump = os.urandom(200000)
    a = make_report(spool, minidump=dump)
    col = Collector(work, mode="hang")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    up = subprocess.Popen([CRASHWATCH, "upload", "--once", "--spool", spool,
                           "--dsn", dsn, "--timeout", "120"])
    wait_for(lambda: len(col.records()) == 1, "request to arrive")
    up.send_signal(signal.SIGKILL)
    up.wait()
    check(reports_in(spool) == [a], "report lost after kill -9")
    col.control(mode="200")
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    recs = col.records()
    check(len(recs) == 2 and ids_sent(col) == [a, a], "expected a resend")
    check(recs[1]["envelope"]["items"][1]["sha256"] == sha(dump), "bytes differ")
    check(reports_in(spool) == [], "spool not empty")
    col.stop()


def rl_state(spool):
    p = os.path.join(spool, ".state", "ratelimits")
    out = {}
    if os.path.exists(p):
        for line in open(p):
            k, v = line.split()
            out[k] = int(v) / 1000.0
    return out


def t_ratelimit(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    ids = [make_report(spool, minidump=b"MDMP") for _ in range(3)]
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    # (a) X-Sentry-Rate-Limits with an empty category list: everything, 2 s.
    col.control(script=["429-rl:2::organization:quota_exceeded"], then="200")
    rc, out = upload("--spool", spool, "--dsn", dsn)
    t_done = time.time()
    check(rc == 4, "exit %d after 429" % rc)
    check(len(col.records()) == 1, "sent after a 429 in the same run")
    t429 = col.records()[0]["time"]
    until = rl_state(spool).get("all")
    # 2 s from when the uploader read the answer: after the request arrived,
    # before the uploader exited (however slow a loaded machine makes that).
    check(until is not None and t429 + 1.5 < until <= t_done + 2.05,
          "saved limit %r (request at %.3f, exit at %.3f)" % (rl_state(spool), t429, t_done))
    # A new process (a restart) honours the saved limit.
    rc, out = upload("--spool", spool, "--dsn", dsn, "-v")
    if time.time() < until:
        check(rc == 4 and "rate limited" in out, "restart did not honour the limit")
    wait_for(lambda: time.time() > until + 0.05, "limit to expire", 10)
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    recs = col.records()
    check(sorted(ids_sent(col)[1:]) == sorted(ids), "all delivered after the limit")
    for r in recs[1:]:
        check(r["time"] >= until, "request at %.3f before the limit %.3f" % (r["time"], until))

    # (b) 429 with no headers: 60 s for everything.
    shutil.rmtree(os.path.join(spool, ".state"))
    make_report(spool)
    col.control(script=["429"], then="200")
    upload("--spool", spool, "--dsn", dsn, check_rc=4)
    t = col.records()[-1]["time"]
    st = rl_state(spool)
    check(58 < st["all"] - t < 62, "bare 429 must mean 60 s: %r" % st)

    # (c) Retry-After: 2 (seconds) only.
    shutil.rmtree(os.path.join(spool, ".state"))
    col.control(script=["429-retry-after:2"], then="200")
    upload("--spool", spool, "--dsn", dsn, check_rc=4)
    t = col.records()[-1]["time"]
    st = rl_state(spool)
    check(1 < st["all"] - t < 3.5, "Retry-After: 2 gave %r" % st)
    shutil.rmtree(os.path.join(spool, ".state"))
    upload("--spool", spool, "--dsn", dsn, check_rc=0)

    # (d) Per category on a 200: attachments limited, so a report with a
    # minidump goes without it (Sentry drops rate-limited items rather than
    # hold the event); unknown categories are ignored; the longest limit
    # wins.
    with_dump = make_report(spool, minidump=b"MDMP")
    plain = make_report(spool)
    first = make_report(spool, mtime=time.time() - 100)
    n0 = len(col.records())
    col.control(script=["200-rl:1:attachment:key, 30:attachment;foo:key, 30:foo:org"],
                then="200")
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 0, "attachment-limited report must go without attachments")
    sent = ids_sent(col)[n0:]
    check(sorted(sent[1:]) == sorted([plain, with_dump]) and sent[0] == first,
          "sent %r" % sent)
    check(reports_in(spool) == [], "reports kept: %r" % reports_in(spool))
    last = [r for r in col.records()[n0:]
            if r["envelope"]["header"]["event_id"] == with_dump]
    check(len(last) == 1 and [i["header"]["type"] for i in
                              last[0]["envelope"]["items"]] == ["event"],
          "the minidump was sent under an attachment limit")
    st = rl_state(spool)
    check("attachment" in st and "all" not in st and "error" not in st, str(st))
    check(st["attachment"] - col.records()[-1]["time"] > 25, "longest limit must win")
    col.stop()


SID = "0f8e3c4a-1b2c-4d5e-8f90-a1b2c3d4e5f6"


def session_file(status="crashed", sid=SID, errors=0):
    now = int(time.time() * 1000)
    return ("sid=%s\nstatus=%s\nstarted=%d\ntimestamp=%d\nerrors=%d\n"
            "release=app@1.0\nenvironment=test\ndid=u1\n" %
            (sid, status, now - 5000, now, errors)).encode()


def item_types(rec):
    return [i["header"]["type"] for i in rec["envelope"]["items"]]


def check_session_item(rec, status, sid=SID):
    items = [i for i in rec["envelope"]["items"]
             if i["header"]["type"] == "session"]
    check(len(items) == 1, "want one session item: %r" % item_types(rec))
    s = items[0]["json"]
    check(s["sid"] == sid and s["status"] == status and s["init"] is True,
          "session %r" % s)
    check(s["attrs"]["release"] == "app@1.0", "session attrs %r" % s)
    for k in ("started", "timestamp"):
        check(isinstance(s.get(k), str) and s[k].endswith("Z"), "%s %r" % (k, s))
    return s


def expire_limits(spool):
    """Moves every saved limit into the past: the time a limit lasts,
    without a timed wait (a loaded machine could let a short one pass
    before the run that must see it)."""
    p = os.path.join(spool, ".state", "ratelimits")
    past = int(time.time() * 1000) - 1000
    lines = [l.split()[0] + " %d\n" % past for l in open(p) if l.strip()]
    with open(p, "w") as f:
        f.writelines(lines)


def learn_limit(col, spool, dsn, header):
    """Has the uploader learn header from a 200 for a throwaway report."""
    make_report(spool)
    col.control(script=["200-rl:" + header], then="200")
    upload("--spool", spool, "--dsn", dsn, check_rc=0)


def t_ratelimit_categories(work):
    """Each item by its own category (docs/upload.md): a limit on session
    holds the session, not the crash; a limit on error holds the crash, and
    its session goes alone; a limit on attachment sends the event without
    its minidump and attachments."""
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port

    # (a) session limited: the crash and its dump go; the session waits.
    learn_limit(col, spool, dsn, "600:session:project")
    n0 = len(col.records())
    crash = make_report(spool, minidump=b"MDMP", files={
        "session": session_file("crashed"), "app.log": b"log\n"})
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 4, "the held session must leave the run pending (rc %d)" % rc)
    recs = col.records()[n0:]
    check(len(recs) == 1 and item_types(recs[0]) ==
          ["event", "attachment", "attachment"],
          "crash under a session limit: %r" % [item_types(r) for r in recs])
    check(recs[0]["envelope"]["header"]["event_id"] == crash, "event_id")
    check(sorted(os.listdir(os.path.join(spool, crash))) == ["session"],
          "what stays is the session alone: %r" %
          os.listdir(os.path.join(spool, crash)))
    expire_limits(spool)
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    recs = col.records()[n0 + 1:]
    check(len(recs) == 1 and item_types(recs[0]) == ["session"],
          "held session sent later: %r" % [item_types(r) for r in recs])
    check("event_id" not in recs[0]["envelope"]["header"],
          "a session-only envelope has no event_id")
    check_session_item(recs[0], "crashed")
    check(reports_in(spool) == [], "spool not empty: %r" % reports_in(spool))

    # (b) error limited: the session goes alone, the crash waits whole.
    shutil.rmtree(os.path.join(spool, ".state"))
    learn_limit(col, spool, dsn, "600:error:project")
    n0 = len(col.records())
    crash = make_report(spool, minidump=b"MDMP",
                        files={"session": session_file("crashed")})
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 4, "held crash must leave the run pending")
    recs = col.records()[n0:]
    check(len(recs) == 1 and item_types(recs[0]) == ["session"],
          "under an error limit: %r" % [item_types(r) for r in recs])
    check(sorted(os.listdir(os.path.join(spool, crash))) ==
          ["event.json", "minidump.dmp"], "crash kept whole, session gone")
    expire_limits(spool)
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    recs = col.records()[n0 + 1:]
    check(len(recs) == 1 and item_types(recs[0]) == ["event", "attachment"],
          "held crash sent later: %r" % [item_types(r) for r in recs])

    # (c) attachment limited: event and session go, dump and log dropped.
    shutil.rmtree(os.path.join(spool, ".state"))
    learn_limit(col, spool, dsn, "60:attachment:project")
    n0 = len(col.records())
    crash = make_report(spool, minidump=b"MDMP", files={
        "session": session_file("crashed"), "app.log": b"x"})
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    recs = col.records()[n0:]
    check(len(recs) == 1 and item_types(recs[0]) == ["event", "session"],
          "under an attachment limit: %r" % [item_types(r) for r in recs])
    check(reports_in(spool) == [], "nothing waits under an attachment limit")

    # (d) a session-only report and the Breakpad-style transport: it cannot
    # carry sessions, so the report is removed, never sent.
    shutil.rmtree(os.path.join(spool, ".state"))
    n0 = len(col.records())
    make_report(spool, event=False, files={"session": session_file("exited")})
    upload("--spool", spool, "--url", "http://127.0.0.1:%d/submit" % col.port,
           check_rc=0)
    check(len(col.records()) == n0, "a session went over multipart")
    check(reports_in(spool) == [], "session-only report left behind")
    # ... and over the envelope it goes as one session item.
    make_report(spool, event=False, files={"session": session_file("exited")})
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    check_session_item(col.records()[-1], "exited")
    # A corrupt session file in a session-only report is quarantined.
    make_report(spool, event=False, files={"session": b"sid=x\n"})
    upload("--spool", spool, "--dsn", dsn, check_rc=3)
    col.stop()


def t_ratelimit_hostile(work):
    # Issue 9.11 through real libcurl: a header longer than the old 1023-byte
    # buffer is read whole; garbage limits nothing; a week is cut to a day.
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    # (a) 5 KiB: the real limit comes last, after 200 one-second entries.
    long_hdr = "1:session:organization, " * 200 + "600:attachment:organization"
    make_report(spool, minidump=b"MDMP")
    col.control(script=["200-rl:" + long_hdr], then="200")
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    st = rl_state(spool)
    t = col.records()[-1]["time"]
    check("all" not in st, "a long header became a limit on everything: %r" % st)
    check(595 < st.get("attachment", 0) - t < 605, "last entry lost: %r" % st)
    # (b) Over 64 KiB (libcurl takes up to 100 KiB): the entry straddling
    # the bound and what follows are ignored, the ones before it apply.
    shutil.rmtree(os.path.join(spool, ".state"))
    big = "2:session:organization," * 2848          # 65504 bytes
    big += "3600:error;attachment:organization,7200::organization"
    make_report(spool)
    col.control(script=["200-rl:" + big], then="200")
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    st = rl_state(spool)
    check(set(st) == {"session"}, "over the bound: %r" % st)
    # (c) Garbage: nothing on a 200; on a 429 it counts as absent (60 s for
    # everything, as a bare 429), never days.
    for garbage in ("99999999999999", "<html>busy</html>", "3600", "1e9:error:x"):
        shutil.rmtree(os.path.join(spool, ".state"), ignore_errors=True)
        make_report(spool)
        col.control(script=["200-rl:" + garbage], then="200")
        upload("--spool", spool, "--dsn", dsn, check_rc=0)
        check(rl_state(spool) == {}, "garbage %r gave %r" % (garbage, rl_state(spool)))
        make_report(spool)
        col.control(script=["429-rl:" + garbage], then="200")
        upload("--spool", spool, "--dsn", dsn)
        st = rl_state(spool)
        t = col.records()[-1]["time"]
        check(set(st) == {"all"} and 55 < st["all"] - t < 65,
              "garbage %r on a 429 gave limits %r" % (garbage, st))
    # (d) A week is capped at one day.
    shutil.rmtree(os.path.join(spool, ".state"), ignore_errors=True)
    col.control(script=["429-rl:604800::organization"], then="200")
    make_report(spool)
    upload("--spool", spool, "--dsn", dsn, check_rc=4)
    t = col.records()[-1]["time"]
    st = rl_state(spool)
    check(86390 < st["all"] - t < 86410, "a week must be cut to a day: %r" % st)
    col.stop()


def t_redact(work):
    # Issue 9.13: -v and -vv (libcurl's trace) never show the DSN key, URL
    # credentials or auth headers; nor does a failed/ reason.
    import base64
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    col = Collector(work)
    key = "0123456789abcdef0123456789abcdef"
    secret = "fedcba9876543210fedcba9876543210"
    make_report(spool, minidump=b"MDMP")
    dsn = "http://%s:%s@127.0.0.1:%d/1" % (key, secret, col.port)
    rc, out = upload("--spool", spool, "-vv", env={"SENTRY_DSN": dsn}, check_rc=0)
    for s in (key, secret):
        check(s not in out, "secret %s in -vv output" % s)
    check("> POST /api/1/envelope/" in out and "sentry_key=[redacted]" in out,
          "no libcurl trace in -vv output")
    # A Breakpad-style URL with user:password and a sentry_key query; the
    # collector refuses it, so the URL also lands in a failed/ reason.
    user, pw, qkey = "relayuser", "hunter2pass", "feedfacecafe0001"
    url = "http://%s:%s@127.0.0.1:%d/api/1/minidump/?sentry_key=%s" % (
        user, pw, col.port, qkey)
    a = make_report(spool, minidump=b"MDMP")
    col.control(mode="400")
    rc, out = upload("--spool", spool, "-vv", "--format", "minidump",
                     env={"CRASHWATCH_UPLOAD_URL": url}, check_rc=3)
    check("> Authorization: [redacted]" in out, "no auth header in the trace")
    reason = open(os.path.join(spool, "failed", a + ".reason")).read()
    b64 = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    rec = col.records()[-1]
    check(rec["headers"].get("authorization") == "Basic " + b64,
          "the collector did not get the credentials: %r" % rec["headers"])
    for s in (pw, qkey, b64, user):
        check(s not in out, "secret %s in -vv output" % s)
        check(s not in reason, "secret %s in the failed/ reason" % s)
    check("refused by" in reason, reason)
    col.stop()


def t_corrupt(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    good = [make_report(spool, minidump=b"MDMP"), make_report(spool)]
    no_event = make_report(spool, event=False, minidump=b"MDMP")
    bad_json = make_report(spool, event='{"event_id": "x", "level": fatal}')
    not_obj = make_report(spool, event='[1,2]')
    link = make_report(spool)
    os.symlink("/etc/passwd", os.path.join(spool, link, "passwd"))
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 3, "exit %d, expected 3" % rc)
    check(sorted(ids_sent(col)) == sorted(good), "good reports must be delivered")
    failed = os.path.join(spool, "failed")

    def reason(i):
        return open(os.path.join(failed, i + ".reason")).read()
    check("missing event.json" in reason(no_event), reason(no_event))
    check("invalid JSON at offset 27: unexpected character" in reason(bad_json), reason(bad_json))
    check("not a JSON object" in reason(not_obj), reason(not_obj))
    check("passwd: not a regular file" in reason(link), reason(link))
    check(reports_in(spool) == [], "spool not empty")
    col.stop()


def t_tls(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    cert = os.path.join(work, "cert.pem")
    key = os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a = make_report(spool, minidump=b"MDMP" + os.urandom(100))
    col = Collector(work, tls=(cert, key))
    dsn = "https://k@127.0.0.1:%d/1" % col.port
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 4, "self-signed certificate must be refused (exit %d)" % rc)
    check("TLS error" in out or "certificate" in out.lower(), "no TLS message")
    check(col.records() == [], "data sent over an unverified connection")
    check(reports_in(spool) == [a], "report must stay")
    os.unlink(os.path.join(spool, ".state", a + ".retry"))
    upload("--spool", spool, "--dsn", dsn, "--ca-bundle", cert, check_rc=0)
    check(ids_sent(col) == [a], "not delivered over TLS with --ca-bundle")
    col.stop()


def t_two_uploaders(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    ids = [make_report(spool, minidump=os.urandom(1000)) for _ in range(6)]
    col = Collector(work, mode="slow:0.3")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    procs = [subprocess.Popen([CRASHWATCH, "upload", "--spool", spool, "--dsn",
                               dsn, "-v"]) for _ in range(3)]
    for p in procs:
        p.wait(timeout=60)
    # Whatever one skipped because another held it, a last pass picks up.
    upload("--spool", spool, "--dsn", dsn, check_rc=0)
    sent = ids_sent(col)
    col.stop()
    check(sorted(sent) == sorted(ids), "each report exactly once, got %r" % sent)


def t_diskfull(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    how = "tmpfs"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700",
                        "tmpfs", spool], stderr=subprocess.PIPE)
    if r.returncode != 0:
        # No mount permission: make the state directory unusable instead,
        # which hits the same code path (state writes fail).
        how = "state path blocked"
    print("disk-full simulation:", how)
    try:
        ids = [make_report(spool, minidump=os.urandom(20000)) for _ in range(3)]
        if how == "tmpfs":
            fd = os.open(os.path.join(spool, "filler"), os.O_WRONLY | os.O_CREAT)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError:
                pass
            os.close(fd)
        else:
            open(os.path.join(spool, ".state"), "w").close()
        col = Collector(work)
        dsn = "http://k@127.0.0.1:%d/1" % col.port
        col.control(script=["500"] * 3, then="200")
        rc, out = upload("--spool", spool, "--dsn", dsn)
        check(rc == 4, "exit %d after 500" % rc)
        check("cannot save retry state" in out, "state write failure not reported")
        col.control(script=["429-rl:1::org"], then="200")
        rc, out = upload("--spool", spool, "--dsn", dsn)
        check(rc == 4 and "cannot save rate limits" in out, "ratelimit save failure")
        check(sorted(reports_in(spool)) == sorted(ids), "a report was lost")
        time.sleep(1.1)  # let the in-memory-only 1 s limit pass
        upload("--spool", spool, "--dsn", dsn, check_rc=0)
        sent = ids_sent(col)
        check(sorted(set(sent)) == sorted(ids), "not all delivered: %r" % sent)
        check(reports_in(spool) == [], "spool not empty")
        col.stop()
    finally:
        if how == "tmpfs":
            subprocess.run(["umount", spool])


def t_prune(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    now = time.time()
    old = make_report(spool, mtime=now - 40 * 86400)
    ids = [make_report(spool, minidump=os.urandom(10000), mtime=now - 100 + i)
           for i in range(5)]
    stale = os.path.join(spool, ".tmp-" + new_id())
    os.makedirs(stale)
    open(os.path.join(stale, "minidump.dmp"), "w").close()
    os.utime(os.path.join(stale, "minidump.dmp"), (now - 7200, now - 7200))
    os.utime(stale, (now - 7200, now - 7200))
    fresh = os.path.join(spool, ".tmp-" + new_id())
    os.makedirs(fresh)
    dsn = "http://k@127.0.0.1:%d/1" % free_port()  # nobody listens
    rc, out = upload("--spool", spool, "--dsn", dsn, "--max-reports", "3",
                     "--connect-timeout", "2")
    check(rc == 4, "exit %d" % rc)
    check("pruned %s (older than 2592000 s" % old in out, "age pruning not logged")
    for i in ids[:2]:
        check("pruned %s (more than 3 reports" % i in out, "count pruning of " + i)
    check(reports_in(spool) == sorted(ids[2:]), "kept %r" % reports_in(spool))
    check(os.path.isdir(fresh), "a fresh .tmp- directory was touched")
    check(not os.path.exists(stale), "stale .tmp- not moved")
    r = open(os.path.join(spool, "failed", os.path.basename(stale)[5:] + ".reason")).read()
    check("incomplete report" in r, r)
    # Size limit: 2 reports of 10 kB fit in 25 kB, the oldest goes.
    rc, out = upload("--spool", spool, "--dsn", dsn, "--max-bytes", "25000",
                     "--retry-base", "0", "--connect-timeout", "2")
    check("pruned %s (spool larger than 25000 bytes" % ids[2] in out, "size pruning")
    check(reports_in(spool) == sorted(ids[3:]), "kept %r" % reports_in(spool))
    # failed/ is pruned by count too.
    rc, out = upload("--spool", spool, "--dsn", dsn, "--failed-max", "0",
                     "--retry-base", "0", "--connect-timeout", "2")
    check("pruned failed/" in out, "failed/ not pruned")
    check([n for n in os.listdir(os.path.join(spool, "failed"))] == [], "failed/ not empty")


def t_max_age(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    a = make_report(spool, mtime=time.time() - 10 * 86400)
    col = Collector(work, mode="500")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 3, "exit %d" % rc)
    r = open(os.path.join(spool, "failed", a + ".reason")).read()
    check("gave up after 1 attempts" in r and "HTTP 500" in r, r)
    col.stop()


def t_spawn(work):
    helper = os.environ["CW_UPLOAD_SPAWN"]
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    dump = os.urandom(4096)
    a = make_report(spool, minidump=dump)
    col = Collector(work, mode="hang")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    # The caller returns although the server never answers: the upload runs
    # in a detached grandchild (the helper's upload timeout is 1 s).
    p = subprocess.run([helper, spool, dsn], timeout=20, stdout=subprocess.PIPE)
    check(p.returncode == 0 and b"spawned: 0" in p.stdout, "spawn failed")
    wait_for(lambda: len(col.records()) == 1, "the background upload")
    check(reports_in(spool) == [a], "report must stay while the server hangs")
    # The hung attempt times out and records a retry; then a new spawn
    # delivers.
    wait_for(lambda: os.path.exists(os.path.join(spool, ".state", a + ".retry")),
             "the hung attempt to time out")
    col.control(mode="200")
    p = subprocess.run([helper, spool, dsn], timeout=20, stdout=subprocess.PIPE)
    check(p.returncode == 0, "second spawn failed")
    wait_for(lambda: reports_in(spool) == [], "background delivery")
    recs = col.records()
    check(recs[-1]["envelope"]["items"][1]["sha256"] == sha(dump), "bytes differ")


def t_proxy(work):
    # The collector acts as the HTTP proxy named by http_proxy: libcurl sends
    # it the absolute URL of a host that does not resolve.
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    a = make_report(spool, minidump=b"MDMP")
    col = Collector(work)
    upload("--spool", spool, "--dsn", "http://k@sentry.invalid/7",
           env={"http_proxy": "http://127.0.0.1:%d" % col.port}, check_rc=0)
    recs = col.records()
    check(len(recs) == 1 and recs[0]["path"] ==
          "http://sentry.invalid/api/7/envelope/", "proxy not used: %r" %
          [r["path"] for r in recs])
    check(ids_sent(col) == [a], "wrong report")


def t_spawn_exec(work):
    # cw__upload_spawn_exec: the libc-only path that runs the crashwatch CLI.
    helper = os.environ["CW_UPLOAD_SPAWN"]
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    dump = os.urandom(4096)
    a = make_report(spool, minidump=dump)
    # The collector records the request, then waits 1 s before answering:
    # the uploader is alive (and visible to ps) while we look.
    col = Collector(work, mode="slow:1")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    p = subprocess.run([helper, spool, dsn, CRASHWATCH], timeout=20,
                       stdout=subprocess.PIPE)
    check(p.returncode == 0 and b"spawned: 0" in p.stdout, "spawn failed")
    rec = wait_for(lambda: col.records(), "the background upload")
    check(rec[0]["envelope"]["header"]["event_id"] == a, "wrong report")
    ps = subprocess.run(["ps", "-eo", "args"], stdout=subprocess.PIPE).stdout
    check(b"upload --once --quiet --spool " + spool.encode() in ps,
          "the detached uploader is not running")
    check(dsn.encode() not in ps, "DSN visible in ps")
    wait_for(lambda: reports_in(spool) == [], "background delivery")
    check(rec[0]["envelope"]["items"][1]["sha256"] == sha(dump), "bytes differ")


def t_one_bad_report(work):
    # A 5xx for one report does not hold back the others; three in a row end
    # the pass; a refused connection ends it at once.
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    now = time.time()
    bad = make_report(spool, mtime=now - 50)
    good = [make_report(spool, mtime=now - 40 + i) for i in range(2)]
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    col.control(script=["500"], then="200")
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(rc == 4, "exit %d" % rc)
    check(ids_sent(col) == [bad] + good, "sent %r" % ids_sent(col))
    check(reports_in(spool) == [bad], "only the bad report must remain")
    more = [make_report(spool, mtime=now - 30 + i) for i in range(5)]
    os.unlink(os.path.join(spool, ".state", bad + ".retry"))
    col.control(mode="500")
    n = len(col.records())
    rc, out = upload("--spool", spool, "--dsn", dsn)
    check(len(col.records()) - n == 3, "a pass must stop after 3 failures in a row")
    col.stop()
    for f in os.listdir(os.path.join(spool, ".state")):
        os.unlink(os.path.join(spool, ".state", f))
    dsn = "http://k@127.0.0.1:%d/1" % free_port()
    rc, out = upload("--spool", spool, "--dsn", dsn, "-v")
    check(out.count("attempt 1 failed") == 1, "connection refused must stop the pass")


def crash_env(work, spool, extra_env):
    env = dict(os.environ)
    for k in ("SENTRY_DSN", "CRASHWATCH_UPLOAD_URL", "CRASHWATCH_CLI",
              "CRASHWATCH_UPLOAD_FORMAT", "CRASHWATCH_WATCHDOG_DSN"):
        env.pop(k, None)
    env.update({
        "CRASHWATCH_SPOOL": spool,
        "CW_MARKER": os.path.join(work, "marker"),
        "CRASHWATCH_SYMBOLIZE_BUDGET_MS": "0",
        "ASAN_OPTIONS": "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                        "handle_sigill=0:handle_abort=0:detect_leaks=0:"
                        "allow_user_segv_handler=1",
    })
    env.update(extra_env)
    return env


def uploader_procs(spool):
    """{pid: argv} of the uploaders of this spool now running: the watchdog's
    upload mode (--upload) or `crashwatch upload`."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
        except OSError:
            continue
        if spool.encode() not in argv:
            continue
        if b"--upload" in argv or (len(argv) > 1 and argv[1] == b"upload"):
            out[int(d)] = argv
    return out


def run_crashprog(work, spool, extra_env, mode="null"):
    """Crashes the real crash test program (null dereference) with
    crashwatch, the way a daemon would, and returns (status, stderr). The
    watchdog holds the stderr pipe until it exits, so on return the report
    is committed and the uploader (if any) has been started."""
    prog = os.environ["CW_CRASHPROG"]
    env = crash_env(work, spool, extra_env)
    p = subprocess.run([prog, mode], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, cwd=work, timeout=60)
    want = 0 if mode == "init-only" else -signal.SIGSEGV
    check(p.returncode == want,
          "crash program ended with %d, want %d" % (p.returncode, want))
    return p.stderr.decode(errors="replace")


def check_envelope_with_dump(col, r):
    items = r["envelope"]["items"]
    check(items[0]["header"]["type"] == "event", "first item %r" %
          items[0]["header"])
    dumps = [i for i in items
             if i["header"].get("attachment_type") == "event.minidump"]
    check(len(dumps) == 1, "want one event.minidump attachment")
    eid = r["envelope"]["header"]["event_id"]
    data = open(os.path.join(col.save, eid, dumps[0]["header"].get(
        "filename", "x")), "rb").read()
    check(data[:4] == b"MDMP", "the attachment is not a minidump")
    check(sha(data) == dumps[0]["sha256"], "attachment bytes differ")


def t_crash_no_cli(work):
    # Issue 8.6: a daemon shipped with libcrashwatch.so alone uploads: no
    # crashwatch on PATH, no CRASHWATCH_CLI, nothing installed; the watchdog
    # starts a copy of itself in upload mode, which dlopen()s libcurl.
    spool = os.path.join(work, "spool")
    col = Collector(work)
    dsn = "http://pubkey@127.0.0.1:%d/42" % col.port
    path = "/usr/bin:/bin"
    check(shutil.which("crashwatch", path=path) is None,
          "a crashwatch is installed in %s" % path)
    err = run_crashprog(work, spool, {"SENTRY_DSN": dsn, "PATH": path})
    check("could not start the uploader" not in err, err)
    recs = wait_for(lambda: col.records(), "the crash report to arrive")
    check(len(recs) == 1, "want exactly one request, got %d" % len(recs))
    check(recs[0]["path"] == "/api/42/envelope/", "path %r" % recs[0]["path"])
    check("sentry_key=pubkey" in recs[0]["headers"].get("x-sentry-auth", ""),
          "auth %r" % recs[0]["headers"])
    check_envelope_with_dump(col, recs[0])
    wait_for(lambda: reports_in(spool) == [], "the report to leave the spool")


def t_crash_both_targets(work):
    # Issue 9.6: SENTRY_DSN and CRASHWATCH_UPLOAD_URL both set: envelopes
    # with the DSN's key go to the URL (a relay); neither the DSN nor the
    # URL's credentials appear on the uploader's command line. Both for the
    # watchdog's own upload mode and for CRASHWATCH_CLI.
    key = "0123456789abcdef0123456789abcdef"
    for via_cli in (False, True):
        sub = os.path.join(work, "cli" if via_cli else "self")
        os.makedirs(sub)
        spool = os.path.join(sub, "spool")
        col = Collector(sub, mode="hold")
        dsn = "http://%s@127.0.0.1:%d/42" % (key, col.port)
        url = ("http://relayuser:hunter2pass@127.0.0.1:%d/relay/api/42/"
               "envelope/?token=tok3n5ecret" % col.port)
        extra = {"SENTRY_DSN": dsn, "CRASHWATCH_UPLOAD_URL": url}
        if via_cli:
            extra["CRASHWATCH_CLI"] = CRASHWATCH
        # stderr to a file: the detached uploader keeps it open while the
        # collector holds its request.
        with open(os.path.join(sub, "stderr"), "wb") as errf:
            p = subprocess.run([os.environ["CW_CRASHPROG"], "null"],
                               env=crash_env(sub, spool, extra),
                               stdout=subprocess.DEVNULL, stderr=errf,
                               timeout=60)
        check(p.returncode == -signal.SIGSEGV, "status %d" % p.returncode)
        recs = wait_for(lambda: col.records(), "the held request")
        procs = wait_for(lambda: uploader_procs(spool), "the uploader")
        check(len(procs) == 1, "uploaders %r" % procs)
        for pid, argv in procs.items():
            cmdline = b" ".join(argv)
            sys.stdout.write("uploader %d: %s\n" % (pid, cmdline.decode()))
            for secret in (key, "hunter2pass", "relayuser", "tok3n5ecret",
                           dsn, url):
                check(secret.encode() not in cmdline,
                      "%r on the uploader's command line: %r" % (secret, cmdline))
            if not via_cli:
                check(open("/proc/%d/comm" % pid).read().strip() ==
                      "crashwatch-up", "not the watchdog's upload mode")
        col.control(mode="200")
        wait_for(lambda: reports_in(spool) == [], "delivery")
        r = col.records()[0]
        check(r["path"] == "/relay/api/42/envelope/?token=tok3n5ecret",
              "went to %r, not the relay URL" % r["path"])
        check("sentry_key=" + key in r["headers"].get("x-sentry-auth", ""),
              "the DSN's key must authenticate the envelope: %r" % r["headers"])
        check(r["headers"].get("authorization", "").startswith("Basic "),
              "the URL's credentials must reach the relay")
        check_envelope_with_dump(col, r)
        err = open(os.path.join(sub, "stderr")).read()
        check("no target" not in err, err)
        col.stop()


def t_pending_at_start(work):
    # Issue 8.7: a report left in the spool by an earlier run is delivered
    # after cw_init() with a DSN, without any crash.
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    dump = os.urandom(3000)
    a = make_report(spool, minidump=dump)
    col = Collector(work)
    dsn = "http://pubkey@127.0.0.1:%d/42" % col.port
    run_crashprog(work, spool, {"SENTRY_DSN": dsn, "PATH": "/usr/bin:/bin"},
                  mode="init-only")
    recs = wait_for(lambda: col.records(), "the pending report to arrive")
    check(ids_sent(col) == [a], "sent %r" % ids_sent(col))
    check(recs[0]["envelope"]["items"][1]["sha256"] == sha(dump),
          "bytes differ")
    wait_for(lambda: reports_in(spool) == [], "the report to leave the spool")
    # With nothing pending and no target, nothing is started.
    b = make_report(spool)
    run_crashprog(work, spool, {}, mode="init-only")
    time.sleep(1)
    check(reports_in(spool) == [b] and len(col.records()) == 1,
          "uploaded without a target")


def storm(work, via_cli):
    # Issue 8.8: 30 real crashes at once against a collector that holds every
    # request: at most one uploader process per spool at any time; all 30
    # are delivered once the collector answers.
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    col = Collector(work, mode="hold")
    dsn = "http://pubkey@127.0.0.1:%d/42" % col.port
    extra = {"SENTRY_DSN": dsn}
    if via_cli:
        extra["CRASHWATCH_CLI"] = CRASHWATCH
    env = crash_env(work, spool, extra)
    errf = open(os.path.join(work, "stderr"), "wb")
    procs = [subprocess.Popen([os.environ["CW_CRASHPROG"], "null"], env=env,
                              stdout=subprocess.DEVNULL, stderr=errf)
             for _ in range(30)]
    most, seen = 0, set()
    end = None
    while end is None or time.time() < end:
        up = uploader_procs(spool)
        most = max(most, len(up))
        seen |= set(up)
        if end is None and all(p.poll() is not None for p in procs):
            end = time.time() + 2.0
        time.sleep(0.01)
    errf.close()
    for p in procs:
        check(p.wait() == -signal.SIGSEGV, "a crash ended with %d" % p.returncode)
    sys.stdout.write("uploader processes seen: %d, at most %d at once\n" %
                     (len(seen), most))
    check(most == 1, "%d uploaders at once (want 1)" % most)
    ids = reports_in(spool)
    check(len(ids) == 30, "want 30 reports, have %d" % len(ids))
    col.control(mode="200")
    wait_for(lambda: reports_in(spool) == [], "all 30 to be delivered", 120)
    check(set(ids_sent(col)) == set(ids), "not all delivered")
    wait_for(lambda: not uploader_procs(spool), "the uploader to exit")


def t_crash_storm(work):
    storm(work, False)


def t_crash_storm_cli(work):
    storm(work, True)


def t_shipped_so(work):
    # Issue 8.6 as a user ships it: `cmake --install`, then a daemon built
    # against libcrashwatch.so and run with that one file beside it — no
    # crashwatch command, no other file of the install, nothing on PATH —
    # uploads its crash to the DSN (the system's libcurl is loaded by the
    # detached uploader only).
    prefix = os.path.join(work, "prefix")
    subprocess.run([os.environ["CW_CMAKE"], "--install", BIN, "--prefix",
                    prefix], check=True, stdout=subprocess.DEVNULL)
    ship = os.path.join(work, "ship")
    os.makedirs(ship)
    libdir = os.path.join(prefix, "lib")
    for n in os.listdir(libdir):
        if n.startswith("libcrashwatch.so"):
            shutil.copy(os.path.join(libdir, n), ship, follow_symlinks=False)
    daemon = os.path.join(ship, "daemon")
    subprocess.run([os.environ["CW_CC"], "-o", daemon,
                    os.path.join(SRC, "examples", "daemon.c"),
                    "-I" + os.path.join(prefix, "include"), "-L" + ship,
                    "-Wl,-rpath," + ship, "-lcrashwatch", "-lpthread"],
                   check=True)
    shutil.rmtree(prefix)
    shipped = os.listdir(ship)
    check(all(n == "daemon" or n.startswith("libcrashwatch.so.") or
              n == "libcrashwatch.so" for n in shipped) and len(shipped) >= 2,
          "shipped %r" % shipped)
    spool = os.path.join(work, "spool")
    col = Collector(work)
    env = crash_env(work, spool, {
        "SENTRY_DSN": "http://pubkey@127.0.0.1:%d/42" % col.port,
        "PATH": "/usr/bin:/bin"})
    env.pop("ASAN_OPTIONS", None)
    with open(os.path.join(work, "stderr"), "wb") as errf:
        p = subprocess.run([daemon, "--threads", "2"], env=env,
                           stdout=subprocess.DEVNULL, stderr=errf, timeout=60)
    check(p.returncode == -signal.SIGSEGV, "daemon ended with %d" % p.returncode)
    recs = wait_for(lambda: col.records(), "the crash report to arrive")
    check(recs[0]["path"] == "/api/42/envelope/", "path %r" % recs[0]["path"])
    check_envelope_with_dump(col, recs[0])
    wait_for(lambda: reports_in(spool) == [], "the report to leave the spool")


def t_crash_dsn(work):
    # End to end: a crash with SENTRY_DSN set is delivered by the watchdog's
    # detached `crashwatch upload --once`, and then leaves the spool.
    spool = os.path.join(work, "spool")
    col = Collector(work)
    dsn = "http://pubkey@127.0.0.1:%d/42" % col.port
    run_crashprog(work, spool, {"SENTRY_DSN": dsn,
                                "CRASHWATCH_CLI": CRASHWATCH})
    recs = wait_for(lambda: col.records(), "the crash report to arrive")
    check(len(recs) == 1, "want exactly one request, got %d" % len(recs))
    r = recs[0]
    check(r["path"] == "/api/42/envelope/", "path %r" % r["path"])
    items = r["envelope"]["items"]
    check(items[0]["header"]["type"] == "event", "first item %r" %
          items[0]["header"])
    dumps = [i for i in items
             if i["header"].get("attachment_type") == "event.minidump"]
    check(len(dumps) == 1, "want one event.minidump attachment")
    eid = r["envelope"]["header"]["event_id"]
    saved = os.path.join(col.save, eid,
                         dumps[0]["header"].get("filename", "x"))
    data = open(saved, "rb").read()
    check(data[:4] == b"MDMP", "the attachment is not a minidump")
    check(sha(data) == dumps[0]["sha256"], "attachment bytes differ")
    wait_for(lambda: reports_in(spool) == [], "the report to leave the spool")


def t_crash_url(work):
    # The same with a Breakpad-style collector URL instead of a DSN.
    spool = os.path.join(work, "spool")
    col = Collector(work)
    url = "http://127.0.0.1:%d/submit" % col.port
    run_crashprog(work, spool, {"CRASHWATCH_UPLOAD_URL": url,
                                "CRASHWATCH_CLI": CRASHWATCH})
    recs = wait_for(lambda: col.records(), "the crash report to arrive")
    check(len(recs) == 1 and recs[0]["path"] == "/submit",
          "requests %r" % [x["path"] for x in recs])
    wait_for(lambda: reports_in(spool) == [], "the report to leave the spool")


def t_crash_no_uploader(work):
    # No crashwatch command to upload with: the report stays, and stderr
    # says so and how to send it later.
    spool = os.path.join(work, "spool")
    err = run_crashprog(work, spool, {
        "SENTRY_DSN": "http://k@127.0.0.1:9/1",
        "CRASHWATCH_CLI": os.path.join(work, "no-such-crashwatch")})
    check("could not start the uploader" in err, "stderr: " + err)
    check(len(reports_in(spool)) == 1, "the report must stay in the spool")


SCENARIOS = {
    "ratelimit_categories": t_ratelimit_categories,
    "crash_no_cli": t_crash_no_cli,
    "shipped_so": t_shipped_so,
    "crash_both_targets": t_crash_both_targets,
    "pending_at_start": t_pending_at_start,
    "crash_storm": t_crash_storm,
    "crash_storm_cli": t_crash_storm_cli,
    "crash_dsn": t_crash_dsn,
    "crash_url": t_crash_url,
    "crash_no_uploader": t_crash_no_uploader,
    "one_bad_report": t_one_bad_report,
    "spawn": t_spawn,
    "spawn_exec": t_spawn_exec,
    "proxy": t_proxy,
    "envelope": t_envelope, "multipart": t_multipart, "config": t_config,
    "permanent": t_permanent, "retry": t_retry, "down_then_up": t_down_then_up,
    "kill9": t_kill9, "ratelimit": t_ratelimit,
    "ratelimit_hostile": t_ratelimit_hostile, "redact": t_redact, "corrupt": t_corrupt,
    "tls": t_tls, "two_uploaders": t_two_uploaders, "diskfull": t_diskfull,
    "prune": t_prune, "max_age": t_max_age,
}


def main():
    name = sys.argv[1]
    work = tempfile.mkdtemp(prefix="upload-%s-" % name, dir=TMP_ROOT)
    try:
        SCENARIOS[name](work)
    except AssertionError as e:
        print("FAIL %s: %s" % (name, e))
        print("work dir kept: " + work)
        return 1
    finally:
        for c in COLLECTORS:
            c.stop()
    shutil.rmtree(work, ignore_errors=True)
    print("PASS " + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
