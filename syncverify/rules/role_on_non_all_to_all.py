"""## What it checks
That `role` (`dispatch` or `combine`) is given only on an `all_to_all` (plan format: `role`,
all_to_all only).

## Why it matters
The role tells an all-to-all whether it moves tokens to their experts or brings the experts'
results back. No other collective has such a direction, so a `role` elsewhere says the author
believes the sync does something it does not: typically an all-to-all dispatch that was turned
into an all_gather without revisiting the combine.

## Bad plan
```yaml
sync:
  - {id: dispatch, after: router, collective: all_gather, group: ep, role: dispatch, layers: moe}
```

## Fix
```yaml
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch, layers: moe}
```
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import article, is_written


def check(ctx: Context) -> None:
    for sync in ctx.plan.syncs:
        if sync.collective == "all_to_all":
            continue
        if is_written(ctx.plan, sync.path + ("role",)) or sync.role is not None:
            ctx.report(
                RULE,
                at=sync.path + ("role",),
                message=f"{sync.label} is {article(sync.collective)} with role '{sync.role}': "
                f"only an all_to_all has a role",
                help="remove `role`, or make the collective an all_to_all",
                where=Where(op=sync.after, sync=sync.label),
            )


RULE = Rule(
    code="SV115",
    slug="role-on-non-all-to-all",
    category="config",
    severity="error",
    summary="role on a collective that is not an all_to_all",
    check=check,
    page=__doc__,
)
