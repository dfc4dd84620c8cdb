"""## What it checks
Ops never slice, de-duplicate or reshape an input (S19): a row-parallel op (`o_proj`, `down`)
needs exactly its own shard of heads or ffn, attention needs K/V for the KV heads of its query
heads, and every op needs its inputs present. An input in any other placement that no
collective in the plan produced is reported here (a collective that turns a right value into a
wrong one is SV403).

## Why it matters
An op fed a value in the wrong placement multiplies the wrong weights with it: the result has
the right shape only by accident, and the logits are wrong.

## Bad plan
```yaml
parallel: {tp: 8}
ops:
  qkv: {sharding: replicated}     # qkv gives every head on every rank ...
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # ... but o_proj is still row-parallel and needs this rank's heads only
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-8B TP4 with qkv replicated (every head on every rank) but o_proj left row-parallel:
# o_proj needs its own 8 heads and reads all 32 (ops never slice their inputs, S19).
syncverify: 1
name: llama-3.1-8b-tp4-replicated-qkv
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
ops:
  qkv: {sharding: replicated}
sync:  # <- SV312
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
ops: {}     # qkv column-parallel (the default): attention yields this rank's heads for o_proj
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
# or replicate attention end to end and drop attn-ar (o_proj's output is then whole):
# ops: {qkv: {sharding: replicated}, o_proj: {sharding: replicated}}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-replicated-qkv-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.records import DefectKind
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import first_node, group_by, trace, where, where_to_add
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = records_for(a, RULE.code)
    for (kind, op, producer), items in group_by(
        defects, lambda d: (d.kind, d.node.op, getattr(d.payload, "producer", None))
    ).items():
        nodes = [d.node for d in items]
        first = items[0]
        if kind == DefectKind.WRONG_SHARD:
            message = (
                f"{op} needs {first.payload.expected} but reads {first.payload.feat} of "
                f"{producer or 'its input'}'s output (ops never slice their inputs, S19)"
            )
            help_text = (
                "make the producer's sharding match the consumer's (ops: {<op>: {sharding: ...}})"
            )
        elif kind == DefectKind.MISSING_INPUT:
            message = f"{op} has no {first.payload.slot} input on these ranks"
            help_text = "add the sync that delivers it"
        else:
            message = (
                f"{op} adds values in different placements: {first.payload.addend} from "
                f"{producer or 'its input'} and {first.payload.other or 'the residual'}"
            )
            help_text = "bring both addends to the same placement before the add"
        ctx.report(
            RULE,
            where_to_add(plan),
            message,
            help=help_text,
            where=where(a, nodes, op),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV312",
    slug="misplaced-input",
    category="missing-sync",
    severity="error",
    summary="an op reads an input in a placement it cannot use (S19)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
