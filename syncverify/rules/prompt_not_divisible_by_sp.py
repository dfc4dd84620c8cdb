"""## What it checks
That a phase's prompt length (`tokens`) divides by its `sp` (S20): under sequence parallelism
the prompt is cut into `sp` contiguous chunks, one per SP rank (S6).

## Why it matters
The K/V aggregation before attention gathers equal chunks from every SP rank; an all-gather
needs the same shape on every member. A prompt that does not divide gives the last rank a
shorter chunk, and the collective's shapes no longer match (v1 has no padding key).

## Bad plan
```yaml
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65535}
```

## Fix
```yaml
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
```
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    # S20: prompt tokens % sp (S6: sp contiguous chunks).
    for phase in ctx.plan.phases:
        sp, tokens = phase.degrees.sp, phase.tokens
        if tokens is None or sp <= 1 or tokens % sp == 0:
            continue
        ctx.report(
            RULE,
            at=("phases", phase.name, "tokens"),
            message=f"{phase.name} prompts of {tokens} tokens do not split over sp = {sp}",
            help=f"use a prompt length divisible by {sp}, e.g. tokens: {tokens + sp - tokens % sp}",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV206",
    slug="prompt-not-divisible-by-sp",
    category="shape",
    severity="error",
    summary="prompt tokens do not divide by sp",
    check=check,
    page=__doc__,
)
