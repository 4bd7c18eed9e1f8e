#!/usr/bin/env python3
"""check-layering.py SOURCE_DIR BUILD_DIR — each module sees only the
interface headers of the others (issue 14 point 3), checked by compiling.

A module's interface is what its directory <module>/include/ holds (and
include/crashwatch.h, the public API, and common/, whose headers are all
shared); every other header in <module>/ is private to the module: only its
own files reach it (same directory). The CMake targets export only those
directories, and this check proves it with the real compile commands
(BUILD_DIR/compile_commands.json):

  for every distinct set of flags a module's targets compile with, a
  probe file outside every module finds none of the private headers of the
  OTHER modules (one compile asks __has_include, which looks a header up as
  #include does, for each of them, after including crashwatch.h as a
  control; and #include of the first one fails with "No such file"); and
  each module's interface headers compile alone with its flags.

Tests and fuzz targets are white-box and may include a module's private
headers (they link cw_<module>_internals); they are not checked.
Exit 0 pass, 1 fail.
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

# The modules: every top-level folder with its own CMakeLists.txt but the
# suite, fuzz targets, benchmarks and examples (a new module is checked
# without editing this file).
NOT_MODULES = {"tests", "fuzz", "bench", "examples", "cmake", "include"}
MODULES = []


def find_modules(src):
    return sorted(d for d in os.listdir(src)
                  if d not in NOT_MODULES and not d.startswith((".", "build"))
                  and os.path.isfile(os.path.join(src, d, "CMakeLists.txt")))


def headers(src):
    """{module: (interface headers, private headers)} as file names."""
    out = {}
    for m in MODULES:
        iface = sorted(os.path.basename(h) for h in glob.glob(os.path.join(src, m, "include", "*.h")))
        priv = sorted(os.path.basename(h) for h in glob.glob(os.path.join(src, m, "*.h")))
        if m == "common":
            iface, priv = iface + priv, []
        out[m] = (iface, priv)
    return out


def module_of(root, path):
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    top = rel.split(os.sep)[0]
    return top if top in MODULES else None


def flags_of(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    keep, i = [], 1
    while i < len(args):
        a = args[i]
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            i += 2
            continue
        if a in ("-I", "-isystem", "-iquote", "-D", "-include"):
            keep += [a, args[i + 1]]
            i += 2
            continue
        if a.startswith(("-I", "-D", "-std=", "-isystem", "-iquote", "-f", "-m")) and \
                not a.startswith(("-fsanitize", "-fprofile")):
            keep.append(a)
        i += 1
    return args[0], tuple(keep), entry.get("directory", ".")


def compiles(cc, flags, cwd, probe_dir, text):
    path = os.path.join(probe_dir, "probe.c")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([cc, *flags, "-fsyntax-only", "-w", path], cwd=cwd,
                       capture_output=True, text=True)
    return p.returncode == 0, p.stderr


def main():
    src, build = sys.argv[1], sys.argv[2]
    MODULES[:] = find_modules(src)
    db = os.path.join(build, "compile_commands.json")
    with open(db) as f:
        entries = json.load(f)
    hdrs = headers(src)
    seen = {}
    for e in entries:
        # The flags belong to the target, and the target to the module whose
        # CMakeLists.txt declares it: its build directory (a file of another
        # folder compiled into it, as common/utf8.c into the handler's
        # signal-context objects, is compiled with the target's flags).
        m = module_of(build, e.get("directory", ""))
        if m is None or not e["file"].endswith(".c"):
            continue
        cc, flags, cwd = flags_of(e)
        seen.setdefault((m, flags), (cc, cwd, e["file"]))
    failures = 0
    checked = 0
    probe_dir = tempfile.mkdtemp(prefix="layering-",
                                 dir=os.environ.get("CW_TEST_TMP", tempfile.gettempdir()))
    for (m, flags), (cc, cwd, example) in sorted(seen.items()):
        foreign = [(other, h) for other, (iface, priv) in sorted(hdrs.items()) if other != m
                   for h in priv]
        if not foreign:
            continue
        # One compile asks about every foreign private header: __has_include
        # looks a header up exactly as #include does, and each reachable one
        # becomes an #error naming it. The public header first, as the
        # control: the probe must otherwise compile with these flags.
        text = '#include "crashwatch.h"\n' + "".join(
            '#if __has_include("%s")\n#error REACHES %s/%s\n#endif\n' % (h, o, h)
            for o, h in foreign)
        checked += len(foreign)
        ok, err = compiles(cc, flags, cwd, probe_dir, text)
        reached = re.findall(r"#error REACHES (\S+)", err)
        if not ok and not reached:
            failures += 1
            print("FAIL: %s (flags of %s): the __has_include probe does not compile:\n%s" %
                  (m, example, err))
            continue
        for r in reached:
            failures += 1
            print("FAIL: %s reaches %s, a private header of %s (flags of %s)" %
                  (m, r, r.split("/")[0], example))
        # And literally: #include of one of them fails to compile.
        o, h = foreign[0]
        checked += 1
        ok, err = compiles(cc, flags, cwd, probe_dir, '#include "%s"\n' % h)
        if ok or "No such file" not in err:
            failures += 1
            print("FAIL: %s: #include \"%s\" (private to %s) %s (flags of %s)%s" %
                  (m, h, o, "compiles" if ok else "fails for another reason", example,
                   "" if ok else ":\n" + err))
    # Each module's interface headers compile on their own with the flags of
    # one of the module's files (they include only interface headers
    # themselves).
    done = set()
    for (m, flags), (cc, cwd, example) in sorted(seen.items()):
        if m in done:
            continue
        done.add(m)
        for h in hdrs[m][0]:
            checked += 1
            ok, err = compiles(cc, flags, cwd, probe_dir, '#include "%s"\n' % h)
            if not ok:
                failures += 1
                print("FAIL: %s/include/%s does not compile alone with the flags of %s:\n%s" %
                      (m, h, example, err))
    print("modules %s: %d flag sets, %d probes, %d failures" %
          (" ".join(MODULES), len(seen), checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
