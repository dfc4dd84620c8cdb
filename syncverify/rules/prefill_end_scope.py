"""## What it checks
That a sync point `after: prefill_end` has no `phases` and no `layers` (S5): it runs once,
between prefill and decode, over the decode phase's groups, and moves whatever it moves for
every layer.

## Why it matters
The hand-over from prefill to decode is not part of either phase and not part of a layer. A
`phases` or `layers` key there reads as a restriction the runtime cannot apply (the K/V of the
layers left out would never reach the decode ranks), so the plan says something the checker
cannot verify and the deployment cannot do. The plan is not unrolled until the key is removed.

## Bad plan
```yaml
sync:
  - {id: kv-handover, after: prefill_end, collective: all_gather, group: tp, tensor: kv, \
phases: [decode], layers: "0..39"}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Prefill on TP8, decode on two TP4 replicas: the K/V hand-over is restricted to half the
# layers.
syncverify: 1
name: llama-3.1-70b-handover-half-the-layers
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {tp: 4, dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
  - {id: kv-handover, after: prefill_end, collective: all_gather, group: world, tensor: kv,
     layers: "0..39"}  # <- SV113
```

</details>

## Fix
```yaml
sync:
  - {id: kv-handover, after: prefill_end, collective: all_gather, group: tp, tensor: kv}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-handover-half-the-layers-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {tp: 4, dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
  - {id: kv-handover, after: prefill_end, collective: all_gather, group: world, tensor: kv}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import is_written


def check(ctx: Context) -> None:
    # S5: a prefill_end sync runs once, between the phases: no phases, no layers.
    for sync in ctx.plan.syncs:
        if sync.after != "prefill_end":
            continue
        for key in ("phases", "layers"):
            if is_written(ctx.plan, sync.path + (key,)):
                ctx.report(
                    RULE,
                    at=sync.path + (key,),
                    message=f"{sync.label} is after prefill_end, which runs once between the "
                    f"phases over every layer, but restricts `{key}`",
                    help=f"remove `{key}` from {sync.label}",
                    where=Where(op="prefill_end", sync=sync.label),
                )


RULE = Rule(
    code="SV113",
    slug="prefill-end-scope",
    category="config",
    severity="error",
    summary="phases or layers on a prefill_end sync point",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
