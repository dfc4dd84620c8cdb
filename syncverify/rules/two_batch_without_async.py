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

## Fix
```yaml
sync:
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine, layers: moe, async: true, wait_before: mlp_residual}
```
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
