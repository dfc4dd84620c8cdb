"""## What it checks
With no explicit `parallel.stages`, that `model.layers` splits evenly over `pp` in every phase
(S20: layers against stages; plan format: `stages` defaults to an even split).

## Why it matters
An uneven split has several reasonable answers (the extra layers first, last, or where the
embedding and the LM head already make a stage heavier), and different engines pick different
ones. The checker will not guess which ranks run which layers: it needs the split you deploy.
Llama-3.1-405B's 126 layers do not split over 4 or 8 stages.

## Bad plan
```yaml
model: {hf_config: models/llama-3.1-405b.json}   # 126 layers
parallel: {tp: 8, pp: 4}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-405B's 126 layers do not split evenly over 4 stages, and no split is stated.
syncverify: 1
name: llama-3.1-405b-tp8-pp4-unstated
model: {layers: 126, hidden: 16384, heads: 128, kv_heads: 8, ffn: 53248, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 4, gpus_per_node: 8}
parallel:
  tp: 8
  pp: 4  # <- SV103
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 4, batch: 32}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 8, pp: 4, stages: [32, 32, 31, 31]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-405b-tp8-pp4-unstated-fixed
model: {layers: 126, hidden: 16384, heads: 128, kv_heads: 8, ffn: 53248, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 4, gpus_per_node: 8}
parallel:
  tp: 8
  pp: 4
  stages: [32, 32, 31, 31]  # <- fixed
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 4, batch: 32}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path, report_merged


def _suggested_split(layers: int, pp: int) -> list[int]:
    base, extra = divmod(layers, pp)
    return [base + 1] * extra + [base] * (pp - extra)


def check(ctx: Context) -> None:
    # S20: layers against stages, when the default even split does not exist.
    plan = ctx.plan
    if plan.explicit_stages is not None:
        return
    layers = plan.model.layers

    def key(phase):
        pp = phase.degrees.pp
        return (degree_path(plan, phase.name, "pp"), pp) if layers % pp else None

    def describe(pp, suffix):
        return (
            f"{layers} layers do not split evenly over pp = {pp}{suffix} and `parallel.stages` "
            f"is not given",
            f"state the split you deploy under `parallel`, "
            f"e.g. `stages: {_suggested_split(layers, pp)}`",
        )

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV103",
    slug="uneven-stages-unstated",
    category="config",
    severity="error",
    summary="layers do not split evenly over pp and no explicit stage split is given",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
