"""## What it checks
That no two sync points share an `id`. The later one is reported, and the message names both
lines.

## Why it matters
Ids name sync points in findings and in suppressions (`# syncverify: ignore[...]`). Two sync
points with one id make every message about either ambiguous, and usually mean one entry was
copied and only half edited: the copy may be the duplicate collective the author meant to
change.

## Bad plan
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: attn-ar, after: down, collective: all_reduce, group: tp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# The MLP all-reduce was copied from the attention one and kept its id.
syncverify: 1
name: llama-3.1-70b-duplicate-id
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
  - {id: attn-ar, after: down, collective: all_reduce, group: tp}  # <- SV111
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-duplicate-id-fixed
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
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}  # <- fixed
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.plan import SyncPoint
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    plan = ctx.plan
    first_of: dict[str, SyncPoint] = {}
    for sync in plan.syncs:
        if not sync.id:
            continue
        first = first_of.setdefault(sync.id, sync)
        if first is sync:
            continue
        first_line = plan.span(first.path + ("id",)).line
        this_line = plan.span(sync.path + ("id",)).line
        ctx.report(
            RULE,
            at=sync.path + ("id",),
            message=f"sync id '{sync.id}' is used twice: line {first_line} and line {this_line}",
            help="give each sync point its own id",
            where=Where(op=sync.after, sync=sync.label),
        )


RULE = Rule(
    code="SV111",
    slug="duplicate-sync-id",
    category="config",
    severity="error",
    summary="two sync points share an id",
    check=check,
    page=__doc__,
)
