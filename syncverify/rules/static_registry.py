"""Rules that read the plan alone (config, shape, phase legality, static advisories).

Registered explicitly, in code order: adding a rule means importing its module here.
"""

from syncverify.rules import (
    absent_anchor,
    async_without_overlap,
    cross_step_sync,
    decode_across_steps,
    duplicate_sync_id,
    ep_layout,
    ep_on_dense_model,
    expert_ffn,
    experts_ep,
    ffn_tp,
    group_of_one,
    heads_tp,
    kv_heads_replicated,
    kv_heads_tp,
    layer_selection,
    overlap_mode_phase,
    pipeline_bubble,
    prefill_end_scope,
    prompt_exceeds_context,
    prompt_sp,
    rank_selector,
    role_on_non_all_to_all,
    sequence_parallel_tokens,
    sp_in_decode,
    stage_split,
    tensor_selection,
    tp_spans_nodes,
    two_batch_odd,
    two_batch_without_async,
    uneven_stages,
    unknown_sync_phase,
    unreachable_wait_before,
    wait_before_without_async,
    world_size,
)
from syncverify.rules.base import Rule

STATIC_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            # config (SV1xx)
            world_size.RULE,
            stage_split.RULE,
            uneven_stages.RULE,
            ep_layout.RULE,
            ep_on_dense_model.RULE,
            async_without_overlap.RULE,
            two_batch_odd.RULE,
            wait_before_without_async.RULE,
            unreachable_wait_before.RULE,
            layer_selection.RULE,
            duplicate_sync_id.RULE,
            rank_selector.RULE,
            prefill_end_scope.RULE,
            tensor_selection.RULE,
            role_on_non_all_to_all.RULE,
            absent_anchor.RULE,
            unknown_sync_phase.RULE,
            # shape (SV2xx)
            heads_tp.RULE,
            kv_heads_tp.RULE,
            ffn_tp.RULE,
            expert_ffn.RULE,
            experts_ep.RULE,
            prompt_sp.RULE,
            sequence_parallel_tokens.RULE,
            prompt_exceeds_context.RULE,
            # redundant-sync (SV401)
            group_of_one.RULE,
            # phase-illegal (SV5xx)
            sp_in_decode.RULE,
            decode_across_steps.RULE,
            cross_step_sync.RULE,
            overlap_mode_phase.RULE,
            # performance (SV70x)
            tp_spans_nodes.RULE,
            pipeline_bubble.RULE,
            two_batch_without_async.RULE,
            kv_heads_replicated.RULE,
        ),
        key=lambda rule: rule.code,
    )
)
