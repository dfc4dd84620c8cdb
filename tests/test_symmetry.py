"""Reduced checking (representative layers, replicas, microbatches) equals the full unroll.

The property behind docs/semantics.md "Symmetry": on every generated plan, with or without a
defect, the findings of the default check and of `--exhaustive` are identical, message, place,
ranges and counterexample included. The number of examples comes from the hypothesis profile
(tests/profiles.py: 20 fresh ones a run under "ci", 400 under "deep"); `bench/symmetry.py
--generator classic` runs the same comparison on thousands (`--count`).
tests/test_properties_symmetry.py runs it on the widened generators of tests/strategies.py,
which draw most classes this generator draws (tp, pp, dp, prefill SP, MoE with EP groups, the
three overlap modes, a removed, async or re-grouped sync, a selector) and more, so CI spends
most of the property budget there (40 a run); this one is kept for what it draws more often:
dp 6 and 8 with EP groups spanning 2 or 4 replicas, and EP groups that differ between phases.
"""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncverify.engine import check_plan
from syncverify.synthesis import synthesize_plan
from tests.profiles import examples
from tests.properties import checked_both, comparable
from tests.support import load_dict

DENSE = {"layers": 6, "hidden": 256, "heads": 8, "kv_heads": 4, "ffn": 512, "vocab": 1000}
GQA2 = {**DENSE, "kv_heads": 2}  # tp 4 > kv_heads: KV heads replicated (S20)
MOE = {
    "layers": 6,
    "hidden": 256,
    "heads": 8,
    "kv_heads": 8,
    "ffn": 512,
    "vocab": 1000,
    "moe": {"experts": 8, "top_k": 2, "layers": "1..5", "shared_experts": 1, "ffn": 128},
}
MAX_WORLD = 8  # the full unroll stays cheap; bench/symmetry.py runs the same draws


@st.composite
def layouts(draw) -> tuple[dict, int, int, int, int, int]:
    """A model and degrees (tp, pp, dp, ep, prefill sp) that fit MAX_WORLD ranks, with EP groups
    inside a TP group, equal to it, spanning some replicas (2 or 4 of 6 or 8: the EP-group
    classes of graph.quotient) or all of them."""
    model = draw(st.sampled_from([DENSE, GQA2, MOE]))
    tp = draw(st.sampled_from([1, 2, 4]))
    pp = draw(st.sampled_from([p for p in (1, 2) if tp * p <= MAX_WORLD]))
    dp = draw(st.sampled_from([d for d in (1, 2, 3, 4, 6, 8) if tp * pp * d <= MAX_WORLD]))
    sp = draw(
        st.sampled_from([s for s in (1, 2) if s == 1 or (pp == 1 and tp * s * dp <= MAX_WORLD)])
    )
    ep = 1
    if "moe" in model:
        ep = draw(
            st.sampled_from(
                sorted({e for e in (1, 2, 4, tp, tp * 2, tp * dp) if (tp * dp) % e == 0 and e <= 8})
            )
        )
    return model, tp, pp, dp, ep, sp


@st.composite
def plans(draw) -> dict:
    """A synthesized plan over every axis and overlap mode, then maybe one defect or selector."""
    model, tp, pp, dp, ep, sp = draw(layouts())
    overlap = draw(st.sampled_from(["none", "comm_compute", "two_batch"]))
    mbs = draw(st.sampled_from([2, 4, 6] if overlap == "two_batch" else [1, 2, 3, 4, 5]))
    plan = synthesize_plan(
        model,
        tp=tp,
        pp=pp,
        dp=dp,
        ep=ep,
        prefill_sp=sp,
        decode_dp=dp * sp if sp > 1 else None,
        overlap=overlap,
        prefill_microbatches=mbs,
        decode_microbatches=mbs,
        tokens=64,
        batch=8,
        token_return=draw(st.sampled_from(["host", "device"])),
    )
    plan["model"] = copy.deepcopy(model)
    if pp == 2:
        plan["parallel"]["stages"] = [2, 4]
    plan["phases"]["decode"]["dp_idle"] = draw(st.sampled_from(["dummy_batch", "skip"]))
    if ep > 1 and draw(st.booleans()):  # EP groups that differ between the phases
        plan["phases"]["decode"]["ep"] = draw(
            st.sampled_from(
                sorted({e for e in (1, 2, 4, 8) if (tp * dp * sp) % e == 0 and e % tp == 0})
            )
        )
    mutate = draw(st.sampled_from(["none", "remove", "async", "select", "group"]))
    if mutate != "none" and plan["sync"]:
        sync = plan["sync"][draw(st.integers(0, len(plan["sync"]) - 1))]
        if mutate == "remove":
            plan["sync"].remove(sync)
        elif mutate == "async":
            sync.pop("wait_before", None)
            sync["async"] = True
        elif mutate == "select":
            axis = draw(st.sampled_from(["tp", "pp", "dp", "ep"]))
            sync["ranks"] = {axis: draw(st.sampled_from([[0], [1], [0, 1], [1, 2], [3]]))}
        else:
            sync["group"] = draw(st.sampled_from(["world", "dp", "tp", "ep"]))
    return plan


@settings(max_examples=examples(0.2))
@given(plans())
def test_reduced_and_exhaustive_checks_agree(plan):
    reduced, full = checked_both(load_dict(plan))
    assert comparable(reduced) == comparable(full)


@pytest.mark.parametrize(
    "dp, ep, axis, selected",
    [
        (8, 4, "dp", [7]),
        (8, 4, "dp", [3]),
        (8, 2, "dp", [2, 5]),
        (6, 3, "dp", [1, 2]),
        (8, 4, "ep", [3]),
        (6, 3, "ep", [1, 2]),
    ],
)
def test_dp_selectors_on_replicas_that_ep_groups_cut_agree(dp, ep, axis, selected):
    """Selectors naming replicas (or, with tp = sp = 1, ep coordinates: replica mod ep) split
    the EP-group classes by position and by group."""
    plan = synthesize_plan(
        copy.deepcopy(MOE),
        tp=1,
        dp=dp,
        ep=ep,
        prefill_microbatches=2,
        decode_microbatches=2,
        tokens=64,
        batch=8,
    )
    plan["model"] = copy.deepcopy(MOE)
    for sync in plan["sync"]:
        if sync.get("role") == "dispatch" or sync.get("id") == "dp-out":
            sync["ranks"] = {axis: selected}
    loaded = load_dict(plan)
    reduced = check_plan(loaded)
    assert {f.code for f in reduced} >= {"SV601"}  # the split EP group hangs
    assert comparable(reduced) == comparable(check_plan(loaded, exhaustive=True))
