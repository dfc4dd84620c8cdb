"""## What it checks
That `wait_before` is given only on a sync point with `async: true` (S11: a blocking collective
completes before the issuing rank's next op, so it has no separate wait).

## Why it matters
A `wait_before` on a blocking collective suggests the author meant it to overlap with the ops
up to that point. Either the `async: true` was lost, and the plan checked is not the one
deployed, or the wait is dead text that the next reader will trust. The plan is not unrolled
until the two keys agree.

## Bad plan
```yaml
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, wait_before: attn_norm}
```

## Fix
```yaml
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp, async: true, wait_before: attn_norm}
```
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    # S11: only an async collective has a wait.
    for sync in ctx.plan.syncs:
        if sync.wait_before and not sync.is_async:
            ctx.report(
                RULE,
                at=sync.path + ("wait_before",),
                message=f"{sync.label} names wait_before: {sync.wait_before} but is blocking "
                f"(no `async: true`)",
                help="add `async: true` if the collective should overlap until "
                f"{sync.wait_before}, else remove `wait_before`",
                where=Where(op=sync.after, sync=sync.label),
            )


RULE = Rule(
    code="SV108",
    slug="wait-before-without-async",
    category="config",
    severity="error",
    summary="wait_before on a blocking sync point",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
