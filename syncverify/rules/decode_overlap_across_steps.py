"""## What it checks
That decode's `overlap` is not `across_steps` (S15; the seed: "overlap is allowed within a
token step, not across steps").

## Why it matters
Step t+1 needs step t's sampled token and step t's K/V. Letting devices run ahead into the
next step while others finish the current one breaks both: the host prepares step t+1 before
the token exists (S15 removes the host's order edge), and attention may read a KV cache that
the previous step has not finished writing. Use `comm_compute` or `two_batch` to overlap within
a step.

## Bad plan
```yaml
phases:
  decode: {microbatches: 2, batch: 64, overlap: across_steps}
```

## Fix
```yaml
phases:
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
```
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path


def check(ctx: Context) -> None:
    # S15: across_steps is always phase-illegal in decode.
    decode = ctx.plan.phase("decode")
    if decode is None or decode.overlap != "across_steps":
        return
    ctx.report(
        RULE,
        at=phase_key_path(ctx.plan, "decode", "overlap"),
        message="decode overlaps across_steps: step t+1 would start before step t's token "
        "and kv cache exist",
        help="use `overlap: comm_compute` or `overlap: two_batch` to overlap within a step",
        where=Where(phase="decode", steps="t, t+1"),
    )


RULE = Rule(
    code="SV502",
    slug="decode-overlap-across-steps",
    category="phase-illegal",
    severity="error",
    summary="decode steps overlapping across devices",
    check=check,
    page=__doc__,
)
