"""## What it checks
Tokens dispatched to their experts (an all_to_all with role dispatch, S12) are in expert order:
each rank holds the tokens routed to its experts. They must be combined back to token order (an
all_to_all with role combine over the same EP group) before any op that works per token, the
residual add first of all.

## Why it matters
Without the combine each rank adds expert outputs of other ranks' tokens to its own residual
stream: every MoE layer scrambles the batch.

## Bad plan
```yaml
parallel: {dp: 8, ep: 8}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch, layers: moe}
  # no combine
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Mixtral-8x7B with DP attention and EP8: tokens are dispatched to their experts, but the
# expert outputs never come back to their tokens before the residual add.
syncverify: 1
name: mixtral-8x7b-dp8-ep8-no-combine
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 32}
sync:  # <- SV305
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
sync:
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: mixtral-8x7b-dp8-ep8-no-combine-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
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

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    affected_layers,
    first_node,
    fix,
    group_by,
    layers_clause,
    trace,
    where,
    where_to_add,
)
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = records_for(a, RULE.code)
    for (op, _producer), items in group_by(
        defects, lambda d: (d.node.op, d.payload.producer)
    ).items():
        nodes = [d.node for d in items]
        message = (
            f"{op} reads dispatched expert outputs in expert order: they are never "
            "combined back to their tokens"
        )
        help_text = "combine them before the residual add:\n" + fix(
            "ep-combine", layers=layers_clause(plan, affected_layers(a, nodes))
        )
        ctx.report(
            RULE,
            where_to_add(plan),
            message,
            help=help_text,
            where=where(a, nodes, op),
            trace=trace(a, [first_node(nodes)], "its input is still in expert order"),
        )


RULE = Rule(
    code="SV305",
    slug="missing-expert-combine",
    category="missing-sync",
    severity="error",
    summary="dispatched expert outputs reach a per-token op without a combine",
    check=check,
    page=__doc__,
    needs_graph=True,
)
