"""## What it checks
That the KV heads (`model.kv_heads`) and each phase's `tp` fit one of the two layouts engines
use (S20): `kv_heads % tp == 0` (every rank holds `kv_heads / tp` whole KV heads) or
`tp % kv_heads == 0` (every KV head is replicated on `tp / kv_heads` ranks; a note,
`kv-heads-replicated`, SV709). MLA models (`mla: true`) are not checked: their one latent KV is
Replicated over tp.

## Why it matters
Each rank's query heads read the KV heads of their group (GQA). With 8 KV heads over 6 ranks,
some rank's query heads need two ranks' KV heads: the KV cache cannot be split so that every
rank reads only its own slice, and engines refuse the layout. The plan is not unrolled until
tp is fixed.

## Bad plan
```yaml
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
parallel: {tp: 6, pp: 2}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-4-Scout-like attention (40 heads, 8 KV heads) at TP20: the query heads split, the KV
# heads neither split nor replicate evenly.
syncverify: 1
name: scout-attention-tp20
model: {layers: 48, hidden: 5120, heads: 40, kv_heads: 8, ffn: 16000, vocab: 202048}
cluster: {nodes: 1, gpus_per_node: 20}
parallel: {tp: 20}  # <- SV202
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 8, pp: 2}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: scout-attention-tp20-fixed
model: {layers: 48, hidden: 5120, heads: 40, kv_heads: 8, ffn: 16000, vocab: 202048}
cluster: {nodes: 1, gpus_per_node: 8}  # <- fixed
parallel: {tp: 8}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path, report_merged


def fits(kv_heads: int, tp: int) -> bool:
    return kv_heads % tp == 0 or tp % kv_heads == 0


def check(ctx: Context) -> None:
    # S20: kv_heads % tp == 0 or tp % kv_heads == 0; MLA's latent KV is Replicated over tp.
    plan, model = ctx.plan, ctx.plan.model
    if model.mla:
        return
    kv = model.kv_heads

    def key(phase):
        tp = phase.degrees.tp
        return None if fits(kv, tp) else (degree_path(plan, phase.name, "tp"), tp)

    def describe(tp, suffix):
        choices = sorted(
            {d for d in range(1, 2 * max(kv, tp) + 1) if fits(kv, d)},
            key=lambda d: (abs(d - tp), d),
        )[:2]
        return (
            f"{kv} kv heads do not split over tp = {tp}{suffix}, "
            f"and {tp} is not a multiple of {kv}",
            f"use a tp that divides {kv} or is a multiple of it, e.g. tp: "
            f"{' or '.join(str(c) for c in sorted(choices))}",
        )

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV202",
    slug="kv-heads-misaligned-with-tp",
    category="shape",
    severity="error",
    summary="kv heads neither divide by tp nor divide tp",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
