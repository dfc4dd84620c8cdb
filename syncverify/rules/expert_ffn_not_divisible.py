"""## What it checks
That the per-expert MLP width (`model.moe.ffn`) divides by the expert-TP degree of each phase
(S20). Expert TP is `tp` when `ep = 1` (each expert is split over the TP group like a dense
MLP, S12), else 1 (each expert lives whole on one EP rank), so only `ep = 1` with `tp > 1` can
fail.

## Why it matters
With `ep = 1` every expert's `gate_up` and `down` are cut over the TP ranks along the
intermediate dimension. A width that does not divide leaves ranks with different expert
shapes, which no engine loads.

## Bad plan
```yaml
model:                        # Mixtral-8x22B: 48 heads, 8 kv heads, 8 experts 16384 wide
  layers: 56
  hidden: 6144
  heads: 48
  kv_heads: 8
  vocab: 32000
  moe: {experts: 8, top_k: 2, layers: all, ffn: 16384}
parallel: {tp: 24}            # ep = 1: 16384 / 24 does not divide
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Mixtral-8x22B with TP24 over three nodes and ep = 1: each 16384-wide expert is split over
# 24 ranks (and TP crosses nodes).
syncverify: 1
name: mixtral-8x22b-tp24
model:
  layers: 56
  hidden: 6144
  heads: 48
  kv_heads: 8
  vocab: 32000
  max_context: 65536
  moe: {experts: 8, top_k: 2, layers: all, ffn: 16384}
cluster: {nodes: 3, gpus_per_node: 8}
parallel: {tp: 24}  # <- SV204, SV701
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 72}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: tp, layers: moe}
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
name: mixtral-8x22b-tp24-fixed
model:
  layers: 56
  hidden: 6144
  heads: 48
  kv_heads: 8
  vocab: 32000
  max_context: 65536
  moe: {experts: 8, top_k: 2, layers: all, ffn: 16384}
cluster: {nodes: 1, gpus_per_node: 8}  # <- fixed
parallel: {tp: 8}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 72}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: tp, layers: moe}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from math import gcd

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import report_indivisible


def expert_tp(phase) -> int:
    """S20: expert TP is tp when ep = 1, else 1."""
    return phase.degrees.tp if phase.degrees.ep == 1 else 1


def check(ctx: Context) -> None:
    # S20 with S12: expert TP is tp when ep = 1, else 1.
    model = ctx.plan.model
    if model.moe is None or not model.moe.ffn or not model.moe_layers:
        return
    width = model.moe.ffn
    report_indivisible(
        ctx,
        RULE,
        width,
        "tp",
        lambda tp, suffix: (
            f"the per-expert width moe.ffn = {width} does not split over "
            f"tp = {tp}{suffix} (ep = 1: each expert is split over tp)"
        ),
        suggest_from=gcd(width, model.heads),
        degree_of=expert_tp,
        more_help=", or place whole experts with ep > 1",
    )


RULE = Rule(
    code="SV204",
    slug="expert-ffn-not-divisible",
    category="shape",
    severity="error",
    summary="the per-expert mlp width does not divide by the expert tp degree",
    check=check,
    page=__doc__,
)
