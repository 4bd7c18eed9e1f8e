#!/usr/bin/env python3
"""Stackwalks crashwatch's own minidumps from the dump alone.

watchdog_capture_one crashes a watchdog_target (built with and without frame
pointers) through the capture library; `crashwatch dump --json --cfi` then
unwinds every thread from the minidump's registers and memory, with CFI from
the module files the dump names, and the frames are named here with `nm`.
Expected: the crashing thread starts wd_crash_leaf, wd_crash_middle,
wd_crash_outer, main (context, then cfi); every worker holds
wd_worker_leaf, wd_worker_middle, wd_worker_outer found by cfi. Without CFI
(--stack: frame pointers, then scanning) the same chains must still appear in
order.

usage: fixtures_own_dumps.py CRASHWATCH CAPTURE_ONE TARGET...
"""
import bisect
import json
import os
import subprocess
import sys
import tempfile

NTHREADS = 3
CRASH = ["wd_crash_leaf", "wd_crash_middle", "wd_crash_outer", "main"]
WORKER = ["wd_worker_leaf", "wd_worker_middle", "wd_worker_outer"]
# Without CFI a frame whose function has not (yet) pushed rbp is skipped by
# the frame-pointer chain: gcc -O2 shrink-wraps wd_crash_leaf's prologue onto
# the path that does not crash, and a worker stops in libc's pause(), whose
# rbp is still wd_worker_leaf's. Breakpad's walker loses the same frames.
CRASH_NOCFI = ["wd_crash_leaf", "wd_crash_outer", "main"]
WORKER_NOCFI = ["wd_worker_middle", "wd_worker_outer"]


def symbols(path):
    out = subprocess.run(["nm", "--defined-only", "-S", path],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tT":
            syms.append((int(p[0], 16), int(p[1], 16), p[3]))
    syms.sort()
    return syms


def name_of(syms, starts, vaddr):
    i = bisect.bisect_right(starts, vaddr) - 1
    if i >= 0 and vaddr < syms[i][0] + syms[i][1]:
        return syms[i][2]
    return "?"


def frames(crashwatch, dump, target, cfi):
    args = [crashwatch, "dump", "--json", "--cfi" if cfi else "--stack", dump]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit("FAIL: %s exited %d: %s" %
                         (" ".join(args), r.returncode, r.stderr))
    d = json.loads(r.stdout)
    syms = symbols(target)
    starts = [s[0] for s in syms]
    base = os.path.basename(target)
    out = []
    for t in d["threads"]:
        named = []
        for f in t["frames"]:
            name = "?"
            if f.get("module") == base:
                off = int(f["module_offset"], 16)
                # A return address is looked up inside its call.
                vaddr = off if f["trust"] == "context" else off - 1
                name = name_of(syms, starts, vaddr)
            named.append((name, f["trust"]))
        out.append((t["crashed"], named))
    return out


def in_order(names, want):
    k = 0
    for n in names:
        if k < len(want) and n == want[k]:
            k += 1
    return k == len(want)


def main():
    crashwatch, capture_one = sys.argv[1:3]
    failures = []
    for target in sys.argv[3:]:
        tmp = os.environ.get("CW_TEST_TMP", tempfile.gettempdir())
        spool = tempfile.mkdtemp(prefix="md-own-", dir=tmp)
        p = subprocess.run([capture_one, target, spool, str(NTHREADS)],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            failures.append("%s: capture_one exited %d: %s" %
                            (target, p.returncode, p.stderr[-500:]))
            continue
        dump = os.path.join(p.stdout.strip(), "minidump.dmp")
        name = os.path.basename(target)
        for cfi in (True, False):
            threads = frames(crashwatch, dump, target, cfi)
            mode = "cfi" if cfi else "fp+scan"
            crashed = [f for c, f in threads if c]
            workers = [f for c, f in threads if not c]
            print("%s (%s): crashing thread %s" %
                  (name, mode, crashed[0] if crashed else None))
            if len(crashed) != 1 or len(workers) < NTHREADS:
                failures.append("%s %s: %d crashed, %d workers" %
                                (name, mode, len(crashed), len(workers)))
                continue
            c = crashed[0]
            if cfi:
                if [n for n, _ in c[:4]] != CRASH or \
                        [t for _, t in c[:4]] != ["context", "cfi", "cfi",
                                                  "cfi"]:
                    failures.append("%s cfi: crashing thread %s" % (name, c))
            elif not in_order([n for n, _ in c], CRASH_NOCFI):
                failures.append("%s fp+scan: crashing thread %s" % (name, c))
            seen = 0
            for w in workers:
                names = [n for n, _ in w]
                if not in_order(names, WORKER if cfi else WORKER_NOCFI):
                    continue
                seen += 1
                if cfi and any(t != "cfi" for n, t in w if n in WORKER):
                    failures.append("%s cfi: worker %s" % (name, w))
            if seen < NTHREADS:
                failures.append("%s %s: %d of %d workers show the chain" %
                                (name, mode, seen, NTHREADS))
    for f in failures:
        print("FAIL: " + f)
    print("OK" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
