"""## What it checks
With a `cluster`, whether a TP group spans more than one node (S21): ranks are placed on nodes
in rank order, `gpus_per_node` per node, so with the default layout any `tp` larger than
`gpus_per_node` (or a layout that makes another axis faster than tp) puts one TP group on
several nodes.

## Why it matters
Tensor parallelism all-reduces activations twice per layer (after `o_proj` and `down`), on the
critical path of every token. Inside a node that runs over NVLink; across nodes it runs over
the network, often an order of magnitude slower, and decode latency follows. Correct, but
usually not what you want: keep TP inside a node and use PP or DP across nodes.

## Bad plan
```yaml
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 16}
```

## Fix
```yaml
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2, stages: [63, 63]}
```
"""

from syncverify.plan import Phase
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path, ranges, report_merged


def _spanning_group(phase: Phase, per_node: int) -> tuple[tuple[int, ...], int] | None:
    """The first TP group whose ranks sit on several nodes, and how many nodes (O(world))."""
    topo = phase.topology
    if topo.sizes["tp"] == 1:
        return None
    for base in topo.group_bases("tp"):
        group = topo.group_of_base("tp", base)
        if group[0] // per_node != group[-1] // per_node:  # ranks ascend: first and last
            return tuple(group), len({member // per_node for member in group})
    return None


def check(ctx: Context) -> None:
    # S21: a TP group spanning nodes is a performance warning.
    plan, cluster = ctx.plan, ctx.plan.cluster
    if cluster is None:
        return
    per_node = cluster.gpus_per_node

    def key(phase):
        found = _spanning_group(phase, per_node)
        return (degree_path(plan, phase.name, "tp"), (phase.degrees.tp,) + found) if found else None

    def describe(facts, suffix):
        tp, group, nodes = facts
        return (
            f"the tp group of ranks {ranges(group)} (tp = {tp}) spans {nodes} nodes of {per_node} "
            f"gpus{suffix}: its all-reduces cross the inter-node link in every layer",
            f"keep tp within a node (tp <= {per_node}, tp fastest in `layout`) and use pp or dp "
            f"across nodes",
        )

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV701",
    slug="tp-group-spans-nodes",
    category="performance",
    severity="warning",
    summary="a tensor-parallel group spans nodes",
    check=check,
    page=__doc__,
)
