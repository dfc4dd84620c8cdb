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

## Fix
```yaml
parallel: {tp: 8, pp: 2}
```
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
