#!/usr/bin/env python3
"""A setuid-root program ignores crashwatch settings from the environment.

  secure_test.py --prog CHAINPROG

Run as root: copies the test program, makes the copy setuid root, creates
an unprivileged user, and runs the copy as that user (so the process is a
secure execution: AT_SECURE) with a hostile environment:
CRASHWATCH_WATCHDOG and CRASHWATCH_CLI name a script that leaves a marker,
CRASHWATCH_SPOOL another spool, CRASHWATCH_UPLOAD_URL a server, and
CRASHWATCH_PRINT_SUMMARY a value cw_init() would refuse. The program sets
its own spool with cw_options_set_spool_dir() and crashes: the report must
be in its own spool, the marker must not exist, nothing in the other
spool. A control run of the same copy without the setuid bit (the same
user, the same environment) must run the named watchdog, so the test
shows the variables are read when the process is not secure.

Skips (exit 77) when not root, or when the build tree is closed to other
users (a checkout in a private directory).
"""
import argparse
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

from cw_check import check, closed_to_others, finish


def reports(spool):
    if not os.path.isdir(spool):
        return []
    return sorted(d for d in os.listdir(spool)
                  if re.fullmatch(r"[0-9a-f]{32}", d))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (to make a setuid-root copy and a user)")
        return 77
    if not shutil.which("useradd"):
        print("SKIP: no useradd")
        return 77
    # The copies load libcrashwatch from the build tree (their run path).
    closed = closed_to_others(args.prog)
    if closed is not None:
        print("SKIP: the test user cannot load the build's libcrashwatch: "
              "%s is closed to other users (a private checkout, such as one "
              "under mktemp -d); build in a directory others can enter to "
              "run it" % closed)
        return 77

    # Not under the build tree: every directory on the way must be
    # traversable by the unprivileged user.
    work = tempfile.mkdtemp(prefix="cw-secure-")
    os.chmod(work, 0o755)
    user = "cwsec" + uuid.uuid4().hex[:8]
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh",
                    user], check=True)
    try:
        pw = pwd.getpwnam(user)
        prog = os.path.join(work, "chainprog-suid")
        plain = os.path.join(work, "chainprog-plain")
        shutil.copy(args.prog, prog)
        shutil.copy(args.prog, plain)
        os.chown(prog, 0, 0)
        os.chmod(prog, 0o4755)
        os.chmod(plain, 0o755)
        drop = os.path.join(work, "drop")
        os.mkdir(drop)
        os.chmod(drop, 0o777)
        marker = os.path.join(drop, "evil-ran")
        evil = os.path.join(work, "evil")
        with open(evil, "w") as f:
            f.write("#!/bin/sh\necho \"$(id -u) $0 $*\" >> %s\n" % marker)
        os.chmod(evil, 0o755)
        # Spools the user may write (the hostile one), and the program's.
        env_spool = os.path.join(work, "env-spool")
        os.mkdir(env_spool)
        os.chmod(env_spool, 0o777)
        own_spool = os.path.join(work, "own-spool")
        plain_spool = os.path.join(work, "plain-spool")
        os.mkdir(plain_spool)
        os.chown(plain_spool, pw.pw_uid, pw.pw_gid)
        env = {
            "PATH": work + ":/usr/bin:/bin",
            "HOME": work,
            "CRASHWATCH_WATCHDOG": evil,
            "CRASHWATCH_CLI": evil,
            "CRASHWATCH_SPOOL": env_spool,
            "CRASHWATCH_UPLOAD_URL": "http://127.0.0.1:9/",
            "CRASHWATCH_PRINT_SUMMARY": "maybe",
            "ASAN_OPTIONS": "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                            "handle_sigill=0:handle_abort=0:detect_leaks=0",
        }

        def as_user():
            os.setgid(pw.pw_gid)
            os.setgroups([])
            os.setuid(pw.pw_uid)

        # The setuid run.
        p = subprocess.run([prog, "secure", own_spool], env=env,
                           preexec_fn=as_user, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=90)
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        print("--- setuid run\n" + out + err + "---")
        check(p.returncode == -signal.SIGSEGV,
              "setuid run: want death by SIGSEGV, got %d" % p.returncode)
        check(not os.path.exists(marker),
              "the program named in the environment ran: %s" %
              (open(marker).read() if os.path.exists(marker) else ""))
        own = reports(own_spool)
        check(len(own) == 1, "want 1 report in the program's own spool, "
              "found %s" % own)
        check(reports(env_spool) == [],
              "a report went to $CRASHWATCH_SPOOL: %s" % reports(env_spool))
        if os.path.isdir(own_spool):
            st = os.stat(own_spool)
            check(st.st_uid == 0, "own spool owned by %d, want root" %
                  st.st_uid)

        # The control run: not setuid, the same environment (a valid
        # summary setting, else cw_init refuses it first) → the named
        # watchdog runs.
        env["CRASHWATCH_PRINT_SUMMARY"] = "0"
        env["CRASHWATCH_SPOOL"] = plain_spool
        p = subprocess.run([plain, "secure", plain_spool], env=env,
                           preexec_fn=as_user, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=90)
        print("--- control run (not setuid): status %d\n%s%s---" %
              (p.returncode, p.stdout.decode(errors="replace"),
               p.stderr.decode(errors="replace")))
        check(os.path.exists(marker),
              "control: without setuid, CRASHWATCH_WATCHDOG should run")
    finally:
        subprocess.run(["userdel", user], check=False)

    return finish(work, "ok: setuid program ignores CRASHWATCH_* from the "
                  "environment")


if __name__ == "__main__":
    sys.exit(main())
