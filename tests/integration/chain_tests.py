#!/usr/bin/env python3
"""Chain integration tests: tests/progs/chainprog installs its own crash
handlers after cw_init() (or recovers from faults in them), crashes, and
this checks what crashwatch left behind.

  chain_tests.py --prog PATH --case NAME

Each case asserts the exit status (the signal the program would have died
by without crashwatch, or exit 0 when it recovered), the number of
committed reports, the program's own crash log line, and for reported
faults that the report's crash context is the ORIGINAL fault: frame 0 of
the crashing thread is crash_here (or overflow_recurse) at the pc the
program's own handler was given, and the minidump's exception stream has
that pc in its context and the fault address in its record. Work happens in
a fresh directory under $CW_TEST_TMP.
"""
import argparse
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_tests as ct  # noqa: E402

MAIN = ["crash_here", "level2", "level1", "main"]
WORKER = ["crash_here", "level2", "level1", "crashing_worker"]
OVERFLOW = ["overflow_recurse", "overflow_recurse", "overflow_recurse"]

# case: (argv, exit (negative: signal), reports, expected frames, options)
CASES = {
    "reraise": (["reraise"], -signal.SIGSEGV, 1, MAIN,
                {"log": True, "pc": True}),
    "reraise-thread": (["reraise-thread"], -signal.SIGSEGV, 1, WORKER,
                       {"log": True, "pc": True, "worker": True}),
    "resethand": (["resethand"], -signal.SIGSEGV, 1, MAIN,
                  {"log": True, "pc": True}),
    # The program's handler needs more stack than the alternate stack it
    # runs on: its nested fault must not loop; the report is the original
    # fault, logged once.
    "handler-overflow": (["handler-overflow"], -signal.SIGSEGV, 1, MAIN,
                         {"log": True, "pc": True, "log_once": True}),
    "abort-dfl": (["abort-dfl"], -signal.SIGABRT, 1, MAIN, {}),
    "abort-ign": (["abort-ign"], -signal.SIGABRT, 1, MAIN, {}),
    "abort-returns": (["abort-returns"], -signal.SIGABRT, 1, MAIN,
                      {"log": True}),
    # Not abort(): a self-sent SIGABRT handled or ignored stays so.
    "raise-abrt": (["raise-abrt"], 0, 0, None,
                   {"log": True, "stdout": "still alive after raise"}),
    "segv-dfl": (["segv-dfl"], -signal.SIGSEGV, 1, MAIN, {"pc_frame": True}),
    "recover": (["recover", "10000"], 0, 0, None,
                {"stdout": "recovered 10000"}),
    "recover-ctx": (["recover-ctx", "10000"], 0, 0, None,
                    {"stdout": "recovered 10000"}),
    # A raw rt_sigaction replaces crashwatch's handler behind its back:
    # nothing is reported until the program calls cw_reinstall().
    "raw-syscall": (["raw-syscall"], -signal.SIGSEGV, 0, None, {"log": True}),
    "raw-reinstall": (["raw-reinstall"], -signal.SIGSEGV, 1, MAIN,
                      {"log": True, "pc": True}),
    "stack-pthread": (["stack-pthread"], -signal.SIGSEGV, 1, OVERFLOW,
                      {"worker": True}),
    # Interception off: the program's sigaction() replaces crashwatch's
    # handler, as before (its crash log, no report).
    "no-intercept": (["reraise"], -signal.SIGSEGV, 0, None,
                     {"log": True, "env": {"CRASHWATCH_INTERCEPT_SIGNALS": "0"}}),
}

MD_EXCEPTION_STREAM = 6
AMD64_RIP_OFFSET = 0xF8  # MDRawContextAMD64.rip


