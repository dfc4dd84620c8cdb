"""## What it checks
That the expert-parallel degree of each phase gives well-formed EP groups (S1): `ep` divides
`tp * sp * dp` (EP groups are cut from the non-pp ranks of a stage in layout order); `ep` is
not strictly between 1 and `tp` (an EP group inside part of a TP group is outside v1); and no
EP group cuts a TP group, i.e. every EP group holds whole TP groups or lies inside one. With
the default layout the last case is `ep > tp` with `ep % tp != 0`.

## Why it matters
Where the experts' inputs come from decides which collectives a MoE layer needs (S12): tokens
Replicated over the EP group, or split over it. An EP group that holds only part of a TP group
has ranks whose TP partners, holding the same tokens, route them through a different set of
expert owners: neither the all-reduce nor the dispatch/combine pattern is correct there, and
engines refuse these layouts (they require `ep` to be a multiple of `tp`, or `ep = tp`). The
plan cannot be unrolled until the layout is fixed.

## Bad plan
```yaml
parallel: {tp: 2, dp: 3, ep: 3}    # EP group {0, 1, 2} holds half of TP group {2, 3}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Qwen3-30B-A3B with EP2 inside each TP4 group: an EP group that is half a TP group (S1).
syncverify: 1
name: qwen3-30b-a3b-tp4-ep2
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel:
  tp: 4
  dp: 2
  ep: 2  # <- SV104
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: tp, layers: moe}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
parallel: {tp: 2, dp: 3, ep: 6}    # one EP group of three whole TP groups
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: qwen3-30b-a3b-tp4-ep2-fixed
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel:
  tp: 4
  dp: 2
  ep: 4  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: tp, layers: moe}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from __future__ import annotations

from syncverify.plan import Phase
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import degree_path, ranges, report_merged


def _cut_tp_group(phase: Phase) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """A TP group spread over several EP groups, with the EP group of its first rank.

    With ep >= tp every TP group must lie inside one EP group. Walks each TP group once
    (O(world * tp)), without enumerating every group of every axis.
    """
    topo, ep = phase.topology, phase.degrees.ep
    if topo.sizes["tp"] == 1:
        return None
    index = topo.non_pp_indices

    def ep_chunk(rank: int) -> tuple[int, int]:
        return topo.stage_of(rank), index[rank] // ep

    for base in topo.group_bases("tp"):
        tp_group = topo.group_of_base("tp", base)
        if len({ep_chunk(r) for r in tp_group}) > 1:
            ep_group = tuple(r for r in range(topo.world) if ep_chunk(r) == ep_chunk(base))
            return ep_group, tuple(tp_group)
    return None


def _problem(phase: Phase) -> tuple[str, str, str] | None:
    """(what, why, fix) for the first defect of the phase's EP layout, or None."""
    d = phase.degrees
    non_pp = d.tp * d.sp * d.dp
    if d.ep <= 1:
        return None
    if non_pp % d.ep:
        return (
            f"ep = {d.ep}",
            f"it does not divide tp x sp x dp = {non_pp}",
            f"pick an ep that divides {non_pp} (the ranks of one pipeline stage)",
        )
    if d.ep < d.tp:
        return (
            f"ep = {d.ep} with tp = {d.tp}",
            "an ep group inside part of a tp group (1 < ep < tp)",
            f"use ep: 1 (experts split over tp), ep: {d.tp}, or a multiple of {d.tp}",
        )
    cut = _cut_tp_group(phase)
    if cut:
        ep_group, tp_group = cut
        return (
            f"ep = {d.ep} with tp = {d.tp}",
            f"the ep group of ranks {ranges(ep_group)} holds part of the tp group "
            f"{ranges(tp_group)}",
            f"make every ep group hold whole tp groups (ep a multiple of {d.tp} with tp fastest "
            f"in `layout`), or use ep: 1",
        )
    return None


def check(ctx: Context) -> None:
    # S1: EP groups are cut from a stage's non-pp ranks; 1 < ep < tp is outside v1.
    plan = ctx.plan

    def key(phase):
        problem = _problem(phase)
        return (degree_path(plan, phase.name, "ep"), problem) if problem else None

    def describe(problem, suffix):
        what, why, fix = problem
        return f"{what}{suffix}: {why}", fix

    report_merged(ctx, RULE, key, describe)


RULE = Rule(
    code="SV104",
    slug="invalid-ep-layout",
    category="config",
    severity="error",
    summary="ep does not divide the stage's ranks, or ep groups cut tp groups",
    check=check,
    page=__doc__,
    blocks_graph=True,
)
