"""## What it checks
At the hand-over from prefill to decode (S5), every decode rank must hold, for all prompt tokens,
the K/V of the layers and KV heads it owns in decode, for every sequence it may decode: written on
that rank during prefill, or moved by a sync `after: prefill_end` (an all_gather or all_to_all
over a decode group). With the same degrees and layout in both phases each sequence stays on its
replica; otherwise any decode replica may receive it.

## Why it matters
A decode rank without the prompt's K/V attends to an empty or stale cache: the first generated
token is already wrong, and every one after it.

## Bad plan
```yaml
parallel: {tp: 8}
phases:
  prefill: {sp: 2, tokens: 65536}
  decode: {dp: 2, batch: 64}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # each prefill SP rank keeps only its half of the prompt's K/V
```

## Fix
```yaml
sync:
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
```
"""

from syncverify.findings import Where
from syncverify.graph.reduction import expand
from syncverify.ranges import compact
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import fix, real_ranks, real_replicas, where_to_add


def check(ctx) -> None:
    handover = ctx.analyses.handover
    if handover is None or not handover.missing:
        return
    plan = ctx.plan
    ranks = sorted(real_ranks(ctx.analyses, "decode", {r for r, _ in handover.missing}))
    classes = ctx.analyses.graph.graph.get("layer_classes") or {}
    layers = sorted(expand(classes, {l for _, l in handover.missing}))
    replicas = sorted(
        real_replicas(
            ctx.analyses,
            "prefill",
            {b[1] for lacking in handover.missing.values() for b in lacking},
        )
    )
    message = (
        f"at prefill_end decode ranks {compact(ranks)} lack the prompt's K/V of layers "
        f"{compact(layers)} for sequences prefilled by replica{'s' if len(replicas) > 1 else ''} "
        f"{compact(replicas)} (S5)"
    )
    prefill = plan.phase("prefill")
    if prefill.degrees.sp > 1:
        help_text = (
            "aggregate K/V over sp in prefill so every SP rank keeps the whole prompt:\n"
            + fix("sp-kv-aggregation")
        )
    else:
        help_text = "move the K/V to the decode ranks at the hand-over:\n" + fix(
            "kv-handover", group="world"
        )
    ctx.report(
        RULE,
        where_to_add(plan),
        message,
        help=help_text,
        where=Where(phase="decode", ranks=compact(ranks), layers=compact(layers), op="attention"),
    )


RULE = Rule(
    code="SV306",
    slug="missing-kv-handover",
    category="missing-sync",
    severity="error",
    summary="a decode rank lacks the prompt's K/V at the prefill -> decode hand-over (S5)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
