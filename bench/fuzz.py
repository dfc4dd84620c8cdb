#!/usr/bin/env python3
"""Fuzz `syncverify check` at length: the property of tests/fuzzing.py on 100,000+ inputs.

Usage: python3 bench/fuzz.py [--count N] [--seed S] [--jobs J] [--source yaml|mutated|valid]

The count is split evenly over the sources (random YAML, mutated plans, schema-valid plans) and
over J processes (each with its own seed). Unlike the CI tests, a failing input does not stop
the run: each distinct failure (exception type and the line that raised, or the SV900 message)
is printed once with the smallest input that showed it. At the end: how many inputs ran, the
exit codes they gave, the failures, and the slowest input with its time.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [
        f for f in frames if "/syncverify/" in f.filename or "fuzzing.py" in f.filename
    ] or frames
    last = ours[-1] if ours else None
    where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
    first = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{exc.__class__.__name__} at {where}: {first}"


def worker(job: tuple[str, int, int]) -> dict:
    """Run `count` inputs of `source` with hypothesis seed `seed`; a summary dict."""
    source, count, seed_value = job
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from tests.fuzzing import SOURCES, check_text, small_graphs

    stats = {
        "source": source,
        "ran": 0,
        "codes": collections.Counter(),
        "failures": {},
        "slowest": (0.0, ""),
    }

    @seed(seed_value)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(SOURCES[source]())
    def run(text):
        start = time.perf_counter()
        try:
            stats["codes"][check_text(text)] += 1
        except BaseException as exc:  # keep going: every distinct failure is reported
            if isinstance(exc, KeyboardInterrupt):
                raise
            key = _signature(exc)
            known = stats["failures"].get(key)
            if known is None or len(text) < len(known[1]):
                stats["failures"][key] = ((known[0] if known else 0) + 1, text)
            else:
                stats["failures"][key] = (known[0] + 1, known[1])
        elapsed = time.perf_counter() - start
        stats["ran"] += 1
        if elapsed > stats["slowest"][0]:
            stats["slowest"] = (elapsed, text)

    with small_graphs():
        run()
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=100_000, help="inputs in all (default 100,000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="processes (each its own seed)")
    parser.add_argument(
        "--source",
        choices=["yaml", "mutated", "valid"],
        action="append",
        help="only these sources (default: all three)",
    )
    options = parser.parse_args()
    sources = options.source or ["yaml", "mutated", "valid"]
    jobs = []
    for index, source in enumerate(sources):
        share = options.count // len(sources) + (1 if index < options.count % len(sources) else 0)
        for j in range(options.jobs):
            part = share // options.jobs + (1 if j < share % options.jobs else 0)
            if part:
                jobs.append((source, part, options.seed * 1000 + index * 100 + j))
    start = time.perf_counter()
    if options.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(options.jobs) as pool:
            results = pool.map(worker, jobs)
    else:
        results = [worker(job) for job in jobs]
    elapsed = time.perf_counter() - start
    ran = collections.Counter()
    codes = collections.Counter()
    failures: dict[str, tuple[int, str]] = {}
    slowest = (0.0, "", "")
    for stats in results:
        ran[stats["source"]] += stats["ran"]
        codes.update(stats["codes"])
        for key, (count, text) in stats["failures"].items():
            known = failures.get(key)
            failures[key] = (
                count + (known[0] if known else 0),
                text if known is None or len(text) < len(known[1]) else known[1],
            )
        if stats["slowest"][0] > slowest[0]:
            slowest = (stats["slowest"][0], stats["source"], stats["slowest"][1])
    total = sum(ran.values())
    print(
        f"inputs: {total:,} in {elapsed:.0f} s ({', '.join(f'{s} {n:,}' for s, n in ran.items())})"
    )
    print(f"exit codes: {', '.join(f'{c}: {n:,}' for c, n in sorted(codes.items()))}")
    print(f"failures: {sum(n for n, _ in failures.values()):,} ({len(failures)} distinct)")
    for key, (count, text) in sorted(failures.items()):
        print(f"\n- {key} ({count:,} inputs); smallest:\n" + _indent(text))
    print(f"\nslowest input: {slowest[0]:.3f} s ({slowest[1]}):\n" + _indent(slowest[2]))
    return 1 if failures else 0


def _indent(text: str, limit: int = 60) -> str:
    lines = text.split("\n")
    shown = lines[:limit] + (
        [f"... ({len(lines) - limit} more lines)"] if len(lines) > limit else []
    )
    return "\n".join("    " + line for line in shown)


if __name__ == "__main__":
    sys.exit(main())
