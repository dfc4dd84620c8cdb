#!/usr/bin/env python3
"""Reduced vs exhaustive checking on many generated plans: the figures behind "Symmetry".

Usage: python3 bench/symmetry.py [--count N] [--seed S]

Draws plans from the same strategy as tests/test_symmetry.py (every axis, overlap mode,
dp_idle, rank selectors and single defects), checks each with and without symmetry reduction,
and prints how many agree, the disagreements (if any) and the time of each mode.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from syncverify.engine import check_plan  # noqa: E402
from tests.support import load_dict  # noqa: E402
from tests.test_symmetry import comparable, plans  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tally = {"plans": 0, "agree": 0, "with findings": 0, "reduced s": 0.0, "exhaustive s": 0.0}
    disagreements = []

    @settings(max_examples=args.count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @seed(args.seed)                 # the same plans on every run with the same --seed
    @given(plans())
    def compare(plan):
        loaded = load_dict(plan)
        start = time.perf_counter()
        reduced = check_plan(loaded)
        middle = time.perf_counter()
        full = check_plan(loaded, exhaustive=True)
        tally["reduced s"] += middle - start
        tally["exhaustive s"] += time.perf_counter() - middle
        tally["plans"] += 1
        tally["with findings"] += bool(full)
        if comparable(reduced) == comparable(full):
            tally["agree"] += 1
        else:
            disagreements.append(plan)
            print("DISAGREE:", plan, file=sys.stderr, flush=True)
        if tally["plans"] % 500 == 0:        # partial figures, for long runs
            print(f"  {tally['plans']} plans, {tally['agree']} agree", file=sys.stderr, flush=True)

    compare()
    print(f"plans: {tally['plans']}, agree: {tally['agree']}, with findings: {tally['with findings']}")
    print(f"time: reduced {tally['reduced s']:.1f} s, exhaustive {tally['exhaustive s']:.1f} s")
    for plan in disagreements[:5]:
        print("DISAGREE:", plan)
    return 0 if not disagreements else 1


if __name__ == "__main__":
    sys.exit(main())
