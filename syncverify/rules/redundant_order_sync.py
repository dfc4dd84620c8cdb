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

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
```
"""

from syncverify.rule import Rule

REASONS = {
    "barrier": "it orders nothing that the plan's other syncs do not already order",
    "identity": "it leaves every value as it was and orders nothing the other syncs do not",
    "unused": "nothing reads what it delivers, and it orders nothing the other syncs do not",
    "handover": "every decode rank already holds the K/V it needs at prefill_end without it (S5)",
}


def check(ctx) -> None:
    plan = ctx.plan
    for item in ctx.analyses.redundant:
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
