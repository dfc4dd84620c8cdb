"""## What it checks
That decode's `overlap` is not `across_steps` (S15; the seed: "overlap is allowed within a
token step, not across steps").

## Why it matters
Step t+1 needs step t's sampled token and step t's K/V. Letting devices run ahead into the
next step while others finish the current one breaks both: the host prepares step t+1 before
the token exists (S15 removes the host's order edge), and attention may read a KV cache that
the previous step has not finished writing. Use `comm_compute` or `two_batch` to overlap within
a step.

## Bad plan
```yaml
phases:
  decode: {microbatches: 2, batch: 64, overlap: across_steps}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Decode steps may overlap across devices: step t+1 starts before step t's token exists
# (phase-illegal, S15), and embed then reads a stale token (SV311).
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
  decode: {microbatches: 2, batch: 64, overlap: comm_compute}
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

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path


def check(ctx: Context) -> None:
    # S15: across_steps is always phase-illegal in decode.
    decode = ctx.plan.phase("decode")
    if decode is None or decode.overlap != "across_steps":
        return
    ctx.report(
        RULE,
        at=phase_key_path(ctx.plan, "decode", "overlap"),
        message="decode overlaps across_steps: step t+1 would start before step t's token "
        "and kv cache exist",
        help="use `overlap: comm_compute` or `overlap: two_batch` to overlap within a step",
        where=Where(phase="decode", steps="t, t+1"),
    )


RULE = Rule(
    code="SV502",
    slug="decode-overlap-across-steps",
    category="phase-illegal",
    severity="error",
    summary="decode steps overlapping across devices",
    check=check,
    page=__doc__,
)
