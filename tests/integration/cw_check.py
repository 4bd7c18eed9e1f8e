"""Helpers shared by the integration test scripts: the failed-check list
and check(), the end of a test's main (finish()), and the parts of the
loopback collector wrapper (tests/collector/collector.py) that every test's
Collector has in common (CollectorProcess). A script imports them from here
(the scripts' directory is on sys.path when run as a script)."""
import json
import os
import shutil
import stat

# Every failed check's message, in order. One list per process: a script
# that imports another (chain_tests.py uses crash_tests.py) shares it.
failures = []


def check(cond, msg):
    """Records and prints msg as a failure unless cond; returns cond."""
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg)
    return cond


def finish(work, ok_message):
    """The end of a test's main: with failed checks, says how many and
    keeps the work directory (returns 1); otherwise removes it, prints
    ok_message and returns 0."""
    if failures:
        print("%d check(s) failed; work dir kept: %s" % (len(failures), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(ok_message)
    return 0


class CollectorProcess:
    """A running collector.py: a subclass's __init__ starts it and sets
    self.log (its JSON-lines log), self.proc (the Popen) and self.out (the
    open file its output goes to)."""

    def records(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def closed_to_others(path):
    """The first directory on the way to path (path included) that other
    users cannot enter (no search bit for others), or None. A test that runs
    a build's programs, or works in a directory, as a user it created needs
    that user to get there: a checkout in a private directory (mktemp -d
    makes them 0700) is one it cannot reach."""
    d = os.path.realpath(path)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent
