"""The rule registry: one tuple naming every rule module once (no import side effects).

Each module `syncverify/rules/<name>.py` defines one `RULE` whose slug is its file name with
dashes (tests/test_registry.py walks the package to hold that). The load codes SV001-SV014 are
reported by the loader itself and live in `syncverify.load_codes`, which imports no rule.
"""

from importlib import import_module

from syncverify.load_codes import LOAD_RULES
from syncverify.rule import Context, Rule

RULE_MODULES: tuple[str, ...] = (
    "absent_anchor",
    "async_without_overlap",
    "blocking_collective_could_be_async",
    "collective_hang",
    "cross_step_sync",
    "decode_overlap_across_steps",
    "double_reduction",
    "duplicate_sync_id",
    "ep_on_dense_model",
    "expert_ffn_not_divisible",
    "experts_not_divisible_by_ep",
    "ffn_not_divisible_by_tp",
    "group_of_one_sync",
    "heads_not_divisible_by_tp",
    "internal_error",
    "invalid_ep_layout",
    "invalid_layer_selection",
    "invalid_suppression",
    "invalid_tensor_selection",
    "kv_heads_misaligned_with_tp",
    "kv_heads_replicated",
    "misplaced_input",
    "missing_expert_combine",
    "missing_gather",
    "missing_kv_aggregation",
    "missing_kv_handover",
    "missing_stage_transfer",
    "outputs_not_gathered",
    "overlap_mode_not_allowed",
    "oversized_handover",
    "pipeline_bubble",
    "prefill_end_scope",
    "prompt_exceeds_context",
    "prompt_not_divisible_by_sp",
    "rank_selector_out_of_range",
    "reduction_not_certified",
    "reduction_over_wrong_group",
    "redundant_order_sync",
    "role_on_non_all_to_all",
    "sequence_parallel_tokens_not_divisible",
    "sp_in_decode",
    "stage_split_mismatch",
    "stale_token",
    "token_not_returned",
    "tp_group_spans_nodes",
    "two_batch_odd_microbatches",
    "two_batch_without_async",
    "unawaited_collective",
    "uneven_stages_unstated",
    "unknown_sync_phase",
    "unreachable_wait_before",
    "unreduced_partial_sum",
    "unused_suppression",
    "value_corrupting_collective",
    "wait_before_without_async",
    "world_size_mismatch",
)

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        LOAD_RULES + tuple(import_module(f"{__name__}.{name}").RULE for name in RULE_MODULES),
        key=lambda r: r.code,
    )
)
BY_CODE = {r.code: r for r in ALL_RULES}
BY_SLUG = {r.slug: r for r in ALL_RULES}
INTERNAL_ERROR = BY_CODE["SV900"]
# the rules that judge the plan itself (SV1xx-SV7xx): SV0xx are the loader's, SV9xx judge the
# run (internal errors, suppression comments)
PLAN_RULES: tuple[Rule, ...] = tuple(r for r in ALL_RULES if r.code[2] in "1234567")
STATIC_RULES: tuple[Rule, ...] = tuple(r for r in PLAN_RULES if not r.needs_graph)
GRAPH_RULES: tuple[Rule, ...] = tuple(r for r in PLAN_RULES if r.needs_graph)


def find_rule(name: str) -> Rule | None:
    """A rule by code (case-insensitive) or slug."""
    return BY_CODE.get(name.upper()) or BY_SLUG.get(name.lower())


__all__ = [
    "ALL_RULES",
    "BY_CODE",
    "BY_SLUG",
    "GRAPH_RULES",
    "INTERNAL_ERROR",
    "PLAN_RULES",
    "STATIC_RULES",
    "Context",
    "Rule",
    "find_rule",
]
