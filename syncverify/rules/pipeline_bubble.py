"""## What it checks
In a phase with `pp > 1`, whether it runs fewer microbatches than pipeline stages (S21). The
message gives the pipeline bubble: with `m` microbatches over `pp` stages each stage idles
`(pp - 1) / (m + pp - 1)` of the time.

## Why it matters
A stage can only work on a microbatch that the previous stage has finished. With one
microbatch over two stages, each stage waits for the other half of the time: the second
stage's GPUs are paid for and idle. More microbatches than stages fill the pipeline.

## Bad plan
```yaml
parallel: {tp: 8, pp: 2}
phases:
  decode: {microbatches: 1, batch: 64}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# One decode microbatch over two pipeline stages: each stage idles half the time.
syncverify: 1
name: llama-3.1-70b-decode-bubble
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 1, batch: 128}  # <- SV702
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
  decode: {microbatches: 2, batch: 32}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-decode-bubble-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}  # <- fixed
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from fractions import Fraction

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import percent, phase_key_path, plural


def bubble(pp: int, microbatches: int) -> Fraction:
    return Fraction(pp - 1, microbatches + pp - 1)


def check(ctx: Context) -> None:
    # S21: fewer microbatches than stages, with the bubble (pp-1)/(m+pp-1).
    for phase in ctx.plan.phases:
        pp, m = phase.degrees.pp, phase.microbatches
        if pp <= 1 or m >= pp:
            continue
        share = bubble(pp, m)
        ctx.report(
            RULE,
            at=phase_key_path(ctx.plan, phase.name, "microbatches"),
            message=f"{phase.name} runs {plural(m, 'microbatch', 'microbatches')} "
            f"over {pp} stages: "
            f"each stage idles {percent(share)} of the time (bubble (pp-1)/(m+pp-1) = {share})",
            help=f"run at least {pp} microbatches in {phase.name} (e.g. `microbatches: {pp}`), "
            f"splitting the batch",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV702",
    slug="pipeline-bubble",
    category="performance",
    severity="warning",
    summary="fewer microbatches than pipeline stages",
    check=check,
    page=__doc__,
)
