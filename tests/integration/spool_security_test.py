#!/usr/bin/env python3
"""Who may write the spool, and what the spool may contain: real users, real
crashes, the real `crashwatch upload` (issue 9 items 1, 2, 3, 9, 10, 17 and
issue 8 item 9).

Usage: spool_security_test.py SCENARIO   (see SCENARIOS at the bottom)

Scenarios that need two users create them (useradd, random names, removed
at the end) and run the victim's commands with setpriv as that user; they
exit 77 (skipped) with a message when not run as root, or when the build
tree is closed to other users (a private checkout). Work happens in a
fresh directory under $CW_TEST_TMP. No assertion depends on timing.
"""
import fcntl
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import upload_test as ut  # noqa: E402  (Collector, make_report, helpers)
from cw_check import closed_to_others  # noqa: E402

SKIP = 77
CRASHWATCH = ut.CRASHWATCH
TMP_ROOT = ut.TMP_ROOT
check = ut.check
fail = ut.fail
USERS = []


class Skip(Exception):
    pass


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root to create users (useradd) and run commands "
                   "as them (setpriv)")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            raise Skip("%s is not installed" % tool)
    for path in (CRASHWATCH, os.environ.get("CW_CRASHPROG", CRASHWATCH),
                 TMP_ROOT):
        closed = closed_to_others(path)
        if closed is not None:
            raise Skip("the test users cannot reach %s: %s is closed to "
                       "other users (a private checkout, such as one under "
                       "mktemp -d); build in a directory others can enter "
                       "to run it" % (path, closed))


def make_user(tag):
    name = "cw%s%s" % (tag, os.urandom(3).hex())
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name],
                   check=True)
    USERS.append(name)
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def as_user(uid, gid, argv):
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
            "--clear-groups", "--"] + argv


def clean_env(extra=None):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("CRASHWATCH_") or k.startswith("SENTRY_") or \
                k.endswith("_proxy") or k.endswith("_PROXY"):
            del e[k]
    e.update({"CRASHWATCH_PRINT_SUMMARY": "0",
              "ASAN_OPTIONS": "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                              "handle_sigill=0:handle_abort=0:detect_leaks=0:"
                              "allow_user_segv_handler=1"})
    e.update(extra or {})
    return e


def run(argv, env=None, user=None, cwd=None, stdin=None, input_=None,
        preexec=None, timeout=120):
    if user is not None:
        argv = as_user(user[0], user[1], argv)
    p = subprocess.run(argv, env=env or clean_env(), cwd=cwd, input=input_,
                       stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout,
                       preexec_fn=preexec)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    sys.stdout.write("$ %s\n%s[rc=%d]\n" % (" ".join(argv), out, p.returncode))
    return p.returncode, out


def upload(args, user=None, env=None, timeout=60):
    return run([CRASHWATCH, "upload"] + args, env=clean_env(env), user=user,
               timeout=timeout)


def crashprog(spool, user=None, mode="null", env=None, preexec=None):
    e = {"CRASHWATCH_SPOOL": spool}
    e.update(env or {})
    return run([os.environ["CW_CRASHPROG"], mode], env=clean_env(e), user=user,
               cwd="/", preexec=preexec)


def tree_digest(path):
    """Every file under path with its content, and every entry's type."""
    out = {}
    for root, dirs, files in os.walk(path):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), path)] = "dir"
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


def home_for(work, user, name):
    home = os.path.join(work, name)
    os.makedirs(home)
    os.chown(home, user[0], user[1])
    os.chmod(home, 0o700)
    return home


def precious_dir(home, user):
    d = os.path.join(home, "precious")
    os.makedirs(d)
    for name, data in (("event.json", b'{"mine": true}'),
                       ("thesis.txt", b"years of work\n")):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    for root, dirs, files in os.walk(home):
        for n in dirs + files:
            os.chown(os.path.join(root, n), user[0], user[1])
    return d


def chown_tree(path, user):
    os.chown(path, user[0], user[1])
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), user[0], user[1])


# ---- scenarios ----------------------------------------------------------

