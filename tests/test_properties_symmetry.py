"""Reduced (default) vs `--exhaustive` on the widened generators (tests/strategies.py).

The claim (docs/semantics.md "Symmetry"): on every plan, the default check's findings equal the
full unroll's: code, place, message, help, where and trace. Three samples:

- `wide_plans()`: up to 8 ranks, pp up to 4 with uneven stages, any layout, per-phase degrees,
  any collective after any anchor, selectors, up to three edits;
- `reducible_plans()`: 16-64 ranks that the reduction really cuts (asserted per plan through
  `reduction_cut`, from graph.quotient and graph.reduction);
- a few wide plans checked `--exhaustive` at 3 and at 6 decode steps: the same codes at the same
  places (the step window of the default check is 3).

Sizes come from the hypothesis profile (tests/profiles.py); each run draws fresh plans.
Excluded draws and masked differences: none (tests/properties.py OPEN_DEFECTS is empty).
"""
from hypothesis import given, settings

from tests.profiles import examples
from tests.properties import OPEN_DEFECTS, checked, comparable, decode_steps, loaded_or_rejected, places
from tests.strategies import reducible_plans, reduction_cut, wide_plans

MASKED = tuple(OPEN_DEFECTS)


@settings(max_examples=examples(0.6))
@given(wide_plans())
def test_reduced_and_exhaustive_checks_agree_on_wide_plans(plan):
    loaded = loaded_or_rejected(plan)
    full = checked(loaded, exhaustive=True)
    assert comparable(checked(loaded), MASKED) == comparable(full, MASKED)


@settings(max_examples=examples(0.1))
@given(reducible_plans())
def test_reduced_and_exhaustive_checks_agree_where_the_reduction_cuts(plan):
    loaded = loaded_or_rejected(plan)
    cut = reduction_cut(loaded)
    assert cut, f"the default check reduced nothing on {plan['name']}"
    full = checked(loaded, exhaustive=True)
    assert comparable(checked(loaded), MASKED) == comparable(full, MASKED), f"reduction: {cut}"


@settings(max_examples=examples(0.1))
@given(wide_plans())
def test_exhaustive_findings_are_the_same_at_3_and_at_6_decode_steps(plan):
    loaded = loaded_or_rejected(plan)
    at_three = checked(loaded, exhaustive=True)
    with decode_steps(6):
        at_six = checked(loaded, exhaustive=True)
    assert places(at_three) == places(at_six)
