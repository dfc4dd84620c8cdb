"""## What it checks
Decode step t+1 starts from step t's sampled token. With `token_return: host` (the default, S4)
the host reads each sampled token and hands it to the next step's `embed`; the host's read is
ordered after `sample` only by the schedule's step structure. Under `overlap: across_steps` (S15)
that order is gone: the host prepares step t+1 before step t's token exists.

## Why it matters
The next step embeds a stale token (the previous one, or garbage): generation silently repeats
or derails. This is the seed's "overlapping decode steps across devices without proper sync is
invalid".

## Bad plan
```yaml
phases:
  decode: {overlap: across_steps}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-70B TP8 x PP2 with decode steps overlapping across devices (S15): the host
# prepares step t+1 before step t's token exists (SV311), and the mode is phase-illegal (SV502).
syncverify: 1
name: llama-3.1-70b-decode-across-steps
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64, overlap: across_steps}  # <- SV311, SV502
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
phases:
  decode: {overlap: comm_compute}   # overlap within a step, never across steps
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-decode-across-steps-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}  # <- fixed
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.rule import Rule
from syncverify.rule_support.for_graph_rules import trace, where
from syncverify.rule_support.record_owners import records_for


def check(ctx) -> None:
    a = ctx.analyses
    races = records_for(a, RULE.code)
    if not races:
        return
    nodes = [r.producer for r in races]
    message = (
        "the host prepares each decode step before the previous step's token exists: "
        "embed reads a stale token (S15)"
    )
    at = ("phases", "decode", "overlap")
    ctx.report(
        RULE,
        at,
        message,
        help=(
            "keep decode steps in order: `overlap: none`, `comm_compute` or `two_batch` "
            "(overlap within a step)"
        ),
        where=where(a, nodes, "sample"),
        trace=trace(
            a,
            [races[0].producer, races[0].consumer],
            "across_steps removes the order edge from sample to the host",
        ),
    )


RULE = Rule(
    code="SV311",
    slug="stale-token",
    category="missing-sync",
    severity="error",
    summary="a decode step starts before the previous step's token exists (S4, S15)",
    check=check,
    page=__doc__,
    needs_graph=True,
)
