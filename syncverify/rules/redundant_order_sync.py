"""## What it checks
A sync point that orders nothing: a barrier, or a collective that changes no value anyone reads,
whose removal leaves every data edge of the DAG ordered and adds no hang (S19: redundant-sync,
warning). syncverify removes it from the graph and checks every producer-consumer pair again.
(A sync over a group of one is SV401.)

## Why it matters
Every instance is a collective call on the critical path: a barrier after each attention costs
a round trip per layer, per microbatch, per decode step, and buys nothing the all-reduces do not
already guarantee. The seed: "over-synchronization reduces throughput unnecessarily".

## Bad plan
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: paranoid, after: attention, collective: barrier, group: tp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 with a TP barrier after every attention: the all-reduce after o_proj
# already orders everything it orders (a collective per layer for nothing).
syncverify: 1
name: llama-3.1-70b-tp-barrier-per-layer
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: paranoid, after: attention, collective: barrier, group: tp}  # <- SV404
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-tp-barrier-per-layer-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
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

from syncverify.rule import Rule
from syncverify.rule_support.record_owners import records_for

REASONS = {
    "barrier": "it orders nothing that the plan's other syncs do not already order",
    "identity": "it leaves every value as it was and orders nothing the other syncs do not",
    "unused": "nothing reads what it delivers, and it orders nothing the other syncs do not",
    "handover": "every decode rank already holds the K/V it needs at prefill_end without it (S5)",
}


def check(ctx) -> None:
    plan = ctx.plan
    for item in records_for(ctx.analyses, RULE.code):
        sync = plan.syncs[item.sync]
        cost = ", ".join(
            f"{calls} per rank per {'step' if phase == 'decode' else 'prefill pass'} in {phase}"
            for phase, calls in item.calls_per_step
        )
        message = f"{sync.label} is redundant: {REASONS[item.reason]}"
        if cost:
            message += f" (it costs {cost})"
        ctx.report(RULE, ("sync", item.sync), message, help=f"remove {sync.label}")


RULE = Rule(
    code="SV404",
    slug="redundant-order-sync",
    category="redundant-sync",
    severity="warning",
    summary="a barrier or collective that orders nothing the plan needs (S19)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
