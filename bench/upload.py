#!/usr/bin/env python3
"""bench/upload.py BUILD_DIR — how fast `crashwatch upload --once` drains a
spool into the loopback collector (tests/collector/collector.py, which parses
every envelope it receives), and how much gzip saves on the wire.

Workloads:
  small  1,000 reports: event.json of ~3 kB, no minidump
  large  100 reports: event.json + a 1 MB minidump-like file (a quarter
         random bytes, the rest zero pages and repeated /proc text, which is
         what stacks, module lists and Linux streams look like)
Prints reports/second and the gzip ratio (wire bytes / envelope bytes).
Not a test: figures only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRASHWATCH = os.path.join(BUILD, "cli", "crashwatch")
COLLECTOR = os.path.join(SRC, "tests", "collector", "collector.py")


def event(eid):
    frames = [{"instruction_addr": "0x%016x" % (0x555555554000 + i * 0x40),
               "function": "function_number_%d" % i, "filename": "src/file%d.c" % i,
               "lineno": 100 + i} for i in range(20)]
    return json.dumps({"event_id": eid, "level": "fatal", "platform": "native",
                       "release": "bench@1.0", "exception": {"values": [
                           {"type": "SIGSEGV", "value": "Segmentation fault",
                            "mechanism": {"type": "signalhandler", "handled": False},
                            "stacktrace": {"frames": frames}}]},
                       "contexts": {"os": {"name": "Linux", "version": "6.1"}}})


def minidump_like(size):
    maps = b"".join(b"7f%010x-7f%010x r-xp 00000000 08:01 %d /usr/lib/x86_64-linux-gnu/libc.so.6\n"
                    % (i * 4096, i * 4096 + 4096, 1000 + i) for i in range(2000))
    random_part = os.urandom(size // 4)
    text = (maps * (size // len(maps) + 1))[:size // 4]
    zeros = b"\0" * (size - len(random_part) - len(text))
    return b"MDMP" + (random_part + text + zeros)[4:]


def make_spool(root, n, dump_size):
    spool = os.path.join(root, "spool")
    os.makedirs(spool)
    dump = minidump_like(dump_size) if dump_size else None
    for _ in range(n):
        eid = os.urandom(16).hex()
        tmp = os.path.join(spool, ".tmp-" + eid)
        os.makedirs(tmp)
        with open(os.path.join(tmp, "event.json"), "w") as f:
            f.write(event(eid))
        if dump:
            with open(os.path.join(tmp, "minidump.dmp"), "wb") as f:
                f.write(dump)
        os.rename(tmp, os.path.join(spool, eid))
    return spool


def run(name, n, dump_size):
    root = tempfile.mkdtemp(prefix="bench-upload-")
    try:
        spool = make_spool(root, n, dump_size)
        log = os.path.join(root, "log.jsonl")
        pf = os.path.join(root, "port")
        col = subprocess.Popen([sys.executable, COLLECTOR, "--log", log,
                                "--port-file", pf, "--no-fsync"])
        while not os.path.exists(pf):
            time.sleep(0.02)
        port = int(open(pf).read())
        t0 = time.monotonic()
        r = subprocess.run([CRASHWATCH, "upload", "--once", "--quiet", "--spool",
                            spool, "--dsn", "http://k@127.0.0.1:%d/1" % port,
                            "--max-reports", str(n + 1), "--max-bytes",
                            str(10 ** 12)])
        dt = time.monotonic() - t0
        col.kill()
        col.wait()
        recs = [json.loads(l) for l in open(log)]
        wire = sum(x["wire_length"] for x in recs)
        raw = sum(x["length"] for x in recs)
        bad = sum(1 for x in recs if "parse_error" in x)
        left = len([d for d in os.listdir(spool) if len(d) == 32])
        print("%-6s %5d reports %8.1f KiB each: %7.1f reports/s (%.2f s), "
              "%.1f MiB/s of envelopes, gzip ratio %.3f (%d -> %d bytes), "
              "exit %d, %d left, %d unparsable"
              % (name, n, raw / max(1, len(recs)) / 1024, len(recs) / dt, dt,
                 raw / dt / 2 ** 20, wire / max(1, raw), raw, wire,
                 r.returncode, left, bad))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    if not os.path.exists(CRASHWATCH):
        sys.exit("bench/upload: build %s first" % CRASHWATCH)
    run("small", 1000, 0)
    run("large", 100, 1 << 20)


if __name__ == "__main__":
    main()
