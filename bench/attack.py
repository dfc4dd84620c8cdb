#!/usr/bin/env python3
"""Replay the attack catalogue (tests/attack_inputs.py) under a time and a memory limit.

Usage: python3 bench/attack.py [--cpu 2] [--memory 300] [--wall 10] [--all] [NAME-PART ...]

Every case of tests/test_attack.py, plus the bigger variants and the cost-model cases the suite
leaves out (`--all` is implied; name parts select cases), runs as its own `syncverify` process
with RLIMIT_CPU (default 2 s of CPU: what the machine's load does not inflate) and RLIMIT_AS
(default 300 MB of address space) set in the child, and is killed after `--wall` seconds. Per
case it prints the exit code (or the signal that ended it), wall and CPU time, peak resident
memory, and whether every input it reads is byte for byte unchanged (a hash before and after).
A case passes when it exits with one of its expected codes (0, 1 or 2) within the limits and
changes no input. Cases owned by the cost model (issue 11 item 1) are marked; the summary says
which of them still exceed the limits.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.attack_inputs import ATTACKS  # noqa: E402
from tests.attack_runner import command, digest, environment  # noqa: E402

# Runs one process and reports its figures: a separate small interpreter, because a child's
# peak memory (ru_maxrss) starts at its parent's size when it was forked, and this script holds
# the inputs; the launcher holds nothing.
LAUNCHER = r"""
import json, os, resource, signal, subprocess, sys, time
spec = json.loads(sys.argv[1])
def limits():
    resource.setrlimit(resource.RLIMIT_CPU, (spec["cpu"], spec["cpu"] + 1))
    memory = spec["memory"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if spec["close_stdin"]:
        os.close(0)
stdin = open(spec["stdin"], "rb") if spec["stdin"] else subprocess.DEVNULL
if spec["interrupt"]:
    stdin = subprocess.PIPE                 # left open: the check waits for its plan
start = time.perf_counter()
proc = subprocess.Popen(spec["args"], cwd=spec["cwd"], env=spec["env"], stdin=stdin,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limits)
killed = False
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    if spec["interrupt"] and time.perf_counter() - start > spec["interrupt"]:
        proc.send_signal(signal.SIGINT)
        spec["interrupt"] = None
    if time.perf_counter() - start > spec["wall"]:
        proc.kill()
        killed = True
        pid, status, usage = os.wait4(proc.pid, 0)
        break
    time.sleep(0.01)
wall = time.perf_counter() - start
err = proc.stderr.read().decode("utf-8", "replace")
print(json.dumps([os.waitstatus_to_exitcode(status), killed, wall, usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss / 1024, "Traceback" in err]))
"""


def measured(case, folder: Path, options) -> dict:
    """Run one case under the limits: its figures and whether its inputs are unchanged."""
    run = case.setup(folder)
    before = {path: digest(path) for path in run.inputs}
    stdin = None
    if run.stdin is not None:
        stdin = folder / ".stdin"
        stdin.write_bytes(run.stdin)
    spec = {
        "args": command(run),
        "cwd": str(folder),
        "env": environment(run),
        "stdin": stdin and str(stdin),
        "close_stdin": run.close_stdin,
        "cpu": options.cpu,
        "memory": options.memory,
        "wall": options.wall,
        "interrupt": run.interrupt_after,
    }
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    code, killed, wall, cpu, peak, traceback = json.loads(launched.stdout)
    unchanged = all(digest(path) == was for path, was in before.items())
    ok = not killed and code in case.exits and not traceback and unchanged
    return {
        "code": code,
        "killed": killed,
        "wall": wall,
        "cpu": cpu,
        "peak": peak,
        "unchanged": unchanged,
        "ok": ok,
    }


def ending(figures: dict) -> str:
    """The exit code, or how the process was stopped."""
    code = figures["code"]
    if figures["killed"]:
        return "killed (wall)"
    if code < 0:
        return {signal.SIGXCPU: "SIGXCPU (cpu)", signal.SIGKILL: "SIGKILL"}.get(
            -code, signal.Signals(-code).name
        )
    return str(code)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, default=2, help="RLIMIT_CPU, seconds")
    parser.add_argument("--memory", type=int, default=300, help="RLIMIT_AS, MB")
    parser.add_argument("--wall", type=float, default=10.0, help="kill after this many seconds")
    parser.add_argument("names", nargs="*", help="only cases whose name contains one of these")
    options = parser.parse_args()
    cases = [c for c in ATTACKS if not options.names or any(n in c.name for n in options.names)]
    print("| case | owner | exit | wall s | cpu s | peak MB | inputs unchanged | within limits |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    over = []
    with tempfile.TemporaryDirectory() as scratch:
        for number, case in enumerate(cases):
            folder = Path(scratch) / f"case{number}"
            folder.mkdir()
            figures = measured(case, folder, options)
            print(
                f"| {case.name} | {case.owner} | {ending(figures)} | {figures['wall']:.2f} | "
                f"{figures['cpu']:.2f} | {figures['peak']:.0f} | "
                f"{'yes' if figures['unchanged'] else 'NO'} | {'yes' if figures['ok'] else 'NO'} |",
                flush=True,
            )
            if not figures["ok"]:
                over.append(case)
    print(
        f"\n{len(cases)} cases, limits {options.cpu} s cpu and {options.memory} MB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    mine = [c.name for c in over if c.owner != "cost model"]
    theirs = [c.name for c in over if c.owner == "cost model"]
    print("over the limits: " + (", ".join(mine) if mine else "none"))
    print("cost-model cases over the limits: " + (", ".join(theirs) if theirs else "none"))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
