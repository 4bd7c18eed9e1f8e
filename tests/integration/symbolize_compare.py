#!/usr/bin/env python3
"""Agreement of `crashwatch symbolize --exe` with llvm-symbolizer and
`addr2line -f -i` on a few thousand addresses of a real multi-file program.

The program is this repository's own common/ and symbolizer/ code, compiled
at -O2 -g into a shared object (inlining, .part/.isra/.constprop/.cold
clones, several units). Addresses are drawn at random inside its functions
(nm -S). An address agrees when every frame of the inline chain has the same
function (ignoring .part/.cold/.isra/.constprop suffixes), file and line.
The test asserts agreement >= 99.5% with each tool and lists differences.

usage: symbolize_compare.py [N_ADDRESSES]   (exit 77: a peer tool is missing)
"""
import atexit
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("CW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CW_BINARY_DIR", "build")
# A directory of our own (mkdtemp): other suites, and other checkouts' runs
# of this one, work in the same temporary directory at the same time.
TMP = tempfile.mkdtemp(prefix="cw-symbolize-",
                       dir=os.environ.get("CW_TEST_TMP") or tempfile.gettempdir())
atexit.register(shutil.rmtree, TMP, True)
CC = os.environ.get("CC", "cc")
CW = os.path.join(BIN, "cli", "crashwatch")
THRESHOLD = 0.995
SUFFIX = re.compile(r"(\.(part|cold|isra|constprop|lto_priv)(\.\d+)?)+$")


def parse(text, gnu):
    """Output -> list of [(function, file, line)] per address."""
    res, cur = [], []
    lines = text.split("\n")
    i = 0
    if gnu:
        # addr2line -f -i: pairs, no separator: addresses were given one at a
        # time in batches, so split by the marker line we print in between.
        raise ValueError("parse GNU output with parse_gnu")
    while i < len(lines):
        if lines[i] == "":
            if cur:
                res.append(cur)
                cur = []
            i += 1
            continue
        func, loc = lines[i], lines[i + 1]
        f, line, _col = loc.rsplit(":", 2)
        cur.append((SUFFIX.sub("", func), f, int(line)))
        i += 2
    if cur:
        res.append(cur)
    return res


def parse_gnu(text, sentinel_func):
    """addr2line output with a sentinel address between real ones."""
    res, cur = [], []
    lines = text.rstrip("\n").split("\n")
    for i in range(0, len(lines) - 1, 2):
        func, loc = lines[i], lines[i + 1]
        if func == sentinel_func:
            res.append(cur)
            cur = []
            continue
        loc = re.sub(r" \(discriminator \d+\)$", "", loc)
        f, line = loc.rsplit(":", 1)
        cur.append((SUFFIX.sub("", func), f, int(line) if line.isdigit() else 0))
    return res


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    for tool in ["llvm-symbolizer", "addr2line", "nm", CC]:
        if shutil.which(tool) is None:
            print("skip: %s not installed" % tool)
            sys.exit(77)
    d = os.path.join(TMP, "symbolize", "compare")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    mine = ["symindex.c", "dwarfidx.c", "elfsym.c", "breakpad_sym.c", "debuginfo.c",
            "symbolizer.c"]
    srcs = sorted(glob.glob(os.path.join(SRC, "common", "*.c"))) + \
        [os.path.join(SRC, "symbolizer", f) for f in mine]
    objs = []
    for s in srcs:
        o = os.path.join(d, os.path.basename(s) + ".o")
        r = subprocess.run([CC, "-O2", "-g", "-fPIC", "-D_GNU_SOURCE", "-std=gnu11",
                            "-I", os.path.join(SRC, "common"), "-I", os.path.join(SRC, "include"),
                            "-I", os.path.join(SRC, "symbolizer"), "-c", s, "-o", o],
                           capture_output=True, text=True)
        if r.returncode == 0:
            objs.append(o)
    if len(objs) < 5:
        print("FAIL: only %d of %d sources compiled" % (len(objs), len(srcs)))
        sys.exit(1)
    so = os.path.join(d, "libcompare.so")
    subprocess.run([CC, "-shared", "-o", so] + objs, check=True)

    # Only our own functions: the link also brings in libc_nonshared.a's
    # (pthread_atfork for common/workers.c), whose aliases the tools name
    # differently and whose source is not ours.
    ours_nm = subprocess.run(["nm", "--defined-only"] + objs, capture_output=True,
                             text=True, check=True).stdout
    own = {p[2] for p in (l.split() for l in ours_nm.splitlines())
           if len(p) == 3 and p[1] in "tT"}
    nm = subprocess.run(["nm", "-S", "--defined-only", so], capture_output=True, text=True,
                        check=True).stdout
    funcs = []
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tT" and int(p[1], 16) > 0 and p[3] in own:
            funcs.append((int(p[0], 16), int(p[1], 16)))
    rnd = random.Random(20261125)
    addrs = []
    for _ in range(n):
        a, s = rnd.choice(funcs)
        addrs.append(a + rnd.randrange(s))
    text = "".join("0x%x\n" % a for a in addrs)

    env = {k: v for k, v in os.environ.items() if k != "DEBUGINFOD_URLS"}
    ours = subprocess.run([CW, "symbolize", "--exe", so], input=text, capture_output=True,
                          text=True, timeout=120, env=env)
    llvm = subprocess.run(["llvm-symbolizer", "--obj=" + so], input=text, capture_output=True,
                          text=True, timeout=120)
    # addr2line prints nothing between addresses: put an address it cannot
    # resolve (0) between them as a separator.
    sep_text = "".join("0x%x\n0x0\n" % a for a in addrs)
    ours_g = subprocess.run([CW, "symbolize", "--output-style=GNU", "--exe", so], input=sep_text,
                            capture_output=True, text=True, timeout=120, env=env)
    a2l = subprocess.run(["addr2line", "-f", "-i", "-e", so], input=sep_text,
                         capture_output=True, text=True, timeout=120)

    ok = True
    for name, mine_out, peer_out, gnu in [("llvm-symbolizer", ours.stdout, llvm.stdout, False),
                                          ("addr2line", ours_g.stdout, a2l.stdout, True)]:
        m = parse_gnu(mine_out, "??") if gnu else parse(mine_out, False)
        p = parse_gnu(peer_out, "??") if gnu else parse(peer_out, False)
        if len(m) != n or len(p) != n:
            print("FAIL: %s: %d and %d answers for %d addresses" % (name, len(m), len(p), n))
            ok = False
            continue
        diffs = [(a, x, y) for a, x, y in zip(addrs, m, p) if x != y]
        agree = 1 - len(diffs) / n
        print("%s: %d/%d addresses agree (%.2f%%)" % (name, n - len(diffs), n, 100 * agree))
        for a, x, y in diffs[:40]:
            print("  0x%x\n    ours: %s\n    %s: %s" % (a, x, name, y))
        if agree < THRESHOLD:
            print("FAIL: agreement with %s below %.1f%%" % (name, 100 * THRESHOLD))
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
