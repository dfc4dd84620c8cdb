"""The agreement test: the checker's verdicts held against execution.

Claim: the checker reports no missing-sync, ordering or value-corrupting (SV402/SV403) finding
<=>  `syncverify simulate` matches the single-device reference and does not hang. Plans the
executor refuses (config or shape findings, SP in decode) are outside the claim; a plan whose
only findings are redundant-sync warnings must match (redundant syncs change nothing).

Random plans: synthesized from tests/strategies.py `layouts()` (correct by construction) and
single mutations of them (remove a sync, make one async without a wait, duplicate a reduction,
change a group, restrict the ranks that issue one, add a sync point that changes no value).
Their models are cut to 2 layers (dense layer 0, MoE layer 1). Each run draws fresh plans, as
many as the hypothesis profile gives (tests/profiles.py: 100 under "ci", 2,000 under "deep");
bench/agreement.py runs thousands. The counts are printed at the end of the run
(tests/simulate/conftest.py).

A disagreement is a bug in one of the two. Fixed in the executor, or, when S1-S23 say the
checker is wrong, fixed there; either way the plan is kept below as a regression test (an xfail
while a checker fix is pending).
"""

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncverify import agreement
from syncverify.agreement import mutations_by_kind, verdicts, verdicts_of
from syncverify.findings import PlanError
from syncverify.loader import load_plan
from syncverify.synthesis import synthesize_plan
from tests.profiles import examples
from tests.strategies import TINY_MOE_ALL, layouts
from tests.support import TINY_DENSE, TINY_MOE

ROOT = Path(__file__).resolve().parents[2]
PLAN_DIRS = (ROOT / "plans", ROOT.parent / "shared" / "acceptance" / "plans")
MAX_RANK_LAYERS = 256  # "small enough": ranks x layers of the larger phase
COUNTS: Counter = Counter()  # what the run saw, printed by conftest.py
TWO_LAYERS = {
    id(TINY_DENSE): agreement.TINY_DENSE,
    id(TINY_MOE): agreement.TINY_MOE,
    id(TINY_MOE_ALL): agreement.TINY_MOE_ALL,
}


def record(v) -> None:
    if v.refused:
        COUNTS["refused by the executor"] += 1
    elif v.unjudged:
        COUNTS["no graph verdict from the checker (SV503)"] += 1
    elif not v.agree:
        COUNTS["disagreements"] += 1
    elif v.checker_bad:
        COUNTS["checker: defect, executor: divergence or hang"] += 1
    else:
        COUNTS["checker: clean, executor: matches"] += 1


def explain(v) -> str:
    return (
        f"{v.label}: the checker reports {v.checker_codes or 'nothing'}, the executor "
        f"{v.outcome.status}: {v.outcome.message} at {v.outcome.where()} ({v.outcome.scenario})"
    )


@settings(max_examples=examples(1.0))
@given(layouts(max_tp=2), st.data())
def test_checker_and_executor_agree_on_random_plans(layout, data):
    layout = dict(layout, model=TWO_LAYERS[id(layout["model"])])
    plan = synthesize_plan(**layout)
    by_kind = {kind: found for kind, found in mutations_by_kind(plan).items() if found}
    label, chosen = "as synthesized", plan
    if by_kind and data.draw(st.integers(0, 3), label="mutate") > 0:  # one plan in four as is
        kind = data.draw(st.sampled_from(sorted(by_kind)), label="kind")
        label, chosen = data.draw(st.sampled_from(by_kind[kind]), label="mutation")
    v = verdicts(chosen, f"{agreement.layout_label(layout)}: {label}")
    COUNTS["random plans"] += 1
    record(v)
    assert v.agree, explain(v)
    if v.redundant_only:
        assert v.outcome.matches, explain(v)


def _small_plans() -> list:
    out = []
    for folder in PLAN_DIRS:
        for path in sorted(folder.glob("*.yaml")):
            try:
                plan = load_plan(path)
            except PlanError:
                continue
            size = max(p.topology.world for p in plan.phases) * plan.model.layers
            if size <= MAX_RANK_LAYERS:
                out.append(path)
    return out


