#!/usr/bin/env python3
"""Reduced vs exhaustive checking on many generated plans: the figures behind "Symmetry".

Usage: python3 bench/symmetry.py [--generator wide|reducible|classic] [--count N] [--seed S]
                                 [--jobs J] [--max-world W] [--out DIR]
                                 [--broken microbatches|layers] [--no-minimise]

`wide` and `reducible` are tests/strategies.py's widened generators (pp up to 4 with uneven
stages, any layout, per-phase degrees, any collective after any anchor, selectors, up to three
edits; `reducible`: 16-64 ranks that the reduction cuts), drawn from seeded random.Random so
--jobs splits the same plans over processes; `classic` is tests/test_symmetry.py's strategy
(hypothesis, one process). Each plan is checked with and without symmetry reduction; prints
plans, agree, disagree, with findings and the time of each mode. Every disagreement is
minimised (tests/minimise.py) and written to DIR as a plan file whose header comment holds the
seed, the command that shows it and the two outputs' difference. `--broken` checks with a
deliberately wrong reduction (tests/broken_reduction.py) instead, to count how many plans
catch it (there every plan is expected to agree except those that catch it).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from syncverify.engine import check_plan  # noqa: E402
from syncverify.findings import PlanError  # noqa: E402
from tests.broken_reduction import BROKEN  # noqa: E402
from tests.minimise import minimise  # noqa: E402
from tests.properties import comparable  # noqa: E402
from tests.strategies import random_plan  # noqa: E402
from tests.support import load_dict  # noqa: E402

DEFAULT_OUT = Path(tempfile.gettempdir()) / "syncverify-bench" / "symmetry"


def shown(findings) -> list[str]:
    return [f"{f.code} {f.line}:{f.column} {f.message} | {f.where} | {f.trace}" for f in findings]


def difference(plan: dict) -> list[str]:
    """The default check's output against --exhaustive's, as a diff (empty: they agree)."""
    try:
        loaded = load_dict(plan)
        reduced, full = reduced_check(loaded), check_plan(loaded, exhaustive=True)
    except PlanError:
        return []
    except Exception as error:  # a crash in either mode is a difference too
        return [f"crash: {type(error).__name__}: {error}"]
    if comparable(reduced) == comparable(full):
        return []
    return list(
        difflib.unified_diff(
            shown(reduced), shown(full), "default", "--exhaustive", lineterm="", n=0
        )
    )[2:]


BROKEN_WINDOW = None  # --broken: the name of a deliberately wrong reduction to apply


def reduced_check(loaded):
    """The default check, under the deliberately wrong reduction --broken names (if any)."""
    if BROKEN_WINDOW is None:
        return check_plan(loaded)
    with BROKEN[BROKEN_WINDOW]():
        return check_plan(loaded)


def compare(plan: dict) -> dict:
    """One plan's verdict and timings."""
    out = {"status": "agree", "findings": False, "reduced s": 0.0, "exhaustive s": 0.0}
    try:
        loaded = load_dict(plan)
        start = time.perf_counter()
        reduced = reduced_check(loaded)
        middle = time.perf_counter()
        full = check_plan(loaded, exhaustive=True)
        out["reduced s"], out["exhaustive s"] = middle - start, time.perf_counter() - middle
    except PlanError:
        return dict(out, status="rejected")  # drawn config errors, or too large (SV014)
    except Exception as error:
        return dict(out, status="disagree", crash=f"{type(error).__name__}: {error}")
    out["findings"] = bool(full)
    if comparable(reduced) != comparable(full):
        out["status"] = "disagree"
    return out


def one(job: tuple) -> tuple:
    seed, big = job
    plan = random_plan(seed, big=big)
    return seed, plan, compare(plan)


