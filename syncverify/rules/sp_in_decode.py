"""## What it checks
That decode runs with `sp = 1` (the seed: "SP is not allowed" in decode; S14). Megatron-style
sequence parallelism inside TP (a reduce-scatter and all-gather over `tp`, S7) is not SP and is
legal in decode.

## Why it matters
Sequence parallelism splits one prompt's tokens over ranks. In decode each sequence has one
new token per step: there is nothing to split, so the SP ranks either idle or each hold a
different slice of the KV cache that every step would have to gather again. Engines do not run
decode this way, and the plan's decode groups are not the ones deployed.

## Bad plan
```yaml
parallel: {tp: 8, sp: 2}          # sp applies to both phases
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Sequence parallelism kept on in decode, where each sequence has one token per step.
syncverify: 1
name: llama-3.1-70b-sp-in-decode
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, sp: 2}  # <- SV501
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 8}
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 65536}
  decode: {dp: 2, microbatches: 1, batch: 64}      # same 16 ranks as two replicas
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-sp-in-decode-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}  # <- fixed
phases:
  prefill: {sp: 2, microbatches: 1, tokens: 8192}  # <- fixed
  decode: {dp: 2, microbatches: 1, batch: 64}  # <- fixed
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [decode]}  # <- fixed
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path


def check(ctx: Context) -> None:
    # S14 and the seed: no SP in decode (S7's sequence parallelism inside TP is not SP).
    decode = ctx.plan.phase("decode")
    if decode is None or decode.degrees.sp == 1:
        return
    sp = decode.degrees.sp
    ctx.report(
        RULE,
        at=degree_path(ctx.plan, "decode", "sp"),
        message=f"decode runs with sp = {sp}: sequence parallelism is not allowed in decode "
        f"(one token per sequence per step)",
        help=f"set `phases: {{decode: {{sp: 1}}}}` and keep sp for prefill; the {sp} sp ranks "
        f"can serve decode as dp replicas (`dp: {sp * decode.degrees.dp}`)",
        where=Where(phase="decode"),
    )


RULE = Rule(
    code="SV501",
    slug="sp-in-decode",
    category="phase-illegal",
    severity="error",
    summary="sequence parallelism in decode",
    check=check,
    page=__doc__,
)
