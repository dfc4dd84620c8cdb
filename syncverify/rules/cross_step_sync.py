"""## What it checks
Synchronization that crosses decode steps (S14): any sync point `after: step_end` that runs in
decode, and any async collective whose `wait_before` lands in a later decode step than its
issue (the first X after the issue point on that rank is in step t+1). The two cross-step
transfers the step order itself needs are allowed: the DP output gather (S18) and S4's token
carrier from `sample` to the next step's `embed`.

## Why it matters
Decode is strictly per token: step t+1 may start only from step t's sampled token and its
complete KV cache, and every device must be in the same step when it joins a collective. A
barrier at the end of every step serializes the devices for nothing, and a collective awaited
one step later leaves its result unordered with respect to the step that needed it. The
checker does not unroll such a plan; fix the phase-illegal sync first.

## Bad plan
```yaml
phases:
  decode: {microbatches: 1, batch: 64, overlap: none}
sync:
  - {id: step-barrier, after: step_end, collective: barrier, group: world}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# A world barrier at the end of every decode step (S14).
syncverify: 1
name: llama-3.1-70b-step-barrier
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
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: step-barrier, after: step_end, collective: barrier, group: world}  # <- SV503
```

</details>

## Fix
```yaml
sync: []        # the data dependencies between steps already order them (S4, S18)
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-step-barrier-fixed
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
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import article, ranges, sync_phases
from syncverify.rule_support.wait_targets import CROSS_STEP, wait_problems


def _check_step_end(ctx: Context, sync) -> None:
    if sync.after != "step_end" or not sync_phases(ctx.plan, sync):
        return
    ctx.report(
        RULE,
        at=sync.path + ("after",),
        message=f"{sync.label} is {article(sync.collective)} over {sync.group} after step_end: "
        f"a sync between decode steps",
        help="remove it: step t+1 is ordered after step t by its token (S4) and the dp "
        "gather (S18); put any per-step collective on an op inside the step",
        where=Where(phase="decode", op="step_end", sync=sync.label),
    )


def _check_waits(ctx: Context, sync) -> None:
    for problem in wait_problems(ctx.plan, sync):
        if problem.kind != CROSS_STEP:
            continue
        at_layers = f" at layers {ranges(problem.layers)}" if problem.layers else ""
        ctx.report(
            RULE,
            at=sync.path + ("wait_before",),
            message=f"{sync.label} is issued after {sync.after}{at_layers} in decode step t "
            f"and first awaited before {sync.wait_before} in step t+1",
            help="await it within the step, before the op that reads it, e.g. "
            f"`wait_before: {problem.window[0]}`"
            if problem.window
            else "make it blocking (remove `async: true`)",
            where=Where(
                phase="decode",
                layers=ranges(problem.layers) or None,
                steps="t, t+1",
                op=sync.after,
                sync=sync.label,
            ),
        )


def check(ctx: Context) -> None:
    # S14: no sync crosses decode steps, except S18's gather and S4's token carrier.
    for sync in ctx.plan.syncs:
        _check_step_end(ctx, sync)
        _check_waits(ctx, sync)


RULE = Rule(
    code="SV503",
    slug="cross-step-sync",
    category="phase-illegal",
    severity="error",
    summary="a sync point that crosses decode steps",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
