#!/usr/bin/env python3
"""Time and peak memory of `syncverify check` on each hostile input (tests/hostile_inputs.py).

Usage: python3 bench/hostile.py [--repeat N] [NAME ...]

Each input is checked in its own process, as a user runs it (a 100 MB standard input comes from
a file); the figures are the median over
N runs (default 3) of the wall time, the CPU time (user + system: what the machine's load does
not inflate) and the process's peak resident memory (ru_maxrss from wait4), next to the same
figures for an interpreter that only starts syncverify (`--version`). The targets: exit code 2,
under a second and under 200 MB each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile_inputs import CASES  # noqa: E402

SECOND, MEGABYTES = 1.0, 200


# Runs one process and reports its own figures. It is a separate small interpreter because a
# child's peak memory (ru_maxrss) starts at its parent's size when it was forked, and this
# script holds the inputs; the launcher holds nothing.
LAUNCHER = r"""
import json, os, subprocess, sys, time
args, stdin_path, cwd = json.loads(sys.argv[1])
with open(stdin_path or os.devnull, "rb") as stdin:
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
print(json.dumps([os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss / 1024, out.decode("utf-8", "replace").splitlines()[:1]]))
"""


def measured(
    args: list[str], stdin_path: str | None, cwd: Path
) -> tuple[int, float, float, float, str]:
    """(exit code, wall s, cpu s, peak MB, first output line) of one `syncverify` process."""
    command = [sys.executable, "-m", "syncverify", *args]
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, json.dumps([command, stdin_path, str(cwd)])],
        capture_output=True,
        text=True,
        check=True,
    )
    code, wall, cpu, peak, first = json.loads(launched.stdout)
    return code, wall, cpu, peak, first[0] if first else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("names", nargs="*", help="only these cases")
    options = parser.parse_args()
    cases = [c for c in CASES if not options.names or c.name in options.names]
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        rows = [("(startup: --version)", ["--version"], None, base)]
        for case in cases:
            folder = base / case.name
            folder.mkdir()
            plan = case.make(folder)
            stdin = None
            if case.stdin:
                stdin = folder / "stdin"
                stdin.write_bytes(case.stdin())
            rows.append(
                (
                    case.name,
                    ["check", "--format", "concise", "--isolated", *case.args, plan],
                    stdin and str(stdin),
                    folder,
                )
            )
        print("| input | exit | wall s | cpu s | peak MB | first line |")
        print("|---|---:|---:|---:|---:|---|")
        worst_wall = worst_cpu = worst_mb = 0.0
        failures = []
        for name, args, stdin, cwd in rows:
            runs = [measured(args, stdin, cwd) for _ in range(options.repeat)]
            code = runs[0][0]
            wall = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            peak = max(r[3] for r in runs)
            line = runs[0][4].replace(str(cwd) + "/", "")[:90]
            print(f"| {name} | {code} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | {line} |")
            if name.startswith("("):
                continue
            worst_wall, worst_cpu, worst_mb = (
                max(worst_wall, wall),
                max(worst_cpu, cpu),
                max(worst_mb, peak),
            )
            if code != 2 or cpu > SECOND or peak > MEGABYTES:
                failures.append(name)
    print(
        f"\n{len(rows) - 1} inputs; worst wall {worst_wall:.2f} s, worst cpu {worst_cpu:.2f} s, "
        f"worst peak {worst_mb:.0f} MB; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    if failures:
        print("over target (exit 2, < 1 s cpu, < 200 MB): " + ", ".join(failures))
        return 1
    print("every input: exit 2, under 1 s of cpu and 200 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
