"""## What it checks
That `ep` is 1 in every phase when the model has no MoE layer (no `model.moe`, or a `moe.layers`
selection that leaves every layer dense). The number of experts per EP group is a shape
question (`experts % ep`, SV205).

## Why it matters
Expert parallelism places routed experts on ranks; a dense model has none to place. An `ep`
above 1 there usually means the `moe` block was lost (a wrong `hf_config`, a dropped key), so
the plan checked is not the model deployed: the MoE layers' dispatch and combine are never
verified.

## Bad plan
```yaml
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
parallel: {tp: 1, dp: 8, ep: 8}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-8B served as 8 DP replicas with an expert-parallel degree copied from a MoE plan.
syncverify: 1
name: llama-3.1-8b-dp8-ep8
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}  # <- SV105
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
parallel: {tp: 1, dp: 8}          # or describe the model's experts under model.moe
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-dp8-ep8-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path, report_merged


def check(ctx: Context) -> None:
    plan = ctx.plan
    if plan.model.moe_layers:
        return
    why = "has no moe block" if plan.model.moe is None else "has no moe layer"

    def key(phase):
        ep = phase.degrees.ep
        return (degree_path(plan, phase.name, "ep"), ep) if ep > 1 else None

    def describe(ep, suffix):
        return (
            f"ep = {ep}{suffix} but the model {why}: there are no experts to place",
            "set ep: 1, or describe the experts under `model.moe`",
        )

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV105",
    slug="ep-on-dense-model",
    category="config",
    severity="error",
    summary="expert parallelism on a model without MoE layers",
    check=check,
    page=__doc__,
)
