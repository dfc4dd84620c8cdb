"""## What it checks
That the dense MLP width (`model.ffn`) divides by each phase's `tp` (S20), when the model has
dense layers: `gate_up` is column-parallel and `down` row-parallel, so each rank holds
`ffn / tp` columns. Models whose layers are all MoE are not checked (their `ffn` is unused).

## Why it matters
The two MLP matmuls are cut along the intermediate dimension. A width that does not divide
gives ranks different shapes: the row-parallel `down` outputs still add up, but no engine
loads such a split, and the per-rank weights the plan implies do not exist.

## Bad plan
```yaml
model: {layers: 40, hidden: 6144, heads: 48, kv_heads: 4, ffn: 16384, vocab: 32000}
parallel: {tp: 12}             # 48 heads split, 16384 columns do not
```

<details><summary>A complete plan with this defect</summary>

```yaml
# 48 heads and 4 KV heads split over 12 ranks; the 16384-wide MLP does not.
syncverify: 1
name: dense-48-heads-tp12
model: {layers: 40, hidden: 6144, heads: 48, kv_heads: 4, ffn: 16384, vocab: 32000}
cluster: {nodes: 1, gpus_per_node: 12}
parallel: {tp: 12}  # <- SV203
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 8}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: dense-48-heads-tp12-fixed
model: {layers: 40, hidden: 6144, heads: 48, kv_heads: 4, ffn: 16384, vocab: 32000}
cluster: {nodes: 1, gpus_per_node: 8}  # <- fixed
parallel: {tp: 8}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from math import gcd

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import report_indivisible


def check(ctx: Context) -> None:
    # S20: ffn % tp, only where dense layers use it.
    model = ctx.plan.model
    if not model.ffn or not model.dense_layers:
        return
    ffn = model.ffn
    report_indivisible(
        ctx,
        RULE,
        ffn,
        "tp",
        lambda tp, suffix: f"the mlp width ffn = {ffn} does not split over tp = {tp}{suffix}",
        suggest_from=gcd(ffn, model.heads),
    )


RULE = Rule(
    code="SV203",
    slug="ffn-not-divisible-by-tp",
    category="shape",
    severity="error",
    summary="the dense mlp width does not divide by tp",
    check=check,
    page=__doc__,
)
