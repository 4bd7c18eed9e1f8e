#!/usr/bin/env python3
"""Integration tests of the operator's view of a spool (issue 13): the
metrics file of `crashwatch upload --watch --metrics-file`, the delivery
journal, `crashwatch list` and `crashwatch show`.

Usage: browse_test.py SCENARIO   (see SCENARIOS at the bottom)

Spools are real: reports written the way the watchdog writes them (or by
real crashes of tests/progs/crashprog), delivered by the real `crashwatch
upload` to the loopback collector (tests/collector/collector.py). No
assertion depends on timing: waits poll for a condition with a generous
deadline.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import upload_test as ut
from upload_test import Collector, check, fail, make_report, wait_for

TMP_ROOT = ut.TMP_ROOT
CRASHWATCH = ut.CRASHWATCH


# ---- A strict reader of Prometheus text exposition (format 0.0.4) -------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|Inf)|NaN)"


def parse_label_values(s, where):
    """{name: value} from the inside of {...}, undoing the escapes; refuses
    anything the format does not allow."""
    out = {}
    i = 0
    while i < len(s):
        m = re.compile(LABEL + "=\"").match(s, i)
        if not m:
            fail("%s: bad label at %r" % (where, s[i:]))
        name = s[i:m.end() - 2]
        if name in out:
            fail("%s: label %s twice" % (where, name))
        i = m.end()
        v = []
        while True:
            if i >= len(s):
                fail("%s: unterminated label value" % where)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", "\"", "n"):
                    fail("%s: bad escape \\%s" % (where, nxt))
                v.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == "\"":
                i += 1
                break
            elif c == "\n":
                fail("%s: raw newline in a label value" % where)
            else:
                v.append(c)
                i += 1
        out[name] = "".join(v)
        if i < len(s):
            if s[i] != ",":
                fail("%s: expected ',' at %r" % (where, s[i:]))
            i += 1
    return out


def parse_prom(text):
    """{family: {"type": t, "help": h, "samples": {frozenset(labels): v}}}.
    Every family has HELP then TYPE before its samples, appears once, and
    its samples follow it; the text ends with a newline."""
    check(text == "" or text.endswith("\n"), "exposition must end with a newline")
    fams = {}
    cur = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (n, line)
        if line.startswith("# HELP "):
            m = re.fullmatch("# HELP (" + NAME + ") (.*)", line)
            if not m:
                fail(where + ": malformed HELP")
            name = m.group(1)
            if name in fams:
                fail(where + ": family %s declared twice" % name)
            if re.search(r"\\[^\\n]", m.group(2).replace("\\\\", "")):
                fail(where + ": bad escape in HELP")
            fams[name] = {"help": m.group(2), "type": None, "samples": {}}
            cur = name
        elif line.startswith("# TYPE "):
            m = re.fullmatch("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)", line)
            if not m or m.group(1) != cur or fams[cur]["type"] is not None \
                    or fams[cur]["samples"]:
                fail(where + ": TYPE must follow its family's HELP")
            fams[cur]["type"] = m.group(2)
        elif line.startswith("#") or line == "":
            fail(where + ": unexpected line")
        else:
            m = re.fullmatch("(" + NAME + r")(?:\{(.*)\})? (" + VALUE + ")", line)
            if not m:
                fail(where + ": malformed sample")
            if m.group(1) != cur or fams[cur]["type"] is None:
                fail(where + ": sample outside its family")
            labels = frozenset(parse_label_values(m.group(2) or "", where).items())
            if labels in fams[cur]["samples"]:
                fail(where + ": duplicate sample")
            if fams[cur]["type"] == "counter" and not cur.endswith("_total"):
                fail(where + ": a counter's name ends in _total")
            fams[cur]["samples"][labels] = float(m.group(3))
    return fams


def value(fams, name, **labels):
    if name not in fams:
        fail("metric %s missing" % name)
    key = frozenset(labels.items())
    if key not in fams[name]["samples"]:
        fail("%s%r missing: %r" % (name, labels, fams[name]["samples"]))
    return fams[name]["samples"][key]


def spool_bytes(*dirs):
    total = 0
    for d in dirs:
        for f in os.listdir(d):
            p = os.path.join(d, f)
            if stat.S_ISREG(os.lstat(p).st_mode):
                total += os.lstat(p).st_size
    return total


def t_metrics(work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    now = time.time()
    a = make_report(spool, minidump=b"MDMP" + b"a" * 1000, mtime=now - 300)
    b = make_report(spool, minidump=b"MDMP" + b"b" * 2000, mtime=now - 200)
    c = make_report(spool, minidump=b"MDMP" + b"c" * 3000, mtime=now - 100)
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    col.control(script=["200", "400", "500"], then="429-retry-after:100")
    mdir = os.path.join(work, "textfile")
    os.makedirs(mdir)
    mfile = os.path.join(mdir, "crashwatch.prom")
    env = dict(os.environ)
    for k in ("SENTRY_DSN", "CRASHWATCH_UPLOAD_URL", "CRASHWATCH_SPOOL"):
        env.pop(k, None)
    out = open(os.path.join(work, "watch.out"), "wb")
    p = subprocess.Popen([CRASHWATCH, "upload", "--watch", "--spool", spool,
                          "--dsn", dsn, "--retry-base", "3600",
                          "--metrics-file", mfile, "--poll", "600"],
                         env=env, stdout=out, stderr=out)
    try:
        def read_when(pred):
            def f():
                if not os.path.exists(mfile):
                    return None
                fams = parse_prom(open(mfile).read())
                return fams if pred(fams) else None
            return f

        fams = wait_for(read_when(lambda f: f["crashwatch_uploads_total"]
                                  ["samples"].get(frozenset({("result", "error")})) == 1),
                        "the first pass's metrics")
        t_after = time.time()
        check(ut.ids_sent(col) == [a, b, c], "sent %r" % ut.ids_sent(col))
        check(ut.reports_in(spool) == [c], "left %r" % ut.reports_in(spool))
        for name, typ in (("crashwatch_reports_pending", "gauge"),
                          ("crashwatch_reports_failed", "gauge"),
                          ("crashwatch_reports_delivered_total", "counter"),
                          ("crashwatch_uploads_total", "counter"),
                          ("crashwatch_rate_limited_until_seconds", "gauge"),
                          ("crashwatch_oldest_pending_report_age_seconds", "gauge"),
                          ("crashwatch_spool_bytes", "gauge")):
            check(fams.get(name, {}).get("type") == typ, "%s is not a %s" % (name, typ))
        check(value(fams, "crashwatch_reports_pending") == 1, "pending")
        check(value(fams, "crashwatch_reports_failed") == 1, "failed")
        check(value(fams, "crashwatch_reports_delivered_total") == 1, "delivered")
        check(value(fams, "crashwatch_uploads_total", result="ok") == 1, "ok")
        check(value(fams, "crashwatch_uploads_total", result="failed") == 1, "refused")
        check(value(fams, "crashwatch_uploads_total", result="rate_limited") == 0, "429s")
        check(value(fams, "crashwatch_rate_limited_until_seconds") == 0, "no limit yet")
        age = value(fams, "crashwatch_oldest_pending_report_age_seconds")
        check(100 <= age <= t_after - (now - 100) + 1, "oldest age %r" % age)
        want = spool_bytes(os.path.join(spool, c), os.path.join(spool, "failed", b))
        check(value(fams, "crashwatch_spool_bytes") == want,
              "spool bytes %r, want %d" % (value(fams, "crashwatch_spool_bytes"), want))
        mode = os.stat(mfile).st_mode & 0o777
        check(mode == 0o644, "metrics file mode %o" % mode)

        # A new report wakes the watcher (inotify); the server rate-limits it.
        t0 = time.time()
        d = make_report(spool)
        fams = wait_for(read_when(lambda f: f["crashwatch_uploads_total"]
                                  ["samples"].get(frozenset({("result", "rate_limited")})) == 1),
                        "the metrics after a 429")
        t1 = time.time()
        check(value(fams, "crashwatch_reports_pending") == 2, "pending after 429")
        until = value(fams, "crashwatch_rate_limited_until_seconds")
        check(t0 + 99 <= until <= t1 + 101, "rate limited until %r (now %r)" % (until, t1))
        check(d in ut.ids_sent(col), "new report not sent")
        check(sorted(os.listdir(mdir)) == ["crashwatch.prom"],
              "temporary files left: %r" % os.listdir(mdir))
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        out.close()
        sys.stdout.write(open(os.path.join(work, "watch.out")).read())
    check(rc == 4, "watch exit status %d, want 4 (reports pending)" % rc)

    # --once writes the file at its end too; an unwritable path is an error
    # on stderr, not a failed delivery.
    os.unlink(mfile)
    rc, out = ut.upload("--spool", spool, "--dsn", dsn, "--metrics-file", mfile)
    fams = parse_prom(open(mfile).read())
    check(value(fams, "crashwatch_reports_pending") == 2, "--once pending")
    rc, out = ut.upload("--spool", spool, "--dsn", dsn, "--metrics-file",
                        os.path.join(work, "missing", "x.prom"))
    check("cannot write the metrics file" in out, "no message for a bad path")
    col.stop()


def t_prom_parser_rejects(work):
    """The reader above must be able to fail."""
    bad = ["m 1\n",                                        # no HELP/TYPE
           "# HELP m h\n# TYPE m gauge\nm 1",              # no final newline
           "# HELP m h\n# TYPE m gauge\nm{a=\"x\"y\"} 1\n",  # bad quote
           "# HELP m h\n# TYPE m gauge\nm{a=\"\\q\"} 1\n",  # bad escape
           "# HELP m h\n# TYPE m gauge\nm 1\n# HELP m h\n# TYPE m gauge\n",
           "# HELP m h\n# TYPE m counter\nm 1\n",           # counter not _total
           "# HELP m h\n# TYPE m gauge\nn 1\n",             # other family
           "# HELP m h\n# TYPE m gauge\nm one\n"]
    for text in bad:
        try:
            parse_prom(text)
        except AssertionError:
            continue
        fail("accepted %r" % text)


# ---- list, show, the journal, the summary on real crashes ----------------

def cw(*args, rc=None):
    """Runs `crashwatch ARGS`; returns (exit status, stdout, stderr)."""
    env = dict(os.environ)
    for k in ("SENTRY_DSN", "CRASHWATCH_UPLOAD_URL", "CRASHWATCH_SPOOL"):
        env.pop(k, None)
    p = subprocess.run([CRASHWATCH] + list(args), env=env, capture_output=True,
                       text=True, timeout=120)
    sys.stdout.write("$ crashwatch %s\n%s%s[rc=%d]\n" % (
        " ".join(args), p.stdout[:3000], p.stderr[:2000], p.returncode))
    if rc is not None and p.returncode != rc:
        fail("crashwatch %s: exit %d, want %d" % (args[0], p.returncode, rc))
    return p.returncode, p.stdout, p.stderr


def crash(work, spool, prog=None, args=("null",), extra_env=None):
    """A real crash of the crash test program into spool; returns (pid,
    stderr, the new report's id or None)."""
    prog = prog or os.environ["CW_CRASHPROG"]
    before = set(ut.reports_in(spool))
    env = ut.crash_env(work, spool, extra_env or {})
    p = subprocess.Popen([prog] + list(args), env=env, cwd=work,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=90)
    check(p.returncode == -signal.SIGSEGV, "crash exit %d" % p.returncode)
    new = sorted(set(ut.reports_in(spool)) - before)
    return p.pid, err.decode(errors="replace"), new[0] if len(new) == 1 else None


def list_json(spool, *extra):
    rc, out, err = cw("list", "--spool", spool, "--json", *extra, rc=0)
    doc = json.loads(out)
    check(doc["spool"].endswith("spool"), "spool %r" % doc["spool"])
    return {r["event_id"]: r for r in doc["reports"]}, doc["reports"]


def four_states(work):
    """Four real crashes, then one upload pass that leaves one of each
    state: delivered (journal), failed (400), retrying (500), rate-limited
    (429). Returns (spool, collector, {state: (id, pid)})."""
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    ids = []
    for _ in range(4):
        pid, err, rid = crash(work, spool)
        check(rid is not None, "no report written")
        ids.append((rid, pid))
        time.sleep(0.01)  # distinct event times, so the order is known
    # The uploader sends oldest first (by directory mtime): make it the
    # crash order whatever the clock's resolution.
    now = time.time()
    for k, (rid, _) in enumerate(ids):
        os.utime(os.path.join(spool, rid), (now - 100 + k, now - 100 + k))
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    col.control(script=["200", "400", "500", "429-retry-after:300"], then="200")
    ut.upload("--spool", spool, "--dsn", dsn, "--retry-base", "3600", check_rc=4)
    check(ut.ids_sent(col) == [r for r, _ in ids], "sent %r" % ut.ids_sent(col))
    states = dict(zip(["uploaded", "failed", "retrying", "rate_limited"], ids))
    return spool, col, states


def t_list(work):
    spool, col, st = four_states(work)
    by_id, rows = list_json(spool)
    check(len(rows) == 3, "list shows %d reports, want 3 (not the uploaded one)"
          % len(rows))
    check(st["uploaded"][0] not in by_id, "an uploaded report is listed without --all")
    for state, (rid, pid) in st.items():
        if state == "uploaded":
            continue
        r = by_id.get(rid)
        check(r is not None, "%s report %s missing" % (state, rid))
        check(r["delivery"]["state"] == state, "%s: state %r" % (rid, r["delivery"]))
        check(r["program"] == os.path.basename(os.environ["CW_CRASHPROG"]),
              "program %r" % r["program"])
        check(r["pid"] == pid, "pid %r, want %d" % (r["pid"], pid))
        check(r["signal"] == "SIGSEGV", "signal %r" % r["signal"])
        check(r["top_frame"] is not None and r["top_frame"].startswith("crash_here"),
              "top frame %r" % r["top_frame"])
        check(os.path.isdir(r["dir"]), "dir %r" % r["dir"])
    f = by_id[st["failed"][0]]["delivery"]
    check("HTTP 400" in f["reason"] and "collector says 400" in f["reason"],
          "failed reason %r" % f)
    check(by_id[st["failed"][0]]["dir"] == os.path.join(
        os.path.realpath(spool), "failed", st["failed"][0]), "failed dir")
    r = by_id[st["retrying"][0]]["delivery"]
    check(r["attempts"] == 1 and "HTTP 500" in r["last_error"], "retrying %r" % r)
    nxt = time.mktime(time.strptime(r["next_attempt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    check(time.time() + 1000 < nxt < time.time() + 3700, "next attempt %r" % r)
    rl = by_id[st["rate_limited"][0]]["delivery"]
    until = time.mktime(time.strptime(rl["until"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    check(time.time() + 200 < until < time.time() + 301, "rate limited until %r" % rl)
    # Newest last.
    times = [r["time"] for r in rows]
    check(times == sorted(times), "not oldest first: %r" % times)

    # --all adds the delivered one, from the journal, with the server's id.
    by_id, rows = list_json(spool, "--all")
    check(len(rows) == 4, "--all shows %d" % len(rows))
    u = by_id[st["uploaded"][0]]
    check(u["delivery"]["state"] == "uploaded", "uploaded %r" % u["delivery"])
    check(u["delivery"]["server_event_id"] == st["uploaded"][0],
          "server event id %r" % u["delivery"])
    check(u["delivery"]["server"].startswith("http://127.0.0.1:%d/api/1/envelope/"
                                             % col.port), "server %r" % u["delivery"])
    check(u["delivery"]["status"] == 200, "status")
    check(u["pid"] == st["uploaded"][1] and u["signal"] == "SIGSEGV" and
          u["top_frame"].startswith("crash_here"), "journal fields %r" % u)
    check([r["event_id"] for r in rows] == [i for i, _ in st.values()],
          "order %r" % [r["event_id"] for r in rows])

    # The text: one line per report, newest last, each with its state.
    rc, out, err = cw("list", "--spool", spool, "--all", rc=0)
    lines = out.splitlines()
    check(len(lines) == 4, "%d lines" % len(lines))
    want = {"uploaded": "uploaded as " + st["uploaded"][0], "failed": "failed: ",
            "retrying": "retrying at ", "rate_limited": "rate-limited until "}
    for line, (state, (rid, pid)) in zip(lines, st.items()):
        check(rid in line and want[state] in line and "SIGSEGV" in line and
              "[%d]" % pid in line and "crash_here" in line,
              "%s line %r" % (state, line))

    # Errors: a spool that does not exist; a bad option.
    rc, out, err = cw("list", "--spool", os.path.join(work, "typo"), rc=1)
    check("does not exist" in err, err)
    cw("list", "--bogus", rc=2)
    rc, out, err = cw("list", "--help", rc=0)
    check("exit status" in out and "--all" in out and "--json" in out, "help")
    col.stop()


def t_show(work):
    spool, col, st = four_states(work)
    # A report with a scope and an attachment, from the real scope program.
    logf = os.path.join(work, "app.log")
    with open(logf, "w") as f:
        f.write("started\n")
    pid, err, scoped = crash(work, spool, prog=os.environ["CW_SCOPEPROG"],
                             args=("all",))
    check(scoped is not None, "no report from scopeprog")

    rid = st["retrying"][0]
    rc, out, err = cw("show", rid[:12], "--spool", spool, "--json", rc=0)
    doc = json.loads(out)
    check(doc["event_id"] == rid, "event id %r" % doc["event_id"])
    check(doc["signal"] == "SIGSEGV" and doc["code_name"] == "SEGV_MAPERR"
          and doc["fault_address"] == "0x0", "signal %r" % doc)
    check(doc["pid"] == st["retrying"][1], "pid")
    check(doc["delivery"]["state"] == "retrying" and doc["history"]["attempts"] == 1
          and "HTTP 500" in doc["history"]["last_error"], "history %r" % doc["history"])
    sw = doc["stackwalk"]
    check(sw is not None and sw["threads"][0]["crashed"], "crashing thread first")
    fr = sw["threads"][0]["frames"]
    check(any(f.get("function") == "crash_here" and
              (f.get("file") or "").endswith("crashprog.c") and f.get("line", 0) > 0
              for f in fr), "no symbolized crash_here frame: %r" % fr[:3])
    prog_id = [m for m in sw["modules"]
               if m["name"].endswith(os.path.basename(os.environ["CW_CRASHPROG"]))]
    check(prog_id and len(prog_id[0]["code_id"]) == 40, "module build-id %r" % prog_id)
    check(doc["attachments"][0]["name"] == "minidump.dmp", "attachments %r" % doc["attachments"])
    # The lldb command opens the minidump as printed.
    cmd = doc["lldb"]
    check(cmd == "lldb --core '%s/minidump.dmp'" % doc["dir"], "lldb %r" % cmd)
    lldb = shutil.which("lldb")
    if lldb:
        import shlex
        p = subprocess.run(shlex.split(cmd) + ["--batch", "--no-lldbinit", "-o",
                                                "thread list"],
                           capture_output=True, text=True, timeout=120)
        check("SIGSEGV" in p.stdout, "lldb did not open the dump: %s %s"
              % (p.stdout[-500:], p.stderr[-500:]))
    else:
        print("note: no lldb here; the command is not run")

    # Text: the story, with the stacks and the history.
    rc, out, err = cw("show", rid, "--spool", spool, rc=0)
    for want in ("report      " + rid, "SIGSEGV (SEGV_MAPERR) at 0x0",
                 "pid %d" % st["retrying"][1], "1 failed attempt", "HTTP 500",
                 "lldb --core", "Thread 0 (crashed)", "crash_here",
                 "Loaded modules:"):
        check(want in out, "show text lacks %r" % want)

    # The scope of the scope program's report.
    rc, out, err = cw("show", scoped, "--spool", spool, "--json", rc=0)
    doc = json.loads(out)
    sc = doc["scope"]
    check(sc.get("tags", {}).get("tenant") == "acme", "tags %r" % sc.get("tags"))
    check(sc.get("user", {}).get("id") == "42", "user %r" % sc.get("user"))
    check(sc.get("contexts", {}).get("kafka", {}).get("topic") == "orders",
          "contexts %r" % sc.get("contexts"))
    crumbs = [c.get("message") for c in sc.get("breadcrumbs", {}).get("values", [])]
    check("GET /orders" in crumbs and "pool exhausted" in crumbs, "crumbs %r" % crumbs)
    rc, out, err = cw("show", scoped, "--spool", spool, rc=0)
    for want in ("tag tenant = acme", "context kafka", "pool exhausted"):
        check(want in out, "show text lacks %r" % want)

    # Failed, rate-limited and uploaded reports.
    rc, out, err = cw("show", st["failed"][0], "--spool", spool, "--json", rc=0)
    doc = json.loads(out)
    check(doc["delivery"]["state"] == "failed" and "HTTP 400" in doc["delivery"]["reason"]
          and doc["stackwalk"] is not None, "failed %r" % doc["delivery"])
    rc, out, err = cw("show", st["rate_limited"][0], "--spool", spool, rc=0)
    check("rate limited by the server until" in out, "rate limit not shown")
    rc, out, err = cw("show", st["uploaded"][0], "--spool", spool, "--json", rc=0)
    doc = json.loads(out)
    check(doc["delivery"]["state"] == "uploaded" and
          doc["history"]["uploaded"]["server_event_id"] == st["uploaded"][0] and
          doc["stackwalk"] is None and doc["dir"] is None, "uploaded %r" % doc)
    rc, out, err = cw("show", st["uploaded"][0].upper(), "--spool", spool, rc=0)
    check("uploaded as " + st["uploaded"][0] in out, "uploaded text")

    # latest: the newest report.
    rc, out, err = cw("show", "latest", "--spool", spool, "--json", rc=0)
    check(json.loads(out)["event_id"] == scoped, "latest is not the newest")

    # Prefixes: ambiguous (exit 4, candidates listed), none (3), not hex (2).
    a = make_report(spool, eid="abcd" + os.urandom(14).hex())
    b = make_report(spool, eid="abce" + os.urandom(14).hex())
    rc, out, err = cw("show", "abc", "--spool", spool, rc=4)
    check(a in err and b in err and "ambiguous" in err, "candidates %r" % err)
    cw("show", "abcd", "--spool", spool, rc=0)
    taken = {r[0] for r in [(a,), (b,), (scoped,)] + [(i,) for i, _ in st.values()]}
    free = next(p for p in ("0000", "1111", "2222", "3333", "4444", "5555",
                            "6666", "7777", "8888", "9999", "eeee", "ffff")
                if not any(t.startswith(p) for t in taken))
    rc, out, err = cw("show", free, "--spool", spool, rc=3)
    check("no report" in err, err)
    cw("show", "xyz", "--spool", spool, rc=2)
    cw("show", "--spool", spool, rc=2)
    rc, out, err = cw("show", "-h", rc=0)
    check("exit status" in out and "ambiguous" in out, "help")
    col.stop()


def t_message_level(work):
    """A message event (no signal) is listed with its level."""
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    eid = os.urandom(16).hex()
    m = make_report(spool, eid=eid, event=json.dumps({
        "event_id": eid, "level": "warning",
        "timestamp": "2026-01-02T03:04:05.5Z",
        "message": {"formatted": "disk almost full"}}))
    by_id, rows = list_json(spool)
    r = rows[0]
    check(r["signal"] is None and r["level"] == "warning" and
          r["title"] == "disk almost full" and r["time"] == "2026-01-02T03:04:05Z",
          "message event %r" % r)
    rc, out, err = cw("list", "--spool", spool, rc=0)
    check("warning" in out and "pending" in out, out)
    rc, out, err = cw("show", m[:8], "--spool", spool, rc=0)
    check("level       warning" in out and "disk almost full" in out, out)


def t_journal_bounded(work):
    """The journal keeps the newest deliveries within its byte bound, and a
    planted journal (symbolic link, FIFO) is never followed or blocks."""
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    now = time.time()
    ids = [make_report(spool, mtime=now - 1000 + k) for k in range(300)]
    col = Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    ut.upload("--spool", spool, "--dsn", dsn, "-q", "--max-reports", "0",
              check_rc=0)
    j = os.path.join(spool, ".state", "delivered")
    size = os.path.getsize(j)
    check(size <= 64 * 1024, "journal is %d bytes" % size)
    lines = open(j).read().splitlines()
    got = [json.loads(l)["event_id"] for l in lines]
    check(len(got) > 50 and got == ids[-len(got):],
          "journal keeps %d, not the newest in order" % len(got))
    check(os.stat(j).st_mode & 0o777 == 0o600, "journal mode")
    by_id, rows = list_json(spool, "--all")
    check(len(rows) == len(got), "list --all shows %d" % len(rows))

    # A symbolic link planted as the journal: not followed, delivery goes on.
    victim = os.path.join(work, "victim")
    with open(victim, "w") as f:
        f.write("keep\n")
    os.unlink(j)
    os.symlink(victim, j)
    r = make_report(spool)
    ut.upload("--spool", spool, "--dsn", dsn, check_rc=0)
    check(open(victim).read() == "keep\n", "the journal followed a symlink")
    check(ut.reports_in(spool) == [], "report kept because of the journal")
    check(os.path.islink(j), "the planted link was replaced")
    cw("list", "--spool", spool, "--all", rc=0)
    # A FIFO: the uploader neither blocks nor fails.
    os.unlink(j)
    os.mkfifo(j, 0o600)
    make_report(spool)
    ut.upload("--spool", spool, "--dsn", dsn, check_rc=0, timeout=30)
    cw("list", "--spool", spool, "--all", rc=0)
    col.stop()


def t_summary(work):
    """After an automatic upload the crash summary does not point at a
    directory that is gone: it says uploaded as ID, or kept in DIR: why."""
    spool = os.path.join(work, "spool")
    col = Collector(work)
    dsn = "http://pub@127.0.0.1:%d/7" % col.port
    pid, err, rid = crash(work, spool, extra_env={"SENTRY_DSN": dsn})
    eid = wait_for(lambda: ut.ids_sent(col), "the automatic upload")[0]
    wait_for(lambda: ut.reports_in(spool) == [], "the report to leave the spool")
    check("report written to" not in err, "summary names a directory: %r" % err)
    check("crashwatch: report %s written to %s, uploading it" % (eid, os.path.realpath(spool))
          in err or "crashwatch: report %s written to %s, uploading it" % (eid, spool) in err,
          "no 'uploading it' line: %r" % err)
    check("crashwatch: report %s uploaded as %s to http://127.0.0.1:%d/api/7/envelope/"
          % (eid, eid, col.port) in err, "no 'uploaded as' line: %r" % err)
    # The server fails: the report is kept, and the line says where and why.
    col.control(mode="500")
    pid, err, rid = crash(work, spool, extra_env={"SENTRY_DSN": dsn})
    wait_for(lambda: len(ut.ids_sent(col)) == 2, "the second upload")
    # One line per attempt (a second pass of the same uploader may make one
    # more if the retry falls due): each names the directory that holds it.
    line = [l for l in err.splitlines() if " kept in " in l]
    check(len(line) >= 1, "no 'kept in' line: %r" % err)
    for l in line:
        m = re.match(r"crashwatch: report ([0-9a-f]{32}) kept in (\S+): HTTP 500", l)
        check(m is not None, "kept line %r" % l)
        check(os.path.isdir(m.group(2)), "the kept directory %s does not exist"
              % m.group(2))
    check(len(set(line)) == len(line), "a line said twice: %r" % line)
    col.stop()


def t_events(work):
    """Reports of the real event program (issue 11): a message (level
    warning, no minidump) and a dump of the live process (level error, a
    minidump): list shows each with its level, show tells their story."""
    spool = os.path.join(work, "spool")
    prog = os.environ["CW_EVENTPROG"]
    env = ut.crash_env(work, spool, {})
    for args in (["message"], ["dump", "2"]):
        p = subprocess.run([prog] + args, env=env, cwd=work, capture_output=True,
                           timeout=90)
        check(p.returncode == 0, "eventprog %s: exit %d %s" % (args, p.returncode,
                                                               p.stderr[-500:]))
        wait_for(lambda: len(ut.reports_in(spool)) == (1 if args == ["message"] else 2),
                 "the %s report" % args[0], 60)
    by_id, rows = list_json(spool)
    check(len(rows) == 2, "%d reports" % len(rows))
    msg = [r for r in rows if r["level"] == "warning"]
    dump = [r for r in rows if r["level"] == "error"]
    check(len(msg) == 1 and msg[0]["signal"] is None and msg[0]["title"],
          "message event %r" % rows)
    # A message has no minidump: the program and pid come from the event
    # (the watchdog's extra crashwatch.program / crashwatch.pid).
    check(msg[0]["program"] == os.path.basename(prog) and msg[0]["pid"],
          "message event's program and pid %r" % msg[0])
    check(len(dump) == 1 and dump[0]["signal"] is None and dump[0]["pid"],
          "dump event %r" % rows)
    # The top in-app frame is the program's, not crashwatch's own.
    check((dump[0]["top_frame"] or "").startswith("main"),
          "dump's top frame %r" % dump[0]["top_frame"])
    rc, out, err = cw("list", "--spool", spool, rc=0)
    check(" warning " in out and " error " in out, "levels not listed: %r" % out)
    rc, out, err = cw("show", msg[0]["event_id"][:10], "--spool", spool, rc=0)
    check("level       warning" in out and msg[0]["title"] in out, "message show")
    rc, out, err = cw("show", dump[0]["event_id"], "--spool", spool, "--json", rc=0)
    doc = json.loads(out)
    check(doc["stackwalk"] is not None and len(doc["stackwalk"]["threads"]) >= 2,
          "dump stacks %r" % (doc.get("stackwalk") or {}).get("threads", [])[:1])


def t_list_hostile(work):
    """list and show never follow a planted link nor block on a FIFO: a
    report directory that is a link is not listed, a linked event.json is
    not read, a FIFO as minidump.dmp does not hang them."""
    spool = os.path.join(work, "spool")
    os.makedirs(spool, mode=0o700)
    secret = os.path.join(work, "secret")
    os.makedirs(secret)
    with open(os.path.join(secret, "event.json"), "w") as f:
        json.dump({"event_id": "f" * 32, "level": "fatal",
                   "message": {"formatted": "SECRET-TITLE"}}, f)
    os.symlink(secret, os.path.join(spool, "a" * 32))
    r = make_report(spool)
    os.unlink(os.path.join(spool, r, "event.json"))
    os.symlink(os.path.join(secret, "event.json"), os.path.join(spool, r, "event.json"))
    q = make_report(spool)
    os.mkfifo(os.path.join(spool, q, "minidump.dmp"), 0o600)
    by_id, rows = list_json(spool, "--all")
    check("a" * 32 not in by_id, "a symbolic link was listed as a report")
    check(r in by_id and q in by_id, "reports missing: %r" % list(by_id))
    check(by_id[r]["title"] is None, "a linked event.json was read")
    rc, out, err = cw("show", r, "--spool", spool, rc=0)
    check("SECRET-TITLE" not in out, "show read a linked event.json")
    rc, out, err = cw("show", q, "--spool", spool, rc=0)
    check("not a regular file" in out, "the FIFO is not said: %r" % out)


SCENARIOS = {
    "metrics": t_metrics,
    "prom_parser_rejects": t_prom_parser_rejects,
    "list": t_list,
    "show": t_show,
    "message_level": t_message_level,
    "journal_bounded": t_journal_bounded,
    "summary": t_summary,
    "events": t_events,
    "list_hostile": t_list_hostile,
}


def main():
    name = sys.argv[1]
    work = tempfile.mkdtemp(prefix="browse-%s-" % name, dir=TMP_ROOT)
    try:
        SCENARIOS[name](work)
    except AssertionError as e:
        print("FAIL %s: %s" % (name, e))
        print("work dir kept: " + work)
        return 1
    finally:
        for c in ut.COLLECTORS:
            c.stop()
    import shutil
    shutil.rmtree(work, ignore_errors=True)
    print("PASS " + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
