"""## What it checks
That a sync point's `after` names something that happens in the plan: an op the model has
(`router` and `experts` need MoE layers, `shared_experts` needs `moe.shared_experts`, `gate_up`
and `down` need dense layers), in at least one of the layers its `layers` selects, and a
boundary that occurs in a phase it runs in (`step_end` exists only in decode, `prefill_end`
only when the plan has both phases).

## Why it matters
A sync point with no instance is a collective the author believes protects something, and it
protects nothing: usually a plan copied from another model (a MoE plan's `experts` combine on a
dense model) or a selection that no longer matches the op. What it was meant to order is then
checked without it.

## Bad plan
```yaml
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
sync:
  - {id: combine, after: experts, collective: all_to_all, group: ep, role: combine}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# A Llama-3.1-8B plan that kept a MoE plan's expert combine: the dense model has no experts.
syncverify: 1
name: llama-3.1-8b-expert-combine
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: combine, after: experts, collective: all_reduce, group: tp}  # <- SV116
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
sync:
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-expert-combine-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.plan import Model
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import is_written, ranges, sync_phases

MOE_ONLY = ("router", "experts", "shared_experts")


def _missing_op_reason(model: Model, op: str) -> str | None:
    """Why the model has no instance of `op` in any layer, or None if it has one."""
    if any(op in model.layer_ops(layer) for layer in range(model.layers)):
        return None
    if op in MOE_ONLY and not model.moe_layers:
        return "the model has no moe layer"
    if op == "shared_experts":
        return "the model has no shared experts"
    return "every layer of the model is moe"


def _check_op(ctx: Context, sync) -> None:
    model = ctx.plan.model
    reason = _missing_op_reason(model, sync.after)
    if reason:
        ctx.report(
            RULE,
            at=sync.path + ("after",),
            message=f"{sync.label} runs after {sync.after} but {reason}, so it never runs",
            help="anchor it on an op the model has, or remove it",
            where=Where(op=sync.after, sync=sync.label),
        )
        return
    chosen = [layer for layer in range(model.layers) if sync.applies_to_layer(layer)]
    if sync.layers is None or not chosen:
        return  # every layer, or nothing in range (invalid-layer-selection says so)
    if not any(sync.after in model.layer_ops(layer) for layer in chosen):
        ctx.report(
            RULE,
            at=sync.path
            + (("layers",) if is_written(ctx.plan, sync.path + ("layers",)) else ("after",)),
            message=f"{sync.label} runs after {sync.after} but none of its layers "
            f"({ranges(chosen)}) has {sync.after}, so it never runs",
            help=f"select layers that have {sync.after} (e.g. `layers: "
            f"{'moe' if sync.after in MOE_ONLY else 'dense'}`)",
            where=Where(layers=ranges(chosen), op=sync.after, sync=sync.label),
        )


def _check_boundary(ctx: Context, sync) -> None:
    plan = ctx.plan
    named = [p for p in plan.phases if sync.runs_in(p.name)]
    if not named or sync_phases(plan, sync):
        return
    where = (
        "only decode has steps"
        if sync.after == "step_end"
        else "the plan does not have both phases"
    )
    ctx.report(
        RULE,
        at=sync.path + ("after",),
        message=f"{sync.label} runs after {sync.after} in {', '.join(p.name for p in named)}, "
        f"but {where}, so it never runs",
        help="remove it, or anchor it where it runs",
        where=Where(op=sync.after, sync=sync.label),
    )


def check(ctx: Context) -> None:
    # S14: step_end exists in decode only; S5: prefill_end needs both phases.
    for sync in ctx.plan.syncs:
        if sync.is_per_layer:
            _check_op(ctx, sync)
        elif sync.after in ("step_end", "prefill_end"):
            _check_boundary(ctx, sync)


RULE = Rule(
    code="SV116",
    slug="absent-anchor",
    category="config",
    severity="error",
    summary="a sync point anchored on an op or boundary that never occurs",
    check=check,
    page=__doc__,
)
