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

## Fix
```yaml
phases:
  prefill: {microbatches: 4, tokens: 4096, overlap: two_batch}
```
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
            message=f"{phase.name} runs {plural(m, 'microbatch', 'microbatches')} under two_batch, which pairs them: "
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
