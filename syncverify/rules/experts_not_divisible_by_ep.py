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

<details><summary>A complete plan with this defect</summary>

```yaml
# Mixtral-8x7B's eight experts over sixteen EP ranks: half the ranks would hold none.
syncverify: 1
name: mixtral-8x7b-dp16-ep16
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 1, dp: 16, ep: 16}  # <- SV205
phases:
  prefill: {microbatches: 1, tokens: 4096}
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
parallel: {tp: 1, dp: 16, ep: 8}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: mixtral-8x7b-dp16-ep16-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 1, dp: 16, ep: 8}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 32}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
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
