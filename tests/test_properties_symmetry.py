"""Reduced (default) vs `--exhaustive` on the widened generators (tests/strategies.py).

The claim (docs/semantics.md "Symmetry"): on every plan, the default check's findings equal the
full unroll's: code, place, message, help, where and trace. Three samples:

- `wide_plans()`: up to 8 ranks, pp up to 4 with uneven stages, any layout, per-phase degrees,
  any collective after any anchor, selectors, up to three edits;
- `reducible_plans()`: 16 ranks under the "ci" profile, up to 64 under "deep", that the reduction
  really cuts (asserted per plan through `reduction_cut`, from graph.quotient and graph.reduction);
- a few wide plans checked `--exhaustive` at 3 and at 6 decode steps: the same codes at the same
  places (the step window of the default check is 3).

Sizes come from the hypothesis profile (tests/profiles.py); each run draws fresh plans.
A plan --exhaustive refuses as too large (SV014) is not an example; one the default check
refuses while --exhaustive checks it is a failure. Excluded draws and masked differences: none
(tests/properties.py OPEN_DEFECTS is empty). The plans these tests found are kept in
tests/regressions/properties and checked in both modes on every run.
"""

from pathlib import Path

import pytest
from hypothesis import given, settings

from syncverify.loader import load_plan
from tests.profiles import examples, reducible_world
from tests.properties import (
    OPEN_DEFECTS,
    checked,
    checked_both,
    comparable,
    decode_steps,
    loaded_or_rejected,
    places,
)
from tests.strategies import reducible_plans, reduction_cut, wide_plans

MASKED = tuple(OPEN_DEFECTS)


@settings(max_examples=examples(0.4))
@given(wide_plans())
def test_reduced_and_exhaustive_checks_agree_on_wide_plans(plan):
    reduced, full = checked_both(loaded_or_rejected(plan))
    assert comparable(reduced, MASKED) == comparable(full, MASKED)


@settings(max_examples=examples(0.04))
@given(reducible_plans(max_world=reducible_world()))
def test_reduced_and_exhaustive_checks_agree_where_the_reduction_cuts(plan):
    loaded = loaded_or_rejected(plan)
    cut = reduction_cut(loaded)
    assert cut, f"the default check reduced nothing on {plan['name']}"
    reduced, full = checked_both(loaded)
    assert comparable(reduced, MASKED) == comparable(full, MASKED), f"reduction: {cut}"


@settings(max_examples=examples(0.06))
@given(wide_plans())
def test_exhaustive_findings_are_the_same_at_3_and_at_6_decode_steps(plan):
    loaded = loaded_or_rejected(plan)
    at_three = checked(loaded, exhaustive=True)
    with decode_steps(6):
        at_six = checked(loaded, exhaustive=True)
    assert places(at_three) == places(at_six)


REGRESSIONS = Path(__file__).parent / "regressions" / "properties"


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*.yaml")), ids=lambda p: p.stem)
def test_plans_the_widened_generators_found_agree(path):
    reduced, full = checked_both(load_plan(path))
    assert comparable(reduced) == comparable(full)
