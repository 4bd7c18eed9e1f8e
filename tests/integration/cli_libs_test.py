#!/usr/bin/env python3
"""The crashwatch command loads only what a command needs (issue 14 point 4).

Usage: cli_libs_test.py --cli CRASHWATCH --prog CRASHPROG

A real crash of CRASHPROG (tests/progs/crashprog.c) into a fresh spool gives
a real report. Each command is then run with LD_DEBUG=libs and the shared
libraries the dynamic linker initialises (at start and through dlopen) are
collected from its output:

  - `--version`, `run --help`, `dump`, `symbolize REPORT`, `symbolize --json`,
    `symbolize --exe`, `list`, `show`: never libcurl (nor libdebuginfod, which links it:
    DEBUGINFOD_URLS is unset here, so no lookup is asked for), never
    libcrashwatch or libunwind; in a plain build nothing but libc, libdw,
    libelf and their compression libraries;
  - `upload` of that report to a closed loopback port: libcurl is loaded
    (dlopen()ed by the uploader's transport on the first send), which also
    shows the check above can see a dlopen()ed libcurl.

And the binary does not contain the app library (libcrashwatch, with the
embedded watchdog): no cw_init, no watchdog image (nm).

Prints the number of libraries each command loads. Exit 0 pass, 1 fail.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile

from cw_check import check, failures

TMP_ROOT = os.environ.get("CW_TEST_TMP", tempfile.gettempdir())
# Plain build: what `dump` and `symbolize` may load (libdw and libelf for
# DWARF/ELF, the compression libraries they link).
ALLOWED = re.compile(r"^(ld-linux.*|libc|libdw|libelf|libz|liblzma|libbz2|libzstd|libm)"
                     r"\.so(\.[0-9.]+)?$")
# Sanitizer runtimes and what they link.
SANITIZER = re.compile(r"^(libasan|libubsan|libgcc_s|libstdc\+\+)\.so")
NEVER = re.compile(r"^(libcurl|libdebuginfod|libcrashwatch|libunwind|libssl|libgnutls|"
                   r"libcrypto|libnghttp2|libssh2|libkrb5|libldap)")

def loaded(args, stdin=None, env_extra=None):
    """Runs args with LD_DEBUG=libs; returns (exit status, stdout, the
    basenames of the libraries initialised, in order)."""
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)
    env.pop("LD_PRELOAD", None)
    env["LD_DEBUG"] = "libs"
    env.update(env_extra or {})
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, errors="replace",
                       env=env, timeout=120)
    libs = []
    for line in p.stderr.splitlines():
        m = re.search(r"calling init: (\S+)", line)
        if m:
            name = os.path.basename(m.group(1))
            if name not in libs:
                libs.append(name)
    return p.returncode, p.stdout, libs


def crash(prog, spool, d):
    env = dict(os.environ, CRASHWATCH_SPOOL=spool, CRASHWATCH_PRINT_SUMMARY="0",
               ASAN_OPTIONS="handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:"
                            "handle_abort=0:detect_leaks=0:allow_user_segv_handler=1")
    env.pop("SENTRY_DSN", None)
    env.pop("CRASHWATCH_UPLOAD_URL", None)
    p = subprocess.run([prog, "null"], capture_output=True, env=env, cwd=d, timeout=90)
    check(p.returncode == -11, "crashprog exit %d" % p.returncode)
    reports = [os.path.join(spool, x) for x in sorted(os.listdir(spool))
               if os.path.exists(os.path.join(spool, x, "event.json"))]
    check(len(reports) == 1, "one report expected, got %s" % reports)
    return reports[0] if reports else None


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: the connection is refused
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--prog", required=True)
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    prog = os.path.abspath(a.prog)
    d = tempfile.mkdtemp(prefix="cli_libs-", dir=TMP_ROOT)
    spool = os.path.join(d, "spool")

    # The binary carries nothing of libcrashwatch.
    nm = subprocess.run(["nm", cli], capture_output=True, text=True)
    syms = set(l.split()[-1] for l in nm.stdout.splitlines() if l.strip())
    if nm.returncode != 0 or not syms:
        print("note: %s has no symbol table; the app-library check is skipped" % cli)
    else:
        for s in ("cw_init", "cw__watchdog_blob_start", "cw__wd_idle_blob_start"):
            check(s not in syms, "the CLI contains %s: it links the app library (libcrashwatch)"
                  % s)

    report = crash(prog, spool, d)
    if report is None:
        return 1
    dump = os.path.join(report, "minidump.dmp")
    addr = None
    for l in subprocess.run(["nm", "--defined-only", prog], capture_output=True,
                            text=True).stdout.splitlines():
        p = l.split()
        if len(p) == 3 and p[2] == "main":
            addr = "0x" + p[0]
    check(addr is not None, "no main in %s" % prog)

    sanitized = False
    runs = [("--version", [cli, "--version"], None),
            ("run --help", [cli, "run", "--help"], None),
            ("dump", [cli, "dump", dump], None),
            ("symbolize REPORT", [cli, "symbolize", report], None),
            ("symbolize REPORT --json", [cli, "symbolize", report, "--json"], None),
            ("symbolize --exe", [cli, "symbolize", "--exe", prog], (addr or "0x0") + "\n"),
            ("list", [cli, "list", "--spool", spool, "--all"], None),
            ("show latest", [cli, "show", "latest", "--spool", spool], None),
            ("show --json", [cli, "show", "latest", "--spool", spool, "--json"], None)]
    for name, args, stdin in runs:
        rc, out, libs = loaded(args, stdin)
        check(rc in (0, 1) and out, "%s: exit %d, output %r" % (name, rc, out[:200]))
        print("%-24s loads %2d libraries: %s" % (name, len(libs), " ".join(libs)))
        if any(SANITIZER.match(x) for x in libs):
            sanitized = True
        for x in libs:
            check(not NEVER.match(x), "%s loads %s" % (name, x))
            if not sanitized:
                check(ALLOWED.match(x) is not None,
                      "%s loads %s (only libc, libdw, libelf and their compression "
                      "libraries expected)" % (name, x))

    # upload: libcurl is loaded, by dlopen, to send. The server is a closed
    # port, so the send fails and the report stays (exit status ignored).
    url = "http://127.0.0.1:%d/upload" % closed_port()
    rc, out, libs = loaded([cli, "upload", "--spool", spool, "--url", url, "--once",
                            "--connect-timeout", "5", "--quiet"])
    print("%-24s loads %2d libraries: %s" % ("upload", len(libs), " ".join(libs)))
    check(any(x.startswith("libcurl") for x in libs),
          "upload did not load libcurl (exit %d): the check cannot see a dlopen()ed library?"
          % rc)
    check(os.path.isdir(report), "the report left the spool although the upload failed")

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
