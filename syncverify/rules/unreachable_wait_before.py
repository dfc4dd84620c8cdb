"""## What it checks
That an async sync point's `wait_before: X` names an op that comes after the sync point in
data-flow order on the consuming rank, in the same layer or the next, within the step (S11).
The consuming rank is the issuing rank, except for `send_recv` and `stage_boundary`, whose
consumer is the receiver: the next stage, from its first layer. After an op of the last layer
of a stage the next layer does not exist on that rank (after the model's last layer, the
model's tail `final_norm`, `lm_head`, `sample` follows). The one wait that resolves in the next
step is S4's token carrier (`after: sample`, `token_return: device`): it resolves on stage 0 at
`embed` or layer 0. A wait that lands in a later decode step is `cross-step-sync` (SV503).

## Why it matters
The wait is where the runtime blocks until the collective's result is in place. If X does not
follow the issue point on that rank, there is no such wait: the result is read before it
arrives, or the wait lands in another layer's or stage's work. The plan cannot be unrolled
until every wait has a place.

## Bad plan
```yaml
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
sync:
  # the all-reduce of layer 39 (the last of stage 0) has no next attn_norm on its rank
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp, async: true, \
wait_before: attn_norm}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# In prefill the MLP all-reduce is awaited before the next layer's attn_norm, which layers 39
# and 79 (the last of their stage) do not have on their ranks.
syncverify: 1
name: llama-3.1-70b-wait-past-the-stage
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
  decode: {microbatches: 2, batch: 64, overlap: none}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar-prefill, after: down, collective: all_reduce, group: tp, phases: [prefill],
     async: true, wait_before: attn_norm}  # <- SV109
  - {id: mlp-ar-decode, after: down, collective: all_reduce, group: tp, phases: [decode]}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp, async: true, \
wait_before: mlp_residual}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-wait-past-the-stage-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
  decode: {microbatches: 2, batch: 64, overlap: none}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar-prefill, after: down, collective: all_reduce, group: tp, phases: [prefill],
     async: true, wait_before: mlp_residual}  # <- fixed
  - {id: mlp-ar-decode, after: down, collective: all_reduce, group: tp, phases: [decode]}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from functools import partial

from syncverify.findings import Where
from syncverify.plan import Phase
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import in_phases, merge_phases, ranges
from syncverify.rule_support.wait_targets import MISSING, WaitProblem, wait_problems


def _suggestion(window: tuple[str, ...]) -> str:
    candidates = [op for op in window if op != "shared_experts"]
    if not candidates:
        return "remove `async: true` (nothing follows it in the step), or move the sync"
    return f"name an op that follows it on the consuming rank, e.g. `wait_before: {candidates[0]}`"


def _missing_layers(found: dict[str, WaitProblem], phase: Phase) -> tuple[int, ...] | None:
    """The layers where `phase`'s wait has no place (None: it has one everywhere)."""
    return found[phase.name].layers if phase.name in found else None


def check(ctx: Context) -> None:
    # S11: the wait lands on the consuming rank, same layer or the next, within the step.
    plan = ctx.plan
    for sync in plan.syncs:
        problems = {p.phase.name: p for p in wait_problems(plan, sync) if p.kind == MISSING}
        merged = merge_phases(plan, partial(_missing_layers, problems))
        for phases, layers in merged:
            at_layers = f" at layers {ranges(layers)}" if layers else ""
            ctx.report(
                RULE,
                at=sync.path + ("wait_before",),
                message=f"{sync.label} waits before {sync.wait_before}, which does not follow "
                f"{sync.after} on the consuming rank in the same layer or the next"
                f"{at_layers}{in_phases(plan, phases)}",
                help=_suggestion(problems[phases[0].name].window),
                where=Where(
                    phase=", ".join(p.name for p in phases),
                    layers=ranges(layers) or None,
                    op=sync.after,
                    sync=sync.label,
                ),
            )


RULE = Rule(
    code="SV109",
    slug="unreachable-wait-before",
    category="config",
    severity="error",
    summary="an async sync point waits before an op that does not follow it",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
