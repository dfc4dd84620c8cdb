"""## What it checks
A reduction runs over the group whose ranks hold the contributions of one sum: an all_reduce (or
reduce_scatter) whose group also holds other requests' tokens (world instead of tp with dp > 1;
ep when the EP group spans DP replicas whose tokens were never dispatched, S12) sums activations
that do not belong together (S19). A combine over a group other than its dispatch's, or a combine
used where a reduction is needed, is wrong the same way.

## Why it matters
The result mixes the hidden states of unrelated requests: every replica's outputs are wrong,
silently, and the extra ranks in the group cost bandwidth too.

## Bad plan
```yaml
parallel: {tp: 4, dp: 2}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: world}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Qwen3-30B-A3B as two DP replicas of TP4 with EP4 inside each replica: the experts' partial
# sums are all-reduced over the world instead of the EP group, so each replica's MoE output also
# adds the other replica's requests (S12, S19).
syncverify: 1
name: qwen3-30b-a3b-tp4-dp2-moe-allreduce-over-world
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: world, layers: moe}  # <- SV309
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: qwen3-30b-a3b-tp4-dp2-moe-allreduce-over-world-fixed
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: ep, layers: moe}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.records import DefectKind, WrongGroupReason
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import axis_of, first_node, group_by, trace, where
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    worlds = a.worlds
    defects = records_for(a, RULE.code)
    for (sync_index, kind, reason), items in group_by(
        defects, lambda d: (d.sync, d.kind, getattr(d.payload, "reason", None))
    ).items():
        sync = plan.syncs[sync_index]
        nodes = [d.node for d in items]
        world = worlds["decode" if nodes[0].phase == "handover" else nodes[0].phase]
        need = getattr(items[0].payload, "need", ())
        right = axis_of(world, need) if need else None
        if kind == DefectKind.WRONG_COLLECTIVE:
            message = (
                f"{sync.label} combines a value that was never dispatched: the experts' "
                f"partial sums need a reduction over their group, not an all_to_all"
            )
            help_text = f"use `collective: all_reduce, group: {right or 'ep'}` (S12)"
        elif reason == WrongGroupReason.COMBINE_GROUP:
            message = (
                f"{sync.label} combines over {sync.group}, which is not the group the tokens "
                "were dispatched over"
            )
            help_text = "combine over the dispatch's group (S12)"
        else:
            message = (
                f"{sync.label} reduces over {sync.group}, whose ranks hold different "
                f"requests' tokens: it sums unrelated activations (S19)"
            )
            help_text = (
                f"reduce over the group that holds the partial sums: `group: {right}`"
                if right and not right.startswith("ranks")
                else "reduce over the group that holds the partial sums; with tokens split "
                "over the EP group, dispatch and combine them instead (S12)"
            )
        ctx.report(
            RULE,
            ("sync", sync_index, "group")
            if ("sync", sync_index, "group") in plan.spans
            else ("sync", sync_index),
            message,
            help=help_text,
            where=where(a, nodes, sync.after, sync_index),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV309",
    slug="reduction-over-wrong-group",
    category="missing-sync",
    severity="error",
    summary="a reduction or combine runs over a group that mixes unrelated requests",
    check=check,
    page=__doc__,
    needs_graph=True,
)
