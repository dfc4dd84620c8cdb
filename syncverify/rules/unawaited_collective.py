"""## What it checks
Every read of a collective's output is ordered after the collective completes on the reading
rank (S11, S22): an async collective must name, in `wait_before`, an op no later than its first
consumer on that rank. An async collective with no `wait_before` is never awaited (the DP gather
read by the output sink is the one exception, S18); one awaited after its consumer is read stale.
For a send_recv the consumer is the receiver. A blocking call over a group of one (a send_recv
over pp = 1) completes when issued, so what follows it reads it in order. Reads by ops that a
deadlock (SV601) never lets run are not judged; every other read is, deadlock or not.

## Why it matters
The consumer reads the buffer as it was before the collective landed: the previous microbatch's
activations, an unreduced partial sum, last step's token. Results are wrong intermittently,
depending on timing: the hardest kind of bug to find in production.

## Bad plan
```yaml
parallel: {tp: 8, pp: 2}
phases:
  prefill: {overlap: comm_compute}
  decode: {overlap: comm_compute}
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, async: true}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Mixtral-8x7B DP8 x EP8 with two-batch overlap: the combine all-to-all is issued async and
# never awaited, so the residual add may read the expert outputs before they are back.
syncverify: 1
name: mixtral-8x7b-tbo-combine-never-awaited
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 2, tokens: 4096, overlap: two_batch}
  decode: {microbatches: 2, batch: 32, overlap: two_batch}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe, async: true, wait_before: experts}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine,
     layers: moe, async: true}  # <- SV310
  - {id: dp-out, after: sample, collective: gather, group: dp, async: true}
```

</details>

## Fix
```yaml
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, async: true,
     wait_before: attn_norm}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: mixtral-8x7b-tbo-combine-never-awaited-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 2, tokens: 4096, overlap: two_batch}
  decode: {microbatches: 2, batch: 32, overlap: two_batch}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe, async: true, wait_before: experts}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine,
     layers: moe, async: true, wait_before: mlp_residual}  # <- fixed
  - {id: dp-out, after: sample, collective: gather, group: dp, async: true}
```

</details>
"""

from syncverify.graph.nodes import describe
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import group_by, trace, where
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    races = records_for(a, RULE.code)
    for (sync_index, reason), items in group_by(races, lambda r: (r.sync, r.reason)).items():
        sync = plan.syncs[sync_index]
        nodes = [r.consumer for r in items]
        first = min(items, key=lambda r: _position(a.graph, r.consumer))
        consumers = sorted(
            {_op_name(n) for n in nodes}, key=lambda o: _position_of_op(items, o, a.graph)
        )
        op = " and ".join(consumers)
        note: str | None
        at: tuple  # a span path: the sync's part to blame, or the sync itself
        if reason == "unawaited":
            message = (
                f"async {sync.collective} {sync.label} is never awaited: {op} "
                f"read{'' if ' and ' in op else 's'} its output before it completes"
            )
            note = "no wait orders the collective's completion before this read"
            at = ("sync", sync_index, "async")
        elif reason == "awaited-late":
            message = (
                f"{sync.label} is awaited before {_wait_name(first.wait, sync)}, "
                f"after {op} already read its output"
            )
            note = (
                f"the wait comes later: {describe(first.wait, plan.model.layers)}"
                if first.wait
                else None
            )
            at = ("sync", sync_index, "wait_before")
        else:
            message = (
                f"{op} reads the output of {sync.label} with nothing ordering it "
                "after its completion"
            )
            note = None
            at = ("sync", sync_index)
        if at not in plan.spans:
            at = ("sync", sync_index)
        ctx.report(
            RULE,
            at,
            message,
            help=f"await it before its first consumer:\n  wait_before: {_op_name(first.consumer)}",
            where=where(a, nodes, op, sync_index),
            trace=trace(a, [first.producer, first.consumer], note),
        )


def _op_name(node) -> str:
    if node.kind == "op":
        return node.op
    if node.kind == "coll":
        return f"sync #{node.sync_index + 1} (at its issue)"
    return node.kind


def _wait_name(wait, sync) -> str:
    """Where the collective is awaited: an op, or the output sink (S18), which waits for it."""
    if not wait:
        return sync.wait_before
    if wait[0] == "sink":
        return "the output sink"
    return _op_name(wait)


def _position(graph, node) -> int:
    return graph.nodes[node].get("position", 0)


def _position_of_op(items, op, graph) -> int:
    return min(_position(graph, r.consumer) for r in items if _op_name(r.consumer) == op)


RULE = Rule(
    code="SV310",
    slug="unawaited-collective",
    category="missing-sync",
    severity="error",
    summary="an op reads a collective's output before the collective completes (a race)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
