"""## What it checks
In a phase that allows overlap (`comm_compute`, `two_batch`), a blocking collective stalls its
rank until it completes. When the op that follows it on that rank does not read its output (the
other microbatch's segment under two_batch, the shared experts beside a combine, a sender's next
microbatch), the same collective issued `async` with `wait_before` its first consumer would run
beside that op (S21: performance, warning).

## Why it matters
The phase pays for overlap (memory for two microbatches, async streams) and then waits anyway:
communication time stays on the critical path.

## Bad plan
```yaml
parallel: {dp: 8, ep: 8}
phases:
  prefill: {microbatches: 2, overlap: two_batch}
  decode: {microbatches: 2, overlap: two_batch}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch, layers: moe,
     async: true, wait_before: experts}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 overlapping communication with compute, but the stage transfer is
# blocking: the sending stage waits for it before the next microbatch's embed, which does not
# read it (S21).
syncverify: 1
name: llama-3.1-70b-blocking-stage-transfer
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}  # <- SV704
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe,
     async: true, wait_before: mlp_residual}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-blocking-stage-transfer-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp,
     async: true, wait_before: attn_norm}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import shown, trace
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    plan = ctx.plan
    a = ctx.analyses
    by_sync: dict = {}
    for item in records_for(ctx.analyses, RULE.code):
        by_sync.setdefault(item.sync, []).append(item)
    for sync_index, items in sorted(by_sync.items()):
        sync = plan.syncs[sync_index]
        first = items[0]
        phases = " and ".join(f"{i.phase} (overlap: {plan.phase(i.phase).overlap})" for i in items)
        nxt = shown(a, first.next_op)
        message = (
            f"{sync.label} blocks in {phases} although the next op on that rank "
            f"({nxt.op} of microbatch {nxt.mb}) does not read it: an async call would "
            f"overlap them"
        )
        consumer = _first_consumer(ctx.analyses.graph, first.example, first.next_op.rank)
        help_text = "issue it async and await it before its first consumer:\n  async: true"
        if consumer:
            help_text += f"\n  wait_before: {consumer}"
        ctx.report(
            RULE,
            ("sync", sync_index),
            message,
            help=help_text,
            trace=trace(a, [first.example, first.next_op]),
        )


def _first_consumer(graph, coll, rank):
    ops = [
        v
        for _, v, e in graph.out_edges(coll, data=True)
        if e["data"] and v.kind == "op" and v.rank == rank
    ]
    return min(ops, key=lambda v: graph.nodes[v]["position"]).op if ops else None


RULE = Rule(
    code="SV704",
    slug="blocking-collective-could-be-async",
    category="performance",
    severity="warning",
    summary="a blocking collective in an overlap phase that async would hide (S21)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
