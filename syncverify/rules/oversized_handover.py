"""## What it checks
A hand-over at `prefill_end` or an output gather that moves more than its consumers need (S21,
performance): an all_gather of K/V over a group whose members own different layers or KV heads
in decode delivers every member's cache to every member (S5: an all_gather also moves what the
rank does not own); an all_to_all would deliver each member only its own share. Likewise an
output gather after `sample` over a group whose ranks hold the same tokens (world or tp instead
of dp) hands the sink one copy per TP rank (S18).

## Why it matters
The hand-over sits between prefill and the first decode token: every extra byte is time to first
token, and the extra K/V occupies cache memory the decode batch needs.

## Bad plan
```yaml
cluster: {nodes: 1, gpus_per_node: 8}
phases:
  prefill: {tp: 4, dp: 2}   # two TP4 replicas prefill: each rank writes 2 of the 8 KV heads ...
  decode: {tp: 8}           # ... one TP8 replica decodes: each rank owns 1 KV head
sync:
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
  - {id: kv-move, after: prefill_end, tensor: kv, collective: all_gather, group: world}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B on one 8-GPU node: prefill as two TP4 replicas, decode as one TP8 replica. The
# K/V hand-over all-gathers over the world, so every decode rank receives all 8 KV heads where
# it owns one (S5, S21); an all-to-all would move only its own.
syncverify: 1
name: llama-3.1-70b-prefill-tp4-dp2-decode-tp8-gather-handover
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4}
phases:
  prefill: {dp: 2, microbatches: 1, tokens: 8192}
  decode: {tp: 8, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
  # next line: SV705
  - {id: kv-move, after: prefill_end, tensor: kv, collective: all_gather, group: world}
```

</details>

## Fix
```yaml
sync:
  - {id: kv-move, after: prefill_end, tensor: kv, collective: all_to_all, group: world}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-prefill-tp4-dp2-decode-tp8-gather-handover-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4}
phases:
  prefill: {dp: 2, microbatches: 1, tokens: 8192}
  decode: {tp: 8, microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp, phases: [prefill]}
  - {id: kv-move, after: prefill_end, tensor: kv, collective: all_to_all, group: world}
```

</details>
"""

from syncverify.records import DefectKind, HandoverKind
from syncverify.rule import Rule
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    _output_gathers(ctx)
    for index in records_for(ctx.analyses, RULE.code, HandoverKind.OVERSIZED):
        sync = ctx.plan.syncs[index]
        message = (
            f"{sync.label} all-gathers K/V that members do not own in decode (other layers "
            f"or KV heads): an all_to_all would move only what each rank needs (S5, S21)"
        )
        ctx.report(
            RULE,
            ("sync", index, "collective")
            if ("sync", index, "collective") in ctx.plan.spans
            else ("sync", index),
            message,
            help="collective: all_to_all",
        )


def _output_gathers(ctx) -> None:
    """S21: a gather after sample whose group holds copies of the same tokens (TP ranks)."""
    defects = records_for(ctx.analyses, RULE.code, DefectKind.OVERSIZED_GATHER)
    for index in sorted({d.sync for d in defects}):
        sync = ctx.plan.syncs[index]
        message = (
            f"{sync.label} gathers several copies of every sampled token into the output "
            f"sink: its {sync.group} group holds ranks with the same tokens (S18, S21)"
        )
        ctx.report(
            RULE,
            ("sync", index, "group")
            if ("sync", index, "group") in ctx.plan.spans
            else ("sync", index),
            message,
            help="group: dp",
        )


RULE = Rule(
    code="SV705",
    slug="oversized-handover",
    category="performance",
    severity="warning",
    summary="a prefill_end hand-over moves K/V its receivers do not own (S21)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
