"""## What it checks
With dp > 1 the output sink of each (phase, step, microbatch) must receive every replica's
sampled tokens, and it reads them only through a `gather` (or all_gather) over dp `after:
sample` (S18): one per microbatch, in microbatch order. It may be async with no wait_before:
the sink waits for it.

## Why it matters
Without the gather the serving front end sees the tokens of one replica only: the other
replicas' requests never get their answers.

## Bad plan
```yaml
parallel: {tp: 4, dp: 2}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # no gather of the DP replicas' outputs
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-8B as two DP replicas of TP4 whose output gather runs in prefill only: in decode
# replica 1's tokens never reach the output sink (S18).
syncverify: 1
name: llama-3.1-8b-tp4-dp2-no-decode-gather
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 128}
sync:  # <- SV307
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
```

</details>

## Fix
```yaml
sync:
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-dp2-no-decode-gather-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
  - {after: sample, collective: gather, group: dp, phases: [decode]}  # <- fixed
```

</details>
"""

from syncverify.ranges import compact
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    first_node,
    fix,
    group_by,
    real_payload,
    trace,
    where,
    where_to_add,
)
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    defects = records_for(a, RULE.code)
    for phase, items in group_by(defects, lambda d: d.node.phase).items():
        nodes = [d.node for d in items]
        missing = sorted({r for d in items for r in real_payload(a, d).missing})
        dp = ctx.plan.phase(phase).degrees.dp
        message = (
            f"the {phase} outputs of DP replica{'s' if len(missing) > 1 else ''} "
            f"{compact(missing)} never reach the output sink: with dp = {dp} they must be "
            f"gathered over dp after sample (S18)"
        )
        ctx.report(
            RULE,
            where_to_add(ctx.plan),
            message,
            help=fix("dp-gather"),
            where=where(a, nodes, "sample"),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV307",
    slug="outputs-not-gathered",
    category="missing-sync",
    severity="error",
    summary="with dp > 1 the replicas' sampled tokens never reach the output sink (S18)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
