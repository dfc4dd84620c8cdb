"""The prefill -> decode hand-over (S5): does every decode rank hold the prompt's K/V it needs?

For every decode rank r, each layer it runs in decode and the KV heads it owns there, r must hold
the K/V of every prompt token of every sequence it may decode: written on r during prefill (what
its prefill attention read, so an all_gather over sp leaves the whole prompt there), or moved by a
sync `after: prefill_end` (an all_gather or all_to_all over a decode group; other collectives
move none). With the same degrees and layout in both phases, each sequence stays on the replica
that prefilled it; otherwise any decode replica may get it, so every one needs all of them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from syncverify.analysis.values import FULL, ONE, ZERO, shard
from syncverify.graph.world import PhaseWorld
from syncverify.plan import Plan


@dataclass(frozen=True)
class Box:
    """K/V a rank holds: one layer, one token block, a share of its tokens and of its KV heads."""

    layer: int
    block: tuple
    lo: Fraction
    hi: Fraction
    heads: tuple


@dataclass
class HandoverResult:
    missing: dict[tuple, set] = field(default_factory=dict)  # (rank, layer) -> blocks lacking
    oversized: set = field(default_factory=set)  # sync indices moving extra K/V
    unneeded: list = field(default_factory=list)  # prefill_end syncs never needed


def _kv_share(plan: Plan, world: PhaseWorld, rank: int) -> tuple:
    model = plan.model
    tp = world.topo.sizes["tp"]
    coord = world.topo.coords(rank)["tp"]
    if model.mla or tp == 1:
        return FULL
    if model.kv_heads % tp == 0:
        return shard("kv_heads", coord, tp)
    return shard("kv_heads", coord * model.kv_heads // tp, model.kv_heads)


def same_layout(plan: Plan) -> bool:
    prefill, decode = plan.phase("prefill"), plan.phase("decode")
    # asked only of a hand-over, so of a plan with both phases
    assert prefill is not None and decode is not None
    return prefill.degrees == decode.degrees and prefill.topology.stages == decode.topology.stages


def analyse_handover(
    plan: Plan, prefill: PhaseWorld, decode: PhaseWorld, attention_kv: dict
) -> HandoverResult:
    result = _coverage(plan, prefill, decode, attention_kv)
    # S19: a prefill_end sync the hand-over does not need (it delivers nothing anyone lacks)
    for sync in decode.handover_syncs():
        if len(decode.group(sync.group, 0)) == 1:
            continue  # over a group of one it does nothing: SV401 says so, once
        without = _coverage(plan, prefill, decode, attention_kv, skip=sync.index)
        if set(without.missing) <= set(result.missing):
            result.unneeded.append(sync.index)
    return result


def _coverage(
    plan: Plan, prefill: PhaseWorld, decode: PhaseWorld, attention_kv: dict, skip: int | None = None
) -> HandoverResult:
    holdings: dict[int, set] = defaultdict(set)
    for (phase, rank, layer, _mb), val in attention_kv.items():
        if phase != "prefill":
            continue
        for block, lo, hi in val.tokens:
            holdings[rank].add(Box(layer, block, lo, hi, val.feat))
    result = HandoverResult()
    needs = {r: _needs(plan, prefill, decode, r) for r in range(decode.topo.world)}
    for sync in decode.handover_syncs():
        if sync.index == skip:
            continue
        if sync.collective not in ("all_gather", "all_to_all") or sync.tensor not in (None, "kv"):
            continue  # S5: other collectives deliver no K/V
        _move(sync, decode, holdings, needs, result)
    for rank, (layers, heads, wanted) in needs.items():
        for layer in layers:
            lacking = {b for b in wanted if not _covered(holdings[rank], layer, b, heads)}
            if lacking:
                result.missing[(rank, layer)] = lacking
    return result


def _needs(plan, prefill, decode, rank):
    stage = decode.topo.stage_of(rank)
    layers = decode.stage_layers(stage)
    heads = _kv_share(plan, decode, rank)
    replicas: Sequence[int] = range(prefill.topo.sizes["dp"])
    if same_layout(plan):
        replicas = [decode.topo.coords(rank)["dp"]]
    wanted = {("P", d, mb) for d in replicas for mb in range(prefill.phase.microbatches)}
    return layers, heads, wanted


def _move(sync, decode, holdings, needs, result) -> None:
    """Apply one prefill_end sync: every member gets the union (all_gather) or its own part."""
    for group in decode.topo.groups(sync.group):
        issuing = [m for m in group if decode.selected(sync, m)]
        if len(issuing) != len(group):
            continue  # a split group hangs: reported by collective matching
        union = set().union(*(holdings[m] for m in group))
        for m in group:
            layers, heads, _wanted = needs[m]
            if sync.collective == "all_gather":
                extra = {b for b in union if b.layer not in layers or not _overlaps(b.heads, heads)}
                if extra and len(group) > 1:
                    result.oversized.add(sync.index)
                holdings[m] |= union
            else:
                holdings[m] |= {b for b in union if b.layer in layers and _overlaps(b.heads, heads)}


def _overlaps(a: tuple, b: tuple) -> bool:
    if a == FULL or b == FULL or (a[1] == ZERO and a[2] == ONE):
        return True
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _covered(boxes: set, layer: int, block: tuple, heads: tuple) -> bool:
    """Whether the boxes of (layer, block) cover every token of `heads`' KV heads.

    Boxes from several ranks tile the head range together (prefill TP8 to decode TP4: each
    decode rank's two KV heads come from two prefill ranks), so the range is cut at every box
    edge and each slice must have its tokens covered.
    """
    mine = [b for b in boxes if b.layer == layer and b.block == block]
    lo, hi = (ZERO, ONE) if heads == FULL else (heads[1], heads[2])
    cuts = {lo, hi}
    for b in mine:
        b_lo, b_hi = (ZERO, ONE) if _whole(b.heads) else (b.heads[1], b.heads[2])
        cuts |= {c for c in (b_lo, b_hi) if lo < c < hi}
    edges = sorted(cuts)
    for a, z in itertools.pairwise(edges):
        spans = sorted((b.lo, b.hi) for b in mine if _holds(b.heads, a, z))
        reach = ZERO
        for s_lo, s_hi in spans:
            if s_lo > reach:
                break
            reach = max(reach, s_hi)
        if reach < ONE:
            return False
    return True


def _whole(heads: tuple) -> bool:
    return heads == FULL or (heads[1] == ZERO and heads[2] == ONE)


def _holds(heads: tuple, lo, hi) -> bool:
    return _whole(heads) or (heads[1] <= lo and hi <= heads[2])
