"""## What it checks
That a phase with `overlap: two_batch` runs an even number of microbatches (S16: microbatches
pair up as (2k, 2k+1)). The default of one microbatch is odd too.

## Why it matters
Two-batch overlap hides one microbatch's communication behind the other's compute, so every
rank alternates between the two halves of a pair. A microbatch with no partner has nothing to
overlap with, and engines either reject the batch or run it on a different code path than the
one the plan describes. The plan cannot be unrolled until the count is even.

## Bad plan
```yaml
phases:
  prefill: {microbatches: 3, tokens: 4096, overlap: two_batch}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Two-batch overlap pairs microbatches (S16); three cannot be paired.
syncverify: 1
name: mixtral-8x7b-tbo-odd
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 3, tokens: 4096, overlap: two_batch}  # <- SV107
  decode: {microbatches: 2, batch: 32, overlap: two_batch}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe, async: true, wait_before: experts}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine,
     layers: moe, async: true, wait_before: mlp_residual}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
phases:
  prefill: {microbatches: 4, tokens: 4096, overlap: two_batch}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: mixtral-8x7b-tbo-odd-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, vocab: 32000, max_context: 32768,
        moe: {experts: 8, top_k: 2, ffn: 14336}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 1, dp: 8, ep: 8}
phases:
  prefill: {microbatches: 2, tokens: 4096, overlap: two_batch}  # <- fixed
  decode: {microbatches: 2, batch: 32, overlap: two_batch}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe, async: true, wait_before: experts}
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine,
     layers: moe, async: true, wait_before: mlp_residual}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path, plural


def check(ctx: Context) -> None:
    # S16: two_batch pairs microbatches (2k, 2k+1).
    for phase in ctx.plan.phases:
        if phase.overlap != "two_batch" or phase.microbatches % 2 == 0:
            continue
        m = phase.microbatches
        ctx.report(
            RULE,
            at=phase_key_path(ctx.plan, phase.name, "microbatches", "overlap"),
            message=f"{phase.name} runs {plural(m, 'microbatch', 'microbatches')} "
            "under two_batch, which pairs them: "
            f"microbatch {m - 1} has no partner",
            help=f"use an even count, e.g. `microbatches: {m + 1}`, or `overlap: comm_compute`",
            where=Where(phase=phase.name, microbatches=str(m - 1)),
        )


RULE = Rule(
    code="SV107",
    slug="two-batch-odd-microbatches",
    category="config",
    severity="error",
    summary="two-batch overlap with an odd number of microbatches",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
