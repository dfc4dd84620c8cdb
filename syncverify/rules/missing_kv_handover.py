"""## What it checks
At the hand-over from prefill to decode (S5), every decode rank must hold, for all prompt tokens,
the K/V of the layers and KV heads it owns in decode, for every sequence it may decode: written on
that rank during prefill, or moved by a sync `after: prefill_end` (an all_gather or all_to_all
over a decode group). With the same degrees and layout in both phases each sequence stays on its
replica; otherwise any decode replica may receive it.

## Why it matters
A decode rank without the prompt's K/V attends to an empty or stale cache: the first generated
token is already wrong, and every one after it.

## Bad plan
```yaml
parallel: {tp: 8}
phases:
  prefill: {sp: 2, tokens: 65536}
  decode: {dp: 2, batch: 64}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # each prefill SP rank keeps only its half of the prompt's K/V
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B on one 8-GPU node: prefill as two TP4 replicas, decode as one TP8 replica.
# Each decode rank owns one KV head of every layer, written in prefill on another rank, and no
# sync at prefill_end moves it (S5).
syncverify: 1
name: llama-3.1-70b-prefill-tp4-dp2-decode-tp8-no-handover
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4}
phases:
  prefill: {dp: 2, microbatches: 1, tokens: 8192}
  decode: {tp: 8, microbatches: 1, batch: 64}
sync:  # <- SV306
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
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
name: llama-3.1-70b-prefill-tp4-dp2-decode-tp8-no-handover-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4}
phases:
  prefill: {dp: 2, microbatches: 1, tokens: 8192}
  decode: {tp: 8, microbatches: 1, batch: 64}
sync:
  - {after: prefill_end, tensor: kv, collective: all_gather, group: world}  # <- fixed
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
```

</details>
"""

from syncverify.findings import Where
from syncverify.ranges import compact
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    fix,
    real_layers,
    real_ranks,
    real_replicas,
    where_to_add,
)
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    handover = next(iter(records_for(ctx.analyses, RULE.code)), None)
    if handover is None:
        return
    plan = ctx.plan
    ranks = sorted(real_ranks(ctx.analyses, "decode", {r for r, _ in handover.missing}))
    layers = sorted(real_layers(ctx.analyses, {layer for _, layer in handover.missing}))
    replicas = sorted(
        real_replicas(
            ctx.analyses,
            "prefill",
            {b[1] for lacking in handover.missing.values() for b in lacking},
        )
    )
    message = (
        f"at prefill_end decode ranks {compact(ranks)} lack the prompt's K/V of layers "
        f"{compact(layers)} for sequences prefilled by replica{'s' if len(replicas) > 1 else ''} "
        f"{compact(replicas)} (S5)"
    )
    prefill = plan.phase("prefill")
    if prefill.degrees.sp > 1:
        help_text = (
            "aggregate K/V over sp in prefill so every SP rank keeps the whole prompt:\n"
            + fix("sp-kv-aggregation")
        )
    else:
        help_text = "move the K/V to the decode ranks at the hand-over:\n" + fix(
            "kv-handover", group="world"
        )
    ctx.report(
        RULE,
        where_to_add(plan),
        message,
        help=help_text,
        where=Where(phase="decode", ranks=compact(ranks), layers=compact(layers), op="attention"),
    )


RULE = Rule(
    code="SV306",
    slug="missing-kv-handover",
    category="missing-sync",
    severity="error",
    summary="a decode rank lacks the prompt's K/V at the prefill -> decode hand-over (S5)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
