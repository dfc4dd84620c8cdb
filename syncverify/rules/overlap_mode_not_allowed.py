"""## What it checks
That each phase's `overlap` is one the phase allows: `across_steps` exists only as a (rejected)
decode mode, since prefill is one step per request (plan format: phases). Decode's
`across_steps` is `decode-overlap-across-steps` (SV502).

## Why it matters
Prefill processes each prompt in one forward pass; there is no next step to overlap with. The
key reads as if prefill of one request could run ahead into another's steps, which no engine
does, so the plan's schedule is not the deployed one.

## Bad plan
```yaml
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: across_steps}
```

## Fix
```yaml
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
```
"""

from syncverify.findings import Where
from syncverify.plan import OVERLAP_MODES
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path


def check(ctx: Context) -> None:
    for phase in ctx.plan.phases:
        allowed = OVERLAP_MODES.get(phase.name, ())
        if phase.name == "decode" or phase.overlap in allowed:
            continue
        ctx.report(
            RULE,
            at=phase_key_path(ctx.plan, phase.name, "overlap"),
            message=f"{phase.name} overlap is {phase.overlap}, which {phase.name} does not allow "
            f"(allowed: {', '.join(allowed)})",
            help=f"use one of {', '.join(allowed)}, e.g. `overlap: comm_compute`",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV504",
    slug="overlap-mode-not-allowed",
    category="phase-illegal",
    severity="error",
    summary="an overlap mode the phase does not allow",
    check=check,
    page=__doc__,
)
