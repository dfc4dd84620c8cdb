"""## What it checks
Under Megatron-style sequence parallelism inside TP (S7: the phase has a `reduce_scatter` over
`tp`), that the tokens of one microbatch on a rank divide by `tp` (S20): `tokens * batch / sp`
in prefill, `batch` in decode. Between the reduce-scatter and the next all-gather the residual
stream is cut over the TP ranks by token.

Microbatch counts and sizes need no other shape check: `batch` is stated per microbatch and
per DP replica, so no count has to divide another; a microbatch with fewer tokens than TP
ranks (nothing to split) fails this check, and an odd count under `two_batch` is
`two-batch-odd-microbatches` (SV107).

## Why it matters
The reduce-scatter gives every TP rank an equal slice of the microbatch's tokens; the
all-gather that follows expects equal slices back. A token count that does not divide leaves
the collectives with unequal shapes (v1 has no padding key): a decode batch of 4 sequences
cannot be scattered over 8 ranks.

## Bad plan
```yaml
parallel: {tp: 8}
phases:
  decode: {microbatches: 1, batch: 4}
sync:
  - {id: attn-rs, after: o_proj, collective: reduce_scatter, group: tp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Megatron-style sequence parallelism over TP8 (S7) with a decode batch of 4 sequences: the
# reduce-scatter cannot give each of the 8 ranks a whole share.
syncverify: 1
name: llama-3.1-70b-megatron-sp-batch-4
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {microbatches: 1, tokens: 8192, batch: 1}
  decode: {microbatches: 1, batch: 4}  # <- SV207
sync:
  - {id: embed-rs, after: embed, collective: reduce_scatter, group: tp}
  - {id: attn-ag, after: attn_norm, collective: all_gather, group: tp}
  - {id: attn-rs, after: o_proj, collective: reduce_scatter, group: tp}
  - {id: mlp-ag, after: mlp_norm, collective: all_gather, group: tp}
  - {id: mlp-rs, after: down, collective: reduce_scatter, group: tp}
  - {id: final-ag, after: final_norm, collective: all_gather, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
phases:
  decode: {microbatches: 1, batch: 8}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-megatron-sp-batch-4-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  prefill: {microbatches: 1, tokens: 8192, batch: 1}
  decode: {microbatches: 1, batch: 8}  # <- fixed
sync:
  - {id: embed-rs, after: embed, collective: reduce_scatter, group: tp}
  - {id: attn-ag, after: attn_norm, collective: all_gather, group: tp}
  - {id: attn-rs, after: o_proj, collective: reduce_scatter, group: tp}
  - {id: mlp-ag, after: mlp_norm, collective: all_gather, group: tp}
  - {id: mlp-rs, after: down, collective: reduce_scatter, group: tp}
  - {id: final-ag, after: final_norm, collective: all_gather, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.plan import Phase
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import phase_key_path, sync_phases


def _scatters_over_tp(ctx: Context, phase: Phase):
    return next(
        (
            s
            for s in ctx.plan.syncs
            if s.collective == "reduce_scatter"
            and s.group == "tp"
            and phase in sync_phases(ctx.plan, s)
        ),
        None,
    )


def _tokens_per_rank(phase: Phase) -> tuple[int, str, str] | None:
    """(tokens of one microbatch on a rank, how they are counted, the key to point at)."""
    if phase.name == "decode":
        return phase.batch, f"batch {phase.batch}", "batch"
    if phase.tokens is None or phase.tokens % phase.degrees.sp:
        return None  # prompt-not-divisible-by-sp reports an uneven sp split
    count = phase.tokens * phase.batch // phase.degrees.sp
    how = f"{phase.tokens} tokens x batch {phase.batch}"
    if phase.degrees.sp > 1:
        how += f" / sp {phase.degrees.sp}"
    return count, how, "tokens"


def check(ctx: Context) -> None:
    # S20 under S7: a microbatch's tokens on a rank % tp when the phase reduce-scatters over tp.
    for phase in ctx.plan.phases:
        tp = phase.degrees.tp
        scatter = _scatters_over_tp(ctx, phase)
        counted = _tokens_per_rank(phase)
        if scatter is None or counted is None or counted[0] % tp == 0:
            continue
        count, how, key = counted
        ctx.report(
            RULE,
            at=phase_key_path(ctx.plan, phase.name, key),
            message=f"a {phase.name} microbatch holds {count} tokens per rank ({how}), which do "
            f"not split over tp = {tp} for the reduce_scatter {scatter.label}",
            help=f"make the per-rank token count a multiple of {tp} (e.g. `{key}: "
            f"{_scaled(phase, key, tp)}`), or use all_reduce instead of reduce_scatter + "
            f"all_gather in {phase.name}",
            where=Where(phase=phase.name, sync=scatter.label),
        )


def _scaled(phase: Phase, key: str, tp: int) -> int:
    """The smallest value of `key` (batch or tokens) at or above the current one that divides."""
    value = getattr(phase, key)
    while (value if key == "batch" else value * phase.batch // phase.degrees.sp) % tp or (
        key == "tokens" and value % phase.degrees.sp
    ):
        value += 1
    return value


RULE = Rule(
    code="SV207",
    slug="sequence-parallel-tokens-not-divisible",
    category="shape",
    severity="error",
    summary="a microbatch's tokens do not divide by tp under sequence parallelism",
    check=check,
    page=__doc__,
)
