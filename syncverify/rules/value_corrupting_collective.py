"""## What it checks
A collective that changes a value that did not need it (S19: redundant-sync, error): an
all_gather of a value every member already holds whole (the consumer receives group-size copies:
ops never de-duplicate), an all_reduce of values sharded over different features, a second
dispatch of tokens already in expert order, a combine of tokens that were never dispatched, an
all_to_all of the sampled tokens after `sample` (over any group: one token id per sequence has
nothing to split, so the exchange hands sequences' tokens to the wrong ranks, whether or not a
later sync reads its output), or a collective whose output is a shard the consumer cannot use.

## Why it matters
The consumer receives a wrong value: duplicated rows, sums of unrelated shards, scrambled token
order. Unlike a merely redundant sync, this one breaks the output.

## Bad plan
```yaml
parallel: {tp: 8}
ops:
  lm_head: {sharding: replicated}    # every rank computes the whole vocabulary ...
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}   # ... then gathers 8 copies
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-8B TP4 with a replicated lm_head (every rank computes the whole vocabulary) that
# still all-gathers the logits: sample receives 4 copies (ops never de-duplicate, S19).
syncverify: 1
name: llama-3.1-8b-tp4-replicated-lm-head-gathered
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
ops:
  lm_head: {sharding: replicated}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}  # <- SV403
```

</details>

## Fix
```yaml
ops:
  lm_head: {sharding: replicated}
sync:                                  # no logits gather: every rank already holds them whole
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-replicated-lm-head-gathered-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
ops:
  lm_head: {sharding: replicated}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
```

</details>
"""

from syncverify.records import DefectKind
from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import first_node, group_by, trace, where
from syncverify.rule_support.record_owners import records_for

K = DefectKind
MESSAGES = {
    K.REDUCE_SHARDED: (
        "{label} sums values sharded over different features: unrelated shards are added"
    ),
    K.DOUBLE_DISPATCH: "{label} dispatches tokens that are already in expert order",
    K.COMBINE_UNDISPATCHED: (
        "{label} combines tokens that were never dispatched: it scrambles their order"
    ),
    K.DUPLICATED: (
        "{label} gathers a value every member already holds whole: {op} receives {copies} copies"
    ),
    K.WRONG_SHARD_BLAMED: "{label} hands {op} {feat} where it needs {expected}",
    K.UNTILED_GATHER: "{label} concatenates shares that do not tile one range (an earlier "
    "collective split each member's share): the result is pieces of "
    "different parts, not the whole value",
    K.SCRAMBLED_TOKENS: "{label} exchanges the sampled tokens (one id per sequence, nothing to "
    "split): it hands each rank other sequences' tokens, so the output and "
    "the next step read scrambled tokens",
}


def check(ctx) -> None:
    a = ctx.analyses
    plan = ctx.plan
    defects = records_for(a, RULE.code)
    for (sync_index, kind), items in group_by(defects, lambda d: (d.sync, d.kind)).items():
        sync = plan.syncs[sync_index]
        nodes = [d.node for d in items]
        first = items[0]
        op = nodes[0].op if nodes[0].kind == "op" else sync.after
        message = MESSAGES[kind].format(
            label=sync.label,
            op=op,
            copies=getattr(first.payload, "copies", None),
            feat=getattr(first.payload, "feat", None),
            expected=getattr(first.payload, "expected", None),
        )
        ctx.report(
            RULE,
            ("sync", sync_index),
            message,
            help=f"remove {sync.label}, or change it to the collective the value needs",
            where=where(a, nodes, op, sync_index),
            trace=trace(a, [first_node(nodes)]),
        )


RULE = Rule(
    code="SV403",
    slug="value-corrupting-collective",
    category="redundant-sync",
    severity="error",
    summary="a collective changes a value that did not need it (S19)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
