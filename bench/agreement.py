"""Checker vs executor agreement on thousands of random plans (tests/simulate runs 300).

    python bench/agreement.py --count 5000 --jobs 2 --seed 1
    python bench/agreement.py --plans       # every real and acceptance plan, large ones too,
                                            # with each side's CPU seconds per plan and in total
    python bench/agreement.py --generator wide --count 2000 --jobs 2 --seed 3
    python bench/agreement.py --generator reducible --max-world 32 --count 200 --jobs 2

--generator wide / reducible draw from tests/strategies.py's widened generators instead (pp up
to 4, any layout, per-phase degrees, any collective after any anchor, selectors, up to three
edits; reducible: 16 to --max-world ranks that the default check cuts down). Each disagreement
is minimised (tests/minimise.py) and written as a plan file to --out.

Each plan is synthesized for a random small layout (syncverify.agreement.random_layout,
drawn as tests/strategies.py draws them) and, three times in four, given one random mutation
(remove a sync, make one async without a wait, duplicate a reduction, change a group, restrict
the ranks that issue one, add a sync point that changes no value; the kind drawn uniformly).
For each plan the checker's verdict (a missing-sync, ordering, SV402 or SV403 finding) is held
against the executor's (`syncverify simulate`: a divergence or a hang); a plan whose only
findings are redundant-sync warnings must match. Prints the counts, per mutation kind, and every
disagreement with its plan.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from syncverify.agreement import random_plan, verdicts
from syncverify.findings import PlanError
from tests.minimise import minimise
from tests.strategies import random_plan as widened_plan

MARKERS = (
    ("as synthesized", "as synthesized"),
    ("async without a wait", "make one async without a wait"),
    (": add ", "add a sync point"),
    ("remove ", "remove a sync"),
    ("duplicate ", "duplicate a reduction"),
    (" over ", "change a group"),
    (" only on ", "restrict the ranks"),
)


def kind_of(label: str) -> str:
    change = ": " + label.split(": ", 1)[1]
    return next((kind for marker, kind in MARKERS if marker in change), "other")


MAX_TP = 2


GENERATOR = (
    "classic"  # --generator: classic (random_layout), wide or reducible (tests/strategies.py)
)
MAX_WORLD = 32
DEFAULT_OUT = Path(tempfile.gettempdir()) / "syncverify-bench" / "agreement"


def draw(seed: int) -> tuple[str, dict]:
    """The labelled plan of one seed, from the generator --generator names."""
    if GENERATOR == "classic":
        return random_plan(random.Random(seed), MAX_TP)
    plan = widened_plan(seed, big=MAX_WORLD if GENERATOR == "reducible" else 0)
    return plan["name"], plan


def disagrees(plan: dict) -> bool:
    try:
        v = verdicts(plan)
    except PlanError:
        return False
    return not v.agree or (v.redundant_only and v.simulation_bad)


def write_disagreement(out: Path, seed: int, detail: str) -> Path:
    """The plan of `seed`, minimised while it still disagrees, as a file whose header says how
    to see the disagreement."""
    label, plan = draw(seed)
    small = minimise(plan, disagrees)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{GENERATOR}-seed-{seed}.yaml"
    header = [
        f"drawn by bench/agreement.py --generator {GENERATOR} (seed {seed}): {label}",
        f"reproduce: syncverify check {path.name}; syncverify simulate {path.name}",
        f"as drawn: {detail}",
    ]
    text = "".join(f"# {line}\n" for line in header)
    path.write_text(text + yaml.safe_dump(dict(small, name=f"seed-{seed}"), sort_keys=False))
    return path


def one(seed: int) -> tuple:
    label, plan = draw(seed)
    try:
        v = verdicts(plan, label)
    except PlanError:  # too large for the check (SV014): outside the claim
        return seed, label, "refused", None
    if v.refused:
        return seed, label, "refused", None
    if v.unjudged:
        return seed, label, "unjudged", None
    verdict = ("defect" if v.checker_bad else "clean", "bad" if v.simulation_bad else "match")
    detail = None
    if not v.agree or (v.redundant_only and v.simulation_bad):
        o = v.outcome
        what = "redundant-only findings" if v.agree else f"checker {v.checker_codes or 'clean'}"
        detail = f"{what}; executor {o.status}: {o.message} at {o.where()} ({o.scenario})"
    return seed, label, verdict + (("redundant-only",) if v.redundant_only else ()), detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument(
        "--max-tp",
        type=int,
        default=2,
        choices=(1, 2, 4),
        help="largest tp drawn (4 makes plans slower)",
    )
    parser.add_argument(
        "--generator",
        choices=("classic", "wide", "reducible"),
        default="classic",
        help="classic: random_layout and one mutation; wide / reducible: the "
        "widened generators of tests/strategies.py (up to three edits)",
    )
    parser.add_argument(
        "--max-world",
        type=int,
        default=32,
        choices=(16, 32, 64),
        help="reducible: the largest world drawn",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for the disagreeing plans, minimised (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--plans",
        action="store_true",
        help="instead: every plan in plans/ and the acceptance suite, whatever its size",
    )
    args = parser.parse_args()
    if args.plans:
        return every_plan()
    global MAX_TP, GENERATOR, MAX_WORLD
    MAX_TP, GENERATOR, MAX_WORLD = args.max_tp, args.generator, args.max_world
    seeds = [args.seed * 1_000_003 + i for i in range(args.count)]
    start = time.time()
    counts, per_kind, disagreements, redundant_only = Counter(), Counter(), [], 0
    with Pool(args.jobs) if args.jobs > 1 else _Serial() as pool:
        for seed, label, verdict, detail in pool.imap_unordered(one, seeds, chunksize=8):
            if verdict[-1] == "redundant-only":
                verdict = verdict[:2]
                redundant_only += 1
            counts[verdict] += 1
            per_kind[(kind_of(label) if GENERATOR == "classic" else GENERATOR, verdict)] += 1
            if detail:
                disagreements.append((seed, label, detail))
    elapsed = time.time() - start
    outside = ("refused", "unjudged")
    agreed = sum(
        n for v, n in counts.items() if v not in outside and (v[0] == "defect") == (v[1] == "bad")
    )
    judged = sum(n for v, n in counts.items() if v not in outside)
    print(
        f"{args.count} random plans in {elapsed:.0f} s "
        f"({elapsed / args.count * 1000:.0f} ms per plan)"
    )
    print(
        f"agree: {agreed} of {judged} judged plans; refused by the executor: {counts['refused']}; "
        f"no graph verdict from the checker (SV503): {counts['unjudged']}"
    )
    for verdict in (("defect", "bad"), ("clean", "match"), ("defect", "match"), ("clean", "bad")):
        print(f"  checker {verdict[0]:6s} executor {verdict[1]:5s}: {counts[verdict]}")
    print(f"  of the clean ones, with only redundant-sync findings (must match): {redundant_only}")
    print(
        "per mutation kind "
        "(checker defect & executor bad / both clean / disagree / refused / SV503):"
    )
    for kind in sorted({k for k, _ in per_kind}):
        disagree = per_kind[(kind, ("defect", "match"))] + per_kind[(kind, ("clean", "bad"))]
        print(
            f"  {kind:30s} {per_kind[(kind, ('defect', 'bad'))]:5d} "
            f"{per_kind[(kind, ('clean', 'match'))]:5d}"
            f" {disagree:5d} {per_kind[(kind, 'refused')]:5d} {per_kind[(kind, 'unjudged')]:5d}"
        )
    print(f"disagreements: {len(disagreements)}")
    for seed, label, detail in sorted(disagreements):
        print(f"  seed {seed}: {label}: {detail}", flush=True)
        print(f"    -> {write_disagreement(args.out, seed, detail)}", flush=True)
    findings = counts[("defect", "bad")] + counts[("defect", "match")]
    print(
        f"generator {GENERATOR}, seed {args.seed}: plans {judged}, agree {agreed}, disagree "
        f"{len(disagreements)}, with findings {findings}, time {elapsed:.0f} s"
    )
    return 1 if disagreements else 0


def every_plan() -> int:
    """The real plans, large ones included (CI runs those with ranks x layers <= 256)."""
    from syncverify.agreement import verdicts_of
    from syncverify.budget import check_size
    from syncverify.findings import PlanError
    from syncverify.loader import load_plan

    root = Path(__file__).resolve().parent.parent
    paths = sorted((root / "plans").glob("*.yaml")) + sorted(
        (root.parent / "shared" / "acceptance" / "plans").glob("*.yaml")
    )
    disagreements = 0
    cpu = {"check": 0.0, "simulate": 0.0}
    for path in paths:
        start = time.time()
        try:
            plan = load_plan(path)
            check_size(plan, exhaustive=True)  # what `syncverify simulate` refuses
        except PlanError as error:
            print(
                f"{path.name}: not simulated "
                f"({error.problems[0].code}: {error.problems[0].message})"
            )
            continue
        v = verdicts_of(plan, path.name)
        if v.outside_claim:
            verdict = f"outside the claim ({', '.join(v.refused or v.unjudged)})"
        else:
            verdict = (
                f"checker {', '.join(v.checker_codes) or 'clean'}; executor {v.outcome.status}"
                f"{'' if v.agree else '  DISAGREE: ' + v.outcome.message}"
            )
            disagreements += not v.agree
        cpu["check"] += v.check_seconds
        cpu["simulate"] += v.simulate_seconds
        print(
            f"{path.name}: {verdict} ({time.time() - start:.0f} s; CPU: check "
            f"{v.check_seconds:.1f} s, simulate {v.simulate_seconds:.1f} s)",
            flush=True,
        )
    print(f"CPU seconds over these plans: check {cpu['check']:.1f}, simulate {cpu['simulate']:.1f}")
    print(f"disagreements: {disagreements}")
    return 1 if disagreements else 0


class _Serial:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap_unordered(self, fn, items, chunksize=1):
        return map(fn, items)


if __name__ == "__main__":
    sys.exit(main())
