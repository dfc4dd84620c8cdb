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
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, async: true, wait_before: attn_residual}
```

## Fix
```yaml
phases:
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp, async: true, wait_before: attn_residual}
```
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
