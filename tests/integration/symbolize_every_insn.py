#!/usr/bin/env python3
"""`crashwatch symbolize --exe` against llvm-symbolizer on EVERY instruction.

The test programs (tests/progs/sym_main.c + sym_util.c in C at -O0/-O2 and
DWARF 4/5, sym_cxx.cpp in C++ at -O0/-O2, and the suite's crashprog_O0 and
crashprog_O2 when CW_CRASHPROG_DIR names where they were built) are
disassembled with objdump -d; every instruction address of every executable
section (.init, .plt, .plt.got, .text, .fini) is looked up by both tools in
LLVM output style, and the answers must be identical: every frame of the
inline chain, function, file, line and column.

Two differences are deliberate and allowed, precisely (docs/symbolize.md):
  * Unsized symbols across sections. llvm-symbolizer lets a symbol without
    st_size (an assembly function such as _init) cover every address up to
    the next symbol, in any section: it names every PLT entry "_init". Ours
    covers up to the next symbol of the same section, at most the section's
    end: a PLT entry is "??". Allowed only where ours says "??" with no
    file, llvm names an unsized FUNC symbol that starts in another section,
    and neither has a line.
  * Labels and data symbols. llvm-symbolizer also names code by STT_NOTYPE
    (asm labels) and STT_OBJECT symbols: a label inside a function takes
    the function's name over from there on (the test programs' cw_mark_*
    labels: the end of main is "cw_mark_main_118"). Ours names code by
    FUNC/IFUNC symbols and DWARF only. Allowed only where llvm's outermost
    name is such a symbol and every other field agrees (or ours knows
    nothing and llvm only the label with its STT_FILE name, line 0).
Every other difference fails the test, listed.

usage: symbolize_every_insn.py   (exit 77: llvm-symbolizer or objdump missing)
"""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("CW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CW_BINARY_DIR", "build")
TMP = tempfile.mkdtemp(prefix="cw-every-insn-",
                       dir=os.environ.get("CW_TEST_TMP") or tempfile.gettempdir())
atexit.register(shutil.rmtree, TMP, True)
CC = os.environ.get("CC", "cc")
CXX = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
CW = os.path.join(BIN, "cli", "crashwatch")
PROGS = os.path.join(SRC, "tests", "progs")
ENV = {k: v for k, v in os.environ.items() if k != "DEBUGINFOD_URLS"}
INSN = re.compile(r"^\s+([0-9a-f]+):\s")


def programs():
    out = []
    for opt in ["-O0", "-O2"]:
        for dw in ["-gdwarf-4", "-gdwarf-5"]:
            exe = os.path.join(TMP, "sym%s%s" % (opt, dw[2:]))
            subprocess.run([CC, opt, dw, "-I", PROGS] +
                           [os.path.join(PROGS, s) for s in ("sym_main.c", "sym_util.c")] +
                           ["-o", exe], check=True)
            out.append(exe)
        if CXX:
            exe = os.path.join(TMP, "symcxx" + opt)
            subprocess.run([CXX, opt, "-g", os.path.join(PROGS, "sym_cxx.cpp"), "-o", exe],
                           check=True)
            out.append(exe)
    d = os.environ.get("CW_CRASHPROG_DIR")
    for name in ("crashprog_O0", "crashprog_O2"):
        if d and os.path.exists(os.path.join(d, name)):
            out.append(os.path.join(d, name))
    return out


def instructions(exe):
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", exe], capture_output=True,
                          text=True, check=True).stdout
    addrs = []
    for line in text.splitlines():
        m = INSN.match(line)
        if m:
            addrs.append(int(m.group(1), 16))
    return sorted(set(addrs))


def parse(text):
    """LLVM style -> one list of (function, location) per address."""
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
        cur.append((lines[i], lines[i + 1] if i + 1 < len(lines) else ""))
        i += 2
    if cur:
        res.append(cur)
    return res


def symbols(exe):
    """name -> (address, size, section index, type) of the symbols that
    llvm-symbolizer may name code by (FUNC, IFUNC, NOTYPE, OBJECT)."""
    out = subprocess.run(["readelf", "-sW", exe], capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        p = line.split()
        if (len(p) >= 8 and p[3] in ("FUNC", "IFUNC", "NOTYPE", "OBJECT") and
                p[6].isdigit()):
            syms.setdefault(p[7].split("@")[0], (int(p[1], 16), int(p[2], 0), int(p[6]), p[3]))
    return syms


def section_of(exe):
    out = subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True).stdout
    secs = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            secs.append((int(m.group(1)), m.group(2), int(m.group(3), 16), int(m.group(4), 16)))

    def find(addr):
        for idx, name, lo, size in secs:
            if lo <= addr < lo + size and lo != 0:
                return idx, name
        return None, None
    return find


def allowed(exe, addr, ours, theirs, syms, find):
    """The deliberate differences (see the module docstring): which one, or
    None."""
    last = theirs[-1][0] if theirs else None
    s = syms.get(last)
    if s is None:
        return None
    # A: an unsized symbol of another section (PLT entries named "_init").
    if (ours == [("??", "??:0:0")] and len(theirs) == 1 and theirs[0][1] == "??:0:0" and
            s[1] == 0 and s[3] in ("FUNC", "IFUNC") and find(addr)[0] != s[2]):
        return "unsized"
    # B: a label (NOTYPE) or data symbol (OBJECT) names the code; all else
    # equal, or nothing else known on either side.
    if s[3] in ("NOTYPE", "OBJECT"):
        if len(ours) == len(theirs) and ours[:-1] == theirs[:-1] and \
                ours[-1][1] == theirs[-1][1]:
            return "label"
        if ours == [("??", "??:0:0")] and len(theirs) == 1 and theirs[0][1].endswith(":0:0"):
            return "label"
    return None


def main():
    for tool in ["llvm-symbolizer", "objdump", "readelf"]:
        if shutil.which(tool) is None:
            print("skip: %s not installed" % tool)
            sys.exit(77)
    total, bad = 0, 0
    excused = {"unsized": 0, "label": 0}
    for exe in programs():
        addrs = instructions(exe)
        text = "".join("0x%x\n" % a for a in addrs)
        ours = subprocess.run([CW, "symbolize", "--exe", exe], input=text, capture_output=True,
                              text=True, timeout=300, env=ENV)
        llvm = subprocess.run(["llvm-symbolizer", "--obj=" + exe], input=text,
                              capture_output=True, text=True, timeout=300)
        m, p = parse(ours.stdout), parse(llvm.stdout)
        if len(m) != len(addrs) or len(p) != len(addrs):
            print("FAIL: %s: %d and %d answers for %d addresses" % (exe, len(m), len(p),
                                                                   len(addrs)))
            bad += 1
            continue
        syms, find = symbols(exe), section_of(exe)
        diffs = []
        for a, x, y in zip(addrs, m, p):
            if x == y:
                continue
            why = allowed(exe, a, x, y, syms, find)
            if why:
                excused[why] += 1
                continue
            diffs.append((a, x, y))
        total += len(addrs)
        bad += len(diffs)
        print("%s: %d instructions, %d differ" % (os.path.basename(exe), len(addrs), len(diffs)))
        for a, x, y in [d_ for d_ in diffs if "crtstuff" not in str(d_[2])][:25]:
            print("  0x%x (%s)\n    ours: %s\n    llvm: %s" % (a, find(a)[1], x, y))
    print("%d instruction addresses, %d differences; allowed: %d unsized symbols across "
          "sections, %d labels or data symbols" % (total, bad, excused["unsized"],
                                                   excused["label"]))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
