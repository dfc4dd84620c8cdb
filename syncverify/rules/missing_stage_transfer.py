"""## What it checks
With pp > 1 every stage after the first must receive the previous stage's activations: a sync
`after: stage_boundary` (a send_recv over pp, S3) whose group reaches the next stage, in every
phase the stages run.

## Why it matters
A stage with no input has nothing to compute on: the runtime either waits forever for a tensor
no one sends or computes on an uninitialised buffer.

## Bad plan
```yaml
parallel: {tp: 8, pp: 2}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # no stage_boundary transfer: stage 1 never receives stage 0's activations
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 whose stage transfer runs in prefill only: in decode, stage 1 never
# receives stage 0's activations.
syncverify: 1
name: llama-3.1-70b-no-decode-stage-transfer
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:  # <- SV304
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, phases: [prefill]}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-no-decode-stage-transfer-fixed
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
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, phases: [prefill]}
  - {after: stage_boundary, collective: send_recv, group: pp, phases: [decode]}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
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
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = records_for(a, RULE.code)
    worlds = a.worlds
    for phase, items in group_by(defects, lambda d: d.node.phase).items():
        nodes = [d.node for d in items]
        world = worlds[phase]
        stages = sorted({world.topo.stage_of(n.rank) for n in nodes})
        message = (
            f"{'stages' if len(stages) > 1 else 'stage'} {', '.join(map(str, stages))} never "
            f"receive{'' if len(stages) > 1 else 's'} the previous stage's activations in {phase}"
        )
        at = where_to_add(plan)
        for sync in plan.syncs:
            if sync.after == "stage_boundary" and sync.runs_in(phase):
                at = ("sync", sync.index, "group")
                message += f": {sync.label} over {sync.group} does not reach the next stage"
                break
        ctx.report(
            RULE,
            at,
            message,
            help="transfer the activations at each stage boundary:\n" + fix("pp-transfer"),
            where=where(a, nodes),
            trace=trace(a, [first_node(nodes)], "no stage_boundary transfer feeds it"),
        )


RULE = Rule(
    code="SV304",
    slug="missing-stage-transfer",
    category="missing-sync",
    severity="error",
    summary="a pipeline stage never receives the previous stage's activations",
    check=check,
    page=__doc__,
    needs_graph=True,
)
