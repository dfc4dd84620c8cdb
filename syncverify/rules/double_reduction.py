"""## What it checks
A reduction (all_reduce, reduce_scatter) applied to a value that is already complete, or that
counts some contribution twice. The classic case is a second all_reduce after `o_proj`: it
multiplies the attention output by the TP size (S19: redundant-sync, error).

## Why it matters
This is not wasted bandwidth only: the value is changed. Activations grow by the group size per
extra reduction and the model's outputs are garbage.

## Bad plan
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: attn-ar-again, after: o_proj, collective: all_reduce, group: tp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 with the MLP output all-reduced twice: the second reduction
# multiplies it by 8 (S19).
syncverify: 1
name: llama-3.1-70b-double-mlp-allreduce
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: mlp-ar-again, after: down, collective: all_reduce, group: tp}  # <- SV402
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
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
name: llama-3.1-70b-double-mlp-allreduce-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import first_node, group_by, trace, where
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = records_for(a, RULE.code)
    for sync_index, items in group_by(defects, lambda d: d.sync).items():
        sync = plan.syncs[sync_index]
        nodes = [d.node for d in items]
        times = max(d.payload.times for d in items)
        message = (
            f"{sync.label} reduces the already reduced output of {sync.after}: the sum is "
            f"taken again and multiplied by {times}"
        )
        ctx.report(
            RULE,
            ("sync", sync_index),
            message,
            help=f"remove {sync.label}: the value is already complete there",
            where=where(a, nodes, sync.after, sync_index),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV402",
    slug="double-reduction",
    category="redundant-sync",
    severity="error",
    summary="a reduction of an already complete value multiplies it (S19)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
