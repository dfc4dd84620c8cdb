"""## What it checks
An explicit `parallel.stages` split (S20: layers against stages): it must have one entry per
pipeline stage (`pp` of every phase), its entries must add up to `model.layers`, and no stage
may be given zero layers.

## Why it matters
The stage split decides which ranks run which layers, and so where every stage boundary, every
per-layer collective and the embedding and sampling ops sit. A split that covers 79 of 80
layers drops a layer; a stage with no layers forwards nothing and its ranks idle. The plan
cannot be unrolled, so the dependency checks do not run until the split is fixed.

## Bad plan
```yaml
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
parallel: {tp: 8, pp: 2, stages: [40, 39]}    # 79 layers
```

<details><summary>A complete plan with this defect</summary>

```yaml
# The explicit stage split covers 79 of the model's 80 layers.
syncverify: 1
name: llama-3.1-70b-bad-split
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2, stages: [40, 39]}  # <- SV102
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
parallel: {tp: 8, pp: 2, stages: [40, 40]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-bad-split-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2, stages: [40, 40]}  # <- fixed
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
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import in_phases, merge_phases

STAGES = ("parallel", "stages")


def _check_length(ctx: Context, stages: tuple[int, ...]) -> None:
    plan = ctx.plan
    for phases, pp in merge_phases(
        plan, lambda p: p.degrees.pp if p.degrees.pp != len(stages) else None
    ):
        ctx.report(
            RULE,
            at=STAGES,
            message=f"`stages` lists {len(stages)} stages but pp is {pp}{in_phases(plan, phases)}",
            help=f"give one layer count per pipeline stage ({pp} entries), or change pp",
            where=Where(phase=", ".join(p.name for p in phases)),
        )


def _check_total(ctx: Context, stages: tuple[int, ...]) -> None:
    layers = ctx.plan.model.layers
    if sum(stages) != layers:
        ctx.report(
            RULE,
            at=STAGES,
            message=f"`stages` {list(stages)} covers {sum(stages)} layers "
            f"but the model has {layers}",
            help=f"make the entries add up to {layers}",
        )


def _check_empty(ctx: Context, stages: tuple[int, ...]) -> None:
    for index, count in enumerate(stages):
        if count <= 0:
            ctx.report(
                RULE,
                at=STAGES + (index,),
                message=f"stage {index} is given {count} layers",
                help="give every stage at least one layer, or lower pp",
            )


def check(ctx: Context) -> None:
    # S20: layers against stages, for an explicit split.
    stages = ctx.plan.explicit_stages
    if stages is None:
        return
    _check_length(ctx, stages)
    _check_total(ctx, stages)
    _check_empty(ctx, stages)


RULE = Rule(
    code="SV102",
    slug="stage-split-mismatch",
    category="config",
    severity="error",
    summary="an explicit stage split does not match pp or the model's layer count",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
