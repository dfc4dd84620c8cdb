"""## What it checks
That the default check could prove, on this plan, that the cut-down graph it checks (one
representative per class of TP ranks, DP replicas, EP groups, microbatches, layers and decode
steps) gives the findings the full unroll would. Each window carries its own certificate
(docs/semantics.md, "The certificate"): kept ranks stand for the same devices in every phase;
no rank waits on a later microbatch than it runs; a run of layers leaves the same state after
each period; the last two decode steps leave the same state. A window that fails is widened
(an axis kept whole, every microbatch kept, a longer layer period, one more decode step) as long
as the graph stays under the node cap. This rule reports a window that failed and could not be
widened within the cap.

## Why it matters
"No findings" must mean the plan was verified. When a window cannot be proven, the findings
reported are those of the widest graph that fits, and some defect (typically a deadlock that
needs every microbatch of a pipeline to show) may lie outside it. The check fails closed instead
of passing the plan.

## Bad plan
```yaml
syncverify: 1
name: device-token-many-microbatches
model: {layers: 126, hidden: 16384, heads: 128, kv_heads: 8, ffn: 53248, vocab: 128256}
parallel: {tp: 8, pp: 4, stages: [32, 32, 31, 31]}
phases:
  decode: {microbatches: 8192, batch: 1, token_return: device}
sync:
  - {after: embed, collective: all_reduce, group: tp}
  - {after: o_proj, collective: all_reduce, group: tp}
  - {after: down, collective: all_reduce, group: tp}
  - {after: stage_boundary, collective: send_recv, group: pp}
  - {after: lm_head, collective: all_gather, group: tp}
  - {after: sample, collective: send_recv, group: pp, phases: [decode]}
```
The device token carrier makes the pipeline's outcome depend on the number of microbatches, and
8,192 microbatches of every stage do not fit the node cap.

## Fix
Run `syncverify check --exhaustive` when the full unroll fits its budget (the help says so),
check fewer microbatches (the deadlock, if any, shows from a few times `pp` on), carry the token
through the host (`token_return: host`), or accept the risk by lowering this rule's severity in
the configuration (`severity = {SV118 = "warning"}`).

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: device-token-many-microbatches-fixed
model: {layers: 126, hidden: 16384, heads: 128, kv_heads: 8, ffn: 53248, vocab: 128256}
parallel: {tp: 8, pp: 4, stages: [32, 32, 31, 31]}
phases:
  decode: {microbatches: 8192, batch: 1, token_return: host}  # <- fixed
sync:
  - {after: embed, collective: all_reduce, group: tp}
  - {after: o_proj, collective: all_reduce, group: tp}
  - {after: down, collective: all_reduce, group: tp}
  - {after: stage_boundary, collective: send_recv, group: pp}
  - {after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Rule


def check(ctx) -> None:
    certificate = getattr(ctx.analyses, "certificate", None)
    if certificate is None:
        return
    at = ("parallel",) if ctx.plan.span(("parallel",)) is not None else ()
    for gap in certificate.unproven:
        ctx.report(
            RULE,
            at,
            f"could not be fully verified: the {gap.window} window is not "
            f"proven exact ({gap.detail})",
            help=_help(ctx.plan, gap),
        )


def _help(plan, gap) -> str:
    """--exhaustive when the full unroll fits its budget, else a smaller plan; always the
    configuration knob."""
    from syncverify.budget import check_size
    from syncverify.findings import PlanError

    knob = "or lower SV118's severity in the configuration to accept the unproven window"
    if gap.window != "steps":
        try:
            check_size(plan, exhaustive=True)
            return (
                f"run `syncverify check --exhaustive` (it unrolls every {gap.window[:-1]}), {knob}"
            )
        except PlanError:
            pass
    return f"check a smaller plan (fewer microbatches, layers or ranks), {knob}"


RULE = Rule(
    code="SV118",
    slug="reduction-not-certified",
    category="config",
    severity="error",
    summary="the default check could not prove its reduced graph exact for this plan",
    check=check,
    page=__doc__,
    needs_graph=True,
)
