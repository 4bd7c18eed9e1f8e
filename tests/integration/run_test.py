#!/usr/bin/env python3
"""`crashwatch run` with real programs that know nothing of crashwatch
(issue 12; docs/supervisor.md).

Usage: run_test.py CASE --cli CRASHWATCH --target RUN_TARGET
                        --static RUN_TARGET_STATIC [--collector COLLECTOR.py]

Cases (tests/progs/run_target.c is the program):
  preload    a dynamically linked program crashes under --mode=auto (which
             must pick preload): exit 139, exactly one report whose
             crashing stack names run_target_crash_here <- run_target_caller
             <- main; --tag/--release/--environment reach the event; a
             program whose fork()ed child crashes gets the child's report
  ptrace     gcc -static program under --mode=auto (must pick ptrace): exit
             139, one report, the same stack; the program's own SIGSEGV
             handler (prints, _exit(3)) under --mode=ptrace: still one
             report, exit status 3, and the handler ran; abort(): 134 and a
             SIGABRT report; a dynamic program under --mode=ptrace too; a
             forked child's crash is followed (TRACEFORK)
  entry      SIGTERM reaches the program and its exit code comes back (plain
             and with --pgroup), exit codes pass through, an orphaned
             grandchild is reaped (subreaper), no report for clean exits
  pid1       the supervisor as PID 1 of a new PID namespace (unshare --pid
             --fork --mount-proc): the orphan is reaped, SIGTERM to PID 1
             is forwarded, a crash is reported (skipped without unshare)
  badinput   127 for a missing program, 126 for one not executable, 2 for a
             bad flag, no program or a bad --mode, each with a message;
             --help lists the exit codes
  upload     a crash with --url to the loopback collector: delivered before
             `crashwatch run` exits (the spool is empty afterwards)
  restart    --restart=on-failure restarts a crashing program: the number
             of starts is max-restarts+1, the logged delays double up to
             the cap, then it gives up with the program's status; the
             crash loop makes one report whose event counts every crash;
             --restart=always restarts a clean exit too, on-failure does
             not; SIGTERM stops the restarts (no restart after it)
  hook       --on-crash gets the report, signal, pid, exit status, count and
             a one-line summary in its environment; a failing hook is logged
             and does not stop restarts; a hanging hook is killed at its
             timeout; ptrace mode's report gets --tag and TRACEPARENT
  metrics    --metrics-file parses as Prometheus text (a strict parser
             below) with the crash by signal, restarts, pending reports,
             last crash time and child_up, for a crash loop and a clean run
Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_check import check, failures, finish  # noqa: E402
from crash_tests import crashed_frames, is_subsequence  # noqa: E402

TMP_ROOT = os.environ.get("CW_TEST_TMP", tempfile.gettempdir())
A = None


def base_env(spool=None):
    env = dict(os.environ)
    for k in ("SENTRY_DSN", "CRASHWATCH_UPLOAD_URL", "CRASHWATCH_SPOOL",
              "SENTRY_RELEASE", "SENTRY_ENVIRONMENT", "LD_PRELOAD",
              "CRASHWATCH_PRELOAD", "CRASHWATCH_WATCHDOG"):
        env.pop(k, None)
    # Sanitizer builds: the preload library links the ASan runtime, which
    # must be loaded first, so it is preloaded ahead (crashwatch run keeps
    # the program's own LD_PRELOAD entries first).
    if A.asan_rt:
        env["LD_PRELOAD"] = A.asan_rt
        env["ASAN_OPTIONS"] = ("handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                               "handle_sigill=0:handle_abort=0:detect_leaks=0:"
                               "allow_user_segv_handler=1")
    if spool:
        env["CRASHWATCH_SPOOL"] = spool
    return env


def run(args, spool, timeout=120, env=None, **kw):
    e = base_env(spool)
    e.update(env or {})
    return subprocess.run([A.cli, "run"] + args, env=e, capture_output=True,
                          text=True, errors="replace", timeout=timeout, **kw)


def reports(spool):
    if not os.path.isdir(spool):
        return []
    return sorted(os.path.join(spool, x) for x in os.listdir(spool)
                  if os.path.exists(os.path.join(spool, x, "event.json")))


def event_of(report):
    with open(os.path.join(report, "event.json")) as f:
        return json.load(f)


WANT = ["run_target_crash_here", "run_target_caller", "main"]


def check_one_crash(name, p, spool, code, signame, stack=True):
    check(p.returncode == code, "%s: exit %d, want %d; stderr: %s"
          % (name, p.returncode, code, p.stderr[-2000:]))
    rs = reports(spool)
    if not check(len(rs) == 1, "%s: %d reports, want exactly 1: %s" % (name, len(rs), rs)):
        return None
    ev = event_of(rs[0])
    exc = (ev.get("exception") or {}).get("values") or [{}]
    mech = (exc[0].get("mechanism") or {}).get("meta", {}).get("signal", {})
    got_sig = mech.get("name") or exc[0].get("type")
    check(got_sig == signame, "%s: the event's signal is %r, want %s" % (name, got_sig, signame))
    names, _, _ = crashed_frames(ev)
    print("%s: exit %d, report %s, frames %s" % (name, p.returncode, rs[0], names[:6]))
    if stack:
        check(is_subsequence(WANT, names),
              "%s: crashing stack %s does not contain %s in order" % (name, names, WANT))
    check(os.path.exists(os.path.join(rs[0], "minidump.dmp")),
          "%s: no minidump in %s" % (name, rs[0]))
    return ev


def fresh(work, name):
    d = os.path.join(work, name)
    os.makedirs(d)
    return os.path.join(d, "spool")


def case_preload(work):
    spool = fresh(work, "preload")
    p = run(["-v", "--tag", "team=storage", "--tag", "shard=7", "--release",
             "app@1.2", "--environment", "staging", "--", A.target, "segv"], spool)
    check("preload" in p.stderr and "--mode=auto" in p.stderr,
          "--mode=auto did not log choosing preload: %s" % p.stderr[-500:])
    ev = check_one_crash("preload segv", p, spool, 139, "SIGSEGV")
    if ev:
        tags = ev.get("tags") or {}
        check(tags.get("team") == "storage" and tags.get("shard") == "7",
              "preload: --tag not in the event: %s" % tags)
        check(ev.get("release") == "app@1.2", "preload: release %r" % ev.get("release"))
        check(ev.get("environment") == "staging",
              "preload: environment %r" % ev.get("environment"))
    # A child the program forks is covered (the library's fork handling).
    spool = fresh(work, "preload-fork")
    p = run(["--mode=preload", "--", A.target, "fork-segv"], spool)
    check_one_crash("preload fork-segv", p, spool, 139, "SIGSEGV")
    # The program's watchdog (reparented to the supervisor, a subreaper)
    # gets no LD_PRELOAD and has not loaded the preload library: it would
    # start a watchdog of its own.
    proc = term_case(work, "preload-wd", ["--mode=preload"])
    wd = None
    for _ in range(400):
        for k in children_of(proc.pid):
            try:
                if open("/proc/%d/comm" % k).read().startswith("crashwatch-wd"):
                    wd = k
            except OSError:
                pass
        if wd:
            break
        time.sleep(0.05)
    if check(wd is not None, "preload: no crashwatch-wd child of the supervisor"):
        env = open("/proc/%d/environ" % wd, "rb").read().split(b"\0")
        maps = open("/proc/%d/maps" % wd).read()
        check(not [e for e in env if e.startswith(b"LD_PRELOAD=")],
              "preload: the watchdog inherited LD_PRELOAD")
        check("libcrashwatch-preload" not in maps,
              "preload: the watchdog loaded libcrashwatch-preload.so")
        print("preload: watchdog %d has no LD_PRELOAD and no preload library" % wd)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    # A clean run leaves no report.
    spool = fresh(work, "preload-clean")
    p = run(["--mode=preload", "--", A.target, "exit", "5"], spool)
    check(p.returncode == 5, "preload exit 5: got %d" % p.returncode)
    check(reports(spool) == [], "preload: a clean exit left reports")


def case_ptrace(work):
    spool = fresh(work, "static")
    p = run(["-v", "--", A.static, "segv"], spool)
    check("ptrace" in p.stderr and "statically linked" in p.stderr,
          "--mode=auto did not log choosing ptrace: %s" % p.stderr[-500:])
    check_one_crash("static segv", p, spool, 139, "SIGSEGV")

    # The program's own handler runs after the capture: exit 3, one report.
    for prog in (A.static, A.target):
        spool = fresh(work, "handler-" + os.path.basename(prog))
        p = run(["--mode=ptrace", "--", prog, "handler"], spool)
        check("own handler" in p.stderr,
              "ptrace: the program's own handler did not run: %s" % p.stderr[-500:])
        check_one_crash("ptrace handler " + os.path.basename(prog), p, spool, 3, "SIGSEGV")

    # --mode=auto takes ptrace for a setuid program too (root only: the
    # copy must keep its set-uid bit under a traced exec).
    if os.geteuid() == 0:
        suid = os.path.join(work, "run_target_suid")
        shutil.copy(A.target, suid)
        os.chmod(suid, 0o4755)
        spool = fresh(work, "suid")
        p = run(["-v", "--", suid, "segv"], spool)
        check("is setuid: ptrace" in p.stderr,
              "--mode=auto did not pick ptrace for a setuid program: %s" % p.stderr[-500:])
        check_one_crash("setuid segv", p, spool, 139, "SIGSEGV")

    spool = fresh(work, "abort")
    p = run(["--mode=ptrace", "--", A.static, "abort"], spool)
    check_one_crash("ptrace abort", p, spool, 134, "SIGABRT", stack=False)

    spool = fresh(work, "dyn-ptrace")
    p = run(["--mode=ptrace", "--", A.target, "segv"], spool)
    check_one_crash("ptrace dynamic segv", p, spool, 139, "SIGSEGV")

    # Forked children are followed (PTRACE_O_TRACEFORK).
    spool = fresh(work, "ptrace-fork")
    p = run(["--mode=ptrace", "--", A.static, "fork-segv"], spool)
    check_one_crash("ptrace fork-segv", p, spool, 139, "SIGSEGV")

    spool = fresh(work, "ptrace-clean")
    p = run(["--mode=ptrace", "--", A.static, "exit", "9"], spool)
    check(p.returncode == 9, "ptrace exit 9: got %d" % p.returncode)
    check(reports(spool) == [], "ptrace: a clean exit left reports")


def term_case(work, name, extra, prefix=()):
    spool = fresh(work, name)
    e = base_env(spool)
    proc = subprocess.Popen(list(prefix) + [A.cli, "run"] + extra + ["--", A.target, "term", "42"],
                            env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    check(line.strip() == "ready", "%s: program did not start: %r" % (name, line))
    return proc


def case_entry(work):
    for mode in ("preload", "ptrace"):
        for extra in ([], ["--pgroup"]):
            name = "term-%s%s" % (mode, "-pgroup" if extra else "")
            proc = term_case(work, name, ["--mode=" + mode] + extra)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            check("got SIGTERM" in out, "%s: the program did not see SIGTERM: %r %r"
                  % (name, out, err[-500:]))
            check(proc.returncode == 42, "%s: exit %d, want the program's 42"
                  % (name, proc.returncode))
    spool = fresh(work, "exit-code")
    p = run(["--", A.target, "exit", "0"], spool)
    check(p.returncode == 0, "exit 0 came back as %d" % p.returncode)
    p = run(["--", "sh", "-c", "kill -USR1 $$"], spool)
    check(p.returncode == 128 + signal.SIGUSR1, "death by SIGUSR1 gave %d" % p.returncode)
    check(reports(spool) == [], "SIGUSR1 is not a crash, yet a report was written")
    for mode in ("preload", "ptrace"):
        p = run(["--mode=" + mode, "--", A.target, "orphan"], spool, timeout=90)
        check(p.returncode == 0 and "reaped" in p.stdout,
              "%s: the orphaned grandchild was not reaped: %d %r %r"
              % (mode, p.returncode, p.stdout, p.stderr[-300:]))


def children_of(pid):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def case_pid1(work):
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        print("SKIP: needs unshare (util-linux) and root")
        return 77
    prefix = [unshare, "--pid", "--fork", "--mount-proc"]
    probe = subprocess.run(prefix + ["true"], capture_output=True)
    if probe.returncode != 0:
        print("SKIP: unshare --pid does not work here: %s" % probe.stderr)
        return 77
    spool = fresh(work, "pid1")
    e = base_env(spool)
    p = subprocess.run(prefix + [A.cli, "run", "--", A.target, "pid"], env=e,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "pid 2 ppid 1" in p.stdout,
          "pid1: the program is not PID 2 under PID 1: %r %r" % (p.stdout, p.stderr))
    p = subprocess.run(prefix + [A.cli, "run", "--", A.target, "orphan"], env=e,
                       capture_output=True, text=True, timeout=90)
    check(p.returncode == 0 and "reaped" in p.stdout,
          "pid1: the orphan was not reaped by PID 1: %d %r" % (p.returncode, p.stdout))
    # SIGTERM to PID 1 (from outside the namespace, as a container runtime
    # does) reaches the program.
    proc = term_case(work, "pid1-term", [], prefix)
    sup = None
    for _ in range(200):
        kids = children_of(proc.pid)
        if kids:
            sup = kids[0]
            break
        time.sleep(0.05)
    if check(sup is not None, "pid1: no supervisor process under unshare"):
        os.kill(sup, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    check("got SIGTERM" in out and proc.returncode == 42,
          "pid1: SIGTERM to PID 1 did not reach the program: %d %r %r"
          % (proc.returncode, out, err[-300:]))
    spool = fresh(work, "pid1-crash")
    p = subprocess.run(prefix + [A.cli, "run", "--", A.target, "segv"],
                       env=base_env(spool), capture_output=True, text=True, timeout=120)
    check_one_crash("pid1 segv", p, spool, 139, "SIGSEGV")
    return 0


def case_badinput(work):
    spool = fresh(work, "bad")
    p = run(["--", "crashwatch-no-such-program-x"], spool)
    check(p.returncode == 127 and "not found" in p.stderr,
          "missing program: %d %r" % (p.returncode, p.stderr))
    p = run(["--", os.path.join(work, "no", "such", "file")], spool)
    check(p.returncode == 127, "missing path: %d %r" % (p.returncode, p.stderr))
    noexec = os.path.join(work, "noexec")
    with open(noexec, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(noexec, 0o644)
    p = run(["--", noexec], spool)
    check(p.returncode == 126 and "ermission denied" in p.stderr,
          "not executable: %d %r" % (p.returncode, p.stderr))
    p = run(["--", work], spool)
    check(p.returncode == 126, "a directory: %d %r" % (p.returncode, p.stderr))
    for args in (["--bogus", "--", "true"], [], ["--mode=nope", "--", "true"],
                 ["--upload-timeout", "soon", "--", "true"]):
        p = run(args, spool)
        check(p.returncode == 2 and p.stderr.strip(),
              "bad usage %s: %d %r" % (args, p.returncode, p.stderr))
    p = run(["--help"], spool)
    check(p.returncode == 0 and "exit status" in p.stdout and "127" in p.stdout
          and "126" in p.stdout and "128+N" in p.stdout,
          "--help does not list the exit codes: %r" % p.stdout[-600:])


def case_upload(work):
    from upload_test import Collector  # noqa: E402
    spool = fresh(work, "upload")
    col = Collector(os.path.join(work, "upload"))
    try:
        url = "http://127.0.0.1:%d/upload" % col.port
        p = run(["--url", url, "--upload-timeout", "60", "--", A.static, "segv"], spool)
        check(p.returncode == 139, "upload: exit %d" % p.returncode)
        recs = col.records()
        check(len(recs) == 1, "upload: the collector got %d requests, want 1" % len(recs))
        check(reports(spool) == [], "upload: the report is still in the spool: %s"
              % reports(spool))
    finally:
        col.stop()


def starts_of(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read().split())


def counter_prog(work, name, script):
    """A shell script that notes each start in a file, then runs script."""
    starts = os.path.join(work, name + ".starts")
    prog = os.path.join(work, name + ".sh")
    with open(prog, "w") as f:
        f.write("#!/bin/sh\necho $$ >> %s\n%s\n" % (starts, script))
    os.chmod(prog, 0o755)
    return prog, starts


def logged_delays(stderr):
    out = []
    for l in stderr.splitlines():
        m = re.search(r"restarting in ([0-9.]+) s", l)
        if m:
            out.append(float(m.group(1)))
    return out


def case_restart(work):
    spool = fresh(work, "restart")
    p = run(["--restart", "on-failure", "--restart-delay", "0.01", "--restart-delay-max",
             "0.04", "--max-restarts", "5", "--restart-window", "600", "--",
             A.target, "segv"], spool)
    delays = logged_delays(p.stderr)
    print("crash loop: exit %d, delays %s" % (p.returncode, delays))
    check(p.returncode == 139, "restart: exit %d, want the program's 139" % p.returncode)
    check(delays == [0.01, 0.02, 0.04, 0.04, 0.04],
          "restart: delays %s, want 0.01 0.02 0.04 0.04 0.04 (doubling to the cap)" % delays)
    check("--max-restarts reached" in p.stderr, "restart: giving up was not logged")
    rs = reports(spool)
    if check(len(rs) == 1, "crash loop: %d reports, want 1 (deduped): %s" % (len(rs), rs)):
        ev = event_of(rs[0])
        check((ev.get("extra") or {}).get("crashwatch.crash_count") == 6,
              "crash loop: crash_count %r, want 6" % (ev.get("extra") or {}).get(
                  "crashwatch.crash_count"))
        check((ev.get("tags") or {}).get("crashwatch.crash_loop") == "true",
              "crash loop: no crash_loop tag: %s" % ev.get("tags"))
    # Dedupe off: one report per crash.
    spool = fresh(work, "nodedupe")
    p = run(["--restart", "on-failure", "--restart-delay", "0.01", "--max-restarts", "2",
             "--dedupe-window", "0", "--", A.target, "segv"], spool)
    check(len(reports(spool)) == 3, "--dedupe-window 0: %d reports, want 3"
          % len(reports(spool)))
    # always restarts a clean exit; on-failure does not.
    prog, starts = counter_prog(work, "clean", "exit 0")
    p = run(["--restart", "always", "--restart-delay", "0.01", "--max-restarts", "3", "--",
             prog], spool)
    check(starts_of(starts) == 4 and p.returncode == 0,
          "--restart=always: %d starts (want 4), exit %d" % (starts_of(starts), p.returncode))
    prog, starts = counter_prog(work, "clean2", "exit 0")
    p = run(["--restart", "on-failure", "--restart-delay", "0.01", "--", prog], spool)
    check(starts_of(starts) == 1 and p.returncode == 0,
          "--restart=on-failure after exit 0: %d starts" % starts_of(starts))
    prog, starts = counter_prog(work, "fail", "exit 3")
    p = run(["--restart", "no", "--", prog], spool)
    check(starts_of(starts) == 1 and p.returncode == 3, "--restart=no: %d starts, exit %d"
          % (starts_of(starts), p.returncode))
    # SIGTERM ends it: the program's answer is the exit status, no restart.
    prog, starts = counter_prog(work, "term", "trap 'exit 42' TERM; echo ready; "
                                "while :; do sleep 0.05; done")
    e = base_env(spool)
    proc = subprocess.Popen([A.cli, "run", "--restart", "always", "--restart-delay", "0.01",
                             "--", prog], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    check(proc.stdout.readline().strip() == "ready", "restart/term: no start")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    check(proc.returncode == 42 and starts_of(starts) == 1,
          "restart/term: exit %d, %d starts (want 42, 1): %s"
          % (proc.returncode, starts_of(starts), err[-300:]))


def case_hook(work):
    spool = fresh(work, "hook")
    envdir = os.path.join(work, "hookenv")
    os.makedirs(envdir)
    hook = ("env | grep ^CRASHWATCH_ > %s/env.$CRASHWATCH_CRASH_COUNT; exit 5" % envdir)
    p = run(["--restart", "on-failure", "--restart-delay", "0.01", "--max-restarts", "1",
             "--on-crash", hook, "--", A.target, "segv"], spool)
    check(p.returncode == 139, "hook: exit %d" % p.returncode)
    files = sorted(os.listdir(envdir))
    check(files == ["env.1", "env.2"], "hook: ran for %s, want env.1 env.2 (one per crash, "
          "restarts not blocked by its failure)" % files)
    check(p.stderr.count("--on-crash hook") >= 2 and "exit status 5" in p.stderr,
          "hook: its failure was not logged: %s" % p.stderr[-600:])
    if files:
        env = dict(l.split("=", 1) for l in open(os.path.join(envdir, files[0])).read().splitlines()
                   if "=" in l)
        print("hook environment: %s" % env)
        rs = reports(spool)
        check(env.get("CRASHWATCH_REPORT") in rs, "hook: CRASHWATCH_REPORT %r not a report %s"
              % (env.get("CRASHWATCH_REPORT"), rs))
        check(env.get("CRASHWATCH_SIGNAL") == "SIGSEGV" and env.get("CRASHWATCH_SIGNAL_NUMBER") == "11",
              "hook: signal %r/%r" % (env.get("CRASHWATCH_SIGNAL"), env.get("CRASHWATCH_SIGNAL_NUMBER")))
        check(env.get("CRASHWATCH_EXIT_STATUS") == "139", "hook: exit status %r"
              % env.get("CRASHWATCH_EXIT_STATUS"))
        check(env.get("CRASHWATCH_PID", "").isdigit(), "hook: pid %r" % env.get("CRASHWATCH_PID"))
        check(env.get("CRASHWATCH_SUMMARY", "").startswith("SIGSEGV in run_target_crash_here (pid "),
              "hook: summary %r" % env.get("CRASHWATCH_SUMMARY"))
    # A hook that hangs is killed at its timeout; the supervisor still exits.
    spool = fresh(work, "hook-hang")
    p = run(["--on-crash", "sleep 600", "--on-crash-timeout", "0.5", "--", A.target, "segv"],
            spool)
    check(p.returncode == 139 and "killed after its timeout" in p.stderr,
          "hanging hook: exit %d, %s" % (p.returncode, p.stderr[-400:]))
    # Ptrace mode: the scope flags and TRACEPARENT reach the event.
    spool = fresh(work, "ptrace-scope")
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    p = run(["--mode=ptrace", "--tag", "team=storage", "--release", "r@2", "--", A.static,
             "segv"], spool, env={"TRACEPARENT": tp})
    ev = check_one_crash("ptrace scope", p, spool, 139, "SIGSEGV")
    if ev:
        check((ev.get("tags") or {}).get("team") == "storage", "ptrace: tags %s" % ev.get("tags"))
        check(ev.get("release") == "r@2", "ptrace: release %r" % ev.get("release"))
        trace = (ev.get("contexts") or {}).get("trace") or {}
        check(trace.get("trace_id") == "0af7651916cd43dd8448eb211c80319c"
              and trace.get("span_id") == "b7ad6b7169203331",
              "ptrace: trace context %s" % trace)
    # Preload mode: TRACEPARENT passes through to the program and its event.
    spool = fresh(work, "preload-trace")
    p = run(["--mode=preload", "--", A.target, "segv"], spool, env={"TRACEPARENT": tp})
    ev = check_one_crash("preload trace", p, spool, 139, "SIGSEGV")
    if ev:
        trace = (ev.get("contexts") or {}).get("trace") or {}
        check(trace.get("trace_id") == "0af7651916cd43dd8448eb211c80319c",
              "preload: trace context %s" % trace)


PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"\})? '
                       r'(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)$')


def parse_prom(text):
    """Strict Prometheus text format (0.0.4) for what we write: HELP and TYPE
    before each family's samples, one TYPE per family, samples of declared
    families only, a newline at the end. Returns {(name, label): value}."""
    check(text.endswith("\n"), "metrics: no final newline")
    types, out, seen_sample = {}, {}, set()
    for l in text.splitlines():
        if l.startswith("# HELP "):
            continue
        if l.startswith("# TYPE "):
            parts = l.split()
            check(len(parts) == 4 and parts[3] in ("counter", "gauge"), "metrics: bad TYPE %r" % l)
            check(parts[2] not in types, "metrics: family %s declared twice" % parts[2])
            check(parts[2] not in seen_sample, "metrics: TYPE of %s after its samples" % parts[2])
            types[parts[2]] = parts[3]
            continue
        m = PROM_LINE.match(l)
        if not check(m is not None, "metrics: line is not a sample: %r" % l):
            continue
        name = m.group(1)
        check(name in types, "metrics: sample of undeclared family %s" % name)
        if types.get(name) == "counter":
            check(name.endswith("_total"), "metrics: counter %s without _total" % name)
        seen_sample.add(name)
        key = (name, m.group(4))
        check(key not in out, "metrics: duplicate series %s" % (key,))
        out[key] = float(m.group(5))
    return out


def case_metrics(work):
    spool = fresh(work, "metrics")
    mf = os.path.join(work, "metrics", "crashwatch.prom")
    p = run(["--restart", "on-failure", "--restart-delay", "0.01", "--max-restarts", "2",
             "--metrics-file", mf, "--", A.target, "segv"], spool)
    check(p.returncode == 139, "metrics: exit %d" % p.returncode)
    text = open(mf).read()
    print(text)
    m = parse_prom(text)
    check(m.get(("crashwatch_crashes_total", "SIGSEGV")) == 3, "metrics: crashes %s" % m)
    check(m.get(("crashwatch_restarts_total", None)) == 2, "metrics: restarts %s" % m)
    check(m.get(("crashwatch_reports_pending", None)) == len(reports(spool)) == 1,
          "metrics: pending %s vs %d reports" % (m.get(("crashwatch_reports_pending", None)),
                                                len(reports(spool))))
    check(m.get(("crashwatch_child_up", None)) == 0, "metrics: child_up after the end")
    last = m.get(("crashwatch_last_crash_timestamp_seconds", None)) or 0
    check(abs(last - time.time()) < 3600, "metrics: last crash time %s" % last)
    for r in ("ok", "failed", "rate_limited", "error"):
        check(("crashwatch_uploads_total", r) in m, "metrics: no uploads_total{result=%s}" % r)
    check(not [x for x in os.listdir(os.path.dirname(mf)) if ".tmp" in x],
          "metrics: a temporary file was left behind")
    check(oct(os.stat(mf).st_mode & 0o777) == "0o644", "metrics: mode %o" % os.stat(mf).st_mode)
    # While the program runs: child_up 1, no crash yet.
    mf2 = os.path.join(work, "metrics", "up.prom")
    proc = term_case(work, "metrics-up", ["--metrics-file", mf2])
    m2 = parse_prom(open(mf2).read())
    check(m2.get(("crashwatch_child_up", None)) == 1, "metrics: child_up while running %s" % m2)
    check(m2.get(("crashwatch_last_crash_timestamp_seconds", None)) == 0,
          "metrics: a crash time before any crash")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    m3 = parse_prom(open(mf2).read())
    check(m3.get(("crashwatch_child_up", None)) == 0, "metrics: child_up after exit %s" % m3)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--cli", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--static", required=True)
    A = ap.parse_args()
    A.cli = os.path.abspath(A.cli)
    A.target = os.path.abspath(A.target)
    A.static = os.path.abspath(A.static)
    A.asan_rt = None
    ldd = subprocess.run(["ldd", A.cli], capture_output=True, text=True).stdout
    for l in ldd.splitlines():
        if "libasan" in l and "=>" in l:
            A.asan_rt = l.split("=>")[1].split()[0]
    work = tempfile.mkdtemp(prefix="run_test-%s-" % A.case, dir=TMP_ROOT)
    rc = {"preload": case_preload, "ptrace": case_ptrace, "entry": case_entry,
          "pid1": case_pid1, "badinput": case_badinput,
          "upload": case_upload, "restart": case_restart, "hook": case_hook,
          "metrics": case_metrics}[A.case](work)
    if rc == 77:
        shutil.rmtree(work, ignore_errors=True)
        return 77
    return finish(work, "ok")


if __name__ == "__main__":
    sys.exit(main())
