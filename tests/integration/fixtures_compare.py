#!/usr/bin/env python3
"""Compares `crashwatch dump --json --stack` with Breakpad's minidump_stackwalk
-m output for every third-party minidump under the fixtures directory.

Checked without the binaries that produced the dumps: OS and CPU lines, crash
reason (signal, si_code where Breakpad names it), crash address, crashing
thread index, the module list (name, base, end, Breakpad debug id, main
module), the thread count, and the frames of every thread (module and
module offset, which minidump_stackwalk found by context, frame pointer or
scanning). Frames that minidump_stackwalk symbolized from a .sym file
(function names, inline records) are left out: Breakpad's scanner accepts a
return address in a module with symbols only where a FUNC covers it, which
needs the .sym and is not what this walker does without one.

Then: truncated and corrupted copies of a fixture must give exit status 1
and an error naming an offset, never a crash.

usage: fixtures_compare.py CRASHWATCH TMPDIR
The fixtures are found by cw_fixtures.py (CW_FIXTURES_DIR); without them
the test exits 77 (skipped).
"""
import glob
import json
import os
import random
import subprocess
import sys

import cw_fixtures


# Fixtures with a stream that really is damaged, and which: the DSO debug
# stream of linux_executable_stack points 34 bytes before its data (the
# stream after it grew); minidump_stackwalk does not read that stream.
KNOWN_DAMAGED = {"linux_executable_stack": "DSO debug stream at offset 0x9590"}


def parse_m(path):
    out = {"modules": [], "threads": {}}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("|")
            if p[0] == "OS":
                out["os"] = (p[1], p[2])
            elif p[0] == "CPU":
                out["cpu"] = (p[1], p[2], int(p[3]))
            elif p[0] == "Crash":
                out["crash"] = (p[1], int(p[2], 16), int(p[3]))
            elif p[0] == "Module":
                out["modules"].append(
                    (p[1], p[4], int(p[5], 16), int(p[6], 16), p[7] == "1"))
            elif len(p) == 7 and p[0].isdigit():
                out["threads"].setdefault(int(p[0]), []).append(
                    (p[2], p[3], int(p[6], 16)))
    return out


def check_crash(exp, exc, errs):
    reason, addr, idx = exp
    parts = reason.split("/", 1)
    sig = parts[0].strip()
    if exc.get("signal_name") != sig:
        errs.append("signal %s, expected %s" % (exc.get("signal_name"), sig))
    if len(parts) == 2:
        code = parts[1].strip()
        if code.startswith("0x"):
            if exc["si_code"] != int(code, 16):
                errs.append("si_code %d, expected %s" % (exc["si_code"], code))
        elif exc.get("si_code_name") != code:
            errs.append("si_code %s, expected %s" %
                        (exc.get("si_code_name"), code))
    if int(exc["address"], 16) != addr:
        errs.append("address %s, expected 0x%x" % (exc["address"], addr))
    if exc["thread_index"] != idx:
        errs.append("crashing thread %d, expected %d" %
                    (exc["thread_index"], idx))


def compare(crashwatch, dmp, expected):
    exp = parse_m(expected)
    r = subprocess.run([crashwatch, "dump", "--json", "--stack", dmp],
                       capture_output=True, text=True, timeout=60)
    errs = []
    name = os.path.splitext(os.path.basename(dmp))[0]
    damaged = KNOWN_DAMAGED.get(name)
    if damaged:
        # The reader must notice the damage (exit 1, named in "errors") and
        # still read everything else.
        if r.returncode != 1 or damaged not in r.stderr:
            errs.append("expected exit 1 naming the %s stream, got %d: %s" %
                        (damaged, r.returncode, r.stderr.strip()))
    elif r.returncode != 0:
        return ["exit status %d: %s" % (r.returncode, r.stderr.strip())], 0, 0
    d = json.loads(r.stdout)
    si = d["system_info"]
    got_os = (si["os"], ("%s %s" % (si["os_version"], si["csd_version"])))
    if got_os != exp["os"]:
        errs.append("OS %r, expected %r" % (got_os, exp["os"]))
    got_cpu = (si["cpu_arch"], si["cpu_info"], si["cpu_count"])
    if got_cpu != exp["cpu"]:
        errs.append("CPU %r, expected %r" % (got_cpu, exp["cpu"]))
    check_crash(exp["crash"], d["exception"], errs)
    # minidump_stackwalk lists modules by address; the main module is the
    # first of the dump's list.
    mods = sorted([(os.path.basename(m["name"]), m["breakpad_id"],
                    int(m["base"], 16), int(m["end"], 16) - 1, i == 0)
                   for i, m in enumerate(d["modules"])],
                  key=lambda m: m[2])
    exp["modules"].sort(key=lambda m: m[2])
    if mods != exp["modules"]:
        for a, b in zip(mods, exp["modules"]):
            if a != b:
                errs.append("module %r, expected %r" % (a, b))
        if len(mods) != len(exp["modules"]):
            errs.append("%d modules, expected %d" %
                        (len(mods), len(exp["modules"])))
    if len(d["threads"]) != len(exp["threads"]):
        errs.append("%d threads, expected %d" %
                    (len(d["threads"]), len(exp["threads"])))
    total = agree = 0
    for ti, frames in exp["threads"].items():
        if ti >= len(d["threads"]):
            continue
        got = [(f.get("module", ""), f.get("module_offset", f["ip"]))
               for f in d["threads"][ti]["frames"]]
        want = [(m, off) for (m, fn, off) in frames if not fn]
        if any(fn for (_, fn, _) in frames):
            # Symbolized with a .sym: compare only the unsymbolized tail.
            syms = {m for (m, fn, _) in frames if fn}
            got = [g for g in got if g[0] not in syms]
        got = [(m, int(o, 16)) for (m, o) in got]
        n = max(len(want), len(got))
        total += n
        same = sum(1 for a, b in zip(want, got) if a == b)
        agree += same
        if same != n:
            errs.append("thread %d: frames %s, expected %s" %
                        (ti, got, want))
    return errs, agree, total


