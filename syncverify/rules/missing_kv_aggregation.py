"""## What it checks
Under sequence parallelism in prefill (sp > 1) each SP rank holds K/V for its own chunk of the
prompt only; attention needs the K/V of every earlier token of the sequence, so K/V must be
aggregated over the SP group (an all_gather of the `kv` output of `qkv`) before attention.

## Why it matters
Without the aggregation every token attends only to the keys of its own chunk: the attention
output, the KV cache handed to decode and every generated token are wrong.

## Bad plan
```yaml
parallel: {tp: 8}
phases:
  prefill: {sp: 2, tokens: 65536}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # no K/V aggregation over sp
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B long prompts cut over 2 SP ranks in prefill with no K/V all-gather: each half of
# the prompt attends to its own keys only, and each decode replica then lacks the other half's
# K/V (SV306).
syncverify: 1
name: llama-3.1-70b-sp-prefill-no-kv-aggregation
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
  decode: {dp: 2, microbatches: 1, batch: 64}
sync:  # <- SV303, SV306
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
```

</details>

## Fix
```yaml
sync:
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-sp-prefill-no-kv-aggregation-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
  decode: {dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}  # <- fixed
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
```

</details>
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    first_node,
    fix,
    group_by,
    trace,
    where,
    where_to_add,
)
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    defects = records_for(a, RULE.code)
    for (phase, sp), items in group_by(defects, lambda d: (d.node.phase, d.payload.sp)).items():
        nodes = [d.node for d in items]
        share = f"1/{sp} of the prompt" if sp and sp > 1 else "part of the sequence"
        message = f"attention on SP ranks reads only its own chunk's K/V ({share}) in {phase}"
        ctx.report(
            RULE,
            where_to_add(ctx.plan),
            message,
            help="aggregate K/V over the SP group before attention:\n" + fix("sp-kv-aggregation"),
            where=where(a, nodes, "attention"),
            trace=trace(a, [first_node(nodes)], "K/V of the other SP chunks never reach it"),
        )


RULE = Rule(
    code="SV303",
    slug="missing-kv-aggregation",
    category="missing-sync",
    severity="error",
    summary="attention under SP reads the K/V of its own prompt chunk only",
    check=check,
    page=__doc__,
    needs_graph=True,
)
