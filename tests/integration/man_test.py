#!/usr/bin/env python3
"""man_test.py --build DIR --cmake CMAKE --cli CRASHWATCH --header H

The manual pages as a user gets them: installs the build into a temporary
prefix (cmake --install) and checks, with the installed pages only:

  - every page (share/man/man1, man3) renders with groff -man -ww and with
    man -l --warnings without a single warning;
  - crashwatch(1) exists and names every command `crashwatch --help` lists
    and every option of that help;
  - every command `crashwatch --help` lists has its page crashwatch-CMD(1),
    which holds every option of `crashwatch CMD --help` (as rendered text,
    so "\\-\\-spool" in the roff counts as "--spool"), an EXIT STATUS
    section with every code the help lists, an ENVIRONMENT and an EXAMPLES
    section; a new command without a page fails here;
  - every CW_EXTERN function of the public header is in the SYNOPSIS of a
    man 3 page, and `man -M PREFIX/share/man 3 FUNCTION` opens that page
    (a link page per function), as does crashwatch.h(3).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cw_check import check, failures, finish  # noqa: E402

ENV = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MAN_DISABLE_SECCOMP="1")
ENV.pop("MANPATH", None)
ENV.pop("MANOPT", None)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)


def render(page):
    """The page as plain text: no hyphenation, no adjusting breaks inside
    option names (a very long line), no bold/underline escapes."""
    r = run(["groff", "-man", "-Tascii", "-rHY=0", "-rLL=400n", "-P-c",
             "-P-b", "-P-u", page])
    return r.stdout


def sections(text):
    """{SECTION NAME: text} of a rendered page."""
    out, name = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z /-]+$", line):
            name = line.strip()
            out[name] = ""
        elif name is not None:
            out[name] += line + "\n"
    return out


OPT_RE = re.compile(r"(?<![\w-])(--[a-zA-Z][a-zA-Z0-9-]*|-[a-zA-Z])(?![\w-])")


def help_options(text):
    return sorted(set(OPT_RE.findall(text)))


def has_token(text, tok):
    return re.search(r"(?<![\w-])" + re.escape(tok) + r"(?![\w-])", text) \
        is not None


def help_exit_codes(text):
    """The codes listed after the help's "exit status" heading: lines
    starting with a number, or "N " items of a one-line list."""
    m = re.search(r"exit status:?(.*)", text, re.I | re.S)
    if not m:
        return None
    rest = m.group(1)
    codes = set(re.findall(r"^\s*(\d+)\s", rest, re.M))
    codes |= set(re.findall(r"(?:^|[:,]\s*)(\d+)\s+[a-z]", rest, re.M))
    return codes


def page_exit_codes(sec):
    return set(re.findall(r"^\s{7}(\d+)\s*$", sec, re.M)) | \
        set(re.findall(r"^\s{7}(\d+)\s{2,}\S", sec, re.M))


def header_functions(path):
    src = open(path).read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return sorted(set(re.findall(r"CW_EXTERN[^;{]*?\b(cw_[a-z0-9_]+)\s*\(",
                                 src)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--cmake", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--header", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="man-",
                            dir=os.environ.get("CW_TEST_TMP", "/tmp"))
    prefix = os.path.join(work, "prefix")
    r = run([a.cmake, "--install", a.build, "--prefix", prefix])
    if not check(r.returncode == 0, "cmake --install: " + r.stderr):
        return finish(work, "")
    mandir = os.path.join(prefix, "share", "man")
    man1 = os.path.join(mandir, "man1")
    man3 = os.path.join(mandir, "man3")
    check(os.path.isdir(man1) and os.path.isdir(man3),
          "no share/man/man1 and man3 under the prefix")

    # 1. Every page renders without warnings (link pages through man).
    pages = {}
    for d in (man1, man3):
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            p = os.path.join(d, f)
            first = open(p).readline()
            if first.startswith(".so "):
                target = os.path.join(mandir, first.split()[1])
                check(os.path.isfile(target),
                      "%s links to %s, which is not installed" % (f, target))
                continue
            r = run(["groff", "-man", "-ww", "-z", "-Tutf8", p])
            check(r.returncode == 0 and r.stderr == "",
                  "groff -ww %s: %s" % (f, r.stderr.strip()))
            r = run(["man", "--warnings", "-l", p])
            check(r.returncode == 0 and r.stderr == "" and r.stdout != "",
                  "man -l --warnings %s: rc %d %s" % (f, r.returncode,
                                                      r.stderr.strip()))
            pages[f] = render(p)

    # 2. crashwatch(1) and one page per command, against --help.
    r = run([a.cli, "--help"])
    check(r.returncode == 0, "crashwatch --help exited %d" % r.returncode)
    top = r.stdout
    m = re.search(r"^commands:\n((?:  \S.*\n)+)", top, re.M)
    check(m is not None, "crashwatch --help lists no commands:\n" + top)
    commands = re.findall(r"^  (\S+)", m.group(1), re.M) if m else []
    check(len(commands) >= 3, "fewer than 3 commands in --help: %s" % commands)
    main_page = pages.get("crashwatch.1", "")
    check(main_page != "", "no crashwatch.1")
    for opt in help_options(top):
        check(has_token(main_page, opt),
              "crashwatch.1 lacks %s of crashwatch --help" % opt)
    for cmd in commands:
        check(has_token(sections(main_page).get("COMMANDS", ""), cmd),
              "crashwatch.1's COMMANDS does not name '%s'" % cmd)
        if cmd == "help":
            continue
        name = "crashwatch-%s.1" % cmd
        page = pages.get(name)
        if not check(page is not None,
                     "command '%s' has no page %s" % (cmd, name)):
            continue
        check(has_token(main_page, "crashwatch-%s(1)" % cmd),
              "crashwatch.1 does not refer to crashwatch-%s(1)" % cmd)
        r = run([a.cli, cmd, "--help"])
        check(r.returncode == 0, "crashwatch %s --help exited %d" %
              (cmd, r.returncode))
        h = r.stdout
        opts = help_options(h)
        check(len(opts) >= 1, "crashwatch %s --help lists no option" % cmd)
        for opt in opts:
            check(has_token(page, opt),
                  "%s lacks %s of 'crashwatch %s --help'" % (name, opt, cmd))
        sec = sections(page)
        for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT",
                  "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
            check(s in sec, "%s has no %s section" % (name, s))
        codes = help_exit_codes(h)
        if check(codes, "'crashwatch %s --help' lists no exit status" % cmd):
            pcodes = page_exit_codes(sec.get("EXIT STATUS", ""))
            check(codes <= pcodes,
                  "%s EXIT STATUS has %s, the help lists %s" %
                  (name, sorted(pcodes), sorted(codes)))
        check(("crashwatch-%s" % cmd) in sec.get("NAME", ""),
              "%s's NAME is not crashwatch-%s" % (name, cmd))

    # 3. Every public function in a man 3 SYNOPSIS, reachable by name.
    funcs = header_functions(a.header)
    check(len(funcs) >= 40, "only %d CW_EXTERN functions found in %s" %
          (len(funcs), a.header))
    synopses = "".join(sections(t).get("SYNOPSIS", "")
                       for f, t in pages.items() if f.endswith(".3"))
    for fn in funcs:
        check(re.search(r"\b%s\(" % re.escape(fn), synopses) is not None,
              "%s (include/crashwatch.h) is in no man 3 page's SYNOPSIS" % fn)
        check(os.path.isfile(os.path.join(man3, fn + ".3")),
              "no page man3/%s.3 (a link to the page documenting it)" % fn)
        r = run(["man", "-M", mandir, "-w", "3", fn])
        check(r.returncode == 0 and r.stdout.strip() != "",
              "man -w 3 %s: rc %d %s%s" % (fn, r.returncode, r.stdout,
                                           r.stderr))
    for fn in funcs[:: max(1, len(funcs) // 6)] + ["crashwatch.h"]:
        r = run(["man", "-M", mandir, "3", fn])
        check(r.returncode == 0 and fn in r.stdout.replace("\u2010", "-"),
              "man 3 %s does not show it: rc %d %s" % (fn, r.returncode,
                                                       r.stderr))
    r = run(["man", "-M", mandir, "1", "crashwatch-upload"])
    check(r.returncode == 0 and "--spool" in r.stdout,
          "man 1 crashwatch-upload: rc %d %s" % (r.returncode, r.stderr))
    return finish(work, "ok: %d pages, %d commands, %d functions" %
                  (len(pages), len(commands), len(funcs)))


if __name__ == "__main__":
    sys.exit(main())