def corrupt(crashwatch, dmp, tmp):
    """Truncations and random byte flips: exit 1 with an offset, or 0."""
    data = open(dmp, "rb").read()
    rng = random.Random(4)
    cases = [("trunc%d" % n, data[:n])
             for n in (0, 10, 31, 32, 40, 100, 200, len(data) // 3,
                       len(data) // 2, len(data) - 1)]
    for k in range(40):
        b = bytearray(data)
        for _ in range(8):
            i = rng.randrange(0, min(len(b), 1024))
            b[i] = rng.randrange(256)
        cases.append(("flip%d" % k, bytes(b)))
    errs = []
    path = os.path.join(tmp, "corrupt.dmp")
    for name, blob in cases:
        with open(path, "wb") as f:
            f.write(blob)
        for args in (["dump", path], ["dump", "--json", "--stack", path]):
            r = subprocess.run([crashwatch] + args, capture_output=True,
                               text=True, timeout=60)
            if r.returncode not in (0, 1):
                errs.append("%s: exit status %d (%s)" %
                            (name, r.returncode, r.stderr.strip()[-200:]))
            elif r.returncode == 1 and "offset" not in r.stderr:
                errs.append("%s: error does not name an offset: %s" %
                            (name, r.stderr.strip()))
            if name.startswith("trunc") and len(blob) < len(data) // 2 \
                    and len(blob) > 0 and r.returncode != 1:
                errs.append("%s: truncated dump accepted" % name)
    r = subprocess.run([crashwatch, "dump"], capture_output=True)
    if r.returncode != 2:
        errs.append("usage error gives %d, expected 2" % r.returncode)
    return errs


def main():
    crashwatch, tmp = sys.argv[1:3]
    fixtures = cw_fixtures.minidumps_dir()  # exits 77 (skip) without them
    dumps = sorted(glob.glob(os.path.join(fixtures, "*", "*.dmp")))
    if not dumps:
        print("no fixtures under %s" % fixtures)
        return 1
    failed = 0
    all_agree = all_total = 0
    for dmp in dumps:
        name = os.path.splitext(os.path.basename(dmp))[0]
        expected = os.path.join(os.path.dirname(dmp), "expected",
                                name + ".stackwalk-m.txt")
        if not os.path.exists(expected):
            continue
        errs, agree, total = compare(crashwatch, dmp, expected)
        all_agree += agree
        all_total += total
        print("%-45s frames %3d/%-3d %s" %
              (name, agree, total, "ok" if not errs else "MISMATCH"))
        for e in errs:
            print("    " + e)
        failed += bool(errs)
    rate = 100.0 * all_agree / all_total if all_total else 0
    print("frame agreement with minidump_stackwalk: %d/%d (%.1f%%)" %
          (all_agree, all_total, rate))
    cerrs = corrupt(crashwatch, dumps[0], tmp)
    for e in cerrs:
        print("corrupt input: " + e)
    print("corrupt inputs: %s" % ("ok" if not cerrs else "FAILED"))
    return 1 if failed or cerrs else 0


if __name__ == "__main__":
    sys.exit(main())
