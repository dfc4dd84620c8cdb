"""## What it checks
Every collective completes (S23). In Flight Recorder's words, it reports a collective with
missing ranks, an order mismatch, a size mismatch, and a cycle of waits (a deadlock, S3: a
blocking send completes only when its recv is posted). A call completes only when all members of
its group have issued it; three ways a plan leaves members out:
- a `ranks` selector that splits a group: the selected members wait for the others (S9);
- a group that spans pipeline stages on a per-layer op (world or pp with pp > 1): members of
  other stages never run that layer (S10);
- an idle DP replica under `dp_idle: skip` that belongs to an EP group, a DP gather or world: it
  issues nothing that step (S17, S18).
Members that issue complete collectives in different orders pair different calls (S23: calls
pair by position), and members of one call must pass buffers of the same size.

A group none of whose members issue the call (a selector that leaves out whole groups, S9) makes
nobody wait: it is no hang, and its consumers' missing data is reported as a missing sync. A
deadlock stops only the ranks and ops that wait on it: races elsewhere (SV310, SV311) are still
reported beside it.

## Why it matters
The members that did issue the call wait forever: the deployment hangs, typically until the
NCCL watchdog kills it minutes later, on the first request that takes that path.

## Bad plan
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, ranks: {tp: [0, 1, 2, 3]}}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 with a world barrier after every attention: the ranks of stage 0 wait
# at their first barrier for stage 1's, which never run stage 0's layers (S10).
syncverify: 1
name: llama-3.1-70b-world-barrier-across-stages
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
  - {id: paranoid, after: attention, collective: barrier, group: world}  # <- SV601
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
name: llama-3.1-70b-world-barrier-across-stages-fixed
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

from syncverify.findings import Where
from syncverify.graph.nodes import CollNode, OpNode
from syncverify.ranges import compact
from syncverify.records import HangKind, HangReason
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    group_by,
    node_order,
    real_ranks,
    shown_group_ends,
    shown_pair,
    trace,
    where,
    where_to_add,
)
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    _missing_ranks(ctx)
    _mismatches(ctx)
    _deadlock(ctx)


def _missing_ranks(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    hangs = records_for(a, RULE.code, HangKind.MISSING_RANKS)
    idle = [h for h in hangs if h.reason == HangReason.IDLE]
    if idle:
        _idle_replica(ctx, idle)
    for (sync_index, reason), items in group_by(
        [h for h in hangs if h.reason != HangReason.IDLE], lambda h: (h.sync, h.reason)
    ).items():
        sync = plan.syncs[sync_index]
        first = min(items, key=lambda h: node_order(h.node))
        phase = first.node.phase
        at: tuple  # a span path: the sync's part to blame, or the sync itself
        if reason == HangReason.SELECTOR:
            missing = sorted(real_ranks(a, phase, {r for h in items for r in h.missing}))
            waiting = sorted(real_ranks(a, phase, {r for h in items for r in h.issuers}))
            message = (
                f"{sync.label} is issued by ranks {compact(waiting)} only; ranks "
                f"{compact(missing)} of the same {sync.group} groups never join, so the "
                f"others wait forever (S9)"
            )
            at, help_text = ("sync", sync_index, "ranks"), "select whole groups, or drop `ranks`"
        else:
            layer = first.node.layer
            what = (
                f"{sync.after} of layer {layer}" if 0 <= layer < plan.model.layers else sync.after
            )
            message = (
                f"{sync.label} over {sync.group} includes ranks "
                f"{compact(real_ranks(a, phase, first.missing))} that never run {what}: ranks "
                f"{compact(real_ranks(a, phase, first.issuers))} wait for them forever (S10)"
            )
            at = ("sync", sync_index, "group")
            help_text = "use a group whose ranks all run the anchor op (tp, ep, dp within a stage)"
        if at not in plan.spans:
            at = ("sync", sync_index)
        ctx.report(
            RULE,
            at,
            message,
            help=help_text,
            where=where(a, [h.node for h in items], sync.after, sync_index),
            trace=trace(
                a, [first.node], f"missing ranks: {compact(real_ranks(a, phase, first.missing))}"
            ),
        )


def _idle_replica(ctx, hangs) -> None:
    """S17: one finding per phase for every collective an idle, skipping replica leaves hanging."""
    a = ctx.analyses
    plan = ctx.plan
    for phase, items in group_by(
        hangs, lambda h: "decode" if h.node.phase == "handover" else h.node.phase
    ).items():
        first = min(items, key=lambda h: node_order(h.node))
        labels = [plan.syncs[i].label for i in sorted({h.sync for h in items})]
        names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        node_phase = first.node.phase
        missing = compact(real_ranks(a, node_phase, first.missing))
        message = (
            f"with dp_idle: skip an idle DP replica (ranks {missing}) issues "
            f"nothing in {phase}, but {names} need{'s' if len(labels) == 1 else ''} it: ranks "
            f"{compact(real_ranks(a, node_phase, first.issuers))} wait forever (S17, S18)"
        )
        at = ("phases", phase, "dp_idle")
        ctx.report(
            RULE,
            at if at in plan.spans else ("phases", phase),
            message,
            help=(
                "use `dp_idle: dummy_batch`: an idle replica then joins every collective "
                "with a dummy batch"
            ),
            where=where(a, [h.node for h in items]),
            trace=trace(a, [first.node], f"missing ranks: {missing} ({first.scenario})"),
        )


def _mismatches(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    hangs = records_for(a, RULE.code, HangKind.ORDER_MISMATCH, HangKind.SIZE_MISMATCH)
    for (kind, sync_index), items in group_by(hangs, lambda h: (h.kind, h.sync)).items():
        sync = plan.syncs[sync_index]
        first = items[0]
        if kind == HangKind.ORDER_MISMATCH:
            r1, r2 = shown_pair(a, first.node, first.ranks[0], first.ranks[-1])
            other = plan.syncs[a.graph.nodes[first.other]["sync"]]
            message = (
                f"ranks {r1} and {r2} issue their calls in different orders: where rank {r1} "
                f"issues {sync.label}, rank {r2} issues {other.label} (order mismatch, S23)"
            )
            shown = [first.node, first.other]
        else:
            r1, r2 = shown_group_ends(a, first.node)
            message = (
                f"members of {sync.label} pass buffers of different sizes "
                f"(size mismatch, ranks {r1} and {r2})"
            )
            shown = [first.node]
        ctx.report(
            RULE,
            ("sync", sync_index),
            message,
            help=(
                "every member of a group must issue the same collectives in the same order "
                "with the same shapes"
            ),
            where=where(a, [h.node for h in items], sync.after, sync_index),
            trace=trace(a, shown),
        )


def _deadlock(ctx) -> None:
    """Cycles of waits, named by the collectives on them (the same whatever was unrolled)."""
    a = ctx.analyses
    cycle = next(iter(records_for(a, RULE.code, HangKind.DEADLOCK)), None)
    if not cycle:
        return
    plan = ctx.plan
    colls = [n for n in cycle if n.kind == "coll"]
    syncs = sorted({a.graph.nodes[n]["sync"] for n in colls})
    at = ("sync", syncs[0]) if syncs else where_to_add(plan)
    names = ", ".join(plan.syncs[i].label for i in syncs) or "blocking calls"
    message = f"the schedule deadlocks: {names} wait on each other in a cycle (S3, S23)"
    phases = sorted({"decode" if n.phase == "handover" else n.phase for n in colls})
    # the ranks the deadlock stops: every rank with a wait on a cycle or ordered after one
    # (the cycles a search meets depend on how much was unrolled; what they block does not)
    blocked = [
        n
        for n in a.order.reachable(cycle)
        if (n.kind in ("op", "coll") and n.phase in phases)
        or (n.kind == "coll" and n.phase == "handover" and "decode" in phases)
    ]
    ranks = sorted({r for n in blocked for r in real_ranks(a, n.phase, _node_ranks(n))})
    ctx.report(
        RULE,
        at,
        message,
        help=(
            "break the cycle: issue a send_recv async (or group it with the receives it "
            "waits for, S3), or carry the token through the host (S4)"
        ),
        where=Where(phase=", ".join(phases) or None, ranks=compact(ranks) if ranks else None),
        trace=tuple(f"on the cycle: {plan.syncs[i].label}" for i in syncs),
    )


def _node_ranks(node: OpNode | CollNode) -> tuple[int, ...]:
    return (node.rank,) if node.kind == "op" else tuple(node.group)


RULE = Rule(
    code="SV601",
    slug="collective-hang",
    category="ordering",
    severity="error",
    summary="a collective never completes: missing ranks, mismatched calls or a deadlock (S23)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
