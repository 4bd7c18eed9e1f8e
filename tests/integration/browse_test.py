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


SCENARIOS = {
    "metrics": t_metrics,
    "prom_parser_rejects": t_prom_parser_rejects,
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
