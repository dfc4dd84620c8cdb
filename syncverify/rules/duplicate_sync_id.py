"""## What it checks
That no two sync points share an `id`. The later one is reported, and the message names both
lines.

## Why it matters
Ids name sync points in findings and in suppressions (`# syncverify: ignore[...]`). Two sync
points with one id make every message about either ambiguous, and usually mean one entry was
copied and only half edited: the copy may be the duplicate collective the author meant to
change.

## Bad plan
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: attn-ar, after: down, collective: all_reduce, group: tp}
```

## Fix
```yaml
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
```
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule


def check(ctx: Context) -> None:
    plan = ctx.plan
    first_of: dict[str, object] = {}
    for sync in plan.syncs:
        if not sync.id:
            continue
        first = first_of.setdefault(sync.id, sync)
        if first is sync:
            continue
        first_line = plan.span(first.path + ("id",)).line
        this_line = plan.span(sync.path + ("id",)).line
        ctx.report(
            RULE,
            at=sync.path + ("id",),
            message=f"sync id '{sync.id}' is used twice: line {first_line} and line {this_line}",
            help="give each sync point its own id",
            where=Where(op=sync.after, sync=sync.label),
        )


RULE = Rule(
    code="SV111",
    slug="duplicate-sync-id",
    category="config",
    severity="error",
    summary="two sync points share an id",
    check=check,
    page=__doc__,
)
