"""## What it checks
That `wait_before` is given only on a sync point with `async: true` (S11: a blocking collective
completes before the issuing rank's next op, so it has no separate wait).

## Why it matters
A `wait_before` on a blocking collective suggests the author meant it to overlap with the ops
up to that point. Either the `async: true` was lost, and the plan checked is not the one
deployed, or the wait is dead text that the next reader will trust. The plan is not unrolled
until the two keys agree.

## Bad plan
```yaml
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, \
wait_before: attn_norm}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# The stage transfer names a wait, but its async flag was lost: it is blocking.
syncverify: 1
name: llama-3.1-70b-wait-without-async
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp,
     wait_before: attn_norm}  # <- SV108
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, async: true, \
wait_before: attn_norm}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-wait-without-async-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp,
     async: true, wait_before: attn_norm}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    # S11: only an async collective has a wait.
    for sync in ctx.plan.syncs:
        if sync.wait_before and not sync.is_async:
            ctx.report(
                RULE,
                at=sync.path + ("wait_before",),
                message=f"{sync.label} names wait_before: {sync.wait_before} but is blocking "
                f"(no `async: true`)",
                help="add `async: true` if the collective should overlap until "
                f"{sync.wait_before}, else remove `wait_before`",
                where=Where(op=sync.after, sync=sync.label),
            )


RULE = Rule(
    code="SV108",
    slug="wait-before-without-async",
    category="config",
    severity="error",
    summary="wait_before on a blocking sync point",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
