"""## What it checks
That a prompt leaves room for at least one decoded token (S20): `tokens + 1 <= max_context`
when the model states its `max_context` (`max_position_embeddings`).

## Why it matters
Decode appends one position per step; a prompt that already fills the context window has no
position for the first generated token. The position embedding (RoPE tables, KV cache blocks)
runs out and engines reject the request.

## Bad plan
```yaml
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 32000, \
max_context: 32768}
phases:
  prefill: {microbatches: 1, tokens: 32768}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Prompts that fill Mixtral-8x7B's whole 32768-token context leave no room for a decoded token.
syncverify: 1
name: mixtral-8x7b-full-context
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 1, tokens: 32768}  # <- SV208
  decode: {microbatches: 1, batch: 32}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
phases:
  prefill: {microbatches: 1, tokens: 32000}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: mixtral-8x7b-full-context-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 1, tokens: 32000}  # <- fixed
  decode: {microbatches: 1, batch: 32}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    # S20: tokens + 1 > max_context is a shape error.
    limit = ctx.plan.model.max_context
    if limit is None:
        return
    for phase in ctx.plan.phases:
        if phase.tokens is None or phase.tokens + 1 <= limit:
            continue
        ctx.report(
            RULE,
            at=("phases", phase.name, "tokens"),
            message=f"{phase.name} prompts of {phase.tokens} tokens leave no room to "
            "decode a token "
            f"in the model's context of {limit}",
            help=f"use prompts of at most {limit - 1} tokens",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV208",
    slug="prompt-exceeds-context",
    category="shape",
    severity="error",
    summary="the prompt leaves no room for a decoded token within max_context",
    check=check,
    page=__doc__,
)
