"""A deliberately broken reduction is caught (issue 10 item 6).

tests/broken_reduction.py breaks one window of the default check's reduction at a time (a
shorter microbatch window; an assumed layer period of one), and these tests show that what runs
in CI notices:

- the issue-10 regression plans (tests/regressions/issue10): under each broken reduction at
  least one of them is reported differently by the default check and by `--exhaustive`;
- the widened property on a fixed sample of generated plans (the first 32 of
  `tests.strategies.random_plan`, up to three edits): under the shorter microbatch window some
  plan disagrees (a device-token pipeline of 2 stages that deadlocks from its fourth microbatch).

What is not shown in CI: the generated plans catch an assumed layer period of one only rarely
(1 of 24 draws of `reducible_plans(16)` in a bench run, 2 s a draw), so CI relies on the
regression plan
state-alternating-every-layer.yaml for it; `bench/symmetry.py --broken layers` counts it on
generated plans.
"""

from pathlib import Path

import pytest

from syncverify.engine import check_plan
from syncverify.findings import PlanError
from syncverify.loader import load_plan
from tests.broken_reduction import BROKEN
from tests.properties import comparable, findings_of_file
from tests.strategies import random_plan
from tests.support import load_dict

REGRESSIONS = Path(__file__).parent / "regressions" / "issue10"


def _regression_plans() -> list:
    """The regression plans that load, smallest first (the first disagreement ends a search)."""
    plans = []
    for path in sorted(REGRESSIONS.glob("*.yaml")):
        try:
            plan = load_plan(path)
        except PlanError:
            continue
        size = max(p.topology.world * p.microbatches for p in plan.phases) * plan.model.layers
        plans.append((size, path.name, path, plan))
    return [(path, plan) for _, _, path, plan in sorted(plans, key=lambda p: p[:2])]


def _disagreeing(broken) -> list[str]:
    for path, plan in _regression_plans():
        try:
            # the unbroken --exhaustive findings, shared with tests/regressions/test_issue10.py
            full = findings_of_file(str(path), exhaustive=True)
        except PlanError:
            continue
        with broken():
            reduced = check_plan(plan)
        if comparable(reduced) != comparable(full):
            return [path.name]
    return []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_regression_plans_catch_a_broken_reduction(name):
    assert _disagreeing(BROKEN[name]), f"with {name}, every regression plan still agrees"


GENERATED = 32  # the first plans of the widened generator (tests/strategies.random_plan)


def test_generated_plans_catch_a_shorter_microbatch_window():
    """The reduced-vs-exhaustive property on a fixed sample of widened plans (seeds 0-31,
    up to three edits): some device-token pipelines deadlock only from microbatch pp + 1 on."""
    caught = []
    for seed in range(GENERATED):
        plan = random_plan(seed)
        try:
            loaded = load_dict(plan)
            full = check_plan(loaded, exhaustive=True)
        except PlanError:
            continue
        with BROKEN["a shorter microbatch window"]():
            if comparable(check_plan(loaded)) != comparable(full):
                caught.append(seed)
                break
    assert caught, f"no disagreement on the first {GENERATED} generated plans"
