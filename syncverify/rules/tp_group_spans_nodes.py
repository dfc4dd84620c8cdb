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

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-405B with TP16 over two 8-GPU nodes: every layer's all-reduces cross nodes.
syncverify: 1
name: llama-3.1-405b-tp16
model: {layers: 126, hidden: 16384, heads: 128, kv_heads: 8, ffn: 53248, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 16}  # <- SV701
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2, stages: [63, 63]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-405b-tp16-fixed
model: {layers: 126, hidden: 16384, heads: 128, kv_heads: 8, ffn: 53248, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2, stages: [63, 63]}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
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
