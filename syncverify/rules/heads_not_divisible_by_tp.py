"""## What it checks
That the number of attention heads (`model.heads`) divides by each phase's `tp` (S20): a
column-parallel `qkv` gives every TP rank `heads / tp` whole query heads.

## Why it matters
Attention is computed per head; a head cannot be cut between ranks without changing the
softmax. Engines refuse a tensor-parallel size that does not divide the head count (vLLM
raises at start-up), so a plan that passes here would not start. With no per-rank head slice
the plan is not unrolled until tp is fixed.

## Bad plan
```yaml
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
parallel: {tp: 6, pp: 2}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B with TP6 x PP2 on two 6-GPU nodes: 64 heads, 8 KV heads and the 28672-wide MLP
# do not split over 6 ranks.
syncverify: 1
name: llama-3.1-70b-tp6
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 6}
parallel: {tp: 6, pp: 2}  # <- SV201, SV202, SV203
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

## Fix
```yaml
parallel: {tp: 8, pp: 2}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-tp6-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}  # <- fixed
parallel: {tp: 8, pp: 2}  # <- fixed
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

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import report_indivisible


def check(ctx: Context) -> None:
    # S20: heads % tp.
    heads = ctx.plan.model.heads
    report_indivisible(
        ctx,
        RULE,
        heads,
        "tp",
        lambda tp, suffix: f"{heads} attention heads do not split over tp = {tp}{suffix}",
    )


RULE = Rule(
    code="SV201",
    slug="heads-not-divisible-by-tp",
    category="shape",
    severity="error",
    summary="attention heads do not divide by tp",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
