#!/usr/bin/env python3
"""Crash integration tests: run tests/progs/crashprog in one crash mode and
check what crashwatch left behind.

  crash_tests.py --prog PATH --case NAME [--cli PATH]

Each case asserts: the program died by the original signal, the spool holds
exactly one committed report (none when the watchdog was killed first),
event.json parses and the crashing thread's frames name the expected
functions innermost first, lldb reads the minidump and finds the crashing
thread, and `crashwatch dump` reads it. Work happens in a fresh directory under
$CW_TEST_TMP so tests can run in parallel.
"""
import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from cw_check import check, finish

MAIN_CHAIN = ["crash_here", "level2", "level1", "main"]
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"]
CHILD_CHAIN = ["crash_here", "level2", "level1"]
FD_LOST = "was closed or replaced by the program; starting a watchdog now"
WD_DIED = "crashwatch: no crash report: the watchdog died before answering"
SKIP = 77
WORKER_CHAIN = ["crash_here", "level2", "level1", "crashing_worker"]

# case: (signal, expected innermost-first frame names, options)
CASES = {
    "null": (signal.SIGSEGV, MAIN_CHAIN, {}),
    "abort": (signal.SIGABRT, MAIN_CHAIN, {}),
    "fpe": (signal.SIGFPE, MAIN_CHAIN, {}),
    "ill": (signal.SIGILL, MAIN_CHAIN, {}),
    "bus": (signal.SIGBUS, MAIN_CHAIN, {}),
    "trap": (signal.SIGTRAP, MAIN_CHAIN, {}),
    "sys": (signal.SIGSYS, MAIN_CHAIN, {}),  # seccomp SECCOMP_RET_TRAP
    "segv-kill": (signal.SIGSEGV, MAIN_CHAIN, {}),
    "stack-main": (signal.SIGSEGV, ["overflow_recurse", "overflow_recurse"],
                   {}),
    "stack-thread": (signal.SIGSEGV, ["overflow_recurse", "overflow_recurse"],
                     {"worker": True}),
    "shlib": (signal.SIGSEGV, ["crashlib_fault", "crashlib_entry"] + MAIN_CHAIN,
              {}),
    "threads50": (signal.SIGSEGV, WORKER_CHAIN,
                  {"worker": True, "min_threads": 52}),
    "two-threads": (signal.SIGSEGV, WORKER_CHAIN, {"worker": True}),
    "prev-handler": (signal.SIGSEGV, MAIN_CHAIN, {"marker": True}),
    "no-watchdog": (signal.SIGSEGV, None, {"reports": 0}),
    # The watchdog is alive but never answers: the ack timeout ends the
    # wait and the app dies by its signal. When the watchdog resumes, the
    # app is gone: at most a degraded report from the record alone.
    "stopped-watchdog": (signal.SIGSEGV, None,
                         {"reports": None, "ack_timeout": "300"}),
    # With fork coverage off, a forked child dies by its signal without a
    # report; the parent's crash is still reported.
    "fork-child": (signal.SIGSEGV, MAIN_CHAIN,
                   {"fork": True, "env": {"CRASHWATCH_COVER_FORKS": "0"}}),
    # CRASHWATCH_INCLUDE_ENVIRON=1 reaches the watchdog: the dump then has
    # the environ stream (every other case checks that it does not).
    "environ": (signal.SIGSEGV, MAIN_CHAIN, {"environ": True}),
    # SIGSEGV was SIG_IGN before cw_init(): a kill -SEGV is still ignored,
    # the later real fault is reported.
    "ignored-kill": (signal.SIGSEGV, MAIN_CHAIN,
                     {"stdout": "still alive after kill -SEGV"}),
    # A soft RLIMIT_FSIZE of 100 KiB, below the watchdog image and a
    # minidump: cw_init works (no SIGXFSZ) and the report is written.
    "fsize": (signal.SIGSEGV, MAIN_CHAIN, {}),
    # The crashing program is PID 1 of a new PID namespace (a container's
    # main process): its death SIGKILLs the watchdog, so it dies only once
    # the report is complete (symbolized: extra has crashwatch.symbolize).
    "pidns": (signal.SIGSEGV, MAIN_CHAIN,
              {"mode": "null", "wrap": UNSHARE, "root": True}),
    # The same with CRASHWATCH_RELEASE_EARLY=1: the app dies as soon as it
    # is copied out and the namespace goes with it, SIGKILLing the watchdog
    # while it writes: the report is usually lost (the documented price of
    # the option). Whether the watchdog wins the race is up to the
    # scheduler, so what is asserted is what always holds: at most one
    # report, and never a half-written one (a report is renamed into place
    # only when complete, so one that is listed is whole).
    "pidns-early": (signal.SIGSEGV, None,
                    {"mode": "null", "wrap": UNSHARE, "root": True,
                     "env": {"CRASHWATCH_RELEASE_EARLY": "1"},
                     "reports": None}),
    # Forked processes (coverage on by default). A daemon (double fork +
    # setsid, the parent exits 0, the grandchild crashes): one report, for
    # the daemon's pid.
    "daemonize": (0, CHILD_CHAIN,
                  {"pids": r"daemon pid (\d+)", "reports": 1}),
    # The same daemon closes every fd (stdio and the crash socket) first.
    "daemon-closefds": (0, CHILD_CHAIN,
                        {"pids": r"daemon pid (\d+)", "reports": 1}),
    # A prefork server: 8 workers, two crash: two reports, one per pid.
    "workers": (0, CHILD_CHAIN,
                {"pids": r"worker (\d+) status signal 11", "reports": 2}),
    # The same with CRASHWATCH_COVER_FORKS=0: no report.
    "workers-nocover": (0, None,
                        {"mode": "workers", "reports": 0,
                         "env": {"CRASHWATCH_COVER_FORKS": "0"}}),
    # The crash socket's fd closed (close_range), replaced by /dev/null
    # (dup2), or reused by another socket whose peer must receive nothing:
    # one line on stderr, and a watchdog started at crash time still
    # writes the report.
    "fd-closed": (signal.SIGSEGV, MAIN_CHAIN, {"stderr": FD_LOST}),
    "fd-dup2": (signal.SIGSEGV, MAIN_CHAIN, {"stderr": FD_LOST}),
    "fd-reused": (signal.SIGSEGV, MAIN_CHAIN,
                  {"stderr": FD_LOST,
                   "stdout": "stranger received 0 bytes"}),
    # A seccomp filter inherited from the app kills the watchdog when it
    # calls ptrace: no report, one line on stderr says so.
    "seccomp-watchdog": (signal.SIGSEGV, None,
                         {"reports": 0, "stderr": WD_DIED}),
    # SIGTERM to the watchdog as soon as it starts capturing: it finishes
    # the report first. With the lazy watchdog, whose idle stage exec()s
    # the full watchdog when the crash record arrives, that exec is the
    # moment the capture starts, which the test can see from outside.
    "term-watchdog": (signal.SIGSEGV, MAIN_CHAIN,
                      {"mode": "wait-go", "term_watchdog": True,
                       "env": {"CRASHWATCH_LAZY_WATCHDOG": "1"}}),
    # SIGTERM to the idle watchdog (a service stop signals the whole
    # cgroup) while the app is still shutting down: the app then crashes,
    # and the report is still written. The resident full watchdog (the
    # default) and the lazy watchdog's idle stage.
    "term-idle": (signal.SIGSEGV, MAIN_CHAIN,
                  {"mode": "wait-go", "term_idle": True}),
    "term-idle-lazy": (signal.SIGSEGV, MAIN_CHAIN,
                       {"mode": "wait-go", "term_idle": True,
                        "env": {"CRASHWATCH_LAZY_WATCHDOG": "1"}}),
    # The lazy watchdog (cw_options_set_lazy_watchdog): its idle stage
    # exec()s the full watchdog at the crash; same report.
    "lazy-segv": (signal.SIGSEGV, MAIN_CHAIN,
                  {"mode": "null", "env": {"CRASHWATCH_LAZY_WATCHDOG": "1"}}),
    "lazy-threads50": (signal.SIGSEGV, WORKER_CHAIN,
                       {"mode": "threads50", "worker": True,
                        "min_threads": 52,
                        "env": {"CRASHWATCH_LAZY_WATCHDOG": "1"}}),
    # Frame 0 inside the vDSO (clock_gettime writing through a bad
    # pointer): named alike by the event and `crashwatch symbolize` (the
    # vDSO's aliases clock_gettime / __vdso_clock_gettime: issue 14). A
    # kernel without a vDSO makes the call fail instead: exit 77, skipped.
    "vdso": (signal.SIGSEGV, MAIN_CHAIN, {"skip_rc": 77}),
    # The crash comes after the resident watchdog has waited long enough to
    # warm up (watchdog/main.c: host facts read, sync threads started, heap
    # touched): it runs 1 + 3 threads, and the report is as complete as a
    # cold one (every case checks the host facts' streams).
    "warm": (signal.SIGSEGV, MAIN_CHAIN,
             {"mode": "null", "env": {"CRASHPROG_SETTLE_MS": "400"},
              "stdout": "watchdog threads 4\n"}),
}

