"""## What it checks
The `tensor` key of a sync point: it is given only where the anchor has several outputs to
choose from (`qkv`: `q` or `kv`; and `kv` on a `prefill_end` hand-over, S5), and it is required
on a sync after `qkv` over `sp` (plan format: required on qkv syncs over sp), where the
aggregation must say whether it moves K/V only.

## Why it matters
Under sequence parallelism each rank's queries attend to every rank's keys and values: the
aggregation before attention moves K/V, never the queries. A qkv all-gather over sp with no
`tensor` gathers the queries too, and each rank then computes attention for tokens it does not
own. A `tensor` on an op with one output selects nothing and usually means the sync was moved
from `qkv` to another op without editing the rest. The plan is not unrolled until the
selection is fixed.

## Bad plan
```yaml
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
sync:
  - {id: kv-agg, after: qkv, collective: all_gather, group: sp, phases: [prefill]}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# The K/V aggregation over SP does not say it moves K/V only (it would gather the queries too).
syncverify: 1
name: llama-3.1-70b-sp-qkv-untagged
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
  decode: {dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: kv-agg, after: qkv, collective: all_gather, group: sp, phases: [prefill]}  # <- SV114
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
```

</details>

## Fix
```yaml
sync:
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-sp-qkv-untagged-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
  decode: {dp: 2, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}
```

</details>
"""

from syncverify.findings import Where
from syncverify.plan import TENSORS
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import article

PREFILL_END_TENSORS = ("kv",)


def _choices(after: str) -> tuple[str, ...]:
    if after == "prefill_end":
        return PREFILL_END_TENSORS
    return TENSORS.get(after, ())


def _check_given(ctx: Context, sync) -> None:
    choices = _choices(sync.after)
    if sync.tensor in choices:
        return
    if choices:
        message = (
            f"{sync.label} selects tensor '{sync.tensor}' but {sync.after} offers "
            f"{', '.join(choices)}"
        )
        fix = f"use `tensor: {choices[-1]}`"
    else:
        message = f"{sync.label} selects tensor '{sync.tensor}' but {sync.after} has one output"
        fix = "remove `tensor` (the sync moves the op's output)"
    ctx.report(
        RULE,
        at=sync.path + ("tensor",),
        message=message,
        help=fix,
        where=Where(op=sync.after, sync=sync.label),
    )


def check(ctx: Context) -> None:
    # Plan format `tensor`: qkv offers q | kv, prefill_end kv only (S5); required on qkv over sp.
    for sync in ctx.plan.syncs:
        if sync.tensor is not None:
            _check_given(ctx, sync)
        elif sync.after == "qkv" and sync.group == "sp":
            ctx.report(
                RULE,
                at=sync.path,
                message=f"{sync.label} is {article(sync.collective)} over sp after qkv "
                "with no `tensor`: "
                f"it would move the queries as well as k/v",
                help="add `tensor: kv` (sequence parallel attention gathers keys and values only)",
                where=Where(op="qkv", sync=sync.label),
            )


RULE = Rule(
    code="SV114",
    slug="invalid-tensor-selection",
    category="config",
    severity="error",
    summary="tensor on an op with one output, or missing on a qkv sync over sp",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
