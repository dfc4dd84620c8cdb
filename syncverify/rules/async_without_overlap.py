"""## What it checks
That a sync point marked `async: true` runs only in phases whose `overlap` is `comm_compute` or
`two_batch` (S11). It is reported once per phase the sync runs in whose overlap mode does not
allow it (`none`, or `across_steps` in decode).

## Why it matters
Under `overlap: none` the runtime has nothing to run beside a collective: each collective is
blocking by construction. An `async` flag there says the plan's author expects overlap that the
runtime will not do, or that a phase's `overlap` was left at its default by mistake; either way
the plan and the deployment disagree.

## Bad plan
```yaml
phases:
  decode: {microbatches: 2, batch: 64, overlap: none}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, async: true, \
wait_before: attn_residual}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# An async all-reduce in phases whose overlap mode is none (S11).
syncverify: 1
name: llama-3.1-70b-async-under-none
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: none}
  decode: {microbatches: 2, batch: 64, overlap: none}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, async: true,
     wait_before: attn_residual}  # <- SV106
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
phases:
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, async: true, \
wait_before: attn_residual}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-async-under-none-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}  # <- fixed
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}  # <- fixed
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, async: true,
     wait_before: attn_residual}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import sync_phases


def check(ctx: Context) -> None:
    # S11: async exists only under comm_compute and two_batch; one finding per phase it runs in.
    for sync in ctx.plan.syncs:
        if not sync.is_async:
            continue
        for phase in sync_phases(ctx.plan, sync):
            if phase.allows_async:
                continue
            ctx.report(
                RULE,
                at=sync.path + ("async",),
                message=f"{sync.label} is async in {phase.name}, whose overlap is "
                f"{phase.overlap}: only comm_compute and two_batch allow async collectives",
                help=f"remove `async: true`, or set `overlap: comm_compute` in phases.{phase.name}",
                where=Where(phase=phase.name, op=sync.after, sync=sync.label),
            )


RULE = Rule(
    code="SV106",
    slug="async-without-overlap",
    category="config",
    severity="error",
    summary="an async sync point in a phase whose overlap mode cannot overlap it",
    check=check,
    page=__doc__,
)
