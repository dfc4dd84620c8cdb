"""## What it checks
That each phase's `overlap` is one the phase allows: `across_steps` exists only as a (rejected)
decode mode, since prefill is one step per request (plan format: phases). Decode's
`across_steps` is `decode-overlap-across-steps` (SV502).

## Why it matters
Prefill processes each prompt in one forward pass; there is no next step to overlap with. The
key reads as if prefill of one request could run ahead into another's steps, which no engine
does, so the plan's schedule is not the deployed one.

## Bad plan
```yaml
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: across_steps}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Prefill asks for across_steps overlap: prefill has no steps to overlap.
syncverify: 1
name: llama-3.1-70b-prefill-across-steps
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: across_steps}  # <- SV504
  decode: {microbatches: 2, batch: 64}
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
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-prefill-across-steps-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: comm_compute}  # <- fixed
  decode: {microbatches: 2, batch: 64}
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
from syncverify.plan import OVERLAP_MODES
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path


def check(ctx: Context) -> None:
    for phase in ctx.plan.phases:
        allowed = OVERLAP_MODES.get(phase.name, ())
        if phase.name == "decode" or phase.overlap in allowed:
            continue
        ctx.report(
            RULE,
            at=phase_key_path(ctx.plan, phase.name, "overlap"),
            message=f"{phase.name} overlap is {phase.overlap}, which {phase.name} does not allow "
            f"(allowed: {', '.join(allowed)})",
            help=f"use one of {', '.join(allowed)}, e.g. `overlap: comm_compute`",
            where=Where(phase=phase.name),
        )


RULE = Rule(
    code="SV504",
    slug="overlap-mode-not-allowed",
    category="phase-illegal",
    severity="error",
    summary="an overlap mode the phase does not allow",
    check=check,
    page=__doc__,
)
