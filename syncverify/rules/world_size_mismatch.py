"""## What it checks
When the plan has a `cluster`, that each phase uses exactly `nodes * gpus_per_node` ranks:
`tp * sp * dp * pp` of the phase, with its overrides (plan format: cluster).

## Why it matters
A plan for 12 ranks on 16 GPUs leaves GPUs idle or, more often, says a different thing from
what the launcher will start: the process groups the runtime builds then differ from the ones
the plan was checked against, and every other finding is about a layout that never runs.

## Bad plan
```yaml
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 6, pp: 2}          # 12 ranks on 16 GPUs
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 is 16 ranks, but the cluster section says three nodes.
syncverify: 1
name: llama-3.1-70b-three-nodes
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 3, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}  # <- SV101
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

## Fix
```yaml
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}          # 16 ranks
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-three-nodes-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}  # <- fixed
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

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import (
    is_written,
    plural,
    report_merged,
    world_override_path,
)


def _factors(degrees) -> str:
    used = [
        f"{axis} {degrees.of(axis)}" for axis in ("tp", "sp", "dp", "pp") if degrees.of(axis) > 1
    ]
    return " x ".join(used) or "all degrees 1"


def _where_written(ctx: Context, phase: str) -> tuple:
    plan = ctx.plan
    override = world_override_path(plan, phase)
    overridden = plan.phase(phase)
    if override and overridden and overridden.degrees.world != plan.parallel.world:
        return override
    return ("parallel",) if is_written(plan, ("parallel",)) else ("cluster",)


def check(ctx: Context) -> None:
    _plan, cluster = ctx.plan, ctx.plan.cluster
    if cluster is None:
        return

    def key(phase):
        degrees = phase.degrees
        return (_where_written(ctx, phase.name), degrees) if degrees.world != cluster.size else None

    def describe(degrees, suffix):
        return (
            f"the plan uses {degrees.world} ranks ({_factors(degrees)}){suffix} but the cluster "
            f"has {cluster.size} gpus ({plural(cluster.nodes, 'node')} x {cluster.gpus_per_node})",
            f"make tp x sp x dp x pp equal {cluster.size} in every phase, or fix `cluster`",
        )

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV101",
    slug="world-size-mismatch",
    category="config",
    severity="error",
    summary="a phase's world size differs from the cluster's gpu count",
    check=check,
    page=__doc__,
)
