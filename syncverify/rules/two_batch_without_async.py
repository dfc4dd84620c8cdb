"""## What it checks
Whether a phase with `overlap: two_batch` has at least one `async` sync point running in it
(S16, S21). Without one, two-batch overlap behaves as `none`.

## Why it matters
Two-batch overlap splits the work into two microbatches so that one's collective runs while
the other computes; only an async collective can be overlapped. With every sync blocking, the
runtime pays for the split (smaller kernels, two launches per op) and hides nothing.

## Bad plan
```yaml
phases:
  decode: {microbatches: 2, batch: 128, overlap: two_batch}
sync:
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# DeepSeek-V3 with two-batch overlap but blocking all-to-alls: nothing is overlapped (each
# blocking collective is also an advisory of its own, SV704).
syncverify: 1
name: deepseek-v3-tbo-blocking
model: {layers: 61, hidden: 7168, heads: 128, kv_heads: 128, head_dim: 192, mla: true,
        ffn: 18432, vocab: 129280, max_context: 163840, moe: {experts: 256, top_k: 8,
        layers: "3..60", shared_experts: 1, ffn: 2048}}
cluster: {nodes: 4, gpus_per_node: 8}
parallel: {tp: 1, dp: 32, ep: 32}
phases:
  prefill: {microbatches: 2, tokens: 4096, overlap: two_batch}  # <- SV703
  decode: {microbatches: 2, batch: 128, overlap: two_batch}  # <- SV703
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe}  # <- SV704
  # next line: SV704
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe}
  - {id: dp-out, after: sample, collective: gather, group: dp}  # <- SV704
```

</details>

## Fix
```yaml
sync:
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, \
layers: moe, async: true, wait_before: mlp_residual}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: deepseek-v3-tbo-blocking-fixed
model: {layers: 61, hidden: 7168, heads: 128, kv_heads: 128, head_dim: 192, mla: true,
        ffn: 18432, vocab: 129280, max_context: 163840, moe: {experts: 256, top_k: 8,
        layers: "3..60", shared_experts: 1, ffn: 2048}}
cluster: {nodes: 4, gpus_per_node: 8}
parallel: {tp: 1, dp: 32, ep: 32}
phases:
  prefill: {microbatches: 2, tokens: 4096, overlap: two_batch}
  decode: {microbatches: 2, batch: 128, overlap: two_batch}
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
     layers: moe, async: true, wait_before: experts}  # <- fixed
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine,
     layers: moe, async: true, wait_before: mlp_residual}  # <- fixed
  - {id: dp-out, after: sample, collective: gather, group: dp, async: true}  # <- fixed
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path, sync_phases


def check(ctx: Context) -> None:
    # S16 / S21: two_batch with no async sync point behaves as none.
    plan = ctx.plan
    for phase in plan.phases:
        if phase.overlap != "two_batch":
            continue
        if any(s.is_async and phase in sync_phases(plan, s) for s in plan.syncs):
            continue
        ctx.report(
            RULE,
            at=phase_key_path(plan, phase.name, "overlap"),
            message=f"{phase.name} uses two_batch but no sync point in {phase.name} is async: "
            f"nothing is overlapped",
            help="make the collectives worth hiding async, each with a `wait_before` (e.g. the ep "
            "dispatch and combine), or use `overlap: none`",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV703",
    slug="two-batch-without-async",
    category="performance",
    severity="warning",
    summary="two-batch overlap with no async sync point",
    check=check,
    page=__doc__,
)
