"""Rules that read the dependency DAG's analyses (placement, happens-before, matching)."""

from syncverify.rules import (
    blocking_could_be_async,
    collective_hang,
    double_reduction,
    misplaced_input,
    missing_expert_combine,
    missing_gather,
    missing_kv_aggregation,
    missing_kv_handover,
    missing_stage_transfer,
    outputs_not_gathered,
    oversized_handover,
    reduction_not_certified,
    reduction_over_wrong_group,
    redundant_order_sync,
    stale_token,
    token_not_returned,
    unawaited_collective,
    unreduced_partial_sum,
    value_corrupting_collective,
)
from syncverify.rules.base import Rule

GRAPH_RULES: tuple[Rule, ...] = tuple(
    m.RULE
    for m in (
        unreduced_partial_sum,
        missing_gather,
        missing_kv_aggregation,
        missing_stage_transfer,
        missing_expert_combine,
        missing_kv_handover,
        outputs_not_gathered,
        token_not_returned,
        reduction_over_wrong_group,
        unawaited_collective,
        stale_token,
        misplaced_input,
        double_reduction,
        value_corrupting_collective,
        redundant_order_sync,
        collective_hang,
        blocking_could_be_async,
        oversized_handover,
        reduction_not_certified,
    )
)
