"""Checker vs executor on the widened generators (tests/strategies.py), reduced plans included.

The claim (syncverify/agreement.py): the default check reports no missing-sync, ordering or
value-corrupting finding <=> `syncverify simulate` matches the single-device reference and does
not hang. Plans the executor refuses, or on which the checker builds no graph, are outside it.
Three samples:

- `wide_plans()`: up to 8 ranks, pp up to 4 with uneven stages, any layout, per-phase degrees,
  any collective after any anchor, selectors, up to three edits;
- `reducible_plans()`: 16 ranks under the "ci" profile, up to 32 under "deep", on which the
  default check really reduces (asserted per plan): its verdict is held against the executor;
- a few wide plans simulated at 3 and at 6 decode steps: the same verdict (and the default
  check's, which unrolls 3).

Sizes come from the hypothesis profile (tests/profiles.py); each run draws fresh plans.
Not examples: plans refused by the loader, by the executor, or by either check as too large
(SV014; where only the default check refuses, the symmetry tests fail). Excluded draws: none.
"""

from hypothesis import assume, given, settings

from syncverify.agreement import verdicts
from syncverify.findings import PlanError
from syncverify.simulate import simulate
from tests.profiles import examples, reducible_world
from tests.properties import loaded_or_rejected
from tests.strategies import reducible_plans, reduction_cut, wide_plans


def explain(v) -> str:
    return (
        f"{v.label}: the checker reports {v.checker_codes or 'nothing'}, the executor "
        f"{v.outcome.status}: {v.outcome.message} at {v.outcome.where()} ({v.outcome.scenario})"
    )


def judged(plan: dict):
    """The plan's verdicts; plans outside the claim (refused by the loader, the executor or, as
    too large, by the check: SV014) are not examples."""
    try:
        v = verdicts(plan, plan["name"])
    except PlanError:
        assume(False)
    assume(not v.outside_claim)
    return v


def assert_agree(v) -> None:
    assert v.agree, explain(v)
    if v.redundant_only:
        assert v.outcome.matches, explain(v)


@settings(max_examples=examples(0.4))
@given(wide_plans())
def test_checker_and_executor_agree_on_wide_plans(plan):
    assert_agree(judged(plan))


@settings(max_examples=examples(0.03))
@given(reducible_plans(max_world=reducible_world(32)))
def test_checker_and_executor_agree_where_the_check_reduces(plan):
    cut = reduction_cut(loaded_or_rejected(plan))
    assert cut, f"the default check reduced nothing on {plan['name']}"
    v = judged(plan)
    assert v.agree, f"{explain(v)}; reduction: {cut}"


@settings(max_examples=examples(0.06))
@given(wide_plans())
def test_the_executor_gives_the_same_verdict_at_3_and_at_6_decode_steps(plan):
    v = judged(plan)
    at_six = simulate(loaded_or_rejected(plan), 6).outcome
    assert at_six.matches == v.outcome.matches, (
        f"{v.label}: at 3 steps the executor {v.outcome.status}, "
        f"at 6 {at_six.status}: {at_six.message}"
    )
    assert v.checker_bad == (not at_six.matches), explain(v)
