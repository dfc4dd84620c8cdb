"""The executor on small plans, one semantics rule at a time (plan-format.md S1-S23).

Each test states what must happen when the plan runs: a match, a divergence of a given kind at a
given op, or a hang. tests/simulate/test_agreement.py holds the same outcomes against the checker.
"""

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from syncverify.engine import check_plan
from syncverify.loader import load_plan
from syncverify.runnable import refusals
from syncverify.simulate import simulate
from syncverify.simulate.model import scaled_dims
from tests.strategies import TINY_MOE_ALL
from tests.support import TINY_DENSE, TINY_MOE, load_dict, synth

ROOT = Path(__file__).resolve().parents[2]
GOOD_PLANS = sorted((ROOT / "plans").glob("*.yaml"))
PLANS = Path(__file__).parent / "plans"
ULYSSES = [
    PLANS / "ulysses-two-sequences-per-microbatch.yaml",
    PLANS / "ulysses-heads-over-tp-times-sp.yaml",
]


def run(plan: dict, steps: int = 3):
    loaded = load_dict(plan)
    assert refusals(loaded) == []
    return simulate(loaded, steps).outcome


def without(plan: dict, sync_id: str) -> dict:
    plan = copy.deepcopy(plan)
    plan["sync"] = [s for s in plan["sync"] if s.get("id") != sync_id]
    return plan


def sync_of(plan: dict, sync_id: str) -> dict:
    return next(s for s in plan["sync"] if s.get("id") == sync_id)


# ---- the tiny model keeps the plan's divisibilities (S20) ------------------------------------


@pytest.mark.parametrize("path", GOOD_PLANS + ULYSSES, ids=lambda p: p.stem)
def test_scaling_keeps_every_divisibility(path):
    plan = load_plan(path)
    dims = scaled_dims(plan)
    for phase in plan.phases:
        tp, ep = phase.degrees.tp, phase.degrees.ep
        assert dims.heads % tp == 0 and dims.ffn % tp == 0 and dims.vocab % tp == 0
        assert dims.heads % (tp * phase.degrees.sp) == 0  # Ulysses splits a TP shard's heads
        if not plan.model.mla:  # KV heads split over tp, or replicated when tp > kv_heads
            assert dims.kv_heads % tp == 0 or tp % dims.kv_heads == 0
            assert (dims.kv_heads < tp) == (plan.model.kv_heads < tp)
        if plan.model.moe:
            assert dims.experts % ep == 0 and dims.experts >= 2 * ep
            assert dims.expert_ffn % (tp if ep == 1 else 1) == 0
    assert dims.layers == plan.model.layers and dims.moe_layers == plan.model.moe_layers


# ---- correct plans match -----------------------------------------------------------------


@pytest.mark.parametrize(
    "layout",
    [
        {
            "model": TINY_DENSE,
            "tp": 2,
            "pp": 2,
            "dp": 2,
            "prefill_microbatches": 2,
            "decode_microbatches": 2,
        },
        {"model": TINY_DENSE, "tp": 2, "prefill_sp": 2, "decode_dp": 2},
        {"model": TINY_MOE, "tp": 2, "ep": 1},
        {"model": TINY_MOE, "tp": 2, "ep": 2},
        {
            "model": TINY_MOE_ALL,
            "tp": 2,
            "dp": 2,
            "ep": 4,
            "overlap": "two_batch",
            "prefill_microbatches": 2,
            "decode_microbatches": 2,
        },
    ],
    ids=[
        "tp-pp-dp",
        "sp-prefill-dp-decode",
        "moe-expert-tp",
        "moe-ep-in-tp",
        "moe-ep-over-replicas",
    ],
)
def test_synthesized_plans_match_the_reference(layout):
    assert run(synth(**layout)).matches


def test_send_recv_groups_do_not_block_each_other():
    """S3: the last stage sends step t's token to stage 0 and posts the next activation recv
    with no op between: one group. Posted one by one, the two stages would wait on each other."""
    plan = synth(
        TINY_DENSE, tp=2, pp=2, token_return="device", prefill_microbatches=2, decode_microbatches=2
    )
    assert run(plan).matches


# ---- missing syncs diverge, where the value is first used ---------------------------------


def test_a_missing_stage_transfer_leaves_the_next_stage_without_input():
    outcome = run(without(synth(TINY_DENSE, tp=2, pp=2), "stage-xfer"))
    assert (outcome.kind, outcome.op, outcome.layer) == ("missing", "attn_norm", 2)


