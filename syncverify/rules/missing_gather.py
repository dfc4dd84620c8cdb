"""## What it checks
Every op that needs all of a value gets all of it: a column-parallel op (`qkv`, `gate_up`,
`lm_head`, TP-split experts) needs the same tokens on every rank of its TP group (Replicated over
tp); a norm or `sample` needs every feature (the whole vocabulary for `sample`); a residual add
needs both addends to hold the same tokens. Under Megatron-style sequence parallelism (S7) the
residual stream is sharded over tokens, so each column-parallel op needs an all_gather first.

## Why it matters
A rank that computes on its own token shard where the op needs every token produces the wrong
rows; `sample` on one vocabulary shard picks the best token of that shard only. The output is
wrong with no error.

## Bad plan
```yaml
parallel: {tp: 8}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  # lm_head is vocab-parallel: sample reads one vocabulary shard per rank
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B with Megatron-style sequence parallelism inside TP8 (S7), but no all-gather
# after mlp_norm: gate_up (column-parallel) reads each rank's token shard where it needs every
# token of the microbatch.
syncverify: 1
name: llama-3.1-70b-megatron-sp-no-mlp-gather
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {microbatches: 1, tokens: 8192, batch: 1}
  decode: {microbatches: 1, batch: 64}
sync:  # <- SV302
  - {id: embed-rs, after: embed, collective: reduce_scatter, group: tp}
  - {id: attn-ag, after: attn_norm, collective: all_gather, group: tp}
  - {id: attn-rs, after: o_proj, collective: reduce_scatter, group: tp}
  - {id: mlp-rs, after: down, collective: reduce_scatter, group: tp}
  - {id: final-ag, after: final_norm, collective: all_gather, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-megatron-sp-no-mlp-gather-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {microbatches: 1, tokens: 8192, batch: 1}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-rs, after: embed, collective: reduce_scatter, group: tp}
  - {id: attn-ag, after: attn_norm, collective: all_gather, group: tp}
  - {id: attn-rs, after: o_proj, collective: reduce_scatter, group: tp}
  - {after: mlp_norm, collective: all_gather, group: tp}  # <- fixed
  - {id: mlp-rs, after: down, collective: reduce_scatter, group: tp}
  - {id: final-ag, after: final_norm, collective: all_gather, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.records import DefectKind
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import (
    affected_layers,
    first_node,
    fix,
    group_by,
    layers_clause,
    trace,
    where,
    where_to_add,
)
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = records_for(a, RULE.code)
    for (kind, op, producer), items in group_by(
        defects, lambda d: (d.kind, d.node.op, d.payload.producer)
    ).items():
        nodes = [d.node for d in items]
        source = producer or "its input"
        if kind == DefectKind.NOT_REPLICATED:
            message = (
                f"{op} needs the same tokens on every rank of its TP group, but the ranks "
                f"hold different token shards of {source}'s output"
            )
        elif kind == DefectKind.SHARDED_FEATURES:
            message = (
                f"{op} needs every feature but reads one shard "
                f"({items[0].payload.feat}) of {source}'s output"
            )
        else:
            message = (
                f"{op} adds values that hold different tokens: {items[0].payload.addend} "
                f"from {source} and the {items[0].payload.other or 'residual'} stream"
            )
        help_text = "gather it before it is read:\n" + fix(
            "tp-gather",
            after=producer or "o_proj",
            group="tp",
            layers=layers_clause(plan, affected_layers(a, nodes)),
        )
        if kind == DefectKind.ADDENDS_HOLD_DIFFERENT_TOKENS:
            help_text = (
                "make both addends hold the same tokens: under sequence parallelism inside "
                "TP (S7) use reduce_scatter after the row-parallel op and all_gather before "
                "the next column-parallel one"
            )
        blame = items[0].sync
        at = ("sync", blame) if blame is not None else where_to_add(plan)
        ctx.report(
            RULE,
            at,
            message,
            help=help_text,
            where=where(a, nodes, op),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV302",
    slug="missing-gather",
    category="missing-sync",
    severity="error",
    summary="an op that needs all tokens or all features reads a shard (missing all_gather)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
