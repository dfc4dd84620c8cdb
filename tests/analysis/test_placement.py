"""Placement analysis: small plans where the missing or corrupting collective is obvious."""

from fractions import Fraction

import pytest

from syncverify.analysis import run_analyses
from syncverify.analysis.values import FULL, chunk, covers_blocks, feat_union, normalize, tokens
from syncverify.records import DefectKind
from tests.support import TINY_MOE, load_dict, synth

B = ("P", 0, 0)


def kinds(plan: dict) -> set[str]:
    return {d.kind for d in run_analyses(load_dict(plan)).placement.defects}


def without(plan: dict, sync_id: str) -> dict:
    plan["sync"] = [s for s in plan["sync"] if s["id"] != sync_id]
    return plan


def test_token_intervals_merge_and_detect_overlap():
    merged, overlap = normalize(
        [(B, Fraction(0), Fraction(1, 2)), (B, Fraction(1, 2), Fraction(1))]
    )
    assert merged == tokens(B) and not overlap
    _, overlap = normalize([(B, Fraction(0), Fraction(2, 3)), (B, Fraction(1, 2), Fraction(1))])
    assert overlap


def test_chunks_tile_their_interval():
    parts = [chunk(tokens(B), i, 4) for i in range(4)]
    merged, overlap = normalize(t for p in parts for t in p)
    assert merged == tokens(B) and not overlap
    assert not covers_blocks(parts[0], [B])


def test_feature_shards_concatenate_only_when_they_tile():
    halves = [("heads", Fraction(0), Fraction(1, 2)), ("heads", Fraction(1, 2), Fraction(1))]
    assert feat_union(halves) == FULL
    assert feat_union([halves[0], ("ffn", Fraction(1, 2), Fraction(1))]) is None


def test_a_correct_tp_pp_plan_has_no_defect():
    assert kinds(synth(tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2)) == set()


@pytest.mark.parametrize(
    "sync_id, kind",
    [
        ("attn-ar", "partial-input"),  # o_proj's partial sum reaches attn_residual
        ("embed-ar", "partial-input"),  # vocab-parallel embed is a partial sum (S19)
        ("logits", "sharded-features"),  # sample reads one vocabulary shard
        ("stage-xfer", "missing-stage-input"),  # S3
    ],
)
def test_removing_a_tp_or_pp_sync_leaves_its_consumer_unfed(sync_id, kind):
    assert kind in kinds(without(synth(tp=2, pp=2), sync_id))


def test_a_second_all_reduce_multiplies_by_the_group_size():
    plan = synth(tp=2)
    attn = next(s for s in plan["sync"] if s["id"] == "attn-ar")
    plan["sync"].append(dict(attn, id="again"))
    defects = run_analyses(load_dict(plan)).placement.defects
    assert {(d.kind, d.payload.times) for d in defects} == {("double-reduction", 2)}


def test_all_reduce_over_world_sums_different_requests():
    plan = synth(tp=2, dp=2)
    next(s for s in plan["sync"] if s["id"] == "attn-ar")["group"] = "world"
    assert "wrong-group" in kinds(plan)


def test_missing_dp_gather_leaves_the_sink_one_replica_short():
    assert "sink-missing" in kinds(without(synth(tp=2, dp=2), "dp-out"))


def test_sp_without_kv_aggregation_reads_one_chunk():
    plan = synth(tp=2, prefill_sp=2, decode_dp=2, dp=1)
    assert kinds(plan) == set()
    assert "kv-not-aggregated" in kinds(without(plan, "kv-agg"))


def test_dispatch_without_combine_leaves_expert_order():
    plan = synth(TINY_MOE, tp=1, dp=4, ep=4)
    assert kinds(plan) == set()
    assert "expert-order" in kinds(without(plan, "combine"))


def test_ep_inside_tp_reduces_over_the_ep_group():
    """S12: tokens Replicated over the EP group: each rank's experts give a partial sum over ep."""
    plan = synth(TINY_MOE, tp=2, dp=2, ep=2)
    assert kinds(plan) == set()
    assert "partial-input" in kinds(without(plan, "moe-ar"))


def test_ep_spanning_replicas_with_tp_needs_a_gather_after_the_combine():
    """S12: the combine returns each TP rank's share; an all_gather over tp restores it."""
    plan = synth(TINY_MOE, tp=2, dp=2, ep=4)
    assert kinds(plan) == set()
    assert kinds(without(plan, "moe-ag")) & {
        DefectKind.ADDENDS_DIFFER,
        DefectKind.ADDENDS_HOLD_DIFFERENT_TOKENS,
        DefectKind.PARTIAL_INPUT,
        DefectKind.NOT_REPLICATED,
    }


def test_replicated_shared_experts_added_to_a_partial_routed_output():
    """S13: a Replicated shared-expert output added before the reduction is counted tp times."""
    plan = synth(TINY_MOE, tp=2)
    plan["ops"] = {"shared_experts": {"sharding": "replicated"}}
    assert "partial-input" in kinds(plan)


def test_megatron_sequence_parallel_needs_a_gather_before_column_parallel_ops():
    plan = synth(tp=2)
    plan["sync"] = [
        {"id": "embed-rs", "after": "embed", "collective": "reduce_scatter", "group": "tp"},
        {"id": "attn-ag", "after": "attn_norm", "collective": "all_gather", "group": "tp"},
        {"id": "attn-rs", "after": "o_proj", "collective": "reduce_scatter", "group": "tp"},
        {"id": "mlp-ag", "after": "mlp_norm", "collective": "all_gather", "group": "tp"},
        {"id": "mlp-rs", "after": "down", "collective": "reduce_scatter", "group": "tp"},
        {"id": "final-ag", "after": "final_norm", "collective": "all_gather", "group": "tp"},
        {"id": "logits", "after": "lm_head", "collective": "all_gather", "group": "tp"},
    ]
    assert kinds(plan) == set()
    assert kinds(without(plan, "mlp-ag")) == {"not-replicated"}


def test_gathering_a_replicated_value_hands_its_consumer_copies():
    plan = synth(tp=2)
    plan["ops"] = {"lm_head": {"sharding": "replicated"}}
    assert "duplicated" in kinds(plan)
    assert kinds(without(plan, "logits")) == set()


def test_collective_effects_are_recorded_for_redundancy():
    result = run_analyses(load_dict(synth(tp=2))).placement
    assert set(result.effects.values()) == {"changed"}
