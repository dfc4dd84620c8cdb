"""## What it checks
When `tp` is a multiple of the KV heads and larger than them (S20: `tp % kv_heads == 0`), each
KV head is replicated on `tp / kv_heads` TP ranks. This is a note (category `performance`), not
a shape error: it is how engines serve GQA models over more ranks than KV heads. MLA models are
not concerned (their latent KV is Replicated over tp by design).

## Why it matters
Every replica of a KV head stores the same cache: at TP8 with 4 KV heads the KV cache takes
twice the memory it would with one copy per head, which caps the batch size or the context.
Worth knowing when sizing a deployment; nothing is wrong.

## Bad plan
```yaml
model: {hf_config: models/Qwen3-235B-A22B.json}    # 4 kv heads
parallel: {tp: 8}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Qwen3-235B-A22B's 4 KV heads at TP8: each is stored on two ranks. A note, not an error.
syncverify: 1
name: qwen3-235b-a22b-tp8
model: {layers: 94, hidden: 4096, heads: 64, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 1536}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}  # <- SV709
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: tp, layers: moe}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 4, dp: 2}       # one copy of each kv head per replica
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: qwen3-235b-a22b-tp8-fixed
model: {layers: 94, hidden: 4096, heads: 64, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 1536}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: tp, layers: moe}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}  # <- fixed
```

</details>
"""

from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path, report_merged


def check(ctx: Context) -> None:
    # S20: tp % kv_heads == 0 with tp > kv_heads is a note, not a shape error.
    plan, model = ctx.plan, ctx.plan.model
    if model.mla:
        return
    kv = model.kv_heads

    def key(phase):
        tp = phase.degrees.tp
        return (degree_path(plan, phase.name, "tp"), tp) if tp > kv and tp % kv == 0 else None

    def describe(tp, suffix):
        return (
            f"each of the {kv} kv heads is stored on {tp // kv} of the {tp} tp ranks{suffix}: "
            f"the kv cache is held {tp // kv} times",
            f"expected with tp > kv_heads; tp: {kv} with more dp replicas keeps one copy per head",
        )

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV709",
    slug="kv-heads-replicated",
    category="performance",
    severity="note",
    summary="kv heads replicated over tp ranks (tp > kv_heads)",
    check=check,
    page=__doc__,
)
