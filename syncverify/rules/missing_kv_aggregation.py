"""## What it checks
Under sequence parallelism in prefill (sp > 1) each SP rank holds K/V for its own chunk of the
prompt only; attention needs the K/V of every earlier token of the sequence, so K/V must be
aggregated over the SP group (an all_gather of the `kv` output of `qkv`) before attention.

## Why it matters
Without the aggregation every token attends only to the keys of its own chunk: the attention
output, the KV cache handed to decode and every generated token are wrong.

## Bad plan
```yaml
parallel: {tp: 8}
phases:
  prefill: {sp: 2, tokens: 65536}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # no K/V aggregation over sp
```

## Fix
```yaml
sync:
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
```
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    first_node,
    fix,
    group_by,
    trace,
    where,
    where_to_add,
)


def check(ctx) -> None:
    a = ctx.analyses
    defects = [d for d in a.placement.defects if d.kind == "kv-not-aggregated"]
    for (phase, sp), items in group_by(defects, lambda d: (d.node[1], d.get("sp"))).items():
        nodes = [d.node for d in items]
        share = f"1/{sp} of the prompt" if sp and sp > 1 else "part of the sequence"
        message = f"attention on SP ranks reads only its own chunk's K/V ({share}) in {phase}"
        ctx.report(
            RULE,
            where_to_add(ctx.plan),
            message,
            help="aggregate K/V over the SP group before attention:\n" + fix("sp-kv-aggregation"),
            where=where(a, nodes, "attention"),
            trace=trace(a, [first_node(nodes)], "K/V of the other SP chunks never reach it"),
        )


RULE = Rule(
    code="SV303",
    slug="missing-kv-aggregation",
    category="missing-sync",
    severity="error",
    summary="attention under SP reads the K/V of its own prompt chunk only",
    check=check,
    page=__doc__,
    needs_graph=True,
)
