"""## What it checks
That a phase's prompt length (`tokens`) divides by its `sp` (S20): under sequence parallelism
the prompt is cut into `sp` contiguous chunks, one per SP rank (S6).

## Why it matters
The K/V aggregation before attention gathers equal chunks from every SP rank; an all-gather
needs the same shape on every member. A prompt that does not divide gives the last rank a
shorter chunk, and the collective's shapes no longer match (v1 has no padding key).

## Bad plan
```yaml
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65535}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Prompts of 65535 tokens cannot be cut into two equal SP chunks.
syncverify: 1
name: llama-3.1-70b-sp-odd-prompt
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65535}  # <- SV206
  decode: {dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
```

</details>

## Fix
```yaml
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-sp-odd-prompt-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}  # <- fixed
  decode: {dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    # S20: prompt tokens % sp (S6: sp contiguous chunks).
    for phase in ctx.plan.phases:
        sp, tokens = phase.degrees.sp, phase.tokens
        if tokens is None or sp <= 1 or tokens % sp == 0:
            continue
        ctx.report(
            RULE,
            at=("phases", phase.name, "tokens"),
            message=f"{phase.name} prompts of {tokens} tokens do not split over sp = {sp}",
            help=f"use a prompt length divisible by {sp}, e.g. tokens: {tokens + sp - tokens % sp}",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV206",
    slug="prompt-not-divisible-by-sp",
    category="shape",
    severity="error",
    summary="prompt tokens do not divide by sp",
    check=check,
    page=__doc__,
)