def minidump_exception(path):
    """(thread id, exception address, context rip) from the exception
    stream, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"MDMP":
        return None
    count, rva = struct.unpack_from("<II", data, 8)
    for i in range(count):
        stype, size, srva = struct.unpack_from("<III", data, rva + 12 * i)
        if stype != MD_EXCEPTION_STREAM:
            continue
        tid, = struct.unpack_from("<I", data, srva)
        # MDException: code, flags, record (u64), address (u64), ...
        addr, = struct.unpack_from("<Q", data, srva + 8 + 16)
        ctx_size, ctx_rva = struct.unpack_from("<II", data, srva + 8 + 152)
        rip = None
        if ctx_size >= AMD64_RIP_OFFSET + 8:
            rip, = struct.unpack_from("<Q", data, ctx_rva + AMD64_RIP_OFFSET)
        return tid, addr, rip
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    args = ap.parse_args()
    argv, want_exit, want_reports, frames, opts = CASES[args.case]

    root = os.environ.get("CW_TEST_TMP") or tempfile.gettempdir()
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix="chain-%s-" % args.case, dir=root)
    spool = os.path.join(work, "spool")
    env = dict(os.environ)
    env.update({
        "CRASHWATCH_SPOOL": spool,
        "ASAN_OPTIONS": "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                        "handle_sigill=0:handle_abort=0:detect_leaks=0:"
                        "allow_user_segv_handler=1",
    })
    env.update(opts.get("env", {}))
    p = subprocess.Popen([args.prog] + argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=work)
    out, err = p.communicate(timeout=90)
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    print("--- stdout\n" + out + "--- stderr\n" + err + "---")
    check = ct.check

    check(p.returncode == want_exit,
          "exit: want %d, got %d" % (want_exit, p.returncode))
    m = re.search(r"pid (\d+) tid (\d+)", out)
    check(m is not None, "program did not start (no pid line)")
    pid = int(m.group(1)) if m else -1
    if "stdout" in opts:
        check(opts["stdout"] in out, "stdout lacks %r" % opts["stdout"])
    logs = re.findall(r"chainprog: crash log: signal (\d+) pc (0x[0-9a-f]+) "
                      r"addr (0x[0-9a-f]+)", out)
    if opts.get("log"):
        check(len(logs) >= 1, "the program's own crash log was not printed")
    if opts.get("log_once"):
        check(len(logs) == 1, "the program's handler ran %d times" % len(logs))
    fault_pc = int(logs[0][1], 16) if logs else None
    fault_addr = int(logs[0][2], 16) if logs else None

    reports = []
    if os.path.isdir(spool):
        reports = sorted(d for d in os.listdir(spool)
                         if re.fullmatch(r"[0-9a-f]{32}", d))
    check(len(reports) == want_reports,
          "want %d report(s), found %d: %s" % (want_reports, len(reports),
                                                 reports))
    if want_reports and reports:
        rdir = os.path.join(spool, reports[0])
        import json
        with open(os.path.join(rdir, "event.json")) as f:
            event = json.load(f)
        names, tid, _ = ct.crashed_frames(event)
        print("crashing thread %s frames (innermost first): %s" % (tid, names))
        check(ct.is_subsequence(frames, names),
              "frames %s do not contain %s in order" % (names, frames))
        sig = -want_exit
        exc = ((event.get("exception") or {}).get("values") or [{}])[0]
        meta = ((exc.get("mechanism") or {}).get("meta") or {}).get("signal")
        check(meta is not None and meta.get("number") == sig,
              "event signal %s, want %d" % (meta, sig))
        if opts.get("worker"):
            check(tid is not None and tid != pid,
                  "crash should be on a worker thread, got %s" % tid)
        else:
            check(tid == pid, "crash should be on the main thread (%d), got %s"
                  % (pid, tid))
        objs = ct.crashed_frame_objects(event)
        f0 = objs[0] if objs else {}
        if sig in (signal.SIGSEGV, signal.SIGBUS):
            # Frame 0 is the faulting function, not the program's handler
            # or the kill() inside it.
            check(ct.base_name(f0.get("function")) == frames[0],
                  "frame 0 is %r, want %s" % (f0.get("function"), frames[0]))
        if opts.get("pc") and fault_pc is not None:
            ia = int(str(f0.get("instruction_addr", "0")), 16)
            check(ia == fault_pc,
                  "frame 0 at 0x%x, the program's handler saw the fault at "
                  "0x%x" % (ia, fault_pc))
            md = ct.minidump_streams(os.path.join(rdir, "minidump.dmp"))
            check(md is not None, "minidump unreadable")
            ex = minidump_exception(os.path.join(rdir, "minidump.dmp"))
            check(ex is not None, "minidump has no exception stream")
            if ex is not None:
                mtid, maddr, mrip = ex
                print("minidump exception: tid %d address 0x%x rip %s" %
                      (mtid, maddr, hex(mrip) if mrip is not None else None))
                check(mtid == tid, "minidump exception thread %d != %s" %
                      (mtid, tid))
                check(mrip == fault_pc, "minidump context rip %s != 0x%x" %
                      (mrip, fault_pc))
                check(maddr == fault_addr,
                      "minidump exception address 0x%x != si_addr 0x%x" %
                      (maddr, fault_addr))
            si_code = ((meta or {}).get("code"))
            check(si_code is None or si_code > 0,
                  "signal code %s: a sent signal (the re-raise), not the "
                  "fault" % si_code)
        if opts.get("pc_frame"):
            check(ct.base_name(f0.get("function")) == "crash_here",
                  "frame 0 is %r" % f0.get("function"))

    return ct.finish(work, "ok: %s" % args.case)


if __name__ == "__main__":
    sys.exit(main())
