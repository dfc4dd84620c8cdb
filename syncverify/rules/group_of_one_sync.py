"""## What it checks
A sync point whose group has one rank in every phase it runs in (S2, S19): `tp`, `sp`, `dp`,
`pp` or `ep` of degree 1 (or `world` on one device), and a sync at `stage_boundary` with
`pp = 1`, which has no instance at all (S3). Such a collective changes nothing (over a group of
one, Sharded and Partial collapse to Replicated) and completes at issue (S23), so it orders
nothing either. The message says what it costs: calls per step per rank.

## Why it matters
Each call still goes through the communication library: a kernel launch, a stream sync, often
a host round trip, per layer and per microbatch. In decode, where a step is a few
milliseconds, dozens of empty collectives per step are measurable. It also usually means the
plan was copied from a layout with a larger group, and the syncs the new layout needs may be
the ones that were not added.

## Bad plan
```yaml
parallel: {tp: 1, dp: 2}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Llama-3.1-8B as two DP replicas without TP: the attention all-reduce runs over a group of one.
syncverify: 1
name: llama-3.1-8b-dp2-leftover-allreduce
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 2}
parallel: {tp: 1, dp: 2}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}  # <- SV401
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
parallel: {tp: 1, dp: 2}
sync:
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-dp2-leftover-allreduce-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 2}
parallel: {tp: 1, dp: 2}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.plan import Phase, SyncPoint
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import (
    article,
    group_size,
    plural,
    selected_layers,
    sync_phases,
)

NO_INSTANCE, GROUP_OF_ONE = "no-instance", "group-of-one"


def _why_idle(phase: Phase, sync: SyncPoint) -> str | None:
    if sync.after == "stage_boundary" and phase.degrees.pp == 1:
        return NO_INSTANCE
    if group_size(phase, sync.group) == 1:
        return GROUP_OF_ONE
    return None


def calls_per_step(ctx: Context, phase: Phase, sync: SyncPoint) -> int:
    """How many times one rank issues `sync` in one step of `phase` (the most loaded stage)."""
    if sync.after in ("step_end", "prefill_end"):
        return 1
    if sync.after == "stage_boundary":
        return 0 if phase.degrees.pp == 1 else phase.microbatches
    if not sync.is_per_layer:
        return phase.microbatches
    topo, layers = phase.topology, selected_layers(ctx.plan, sync)
    per_stage = [
        sum(1 for layer in layers if layer in topo.stage_layers(s)) for s in range(len(topo.stages))
    ]
    return phase.microbatches * max(per_stage, default=0)


def _cost(ctx: Context, phases: list[Phase], sync: SyncPoint) -> str:
    counts = [(p.name, calls_per_step(ctx, p, sync)) for p in phases]
    if len({n for _, n in counts}) == 1:
        return f"{plural(counts[0][1], 'call')} per step per rank"
    return ", ".join(f"{plural(n, 'call')} per step per rank in {name}" for name, n in counts)


def _help(sync: SyncPoint) -> str:
    if sync.group == "dp" and sync.after == "sample":
        return (
            f"remove {sync.label}: with dp = 1 the output is read from the last stage "
            "directly (S18)"
        )
    return f"remove {sync.label}; if a larger {sync.group} group was meant, raise its degree"


def check(ctx: Context) -> None:
    # S2 / S19 / S23: over a group of one a collective is the identity and completes at issue;
    # S3: stage_boundary has no instance with pp = 1.
    for sync in ctx.plan.syncs:
        phases = sync_phases(ctx.plan, sync)
        reasons = {_why_idle(p, sync) for p in phases}
        if not phases or None in reasons:
            continue
        if reasons == {GROUP_OF_ONE}:
            at, message = (
                sync.path + ("group",),
                (
                    f"{sync.label} is {article(sync.collective)} over a group of one "
                    f"({sync.group} = 1) that does "
                    f"nothing: {_cost(ctx, phases, sync)}"
                ),
            )
        else:
            at, message = (
                sync.path + ("after",),
                (
                    f"{sync.label} is {article(sync.collective)} at stage_boundary with pp = 1, "
                    "a group of one stage: there is no stage boundary, so it never runs and does "
                    "nothing (0 calls per step)"
                ),
            )
        ctx.report(
            RULE,
            at=at,
            message=message,
            help=_help(sync),
            where=Where(phase=", ".join(p.name for p in phases), op=sync.after, sync=sync.label),
        )


RULE = Rule(
    code="SV401",
    slug="group-of-one-sync",
    category="redundant-sync",
    severity="warning",
    summary="a collective over a group of one rank, which does nothing",
    check=check,
    page=__doc__,
)
