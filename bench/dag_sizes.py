#!/usr/bin/env python3
"""DAG sizes and check times of the shipped plans (and any plans given as arguments).

Usage: python3 bench/dag_sizes.py [--exhaustive] [PLAN ...]   (default: plans/*.yaml)

For each plan: DAG nodes and edges as built (representative layers by default, every layer
with --exhaustive), the wall time of the whole check in this process, with the command line's
garbage-collector threshold (load, every rule, every analysis; the median of 3 runs) and the
number of findings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gc  # noqa: E402

from syncverify.analysis import run_analyses  # noqa: E402
from syncverify.cli import GC_THRESHOLD  # noqa: E402
from syncverify.engine import check_plan  # noqa: E402
from syncverify.findings import PlanError  # noqa: E402
from syncverify.loader import load_plan  # noqa: E402


def measure(path: Path, exhaustive: bool) -> tuple[int, int, float, int]:
    times, findings = [], []
    for _ in range(3):
        start = time.perf_counter()
        plan = load_plan(str(path))
        analyses = run_analyses(plan, reduce=not exhaustive)
        findings = check_plan(plan, analyses=analyses)
        times.append(time.perf_counter() - start)
    graph = analyses.graph
    return graph.number_of_nodes(), graph.number_of_edges(), statistics.median(times), len(findings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exhaustive", action="store_true", help="unroll every layer")
    parser.add_argument("plans", nargs="*", type=Path)
    args = parser.parse_args()
    plans = args.plans or sorted((ROOT / "plans").glob("*.yaml"))
    mode = "exhaustive" if args.exhaustive else "reduced"
    gc.set_threshold(*GC_THRESHOLD)  # as `syncverify check` runs
    print("| plan | mode | DAG nodes | DAG edges | check s (median of 3) | findings |")
    print("|---|---|---:|---:|---:|---:|")
    for path in plans:
        try:
            nodes, edges, seconds, count = measure(path, args.exhaustive)
        except PlanError as err:
            print(f"| {path.name} | unusable: {err.problems[0].message} | | | | |")
            continue
        print(f"| {path.name} | {mode} | {nodes:,} | {edges:,} | {seconds:.2f} | {count} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