def write_disagreement(out: Path, seed: int, plan: dict, generator: str, do_minimise: bool) -> Path:
    small = minimise(plan, lambda p: bool(difference(p))) if do_minimise else plan
    diff = difference(small) or difference(plan)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{generator}-seed-{seed}.yaml"
    header = [
        f"drawn by bench/symmetry.py --generator {generator} (seed {seed}): {plan['name']}",
        f"reproduce: syncverify check {path.name}; syncverify check --exhaustive {path.name}",
        "default vs --exhaustive:",
    ] + diff
    text = "".join(f"# {line}\n" for line in header)
    path.write_text(text + yaml.safe_dump(dict(small, name=f"seed-{seed}"), sort_keys=False))
    return path


def classic_plans(count: int, seed: int) -> list[dict]:
    """tests/test_symmetry.py's strategy, drawn through hypothesis with a fixed seed."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    from tests.test_symmetry import plans

    drawn = []

    @settings(
        max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @hypothesis_seed(seed)
    @given(plans())
    def draw(plan):
        drawn.append(plan)

    draw()
    return drawn


def results(args) -> list[tuple]:
    if args.generator == "classic":
        return [
            (i, plan, compare(plan)) for i, plan in enumerate(classic_plans(args.count, args.seed))
        ]
    big = args.max_world if args.generator == "reducible" else 0
    jobs = [(args.seed * 1_000_003 + i, big) for i in range(args.count)]
    if args.jobs > 1:
        with Pool(args.jobs) as pool:
            return list(pool.imap_unordered(one, jobs, chunksize=4))
    return [one(job) for job in jobs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=("wide", "reducible", "classic"), default="wide")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument(
        "--max-world",
        type=int,
        default=64,
        choices=(16, 32, 64),
        help="reducible: the largest world drawn (the full unroll of 64 ranks "
        "takes about 20 s a plan)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for the disagreeing plans (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--broken",
        choices=("microbatches", "layers"),
        help="check with a deliberately wrong reduction (tests/broken_reduction.py: "
        "a shorter microbatch window, an assumed layer period of one) to "
        "count how many generated plans catch it",
    )
    parser.add_argument("--no-minimise", action="store_true", help="write disagreements as drawn")
    args = parser.parse_args()
    global BROKEN_WINDOW
    BROKEN_WINDOW = {
        "microbatches": "a shorter microbatch window",
        "layers": "an assumed layer period of one",
    }.get(args.broken)
    start = time.perf_counter()
    done = results(args)
    tally = {"plans": 0, "agree": 0, "disagree": 0, "with findings": 0, "rejected": 0}
    reduced_s = exhaustive_s = 0.0
    disagreements = []
    for seed, plan, verdict in sorted(done, key=lambda r: r[0]):
        if verdict["status"] == "rejected":
            tally["rejected"] += 1
            continue
        tally["plans"] += 1
        tally[verdict["status"]] += 1
        tally["with findings"] += verdict["findings"]
        reduced_s += verdict["reduced s"]
        exhaustive_s += verdict["exhaustive s"]
        if verdict["status"] == "disagree":
            disagreements.append((seed, plan))
    print(
        f"generator {args.generator}, seed {args.seed}: plans {tally['plans']}, "
        f"agree {tally['agree']}, "
        f"disagree {tally['disagree']}, with findings {tally['with findings']} "
        f"(drawn {args.count}; refused by the loader or too large for --exhaustive: "
        f"{tally['rejected']})"
    )
    print(
        f"time: {time.perf_counter() - start:.1f} s wall with {args.jobs} job(s); check time "
        f"reduced {reduced_s:.1f} s, exhaustive {exhaustive_s:.1f} s"
    )
    for seed, plan in disagreements:
        print(f"DISAGREE seed {seed}: {plan['name']}", flush=True)
        print(
            f"  -> "
            f"{write_disagreement(args.out, seed, plan, args.generator, not args.no_minimise)}",
            flush=True,
        )
    return 0 if not disagreements else 1


if __name__ == "__main__":
    sys.exit(main())