def test_a_selector_on_the_stage_transfer_starves_the_unselected_pairs():
    """S9: for send_recv the selector picks sender/receiver pairs by the sender's coordinates."""
    plan = synth(TINY_DENSE, tp=2, pp=2)
    sync_of(plan, "stage-xfer")["ranks"] = {"tp": 0}
    outcome = run(plan)
    assert (outcome.kind, outcome.rank, outcome.op) == ("missing", 3, "attn_norm")


def test_missing_kv_aggregation_under_sp():
    outcome = run(without(synth(TINY_DENSE, tp=2, prefill_sp=2, decode_dp=2), "kv-agg"))
    assert outcome.kind == "missing" and outcome.op == "attention"
    assert "lacks the K/V" in outcome.message


def test_the_prefill_to_decode_handover():
    """S5: prefill TP4 hands each decode rank of TP2 x DP2 the KV heads it owns."""
    plan = synth(TINY_DENSE, tp=4)
    plan["phases"]["decode"].update(tp=2, dp=2)
    plan["sync"] += [
        {
            "id": "dp-out",
            "after": "sample",
            "collective": "gather",
            "group": "dp",
            "phases": ["decode"],
        },
        {"id": "handover", "after": "prefill_end", "collective": "all_gather", "group": "world"},
    ]
    assert run(plan).matches
    outcome = run(without(plan, "handover"))
    assert (outcome.kind, outcome.phase, outcome.op) == ("missing", "decode", "attention")


def test_replicated_shared_experts_before_the_reduction_are_counted_twice():
    """S13: Replicated shared experts added to a Partial routed output."""
    plan = synth(TINY_MOE, tp=2, ep=2)
    plan["ops"] = {"shared_experts": {"sharding": "replicated"}}
    outcome = run(plan)
    assert (outcome.kind, outcome.op, outcome.layer) == ("value", "mlp_residual", 1)


def test_dp_outputs_reach_the_sink_only_through_a_gather():
    """S18: with dp > 1 the sink reads the replicas' tokens only through the gather."""
    plan = synth(TINY_DENSE, tp=2, dp=2)
    outcome = run(without(plan, "dp-out"))
    assert outcome.kind == "missing" and "output sink" in outcome.message
    sync_of(plan, "dp-out").update({"async": True})
    for phase in plan["phases"].values():
        phase["overlap"] = "comm_compute"
    assert run(plan).matches  # the sink waits for an async gather


# ---- timing: stale reads (S22), the host (S4, S15) ------------------------------------------


def test_an_async_collective_awaited_too_late_is_a_stale_read():
    plan = synth(TINY_DENSE, tp=2, overlap="comm_compute")
    sync_of(plan, "attn-ar")["wait_before"] = "mlp_norm"
    outcome = run(plan)
    assert (outcome.kind, outcome.op, outcome.sync) == ("stale-read", "attn_residual", "'attn-ar'")


def test_across_steps_with_the_host_token_reads_it_before_it_exists():
    plan = synth(TINY_DENSE, tp=2)
    plan["phases"]["decode"]["overlap"] = "across_steps"
    outcome = run(plan)
    assert (outcome.kind, outcome.op, outcome.step) == ("stale-read", "embed", 1)
    plan["phases"]["decode"]["token_return"] = "device"  # program order carries it (S15)
    assert run(plan).matches


# ---- hangs (S10, S17, S23) -------------------------------------------------------------------


def test_an_idle_replica_that_skips_leaves_the_gather_waiting():
    plan = synth(TINY_DENSE, tp=2, dp=2)
    plan["phases"]["decode"]["dp_idle"] = "skip"
    outcome = run(plan)
    assert outcome.status == "hang" and outcome.scenario == "replica 0 idle"
    assert any("which rank 0 never issues" in w["waits_for"] for w in outcome.waiting)


def test_a_selector_that_splits_a_group_hangs_it():
    """S9, S23: only TP rank 0 enters the barrier; rank 1 goes on to the o_proj all-reduce, and
    the two ranks pair different calls."""
    plan = synth(TINY_DENSE, tp=2)
    plan["sync"].append(
        {
            "id": "half",
            "after": "attention",
            "collective": "barrier",
            "group": "tp",
            "ranks": {"tp": 0},
        }
    )
    outcome = run(plan)
    assert outcome.status == "hang"
    assert (
        "pair" in outcome.message and "'half'" in outcome.message and "'attn-ar'" in outcome.message
    )


