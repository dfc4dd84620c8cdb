"""## What it checks
That the routed experts (`model.moe.experts`) divide by each phase's `ep` (S20): experts sit in
contiguous blocks of `experts / ep` over the EP members (S12). An `ep` larger than the expert
count leaves EP ranks with no expert at all.

## Why it matters
Every EP rank must own the same number of experts for the dispatch to address them by block;
an uneven placement has no block size, and a rank without experts receives tokens it cannot
process. Engines require the expert count to divide by the EP size.

## Bad plan
```yaml
model:
  layers: 32
  hidden: 4096
  heads: 32
  kv_heads: 8
  vocab: 32000
  moe: {experts: 8, top_k: 2, layers: all, ffn: 14336}
parallel: {tp: 1, dp: 16, ep: 16}     # 8 experts over 16 ranks
```

## Fix
```yaml
parallel: {tp: 1, dp: 16, ep: 8}
```
"""

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import report_indivisible


def check(ctx: Context) -> None:
    # S20: experts % ep; S12: experts sit in contiguous blocks over the EP members.
    model = ctx.plan.model
    if model.moe is None or not model.moe_layers:
        return
    experts = model.moe.experts

    def message(ep: int, suffix: str) -> str:
        empty = f": {ep - experts} ep ranks would hold no expert" if ep > experts else ""
        return f"{experts} experts do not split over ep = {ep}{suffix}{empty}"

    report_indivisible(ctx, RULE, experts, "ep", message)


RULE = Rule(
    code="SV205",
    slug="experts-not-divisible-by-ep",
    category="shape",
    severity="error",
    summary="routed experts do not divide by ep",
    check=check,
    page=__doc__,
)
