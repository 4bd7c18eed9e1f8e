#!/usr/bin/env python3
"""What `crashwatch run` costs. Prints medians; asserts nothing.

  start+run   a program that exits at once (bench_supervise_prog exit), run
              directly, under --mode=preload and under --mode=ptrace (the
              dynamic program) and the -static copy directly and under
              ptrace: wall time of the whole command, N runs each,
              interleaved so machine noise hits every mode alike;
  signals     the program raising SIGUSR1 N times with a handler, timed
              inside the program: ptrace mode stops it at each delivery;
  restart     --restart=always --restart-delay 0 on a program that crashes
              at once: the time between two starts (crash, capture, report,
              restart), per mode.
Usage: supervise.py --build BUILD [--runs N] [--signals N] [--restarts N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--signals", type=int, default=20000)
    ap.add_argument("--restarts", type=int, default=10)
    a = ap.parse_args()
    b = os.path.abspath(a.build)
    cli = os.path.join(b, "cli", "crashwatch")
    prog = os.path.join(b, "bench", "bench_supervise_prog")
    sprog = os.path.join(b, "bench", "bench_supervise_prog_static")
    work = tempfile.mkdtemp(prefix="bench-supervise-")
    spool = os.path.join(work, "spool")
    env = dict(os.environ, CRASHWATCH_SPOOL=spool, CRASHWATCH_PRINT_SUMMARY="0")
    for k in ("SENTRY_DSN", "CRASHWATCH_UPLOAD_URL", "LD_PRELOAD"):
        env.pop(k, None)

    run = [cli, "run", "--no-summary", "--spool", spool]
    cases = [
        ("crashwatch --version", [cli, "--version"]),
        ("direct (dynamic)", [prog, "exit"]),
        ("run --mode=preload", run + ["--mode=preload", "--", prog, "exit"]),
        ("run --mode=ptrace (dynamic)", run + ["--mode=ptrace", "--", prog, "exit"]),
        ("direct (static)", [sprog, "exit"]),
        ("run --mode=ptrace (static)", run + ["--mode=ptrace", "--", sprog, "exit"]),
    ]
    times = {name: [] for name, _ in cases}
    for _ in range(a.runs):
        for name, cmd in cases:
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
            times[name].append((time.perf_counter() - t0) * 1000)
    print("start+run of a program that exits at once (median of %d, ms):" % a.runs)
    base = {"dynamic": statistics.median(times["direct (dynamic)"]),
            "static": statistics.median(times["direct (static)"])}
    for name, _ in cases:
        m = statistics.median(times[name])
        kind = "static" if "static" in name else "dynamic"
        if name == "crashwatch --version":
            print("  %-30s %8.2f ms  (the CLI's own start-up)" % (name, m))
            continue
        print("  %-30s %8.2f ms  (+%.2f ms)" % (name, m, m - base[kind]))

    print("\n%d SIGUSR1 deliveries to a handler, timed in the program (median of 5):"
          % a.signals)
    sig = {}
    for name, pre in (("direct", []), ("run --mode=preload", run + ["--mode=preload", "--"]),
                      ("run --mode=ptrace", run + ["--mode=ptrace", "--"])):
        ns = []
        for _ in range(5):
            out = subprocess.run(pre + [prog, "signals", str(a.signals)], env=env,
                                 check=True, capture_output=True, text=True).stdout
            ns.append(int(out.split()[0]))
        sig[name] = statistics.median(ns)
    for name, v in sig.items():
        print("  %-30s %8.2f ms  %6.2f us/signal" % (name, v / 1e6, v / 1e3 / a.signals))
    print("  ptrace mode adds %.2f us per signal delivered"
          % ((sig["run --mode=ptrace"] - sig["direct"]) / 1e3 / a.signals))

    print("\ncrash -> report -> restart cycle (--restart=always --restart-delay 0, "
          "median of %d cycles):" % a.restarts)
    for name, mode, p in (("preload (dynamic)", "preload", prog),
                          ("ptrace (static)", "ptrace", sprog)):
        stamps = os.path.join(work, "stamps-" + mode)
        subprocess.run(run + ["--mode=" + mode, "--restart", "always", "--restart-delay", "0",
                              "--dedupe-window", "0", "--max-restarts", str(a.restarts),
                              "--restart-window", "3600", "--", p, "crash", stamps],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts = [int(x) for x in open(stamps).read().split()]
        gaps = [(ts[i + 1] - ts[i]) / 1e6 for i in range(len(ts) - 1)]
        print("  %-30s %8.2f ms  (%d cycles)" % (name, statistics.median(gaps), len(gaps)))
    subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