# ---- redundant syncs change nothing ------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"after": "attention", "collective": "barrier", "group": "tp"},
        {"after": "attn_residual", "collective": "broadcast", "group": "tp"},
        {"after": "stage_boundary", "collective": "send_recv", "group": "pp"},
    ],
    ids=["barrier", "broadcast-of-replicated", "second-stage-transfer"],
)
def test_redundant_syncs_keep_the_result(extra):
    assert run(
        synth(TINY_DENSE, tp=2, pp=2) | {"sync": synth(TINY_DENSE, tp=2, pp=2)["sync"] + [extra]}
    ).matches


def test_a_duplicated_reduction_multiplies():
    plan = synth(TINY_DENSE, tp=2)
    plan["sync"].append(dict(sync_of(plan, "mlp-ar"), id="mlp-ar-again"))
    outcome = run(plan)
    assert (outcome.kind, outcome.op) == ("value", "mlp_residual")
    assert outcome.max_abs_error > 0.1


def test_plan_files_load_like_check():
    plan = yaml.safe_load((Path(__file__).parent / "plans" / "clean.yaml").read_text())
    assert run(plan).matches


# ---- issue 10, item 7: the executor's side ---------------------------------------------------


def run_file(name: str, steps: int = 3):
    plan = load_plan(PLANS / name)
    assert refusals(plan) == []
    return simulate(plan, steps).outcome


def test_a_later_listed_broadcast_is_not_undone_by_an_async_receive():
    """S7: the syncs at stage_boundary run in list order; the next stage reads the blocking
    broadcast's output, and the never-awaited send_recv does not overwrite it later."""
    assert run_file("async-recv-then-broadcast-at-stage-boundary.yaml").matches


@pytest.mark.parametrize("path", ULYSSES, ids=lambda p: p.stem)
def test_ulysses_sequence_parallelism_matches(path):
    """q and K/V swap a token split over sp for a head split and back: the swap back hands
    each SP rank its chunk of every sequence (two per microbatch here), and the tiny model has
    heads for tp x sp."""
    assert run_file(path.name).matches


def test_the_swap_back_cuts_every_sequence_at_the_same_positions():
    from syncverify.simulate.buffers import Buf
    from syncverify.simulate.collectives import transfer

    rows = tuple((0, 0, slot, pos) for pos in range(4) for slot in range(2))
    data = np.arange(8 * 4, dtype=float).reshape(8, 4)
    halves = {0: Buf(data[:, :2], rows, ("q", 0, 2)), 1: Buf(data[:, 2:], rows, ("q", 2, 4))}
    out = transfer("all_to_all", None, (0, 1), halves, lambda e: ())
    assert [r[3] for r in out[0].rows] == [0, 0, 1, 1] and {r[2] for r in out[0].rows} == {0, 1}
    assert [r[3] for r in out[1].rows] == [2, 2, 3, 3]
    assert out[0].cols == ("q", 0, 4)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("all-to-all-over-dp-after-sample.yaml", "value"),
        ("all-to-all-over-tp-after-sample.yaml", "value"),
        ("all-reduce-over-tp-after-sample.yaml", "value"),
    ],
)
def test_syncs_after_sample_change_what_the_output_sink_receives(name, kind):
    """S18 with S7: the sink reads the sampled tokens after every sync at `sample`: an
    all_to_all scrambles them over the members, an all_reduce sums the ids."""
    outcome = run_file(name)
    assert (outcome.status, outcome.kind, outcome.op) == ("divergence", kind, "sample")
    assert "output sink" in outcome.message


def test_an_all_to_all_of_unequal_buffers_hangs():
    """After the output gather the root holds every replica's tokens, the other member only
    its own: the all_to_all's members pass different sizes."""
    outcome = run_file("all-to-all-over-dp-after-the-output-gather.yaml")
    assert (outcome.status, outcome.kind) == ("hang", "ordering")
    assert "different sizes" in outcome.message


def test_a_reduction_at_the_handover_sums_the_kv_caches_in_place():
    """S22 (an all_reduce is in place) with S5: the decode ranks attend over summed K/V."""
    outcome = run_file("all-reduce-at-prefill-end.yaml")
    assert (outcome.status, outcome.kind, outcome.phase) == ("divergence", "value", "decode")
    assert (outcome.layer, outcome.op) == (0, "attn_residual")


def test_each_stage_boundary_is_its_own_call_of_a_group_spanning_stages():
    """S3: a broadcast over world at stage_boundary is one call per boundary, over the whole
    world; ranks off a boundary never issue it, so the run hangs, as the checker says (SV601).
    Merging the boundaries' calls (the same members each time) made it complete."""
    name = "broadcast-over-world-at-every-stage-boundary.yaml"
    outcome = run_file(name)
    assert outcome.status == "hang"
    codes = {f.code for f in check_plan(load_plan(PLANS / name))}
    assert "SV601" in codes
