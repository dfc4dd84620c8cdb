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

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 keeping the sampled token on device (S4), with no sync after sample
# to carry it from stage 1 back to stage 0's embed.
syncverify: 1
name: llama-3.1-70b-device-token-not-returned
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64, token_return: device}  # <- SV308
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
sync:
  - {id: token-back, after: sample, collective: send_recv, group: pp, phases: [decode]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-device-token-not-returned-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64, token_return: device}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {after: sample, collective: send_recv, group: pp, phases: [decode]}  # <- fixed
```

</details>
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import first_node, fix, trace, where
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    nodes = [d.node for d in records_for(a, RULE.code)]
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
