#!/usr/bin/env python3
"""Symbolization benchmark: crashwatch vs llvm-symbolizer vs addr2line.

Builds SQLite (the amalgamation inside the npm package `sqlite3`, fetched
with `npm pack` at run time) at -O2 -g, draws N random addresses inside its
functions, and runs each tool on the same input (stdin), printing the best
wall time of R runs, the peak RSS of that run, and how many addresses agree
with crashwatch's answer (function without .part/.cold/.isra/.constprop
suffixes, file, line, for every frame of the inline chain).

Not a test: it prints figures and asserts nothing (exit 0 also when npm is
missing: it says so and skips).
"""
import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time

SUFFIX = re.compile(r"(\.(part|cold|isra|constprop|lto_priv)(\.\d+)?)+$")


def fetch_sqlite(work):
    src = glob.glob(os.path.join(work, "sqlite-*", "sqlite3.c"))
    if src:
        return os.path.dirname(src[0])
    if shutil.which("npm") is None:
        return None
    os.makedirs(work, exist_ok=True)
    print("fetching the npm package sqlite3 (for its SQLite amalgamation)...", flush=True)
    r = subprocess.run(["npm", "pack", "sqlite3", "--silent"], cwd=work, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        print("npm pack sqlite3 failed: %s" % r.stderr.strip()[-500:])
        return None
    tgz = os.path.join(work, r.stdout.strip().splitlines()[-1])
    with tarfile.open(tgz) as t:
        inner = [m for m in t.getmembers() if re.search(r"sqlite-autoconf-\d+\.tar\.gz$", m.name)]
        if not inner:
            print("no sqlite-autoconf tarball inside %s" % tgz)
            return None
        t.extract(inner[0], work)
        inner_path = os.path.join(work, inner[0].name)
    with tarfile.open(inner_path) as t:
        t.extractall(work)
    src = glob.glob(os.path.join(work, "sqlite-*", "sqlite3.c"))
    return os.path.dirname(src[0]) if src else None


def run_measured(cmd, stdin_path):
    with open(stdin_path, "rb") as fin, open(os.devnull, "wb") as null:
        out_path = stdin_path + ".out"
        with open(out_path, "wb") as fout:
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=null)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
    with open(out_path) as f:
        out = f.read()
    return wall, ru.ru_maxrss / 1024.0, out


def parse_llvm(text):
    res, cur = [], []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "":
            if cur:
                res.append(cur)
                cur = []
            i += 1
            continue
        if i + 1 >= len(lines):
            break
        f, line, _ = (lines[i + 1].rsplit(":", 2) + ["0", "0"])[:3]
        cur.append((SUFFIX.sub("", lines[i]), f, line))
        i += 2
    if cur:
        res.append(cur)
    return res


def parse_gnu(text):
    """addr2line output, with address 0 (??) between the real addresses."""
    res, cur = [], []
    lines = text.rstrip("\n").split("\n")
    for i in range(0, len(lines) - 1, 2):
        if lines[i] == "??" and lines[i + 1] in ("??:0", "??:?"):
            res.append(cur)
            cur = []
            continue
        loc = re.sub(r" \(discriminator \d+\)$", "", lines[i + 1])
        f, line = loc.rsplit(":", 1)
        cur.append((SUFFIX.sub("", lines[i]), f, line))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crashwatch", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("-r", "--runs", type=int, default=3)
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    if not os.access(a.crashwatch, os.X_OK):
        print("bench symbolize: %s not built" % a.crashwatch)
        return 1
    work = os.path.abspath(a.work)
    src = fetch_sqlite(work)
    if src is None:
        print("bench symbolize: skipped (npm unavailable or the sqlite3 package could not be "
              "fetched)")
        return 0
    exe = os.path.join(work, "sqlite3-O2g")
    if not os.path.exists(exe):
        print("building SQLite at -O2 -g (about a minute)...", flush=True)
        subprocess.run(["cc", "-O2", "-g", "-o", exe, os.path.join(src, "sqlite3.c"),
                        os.path.join(src, "shell.c"), "-lpthread", "-ldl", "-lm"], check=True)
    nm = subprocess.run(["nm", "-S", "--defined-only", exe], capture_output=True, text=True,
                        check=True).stdout
    funcs = []
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tT" and int(p[1], 16) > 0:
            funcs.append((int(p[0], 16), int(p[1], 16)))
    rnd = random.Random(12345)
    addrs = [a0 + rnd.randrange(s) for a0, s in (rnd.choice(funcs) for _ in range(a.n))]
    inp = os.path.join(work, "addrs.txt")
    with open(inp, "w") as f:
        f.write("".join("0x%x\n" % x for x in addrs))
    inp_sep = os.path.join(work, "addrs-sep.txt")
    with open(inp_sep, "w") as f:
        f.write("".join("0x%x\n0x0\n" % x for x in addrs))

    size = os.path.getsize(exe)
    print("SQLite %s: %s, %.1f MB, %d functions; %d random addresses inside them; best of %d" %
          (os.path.basename(src), exe, size / 1e6, len(funcs), a.n, a.runs))
    tools = [("crashwatch symbolize --exe", [a.crashwatch, "symbolize", "--exe", exe], inp),
             ("llvm-symbolizer", ["llvm-symbolizer", "--obj=" + exe], inp),
             ("addr2line -f -i", ["addr2line", "-f", "-i", "-e", exe], inp),
             ("crashwatch --output-style=GNU",
              [a.crashwatch, "symbolize", "--output-style=GNU", "--exe", exe], inp_sep),
             ("addr2line -f -i (separated)", ["addr2line", "-f", "-i", "-e", exe], inp_sep)]
    results = {}
    for name, cmd, stdin in tools:
        if shutil.which(cmd[0]) is None and not os.path.exists(cmd[0]):
            print("  %-30s not installed" % name)
            continue
        best = None
        for _ in range(a.runs):
            r = run_measured(cmd, stdin)
            if best is None or r[0] < best[0]:
                best = r
        results[name] = best
    ours = parse_llvm(results["crashwatch symbolize --exe"][2])
    ours_g = parse_gnu(results["crashwatch --output-style=GNU"][2])
    print("%-30s %9s %10s  %s" % ("tool", "wall", "peak RSS", "agreement with crashwatch"))
    for name in ["crashwatch symbolize --exe", "llvm-symbolizer", "addr2line -f -i"]:
        if name not in results:
            continue
        wall, rss, out = results[name]
        if name == "addr2line -f -i":
            peer, mine = parse_gnu(results["addr2line -f -i (separated)"][2]), ours_g
        else:
            peer, mine = parse_llvm(out), ours
        same = sum(1 for x, y in zip(mine, peer) if x == y) if len(peer) == len(mine) else 0
        print("%-30s %8.3fs %8.1f MB  %d/%d (%.2f%%)" % (name, wall, rss, same, a.n,
                                                        100.0 * same / a.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
