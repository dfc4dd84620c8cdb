"""## What it checks
A sync point's `ranks` selector (S9): every axis it names is one of `tp`, `sp`, `dp`, `pp`,
`ep`, and every coordinate is in range (0 to the axis's degree minus one) in at least one phase
the sync runs in. (A selector that is in range in prefill but not in decode, where a degree is
overridden, is not reported: it selects nobody in that phase.)

## Why it matters
A selector restricts who issues the collective. A coordinate that no rank has selects nobody:
the sync silently disappears for the ranks the author meant, and the plan checked is not the
plan intended. An unknown axis cannot be evaluated at all.

## Bad plan
```yaml
parallel: {tp: 8, pp: 2}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 2}}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# A per-stage selector names stage 2, which does not exist with pp = 2 (stages are 0 and 1).
syncverify: 1
name: llama-3.1-70b-selector-stage-2
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar-0, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 0}}
  - {id: attn-ar-1, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 1}}
  # next line: SV112
  - {id: attn-ar-2, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 2}}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 1}}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-selector-stage-2-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar-0, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 0}}
  - {id: attn-ar-1, after: o_proj, collective: all_reduce, group: tp, ranks: {pp: 1}}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.plan import AXES
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import ranges, sync_phases


def _check_axis(ctx: Context, sync, axis: str, coords, phases) -> None:
    path = sync.path + ("ranks", axis)
    if axis not in AXES:
        ctx.report(
            RULE,
            at=path,
            message=f"{sync.label} selects on axis '{axis}', which does not exist",
            help=f"use one of {', '.join(AXES)}",
            where=Where(sync=sync.label),
        )
        return
    sizes = {p.degrees.of(axis) for p in phases}
    if not sizes:
        return
    largest = max(sizes)
    outside = sorted(c for c in coords if not 0 <= c < largest)
    if outside:
        ctx.report(
            RULE,
            at=path,
            message=f"{sync.label} selects {axis} {ranges(outside)} but {axis} = {largest} "
            f"has coordinates {ranges(range(largest))} only",
            help=f"select {axis} coordinates in {ranges(range(largest))}",
            where=Where(ranks=f"{axis} {ranges(outside)}", sync=sync.label),
        )


def check(ctx: Context) -> None:
    # S9: a coordinate out of range (in every phase the sync runs in) is a config error.
    for sync in ctx.plan.syncs:
        if not sync.ranks:
            continue
        phases = sync_phases(ctx.plan, sync)
        for axis, coords in sync.ranks.items():
            _check_axis(ctx, sync, axis, coords, phases)


RULE = Rule(
    code="SV112",
    slug="rank-selector-out-of-range",
    category="config",
    severity="error",
    summary="a rank selector names an unknown axis or a coordinate no rank has",
    check=check,
    page=__doc__,
)
