"""## What it checks
A sync point's `layers` selection: every index it names is a layer of the model (0 to
`model.layers - 1`); it selects at least one layer (`moe` on a dense model, or `dense` on a
model whose layers are all MoE, selects none); and it is given only on a per-layer anchor (an
op inside a layer, not `embed`, `final_norm`, `lm_head`, `sample` or `stage_boundary`).
`layers` on a `prefill_end` sync is `prefill-end-scope` (SV113).

## Why it matters
`layers` says where a per-layer collective is issued. An index past the model's last layer
names nothing, which usually means the selection was written for another model (or counted
from 1); a selection of no layer removes the sync from the plan without saying so; and on a
model-level op the key means nothing and hides what the author intended.

## Bad plan
```yaml
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
sync:
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp, layers: "1..32"}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# The attention all-reduce's layers are counted from 1: layer 80 does not exist.
syncverify: 1
name: llama-3.1-70b-layers-from-one
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, layers: "0..80"}  # <- SV110
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp, layers: "0..31"}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-layers-from-one-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, layers: "0..79"}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import is_written, ranges


def _report(ctx: Context, sync, message: str, help: str) -> None:
    ctx.report(
        RULE,
        at=sync.path + ("layers",),
        message=message,
        help=help,
        where=Where(op=sync.after, sync=sync.label),
    )


def _check_sync(ctx: Context, sync) -> None:
    count = ctx.plan.model.layers
    if not sync.is_per_layer:
        if sync.after != "prefill_end":
            _report(
                ctx,
                sync,
                f"{sync.label} selects layers but {sync.after} is not a per-layer op",
                "remove `layers`: the sync runs wherever its op runs",
            )
        return
    if sync.layers is None:
        return
    outside = sorted(layer for layer in sync.layers if not 0 <= layer < count)
    if outside:
        _report(
            ctx,
            sync,
            f"{sync.label} selects layers {ranges(outside)}, outside the model's {count} layers "
            f"(0-{count - 1})",
            f"select layers between 0 and {count - 1}, "
            f'e.g. `layers: "0..{count - 1}"` or `layers: all`',
        )
    elif not sync.layers:
        _report(
            ctx,
            sync,
            f"{sync.label} selects no layer of the {count}-layer model",
            "select the layers it belongs to (`all`, `dense`, `moe` or indices), "
            "or remove the sync",
        )


def check(ctx: Context) -> None:
    for sync in ctx.plan.syncs:
        if sync.layers is not None or is_written(ctx.plan, sync.path + ("layers",)):
            _check_sync(ctx, sync)


RULE = Rule(
    code="SV110",
    slug="invalid-layer-selection",
    category="config",
    severity="error",
    summary="a sync point's layers lie outside the model, select nothing, or do not apply",
    check=check,
    page=__doc__,
)
