"""## What it checks
Every op that needs a whole value reads one: a partial sum (the output of a row-parallel
`o_proj` or `down`, a vocab-parallel `embed`, experts split over TP or over an EP group whose
members hold the same tokens) must be reduced over its group before the next op that needs the
whole value, in every phase, layer, microbatch and decode step. An add whose inputs disagree (a
complete residual or shared-expert output added to a partial sum) counts too (S13, S19).

## Why it matters
Each TP rank holds only its share of the sum. A norm or a residual add on a partial sum computes
garbage that looks like numbers: wrong logits with no error, on every token.

## Bad plan
```yaml
parallel: {tp: 8}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  # nothing reduces o_proj: attn_residual adds a partial sum
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 with no all-reduce after o_proj: every layer's attn_residual adds
# one TP rank's partial sum of the attention output.
syncverify: 1
name: llama-3.1-70b-no-attn-allreduce
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:  # <- SV301
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
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
name: llama-3.1-70b-no-attn-allreduce-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {after: o_proj, collective: all_reduce, group: tp}  # <- fixed
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    affected_layers,
    axis_of,
    first_node,
    fix,
    group_by,
    layers_clause,
    real_payload,
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
    for (op, producer, addend, need_size, blame), items in group_by(
        defects,
        lambda d: (
            d.node.op,
            d.payload.producer,
            d.payload.addend,
            len(d.payload.need),
            d.sync,
        ),
    ).items():
        nodes = [d.node for d in items]
        world = worlds[nodes[0].phase]
        need = items[0].payload.need
        axis = axis_of(world, need)
        experts = producer in ("experts", "shared_experts")
        if experts and world.group("ep", need[0]) == need:
            axis = "ep"  # S12: the experts' partial sum is over the EP group
        partly = len(items[0].payload.have) > 1
        source = producer or "its input"
        if addend in ("shared", "routed"):
            message = (
                f"{op} adds a complete value to a partial sum over {axis} from {source}: "
                f"the reduction must come before the add (S13)"
            )
        elif addend == "residual":
            message = (
                f"{op} adds a partial sum over {axis} (the residual stream) to a complete "
                f"value from {source}: the reduction must come before the add (S19)"
            )
        elif partly:
            message = (
                f"{source} output reaches {op} reduced over only part of its {axis} group "
                f"({len(items[0].payload.have)} of {need_size} ranks)"
            )
        else:
            message = (
                f"{source} output reaches {op} as a partial sum over {axis}: it is never reduced"
            )
        group = axis if not axis.startswith("ranks") else "tp"
        layers = layers_clause(plan, affected_layers(a, nodes))
        help_text = "reduce it before it is read:\n" + fix(
            "tp-reduce", after=producer or "o_proj", group=group, layers=layers
        )
        if experts and len({world.topo.coords(r)["dp"] for r in need}) > 1:
            # S12: the EP group spans replicas: its members hold different requests' tokens
            help_text = (
                "the EP group spans DP replicas, whose tokens differ: dispatch them to "
                "their experts and combine the outputs (S12):\n"
                + fix("ep-dispatch", layers=layers)
                + "\n"
                + fix("ep-combine", layers=layers)
            )
        at = ("sync", blame) if blame is not None else _selector_or_list(plan, producer, nodes)
        ctx.report(
            RULE,
            at,
            message,
            help=help_text,
            where=where(a, nodes, op),
            trace=trace(
                a,
                [first_node(nodes)],
                f"reads a partial sum over {axis} ranks "
                + ",".join(map(str, real_payload(a, items[0]).need)),
            ),
        )


def _selector_or_list(plan, producer, nodes) -> tuple:
    """A sync on the producer that these ranks do not issue (S9 selector), else the sync list."""
    for sync in plan.syncs:
        if (
            sync.after == producer
            and sync.ranks
            and sync.collective in ("all_reduce", "reduce_scatter")
        ):
            return ("sync", sync.index, "ranks")
    return where_to_add(plan)


RULE = Rule(
    code="SV301",
    slug="unreduced-partial-sum",
    category="missing-sync",
    severity="error",
    summary="a partial sum reaches an op that needs the whole value (missing all_reduce)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