def t_tmp_symlink(work):
    """9.1: the victim's `crashwatch upload` saving retry state and rate
    limits never writes through a link planted at a temporary name."""
    need_root()
    victim = make_user("v")
    other = make_user("o")
    home = home_for(work, victim, "victim")
    secret = os.path.join(home, "notes.txt")
    with open(secret, "w") as f:
        f.write("the victim's own file\n")
    os.chown(secret, *victim)
    # A shared spool (mode 1777, as some set /var/crash up): the other user
    # plants links at the names the old code used. It is refused outright.
    shared = os.path.join(work, "shared")
    os.makedirs(shared)
    os.chown(shared, *victim)
    os.chmod(shared, 0o1777)
    eid = ut.make_report(shared)
    chown_tree(os.path.join(shared, eid), victim)
    col = ut.Collector(work, mode="500")
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    rc, out = upload(["--spool", shared, "--dsn", dsn], user=victim)
    check(rc == 1, "a spool writable by others must be refused (exit 1)")
    check("UNPROTECTED" in out and "mode 1777" in out and
          "owned by uid %d" % victim[0] in out, "message: " + out)

    # The victim's private spool, with links the victim's own earlier
    # process (or root) left at the old predictable names: the pid of the
    # uploader is known before it starts (fork, plant, then exec).
    spool = os.path.join(home, "spool")
    os.makedirs(os.path.join(spool, ".state"))
    now = ut.time.time()
    first = ut.make_report(spool, mtime=now - 20)
    second = ut.make_report(spool, mtime=now - 10)
    chown_tree(spool, victim)
    os.chmod(spool, 0o700)
    os.chmod(os.path.join(spool, ".state"), 0o700)
    # The first report gets a 500 (retry state saved), the second a 429
    # with rate limits (saved too), in one uploader process.
    col.control(script=["500", "429-rl:60::org"], then="500")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(wfd)
        os.read(rfd, 1)
        env = clean_env()
        argv = as_user(victim[0], victim[1],
                       [CRASHWATCH, "upload", "--spool", spool, "--dsn", dsn])
        os.execvpe(argv[0], argv, env)
    os.close(rfd)
    state = os.path.join(spool, ".state")
    for name in ("%s.retry.tmp-%d" % (first, pid), "ratelimits.tmp-%d" % pid):
        os.symlink(secret, os.path.join(state, name))
        os.lchown(os.path.join(state, name), *victim)
    os.write(wfd, b"x")
    os.close(wfd)
    _, status = os.waitpid(pid, 0)
    print("uploader exit status", os.waitstatus_to_exitcode(status))
    with open(secret) as f:
        content = f.read()
    check(content == "the victim's own file\n",
          "the victim's file was overwritten through a planted link: %r" %
          content)
    check(len(col.records()) == 2, "want two attempts")
    for name in (first + ".retry", "ratelimits"):
        p = os.path.join(state, name)
        check(os.path.isfile(p) and not os.path.islink(p),
              "%s not saved as a regular file" % name)
        check(os.stat(p).st_uid == victim[0], "%s not the victim's" % name)
    col.stop()


def t_symlinked_report(work):
    """9.2: a report "directory" that is a link to the victim's directory is
    never followed by delivery, pruning or the watchdog's commit."""
    need_root()
    victim = make_user("v")
    other = make_user("o")
    home = home_for(work, victim, "victim")
    precious = precious_dir(home, victim)
    before = tree_digest(precious)
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    os.chown(spool, *victim)
    os.chmod(spool, 0o1777)  # shared for a while
    good = ut.make_report(spool)
    chown_tree(os.path.join(spool, good), victim)
    link_id = ut.new_id()
    link_id2 = ut.new_id()
    for lid in (link_id, link_id2):
        run(["ln", "-s", precious, os.path.join(spool, lid)], user=other)
    check(os.path.islink(os.path.join(spool, link_id)), "plant failed")
    col = ut.Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    rc, out = upload(["--spool", spool, "--dsn", dsn], user=victim)
    check(rc == 1 and "UNPROTECTED" in out, "shared spool must be refused")
    check(tree_digest(precious) == before, "target touched")
    # The owner makes it private again; the other user's links stay.
    os.chmod(spool, 0o700)
    rc, out = upload(["--spool", spool, "--dsn", dsn, "-v"], user=victim)
    check(tree_digest(precious) == before, "delivery touched the target")
    sent = ut.ids_sent(col)
    check(sent == [good], "only the real report is sent, got %r" % sent)
    for lid in (link_id, link_id2):
        check(re.search(r"moved %s to failed/: not a report: a symbolic link" %
                        lid, out), "no log line for the link " + lid)
        moved = os.path.join(spool, "failed", lid)
        check(os.path.islink(moved), "the link itself is not in failed/")
    check(rc == 3, "moved entries count as failed (exit 3), got %d" % rc)
    # Pruning failed/ removes the links, never what they point to.
    rc, out = upload(["--spool", spool, "--dsn", dsn, "--failed-max", "0"],
                     user=victim)
    check(not os.path.lexists(os.path.join(spool, "failed", link_id)),
          "failed/ not pruned: " + out)
    check(tree_digest(precious) == before, "pruning touched the target")
    # The watchdog's prune after a real crash: the same.
    run(["ln", "-s", precious, os.path.join(spool, link_id)], user=victim)
    rc, out = crashprog(spool, user=victim,
                        env={"CRASHWATCH_SPOOL_MAX_REPORTS": "1"})
    check(rc == -signal.SIGSEGV, "crash program ended with %d" % rc)
    check("moved %s to failed/" % link_id in out, "watchdog did not move the "
          "link aside: " + out)
    check(tree_digest(precious) == before, "the watchdog touched the target")
    col.stop()


