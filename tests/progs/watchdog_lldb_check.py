#!/usr/bin/env python3
"""Crashes watchdog_target through watchdog_capture_one and reads the
minidump with lldb: thread list (count, crashing thread, SIGSEGV), image
list (the target with its build-id as UUID), and the crashing thread's
backtrace naming wd_crash_leaf, wd_crash_middle, wd_crash_outer, main in
order. Prints the dump size and fails above the 64 KiB budget.

usage: watchdog_lldb_check.py CAPTURE_ONE TARGET LLDB
"""
import os
import re
import subprocess
import sys
import tempfile

NTHREADS = 5  # workers; with the main thread, a 6-thread process
BUDGET = 64 * 1024


def fail(msg, out=""):
    print("FAIL:", msg)
    if out:
        print(out)
    sys.exit(1)


def main():
    capture_one, target, lldb = sys.argv[1:4]
    tmp = os.environ.get("CW_TEST_TMP", tempfile.gettempdir())
    spool = tempfile.mkdtemp(prefix="wd-lldb-", dir=tmp)
    p = subprocess.run([capture_one, target, spool, str(NTHREADS)],
                       capture_output=True, text=True, timeout=60)
    print(p.stderr, end="")
    if p.returncode != 0:
        fail("capture_one exited %d" % p.returncode, p.stdout)
    report = p.stdout.strip()
    if sorted(os.listdir(spool)) != [os.path.basename(report)]:
        fail("expected exactly one report in %s: %s" % (spool, os.listdir(spool)))
    dump = os.path.join(report, "minidump.dmp")
    size = os.path.getsize(dump)
    print("minidump size: %d bytes (%d threads)" % (size, NTHREADS + 1))

    out = subprocess.run(
        [lldb, "--batch", "--no-lldbinit", "-c", dump, "-o", "thread list",
         "-o", "image list", "-o", "bt"],
        capture_output=True, text=True, timeout=60).stdout
    print(out)

    threads = re.findall(r"^\*?\s*thread #\d+: tid = (\d+)", out, re.M)
    if len(threads) != NTHREADS + 1:
        fail("lldb lists %d threads, want %d" % (len(threads), NTHREADS + 1))
    crashed = re.search(r"^\* thread #\d+: tid = (\d+).*stop reason = signal SIGSEGV",
                        out, re.M)
    if not crashed:
        fail("no crashing thread with SIGSEGV in lldb's thread list")

    notes = subprocess.run(["readelf", "-n", target], capture_output=True,
                           text=True).stdout
    build_id = re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)
    real = os.path.realpath(target)
    uuid = None
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+([0-9A-F-]+)\s+0x[0-9a-f]+\s+(\S+)", line)
        if m and m.group(2) == real:
            uuid = m.group(1).replace("-", "").lower()
    if uuid != build_id:
        fail("lldb UUID of %s is %s, build-id is %s" % (real, uuid, build_id))

    bt = out[out.find("(lldb) bt"):]
    names = re.findall(r"frame #\d+: 0x[0-9a-f]+ \S+`(\w+)", bt)
    want = ["wd_crash_leaf", "wd_crash_middle", "wd_crash_outer", "main"]
    if names[:4] != want:
        fail("crashing thread's frames %s, want %s first" % (names, want))
    if size > BUDGET:
        fail("minidump is %d bytes, budget %d" % (size, BUDGET))
    print("OK")


if __name__ == "__main__":
    main()