MD_LINUX_ENVIRON = 0x47670007
MD_LINUX_LSB_RELEASE = 0x47670005
MD_LINUX_CPU_INFO = 0x47670003
RELEASE, ENVIRONMENT = "crashprog@1.0.0", "integration"



def crash_reports(spool):
    """The crash reports in spool: report directories but the session-only
    ones (a `session` file alone: the release-health update a process that
    ended without crashing leaves, docs/sessions.md)."""
    if not os.path.isdir(spool):
        return []
    return sorted(d for d in os.listdir(spool)
                  if re.fullmatch(r"[0-9a-f]{32}", d) and
                  os.listdir(os.path.join(spool, d)) != ["session"])

def minidump_streams(path):
    """Stream types of a minidump, from its header and directory."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 32 or data[:4] != b"MDMP":
        return None
    count, rva = struct.unpack_from("<II", data, 8)
    types = []
    for i in range(count):
        off = rva + 12 * i
        if off + 12 > len(data):
            return None
        types.append(struct.unpack_from("<I", data, off)[0])
    return types


def base_name(fn):
    # "crash_here.constprop.0" or "crash_here(int)" -> "crash_here"
    return re.split(r"[.(+ ]", fn or "", maxsplit=1)[0]


def crashed_frames(event):
    """Innermost-first function names of the crashing thread, and its id."""
    exc = (event.get("exception") or {}).get("values") or []
    frames, tid = None, None
    if exc:
        tid = exc[0].get("thread_id")
        st = exc[0].get("stacktrace") or {}
        frames = st.get("frames")
    threads = (event.get("threads") or {}).get("values") or []
    for t in threads:
        if t.get("crashed"):
            tid = tid if tid is not None else t.get("id")
            if not frames:
                frames = (t.get("stacktrace") or {}).get("frames")
    names = [base_name(f.get("function")) for f in (frames or [])]
    names.reverse()  # Sentry lists the outermost caller first
    return names, tid, threads


def has_debug_line(path):
    """True if the ELF file at path has a .debug_line section."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    if shoff == 0 or shstrndx >= shnum:
        return False
    def sh(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    stroff = sh(shstrndx)[4]
    for i in range(shnum):
        name_off = sh(i)[0]
        end = data.index(b"\0", stroff + name_off)
        if data[stroff + name_off:end] == b".debug_line":
            return True
    return False


def marker_line(path, marker):
    """1-based number of the first line of path containing marker."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    return None


def crashed_frame_objects(event):
    """The crashing thread's frame objects, innermost first."""
    exc = (event.get("exception") or {}).get("values") or []
    frames = ((exc[0].get("stacktrace") or {}).get("frames")
              if exc else None) or []
    return list(reversed(frames))


def is_subsequence(want, names):
    it = iter(names)
    return all(any(n == w for n in it) for w in want)


VDSO_FALLBACK = re.compile(r"^linux-vdso\.so\.1\+0x[0-9a-f]+$")


def event_stacks(event):
    """{thread id: [(ip, [function names innermost first])]} of the event:
    a frame and the inlined functions listed after it share one ip."""
    stacks = {}
    exc = (event.get("exception") or {}).get("values") or []
    lists = []
    if exc and exc[0].get("stacktrace"):
        lists.append((exc[0].get("thread_id"), exc[0]["stacktrace"].get("frames")))
    for t in (event.get("threads") or {}).get("values") or []:
        if t.get("stacktrace"):
            lists.append((t.get("id"), t["stacktrace"].get("frames")))
    for tid, frames in lists:
        out = []
        for f in frames or []:  # outermost first; inlined ones follow
            ip = int(f["instruction_addr"], 16)
            name = f.get("function")
            if name is not None and VDSO_FALLBACK.match(name):
                name = None  # the event's form for "no symbol names it"
            inl = bool((f.get("data") or {}).get("inlined"))
            if inl and out and out[-1][0] == ip:
                out[-1][1].insert(0, name)
            else:
                out.append((ip, [name]))
        stacks[tid] = list(reversed(out))
    return stacks


def symbolize_stacks(doc):
    """The same from `crashwatch symbolize REPORT --json`: frames innermost
    first, inlined ones ("inlined": true) before the frame they are in."""
    stacks = {}
    for t in doc.get("threads") or []:
        out = []
        for f in t.get("frames") or []:
            ip = int(f["ip"], 16)
            if out and out[-1][0] == ip and out[-1][2]:
                out[-1][1].append(f.get("function"))
                out[-1][2] = f.get("inlined", False)
            else:
                out.append([ip, [f.get("function")], f.get("inlined", False)])
        stacks[t.get("tid")] = [(ip, names) for ip, names, _ in out]
    return stacks


def check_symbolize_agrees(cli, rdir, event):
    """Issue 14: every frame's function name in event.json is the one
    `crashwatch symbolize REPORT --json` gives the frame at the same
    address of the same thread (the watchdog and the symbolizer read ELF
    through one layer, with one alias rule). Frames only one of the two
    walks found (stack scanning) have nothing to compare."""
    extra = event.get("extra") or {}
    if extra.get("crashwatch.symbolize") == "timed out":
        print("SKIP sub-check: the watchdog's symbolization ran out of time")
        return
    r = subprocess.run([cli, "symbolize", rdir, "--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if not check(r.returncode in (0, 1), "symbolize %s: exit %d: %s" %
                 (rdir, r.returncode, r.stderr.decode(errors="replace"))):
        return
    doc = json.loads(r.stdout)
    ours, theirs = event_stacks(event), symbolize_stacks(doc)
    compared = 0
    for tid, frames in ours.items():
        walked = {}
        for ip, names in theirs.get(tid, []):
            walked.setdefault(ip, names)
        for i, (ip, names) in enumerate(frames):
            if ip not in walked:
                continue
            compared += 1
            check(names == walked[ip],
                  "thread %s frame #%d at %#x: event.json names %s, "
                  "crashwatch symbolize %s" % (tid, i, ip, names, walked[ip]))
    check(compared > 0, "no frame in common between event.json and symbolize")
    print("event.json vs crashwatch symbolize: %d frame(s) compared" % compared)


def find_watchdog(app_pid, wait=0.0):
    """The pid of the watchdog whose command line says --pid app_pid; with
    wait, retries that long (a watchdog just started may still be in its
    exec, its /proc/PID/cmdline empty for that moment)."""
    import time
    end = time.monotonic() + wait
    while True:
        wd = find_watchdog_now(app_pid)
        if wd is not None or time.monotonic() >= end:
            return wd
        time.sleep(0.002)


def find_watchdog_now(app_pid):
    """find_watchdog() without waiting."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if (argv and b"crashwatch-watchdog" in argv[0] and b"--pid" in argv
                and argv.index(b"--pid") + 1 < len(argv)
                and argv[argv.index(b"--pid") + 1] == str(app_pid).encode()):
            return int(d)
    return None


def wait_exited(pid, timeout=10.0):
    """True once pid is gone or a zombie (within timeout seconds)."""
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if st in ("Z", "X"):
            return True
        time.sleep(0.01)
    return False


def term_watchdog_during_capture(p):
    """Lets crashprog (mode wait-go) crash, and sends SIGTERM to its
    watchdog the moment the idle stage has exec'd the full watchdog (a
    crash record is pending: the capture is starting). Returns (out, err)
    as bytes."""
    import threading
    first = p.stdout.readline()
    m = re.search(rb"pid (\d+)", first)
    wd = find_watchdog(int(m.group(1)), 2.0) if m else None
    check(wd is not None, "no watchdog found for %r" % first)
    state = {"sent": False}

    def spin():
        exe = "/proc/%d/exe" % wd
        while True:
            try:
                target = os.readlink(exe)
            except OSError:
                return  # gone before we saw it capturing
            if "crashwatch-watchdog" in target:
                os.kill(wd, signal.SIGTERM)
                state["sent"] = True
                return

    t = threading.Thread(target=spin)
    if wd is not None:
        t.start()
    p.stdin.write(b"go\n")
    p.stdin.close()
    rest, err = p.stdout.read(), p.stderr.read()
    p.wait(timeout=90)
    if wd is not None:
        t.join(timeout=30)
        if state["sent"]:
            print("SIGTERM sent to watchdog %d while it was capturing" % wd)
        else:
            print("note: the watchdog finished before SIGTERM could be sent")
        check(wait_exited(wd), "the watchdog is still running")
    return first + rest, err


def term_idle_then_crash(p):
    """SIGTERM to crashprog's idle watchdog (mode wait-go), then, once it
    has had time to act on it, lets the app crash. Returns (out, err) as
    bytes."""
    first = p.stdout.readline()
    m = re.search(rb"pid (\d+)", first)
    wd = find_watchdog(int(m.group(1)), 2.0) if m else None
    check(wd is not None, "no watchdog found for %r" % first)
    if wd is not None:
        os.kill(wd, signal.SIGTERM)
        time.sleep(0.3)
        try:
            with open("/proc/%d/stat" % wd) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        check(state not in ("Z", "X", "gone"),
              "the idle watchdog exited on SIGTERM while the app lived")
    p.stdin.write(b"go\n")
    p.stdin.close()
    rest, err = p.stdout.read(), p.stderr.read()
    p.wait(timeout=90)
    if wd is not None:
        check(wait_exited(wd), "the watchdog is still running")
    return first + rest, err


def check_child_reports(opts, chain, out, spool, work):
    """Forked processes crashed (their pids in stdout, matched by
    opts["pids"]): once their watchdogs are gone, the spool holds exactly
    one complete report per pid, each for the crashing thread of that pid
    (a single-threaded child: thread id == pid) with the expected frames."""
    import time
    pids = sorted(int(x) for x in re.findall(opts["pids"], out))
    check(len(pids) == opts["reports"],
          "want %d crashed pid(s) in stdout, found %s" %
          (opts["reports"], pids))
    # A daemon that closed its stdio is not waited for by communicate():
    # wait for its watchdog to finish.
    for p in pids:  # dead once its report is committed
        check(wait_exited(p, 60), "crashed process %d still running" % p)
    end = time.monotonic() + 60
    while time.monotonic() < end and any(find_watchdog(p) for p in pids):
        time.sleep(0.05)
    reports = crash_reports(spool)
    check(len(reports) == len(pids), "want %d report(s), found %s" %
          (len(pids), reports))
    tids = []
    for r in reports:
        try:
            with open(os.path.join(spool, r, "event.json")) as f:
                event = json.load(f)
        except (OSError, ValueError) as e:
            check(False, "%s/event.json: %s" % (r, e))
            continue
        check(os.path.exists(os.path.join(spool, r, "minidump.dmp")),
              "no minidump.dmp in " + r)
        names, tid, _ = crashed_frames(event)
        print("report %s: thread %s frames %s" % (r, tid, names))
        tids.append(tid)
        check(is_subsequence(chain, names),
              "frames %s do not contain %s in order" % (names, chain))
        check("crashwatch.symbolize" in (event.get("extra") or {}),
              "report %s is not complete (not symbolized)" % r)
    check(sorted(tids) == pids,
          "reports are for threads %s, want the crashed pids %s" %
          (sorted(tids), pids))
    return finish(work, "ok")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli")
    ap.add_argument("--no-lldb", action="store_true",
                    help="leave out lldb's reading of the minidump (the "
                    "sanitized run: the plain run checks the same dumps)")
    args = ap.parse_args()
    signo, chain, opts = CASES[args.case]

    root = os.environ.get("CW_TEST_TMP") or tempfile.gettempdir()
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix="crash-%s-" % args.case, dir=root)
    spool = os.path.join(work, "spool")
    marker = os.path.join(work, "marker")
    env = dict(os.environ)
    env.update({
        "CRASHWATCH_SPOOL": spool,
        "CW_MARKER": marker,
        "SENTRY_RELEASE": RELEASE,
        "SENTRY_ENVIRONMENT": ENVIRONMENT,
        "CRASHWATCH_INCLUDE_ENVIRON": "1" if opts.get("environ") else "0",
        # Sanitizer builds: crashwatch, not ASan, handles the crash signals.
        "ASAN_OPTIONS": "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                        "handle_sigill=0:handle_abort=0:detect_leaks=0:"
                        "allow_user_segv_handler=1",
    })
    env.update(opts.get("env", {}))
    if opts.get("root") and os.geteuid() != 0:
        print("SKIP: %s needs root (unshare --pid)" % args.case)
        return SKIP
    if opts.get("wrap") and not shutil.which(opts["wrap"][0]):
        print("SKIP: %s not found" % opts["wrap"][0])
        return SKIP
    if "ack_timeout" in opts:
        env["CRASHWATCH_ACK_TIMEOUT_MS"] = opts["ack_timeout"]
    elif opts.get("reports") == 0:
        # Waiting for an ack from a dead watchdog would hit the CTest
        # timeout long before this: the crash must not wait at all.
        env["CRASHWATCH_ACK_TIMEOUT_MS"] = "600000"

    # communicate() returns at EOF on stderr, which the watchdog holds until
    # it exits: by then the report is committed (or capture failed).
    argv = opts.get("wrap", []) + [args.prog, opts.get("mode", args.case)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=work,
                         stdin=subprocess.PIPE if opts.get("term_watchdog")
                         or opts.get("term_idle") else subprocess.DEVNULL)
    if opts.get("term_watchdog"):
        out, err = term_watchdog_during_capture(p)
    elif opts.get("term_idle"):
        out, err = term_idle_then_crash(p)
    elif args.case == "stopped-watchdog":
        # The stopped watchdog holds our stderr pipe: once the app is dead,
        # let the watchdog go (it finds the app gone and exits on EOF).
        p.wait(timeout=90)
        early = p.stdout.read()
        m = re.search(rb"watchdog stopped (\d+)", early)
        if m:
            os.kill(int(m.group(1)), signal.SIGCONT)
        out, err = early, p.stderr.read()
    else:
        out, err = p.communicate(timeout=90)
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    print("--- stdout\n" + out + "--- stderr\n" + err + "---")
    if "skip_rc" in opts and p.returncode == opts["skip_rc"]:
        print("SKIP: %s: the program could not make this crash here" % args.case)
        shutil.rmtree(work, ignore_errors=True)
        return SKIP

    if signo == 0:
        check(p.returncode == 0, "exit: want 0, got %d" % p.returncode)
    else:
        check(p.returncode == -signo,
              "exit: want signal %d (%s), got returncode %d" %
              (signo, signal.Signals(signo).name, p.returncode))
    if "pids" in opts:
        return check_child_reports(opts, chain, out, spool, work)
    m = re.search(r"pid (\d+) tid (\d+)", out)
    check(m is not None, "program did not start (no pid line)")
    pid = int(m.group(1)) if m else -1

    if opts.get("marker"):
        text = open(marker).read() if os.path.exists(marker) else ""
        check(text.strip() == "signal %d" % signo,
              "previously installed handler did not run (marker %r)" % text)
    if "stdout" in opts:
        check(opts["stdout"] in out, "stdout lacks %r" % opts["stdout"])
    if "stderr" in opts:
        check(err.count(opts["stderr"]) == 1,
              "stderr does not say %r exactly once" % opts["stderr"])
    if opts.get("fork"):
        check(re.search(r"child \d+ status signal %d" % signo, out),
              "forked child did not die by signal %d" % signo)

    reports = crash_reports(spool)
    want_reports = opts.get("reports", 1)
    if want_reports is None:
        check(len(reports) <= 1, "more than one report: %s" % reports)
        print("%d report(s) written" % len(reports))
        for r in reports:
            dmp = os.path.join(spool, r, "minidump.dmp")
            check(os.path.exists(dmp) and minidump_streams(dmp) is not None,
                  "listed report %s has no readable minidump" % r)
            try:
                with open(os.path.join(spool, r, "event.json")) as f:
                    json.load(f)
            except (OSError, ValueError) as e:
                check(False, "listed report %s: event.json: %s" % (r, e))
    else:
        check(len(reports) == want_reports,
              "want %d report(s) in %s, found %d: %s" %
              (want_reports, spool, len(reports), reports))

    if want_reports and reports:
        rdir = os.path.join(spool, reports[0])
        ev_path = os.path.join(rdir, "event.json")
        dmp = os.path.join(rdir, "minidump.dmp")
        check(os.path.exists(dmp), "no minidump.dmp in " + rdir)
        event = {}
        try:
            with open(ev_path) as f:
                event = json.load(f)
        except (OSError, ValueError) as e:
            check(False, "event.json: %s" % e)
        check(event.get("release") == RELEASE,
              "event release %r, want %r" % (event.get("release"), RELEASE))
        check(event.get("environment") == ENVIRONMENT,
              "event environment %r, want %r" %
              (event.get("environment"), ENVIRONMENT))
        if os.path.exists(dmp):
            streams = minidump_streams(dmp)
            check(streams is not None, "minidump header/directory unreadable")
            for t, what in ((MD_LINUX_CPU_INFO, "cpuinfo"),
                            (MD_LINUX_LSB_RELEASE, "lsb release")):
                check(t in (streams or []),
                      "the minidump has no %s stream" % what)
            has_env = MD_LINUX_ENVIRON in (streams or [])
            check(has_env == bool(opts.get("environ")),
                  "environ stream %s, want %s" %
                  ("present" if has_env else "absent",
                   "present" if opts.get("environ") else "absent"))
        names, tid, threads = crashed_frames(event)
        print("crashing thread %s frames (innermost first): %s" %
              (tid, names))
        # Frames above the expected ones may be libc's (abort, raise...).
        check(chain[0] in names[:6],
              "innermost frames %s do not reach %s" % (names[:6], chain[0]))
        check(is_subsequence(chain, names),
              "frames %s do not contain %s in order" % (names, chain))
        if opts.get("worker"):
            check(tid is not None and tid != pid,
                  "crash should be on a worker thread, got tid %s" % tid)
        elif tid is not None:
            check(tid == pid, "crash should be on the main thread (%d), got %s"
                  % (pid, tid))
        if "min_threads" in opts:
            check(len(threads) >= opts["min_threads"],
                  "event lists %d threads, want >= %d" %
                  (len(threads), opts["min_threads"]))
        # The watchdog symbolized the frames after the release: the event
        # says how it went, and a program with line tables gets file and
        # line for its frames (the null case: the marked statement).
        extra = event.get("extra") or {}
        if want_reports == 1:
            check("crashwatch.symbolize" in extra,
                  "extra lacks crashwatch.symbolize: %s" % sorted(extra))
        if chain and chain[0] == "crash_here" and has_debug_line(args.prog):
            src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "progs", "crashprog.c")
            here = [f for f in crashed_frame_objects(event)
                    if base_name(f.get("function")) == "crash_here"]
            check(here, "no crash_here frame")
            if here:
                f = here[0]
                print("crash_here frame: %s:%s:%s" % (f.get("filename"),
                      f.get("lineno"), f.get("colno")))
                if (extra.get("crashwatch.symbolize") == "timed out" and
                        "lineno" not in f):
                    # Only a loaded machine's watchdog runs out of its 2 s
                    # before the executable (the first module it reads).
                    print("SKIP sub-check: symbolization ran out of time "
                          "before %s" % args.prog)
                else:
                    check(f.get("filename") == "crashprog.c" and
                          (f.get("abs_path") or "").endswith("/crashprog.c"),
                          "crash_here frame file %r / %r, want crashprog.c" %
                          (f.get("filename"), f.get("abs_path")))
                    if args.case == "null":
                        want = marker_line(src, "/* null dereference */")
                        check(want is not None and f.get("lineno") == want,
                              "crash_here line %s, want %s (the null "
                              "dereference)" % (f.get("lineno"), want))
        elif chain and chain[0] == "crash_here":
            print("SKIP sub-check: %s has no line tables" % args.prog)
        mech = ((event.get("exception") or {}).get("values") or [{}])[0]
        sig = ((mech.get("mechanism") or {}).get("meta") or {}).get("signal")
        if sig is not None:
            check(sig.get("number") == signo,
                  "mechanism.meta.signal.number %s != %d" %
                  (sig.get("number"), signo))

        if args.no_lldb:
            print("lldb check left out (--no-lldb): the plain build's run "
                  "of this case does it")
        elif os.path.exists(dmp) and shutil.which("lldb"):
            r = subprocess.run(["lldb", "--batch", "-c", dmp,
                                "-o", "thread list", "-o", "bt"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            lo = r.stdout.decode(errors="replace")
            print("--- lldb\n" + lo + "---")
            if tid is not None:
                check(re.search(r"tid = (0x0*%x|%d)\b" % (tid, tid), lo),
                      "lldb does not list the crashing thread %d" % tid)
            check(chain[0] in lo,
                  "lldb backtrace does not show %s" % chain[0])
        if os.path.exists(dmp) and args.cli:
            r = subprocess.run([args.cli, "dump", dmp], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            do = r.stdout.decode(errors="replace")
            check(r.returncode == 0, "crashwatch dump failed:\n" + do)
            if tid is not None:
                check(str(tid) in do,
                      "crashwatch dump does not show thread %d" % tid)
        if args.cli:
            check_symbolize_agrees(args.cli, rdir, event)

    return finish(work, "ok: %s" % args.case)


if __name__ == "__main__":
    sys.exit(main())