def t_unsafe_spool(work):
    """9.3: cw_init, the watchdog and `crashwatch upload` refuse a spool owned
    by someone else or writable by others; a spool made under umask 0177 is
    0700 and usable."""
    need_root()
    victim = make_user("v")
    other = make_user("o")
    home = home_for(work, victim, "victim")
    theirs = os.path.join(work, "theirs")
    os.makedirs(theirs)
    os.chown(theirs, *other)
    os.chmod(theirs, 0o755)
    # cw_init refuses a spool owned by another user.
    rc, out = crashprog(theirs, user=victim)
    check(rc == 3, "cw_init must fail (exit 3), got %d" % rc)
    check("CW_ESPOOL" in out and "UNPROTECTED" in out and
          "%s is owned by uid %d with mode 0755" % (theirs, other[0]) in out,
          "message: " + out)
    # ... and one of the victim's own that group or others may write.
    loose = os.path.join(home, "loose")
    os.makedirs(loose)
    os.chown(loose, *victim)
    os.chmod(loose, 0o770)
    rc, out = crashprog(loose, user=victim)
    check(rc == 3 and "mode 0770" in out, "group-writable spool accepted")
    # crashwatch upload, as the victim and as root.
    rc, out = upload(["--spool", theirs, "--dsn", "http://k@h/1"], user=victim)
    check(rc == 1 and "owned by uid %d" % other[0] in out, "upload accepted "
          "another user's spool")
    mine = os.path.join(home, "mine")
    os.makedirs(mine)
    os.chown(mine, *victim)
    os.chmod(mine, 0o700)
    rc, out = upload(["--spool", mine, "--dsn", "http://k@h/1"])
    check(rc == 1 and "must be owned by uid 0" in out,
          "root must refuse a spool it does not own: " + out)
    # The watchdog re-checks at the crash: loosened after cw_init.
    p = subprocess.Popen(as_user(victim[0], victim[1],
                                 [os.environ["CW_CRASHPROG"], "wait-stdin"]),
                         env=clean_env({"CRASHWATCH_SPOOL": mine}), cwd="/",
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    line = p.stdout.readline()
    check(line.startswith(b"pid "), "crashprog did not start: %r" % line)
    os.chmod(mine, 0o777)
    out, err = p.communicate(b"go\n", timeout=120)
    err = err.decode(errors="replace")
    print(err)
    check(p.returncode == -signal.SIGSEGV, "exit %d" % p.returncode)
    check("UNPROTECTED" in err and "CW_ESPOOL" in err,
          "the watchdog wrote into a loosened spool: " + err)
    check(ut.reports_in(mine) == [], "a report was written: %r" %
          os.listdir(mine))
    os.chmod(mine, 0o700)
    # umask 0177: the spool and its parents are made 0700 anyway, and the
    # report can be read back and delivered by its owner.
    deep = os.path.join(home, "state", "crashwatch", "reports")
    rc, out = crashprog(deep, user=victim, preexec=lambda: os.umask(0o177))
    check(rc == -signal.SIGSEGV, "crash under umask 0177 ended with %d" % rc)
    for d in (os.path.join(home, "state"), deep):
        mode = os.stat(d).st_mode & 0o777
        check(mode == 0o700, "%s has mode %o" % (d, mode))
    ids = ut.reports_in(deep)
    check(len(ids) == 1, "want one report, got %r" % ids)
    col = ut.Collector(work)
    rc, out = upload(["--spool", deep, "--dsn",
                      "http://k@127.0.0.1:%d/1" % col.port], user=victim)
    check(rc == 0 and ut.ids_sent(col) == ids, "owner cannot deliver: " + out)
    col.stop()


def t_nofile_readonly(work):
    """9.9: too few fds, or a read-only spool: CW_ESPOOL with the errno
    text, never CW_EUNKNOWN, and no .tmp- directory left behind."""
    spool = os.path.join(work, "spool")
    seen = False
    for n in range(10, 40):
        def lim(n=n):
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        rc, out = crashprog(spool, preexec=lim)
        check("CW_EUNKNOWN" not in out and "unknown error" not in out,
              "RLIMIT_NOFILE %d: %s" % (n, out))
        if os.path.isdir(spool):
            left = [x for x in os.listdir(spool) if x.startswith(".tmp-")]
            check(left == [], "RLIMIT_NOFILE %d left %r" % (n, left))
        if "CW_ESPOOL" in out and "Too many open files" in out:
            seen = True
        if ut.reports_in(spool):
            break  # enough fds from here on
    check(seen, "no limit gave CW_ESPOOL with 'Too many open files'")
    # Read-only: a tmpfs made read-only after cw_init.
    ro = os.path.join(work, "ro")
    os.makedirs(ro)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700",
                        "tmpfs", ro], stderr=subprocess.PIPE)
    if r.returncode != 0:
        print("SKIP read-only part: cannot mount a tmpfs (%s)" %
              r.stderr.decode().strip())
        return
    try:
        p = subprocess.Popen([os.environ["CW_CRASHPROG"], "wait-stdin"],
                             env=clean_env({"CRASHWATCH_SPOOL": ro}), cwd="/",
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        line = p.stdout.readline()
        check(line.startswith(b"pid "), "crashprog did not start: %r" % line)
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        out, err = p.communicate(b"go\n", timeout=120)
        err = err.decode(errors="replace")
        print(err)
        check("CW_ESPOOL" in err and "Read-only file system" in err and
              "CW_EUNKNOWN" not in err, "read-only spool: " + err)
        rc, out = crashprog(ro)
        check(rc == 3 and "CW_ESPOOL" in out and "Read-only file system" in out,
              "cw_init on a read-only spool: " + out)
    finally:
        subprocess.run(["umount", ro])


def t_too_large(work):
    """9.10: a report over the 256 MiB cap goes to failed/ with the reason
    (it was deleted undelivered with exit 0)."""
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    big = ut.make_report(spool)
    with open(os.path.join(spool, big, "minidump.dmp"), "wb") as f:
        f.truncate(256 * 1024 * 1024 + 4096)  # sparse: no disk used
    small = ut.make_report(spool, minidump=b"MDMP")
    col = ut.Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    rc, out = upload(["--spool", spool, "--dsn", dsn])
    col.stop()
    check(rc == 3, "exit %d, want 3 (a report moved to failed/)" % rc)
    check(ut.ids_sent(col) == [small], "sent %r" % ut.ids_sent(col))
    reason = open(os.path.join(spool, "failed", big + ".reason")).read()
    check("report too large" in reason and "268435456" in reason, reason)
    check(os.path.isdir(os.path.join(spool, "failed", big)),
          "the report itself is not in failed/")
    check("moved %s to failed/: report too large" % big in out, out)


def t_fifo_state(work):
    """9.2: FIFOs where the uploader reads (the rate limits, a retry file, a
    report's file) are never opened: the pass neither hangs nor reads them."""
    spool = os.path.join(work, "spool")
    os.makedirs(os.path.join(spool, ".state"))
    good = ut.make_report(spool, minidump=b"MDMP")
    bad = ut.make_report(spool)
    os.mkfifo(os.path.join(spool, bad, "app.log"))
    os.mkfifo(os.path.join(spool, ".state", "ratelimits"))
    os.mkfifo(os.path.join(spool, ".state", good + ".retry"))
    col = ut.Collector(work)
    dsn = "http://k@127.0.0.1:%d/1" % col.port
    try:
        rc, out = upload(["--spool", spool, "--dsn", dsn])
    except subprocess.TimeoutExpired:
        fail("crashwatch upload hung on a FIFO")
    col.stop()
    check(ut.ids_sent(col) == [good], "sent %r" % ut.ids_sent(col))
    reason = open(os.path.join(spool, "failed", bad + ".reason")).read()
    check("app.log: not a regular file" in reason, reason)
    check(rc == 3, "exit %d, want 3" % rc)


def t_nonexistent(work):
    """9.17: `crashwatch upload --spool /nonexistent` does not create it."""
    missing = os.path.join(work, "nope", "spool")
    rc, out = upload(["--spool", missing, "--dsn", "http://k@h/1"])
    check(rc == 1, "exit %d, want 1" % rc)
    check("spool directory %s does not exist" % missing in out, out)
    check(not os.path.exists(os.path.join(work, "nope")), "the path was made")
    rc, out = upload(["--url", "http://h/x", "--format", "minidump"],
                     env={"CRASHWATCH_SPOOL": missing})
    check(rc == 1 and "does not exist" in out, out)
    check(not os.path.exists(os.path.join(work, "nope")), "the path was made")


def t_bounded(work):
    """8.9: 500 real crashes (CW_SPOOL_BOUNDED_CRASHES) with no DSN leave the spool within its default
    limits (100 reports), newest kept; a report locked by another process
    is never pruned; the byte limit from the environment holds too."""
    spool = os.path.join(work, "spool")
    written = []
    lock_fd = None
    locked = None
    crashes = int(os.environ.get("CW_SPOOL_BOUNDED_CRASHES", "500"))
    # CW_SPOOL_BOUNDED_LIMIT: a limit set through the environment instead of
    # the default (the sanitized run's shorter version).
    limit_env = os.environ.get("CW_SPOOL_BOUNDED_LIMIT")
    want_kept = int(limit_env) if limit_env else 100
    extra = {"CRASHWATCH_SPOOL_MAX_REPORTS": limit_env} if limit_env else {}
    check(crashes > want_kept, "CW_SPOOL_BOUNDED_CRASHES must exceed the limit")
    for i in range(crashes):
        rc, out = (crashprog(spool, env=extra) if i % 50 == 0 else
                   quiet_crash(spool, extra))
        m = re.search(r"written to \S*/([0-9a-f]{32})", out)
        check(rc == -signal.SIGSEGV and m, "crash %d: rc %d %s" % (i, rc, out))
        written.append(m.group(1))
        if i == 3:
            # An uploader sending this one right now: flock on the directory.
            locked = written[1]
            lock_fd = os.open(os.path.join(spool, locked),
                              os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
    kept = ut.reports_in(spool)
    os.close(lock_fd)
    check(len(kept) == want_kept, "%d reports kept, want %d" %
          (len(kept), want_kept))
    check(locked in kept, "a locked report was pruned")
    want = sorted(set(written[-(want_kept - 1):]) | {locked})
    check(kept == want, "not the newest kept: %d differ" %
          len(set(kept) ^ set(want)))
    # Bytes: limit to about three reports' worth.
    size = sum(os.path.getsize(os.path.join(spool, written[-1], f))
               for f in os.listdir(os.path.join(spool, written[-1])))
    limit = size * 3 + size // 2
    for i in range(5):
        rc, out = quiet_crash(spool, {"CRASHWATCH_SPOOL_MAX_BYTES": str(limit)})
        check(rc == -signal.SIGSEGV, "crash: %s" % out)
    total = 0
    for r in ut.reports_in(spool):
        d = os.path.join(spool, r)
        total += sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    check(total <= limit, "%d bytes kept, limit %d" % (total, limit))
    check(len(ut.reports_in(spool)) >= 2, "pruned too much")


def quiet_crash(spool, env=None):
    e = {"CRASHWATCH_SPOOL": spool, "CRASHWATCH_SYMBOLIZE_BUDGET_MS": "0"}
    e.update(env or {})
    p = subprocess.run([os.environ["CW_CRASHPROG"], "null"],
                       env=clean_env(e), cwd="/", stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stderr.decode(errors="replace")


SCENARIOS = {
    "tmp_symlink": t_tmp_symlink,
    "symlinked_report": t_symlinked_report,
    "unsafe_spool": t_unsafe_spool,
    "nofile_readonly": t_nofile_readonly,
    "too_large": t_too_large,
    "fifo_state": t_fifo_state,
    "nonexistent": t_nonexistent,
    "bounded": t_bounded,
}


def main():
    name = sys.argv[1]
    work = tempfile.mkdtemp(prefix="spool-%s-" % name, dir=TMP_ROOT)
    os.chmod(work, 0o711)  # the test users reach their homes inside
    rc = 0
    try:
        SCENARIOS[name](work)
        print("PASS " + name)
    except Skip as e:
        print("SKIP %s: %s" % (name, e))
        rc = SKIP
    except AssertionError as e:
        print("FAIL %s: %s" % (name, e))
        print("work dir kept: " + work)
        rc = 1
    finally:
        for c in ut.COLLECTORS:
            c.stop()
        for u in USERS:
            subprocess.run(["userdel", u], stderr=subprocess.DEVNULL)
    if rc != 1:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
