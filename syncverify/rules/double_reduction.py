"""## What it checks
A reduction (all_reduce, reduce_scatter) applied to a value that is already complete, or that
counts some contribution twice. The classic case is a second all_reduce after `o_proj`: it
multiplies the attention output by the TP size (S19: redundant-sync, error).

## Why it matters
This is not wasted bandwidth only: the value is changed. Activations grow by the group size per
extra reduction and the model's outputs are garbage.

## Bad plan
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: attn-ar-again, after: o_proj, collective: all_reduce, group: tp}
```

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
```
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import first_node, group_by, trace, where


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = [d for d in a.placement.defects if d.kind == "double-reduction"]
    for sync_index, items in group_by(defects, lambda d: d.sync).items():
        sync = plan.syncs[sync_index]
        nodes = [d.node for d in items]
        times = max(d.get("times") for d in items)
        message = (
            f"{sync.label} reduces the already reduced output of {sync.after}: the sum is "
            f"taken again and multiplied by {times}"
        )
        ctx.report(
            RULE,
            ("sync", sync_index),
            message,
            help=f"remove {sync.label}: the value is already complete there",
            where=where(a, nodes, sync.after, sync_index),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV402",
    slug="double-reduction",
    category="redundant-sync",
    severity="error",
    summary="a reduction of an already complete value multiplies it (S19)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