@pytest.mark.parametrize("path", _small_plans(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_checker_and_executor_agree_on_real_plans(path):
    v = verdicts_of(load_plan(path), str(path))
    COUNTS["real plans"] += 1
    record(v)
    assert v.agree, explain(v)
    if v.redundant_only:
        assert v.outcome.matches, explain(v)


# every collective over every group at the anchors the mutations never draw (issue 10, item 7:
# syncs after sample, at prefill_end and step_end were judged differently)
TAIL_ANCHORS = ("sample", "prefill_end", "step_end")
COLLECTIVES = (
    "all_reduce",
    "reduce_scatter",
    "all_gather",
    "all_to_all",
    "send_recv",
    "broadcast",
    "gather",
    "barrier",
)


@pytest.fixture(scope="module")
def tp_dp_plan() -> dict:
    return synthesize_plan(model=agreement.TINY_DENSE, tp=2, dp=2, tokens=64, batch=8)


@pytest.mark.parametrize("after", TAIL_ANCHORS)
@pytest.mark.parametrize("collective", COLLECTIVES)
def test_checker_and_executor_agree_on_any_sync_at_the_boundaries(tp_dp_plan, after, collective):
    for group in ("tp", "dp", "sp", "world"):
        plan = dict(
            tp_dp_plan,
            sync=tp_dp_plan["sync"]
            + [{"id": "extra", "after": after, "collective": collective, "group": group}],
        )
        v = verdicts(plan, f"tp2 dp2: a {collective} over {group} after {after}")
        COUNTS["syncs at sample, prefill_end, step_end"] += 1
        record(v)
        assert v.agree, explain(v)


# plans on which the checker and the executor once disagreed, kept as regression tests once the
# side that was wrong was fixed (docs/simulate.md, "Disagreements found")
RESOLVED_DISAGREEMENTS = {
    "gather-before-sample.yaml": "S18: with dp > 1 the sink reads only through a gather after "
    "sample (the checker used to let it read rank 0's own tokens)",
    "async-recv-then-broadcast-at-stage-boundary.yaml": "S7: the executor let the async receive "
    "undo the later-listed broadcast",
    "ulysses-two-sequences-per-microbatch.yaml": "the executor's swap back cut the rows by count",
    "all-reduce-over-tp-after-sample.yaml": "S18: the executor's sink read the tokens before the "
    "syncs at sample",
    "all-to-all-over-dp-after-the-output-gather.yaml": "the executor let an all_to_all of "
    "unequal buffers complete",
    "all-reduce-at-prefill-end.yaml": "S22: the executor let a reduction of the K/V caches at "
    "the hand-over change nothing",
    "all-to-all-over-dp-after-sample.yaml": "the checker passed scrambled tokens (fixed: SV403)",
    "all-to-all-over-tp-after-sample.yaml": "the checker only warned, SV404 (fixed: SV403)",
    "ulysses-heads-over-tp-times-sp.yaml": "the checker labelled the K/V head split as attention "
    "heads (false SV403, fixed); the executor's tiny model "
    "had heads for tp, not tp x sp",
}


@pytest.mark.parametrize("name", sorted(RESOLVED_DISAGREEMENTS))
def test_past_disagreements_now_agree(name):
    v = verdicts_of(load_plan(Path(__file__).parent / "plans" / name), name)
    assert v.agree, explain(v)


# None is open. A plan where, reading S1-S23, the checker is wrong and not fixed yet would be
# written up in docs/simulate.md ("Disagreements found") and kept here as an xfail test until
# fixed, then moved to RESOLVED_DISAGREEMENTS. (No empty parametrized test: it would only skip.)


def test_a_cross_step_sync_leaves_the_plan_outside_the_claim():
    """SV503 blocks the checker's graph: it has no verdict on the syncs, while the executor
    still runs the plan (here the outputs never reach the sink). Not a disagreement
    (docs/simulate.md, "Disagreements found", 2)."""
    name = "output-gather-over-sp-awaited-next-step.yaml"
    v = verdicts_of(load_plan(Path(__file__).parent / "plans" / name), name)
    assert v.unjudged == ["SV503"] and v.simulation_bad and v.agree
