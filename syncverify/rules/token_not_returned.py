"""## What it checks
With `token_return: device` (S4) the sampled token stays on the device. Where `sample` (last
stage) and `embed` (stage 0) run on different ranks (pp > 1), a sync `after: sample` must carry
step t's token to stage 0 for step t+1: a send_recv (or broadcast) over pp or world, in decode.

## Why it matters
Without it stage 0 starts the next decode step with no token (or the previous one): the model
generates from garbage.

## Bad plan
```yaml
parallel: {tp: 8, pp: 2}
phases:
  decode: {token_return: device}
sync:
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  # nothing brings the sampled token back to stage 0
```

## Fix
```yaml
sync:
  - {id: token-back, after: sample, collective: send_recv, group: pp, phases: [decode]}
```
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import first_node, fix, trace, where


def check(ctx) -> None:
    a = ctx.analyses
    nodes = [d.node for d in a.placement.defects if d.kind == "missing-token"]
    if not nodes:
        return
    message = (
        "with token_return: device, stage 0's embed gets no sampled token from the last "
        "stage for the next decode step (S4)"
    )
    at = ("phases", "decode", "token_return")
    ctx.report(
        RULE,
        at,
        message,
        help="carry the token back on the device:\n" + fix("token-return"),
        where=where(a, nodes, "embed"),
        trace=trace(a, [first_node(nodes)], "no carrier after sample feeds it"),
    )


RULE = Rule(
    code="SV308",
    slug="token-not-returned",
    category="missing-sync",
    severity="error",
    summary="with token_return: device, step t's token never reaches step t+1's embed (S4)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
