"""Layer symmetry: unroll a few representative layers instead of every layer.

Consecutive layers with the same template (dense or MoE, and the same per-layer sync points
applying to them) inside one pipeline stage of every phase form a *run*. Every layer of a run
but the first reads what the identical layer before it produced, and the analyses repair a
defect where they report it, so from the second layer on each layer sees the same state and
behaves the same (induction over the run). A run is therefore represented by its first two and
its last two layers: the first sees the run's entry, the second stands for the steady state of
every middle layer, and the last two show the hand-off to the next run, stage or the tail
(S11's "wait in the next layer" included). Findings at a representative are expanded back to
the layers it stands for.

That the state repeats after one layer is not assumed: the layer certificate
(syncverify.analysis.certificate) compares what layer a and layer a+1 leave for the next layer
on every rank. Where they differ (state that alternates: an all_to_all over tp after
`mlp_residual`), the run is given the shortest period p <= 4 whose check holds (a+1..a+p
stand for their residues mod p), or kept whole.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from syncverify.frozenmap import FrozenMap
from syncverify.plan import Plan


def _template(plan: Plan, layer: int) -> tuple:
    per_layer = tuple(s.index for s in plan.syncs if s.is_per_layer and s.applies_to_layer(layer))
    return (plan.model.is_moe_layer(layer), per_layer)


def _breakpoints(plan: Plan) -> set[int]:
    """Layers that start a new run: stage starts of every phase, template changes."""
    starts = {0}
    for phase in plan.phases:
        total = 0
        for count in phase.topology.stages:
            starts.add(total)
            total += count
    for layer in range(1, plan.model.layers):
        if _template(plan, layer) != _template(plan, layer - 1):
            starts.add(layer)
    return {s for s in starts if 0 <= s < plan.model.layers}


def runs(plan: Plan) -> list[tuple[int, int]]:
    """The runs of equal consecutive layers, as (first, last) inclusive."""
    starts = sorted(_breakpoints(plan)) + [plan.model.layers]
    return [(a, end - 1) for a, end in zip(starts, starts[1:])]


def layer_classes(plan: Plan, reduce: bool = True,
                  periods: Mapping[int, int] = FrozenMap()) -> dict[int, tuple[int, ...]]:
    """Representative layer -> the layers it stands for (itself only when not reducing).

    `periods` gives a run (by its first layer) a period other than one, or 0 to keep it whole:
    the layer certificate (syncverify.analysis.certificate) sets it when a run's state does not
    repeat after one layer.
    """
    if not reduce:
        return {l: (l,) for l in range(plan.model.layers)}
    classes: dict[int, tuple[int, ...]] = {}
    for a, b in runs(plan):
        classes.update(run_classes(a, b, periods.get(a, 1)))
    return classes


def run_classes(a: int, b: int, period: int) -> dict[int, tuple[int, ...]]:
    """The representatives of the run a..b under a period p: the first layer a (it sees the
    run's entry), one period a+1..a+p (each standing for its residue mod p among the middle
    layers), and a tail T..b of at least two layers that starts one period after a+1
    (T = a+1 mod p), so the state entering T in the reduced graph (what a+p leaves) is the state
    the real layer T-1 leaves. Kept whole when nothing would be skipped."""
    if period <= 0:
        return {l: (l,) for l in range(a, b + 1)}
    tail = a + 1 + ((b - 1 - (a + 1)) // period) * period     # the largest T <= b-1, T = a+1 mod p
    if tail <= a + period + 1:
        return {l: (l,) for l in range(a, b + 1)}
    out = {a: (a,)}
    for rep in range(a + 1, a + period + 1):
        out[rep] = tuple(range(rep, tail, period))
    for l in range(tail, b + 1):
        out[l] = (l,)
    return out


def expand(classes: dict[int, tuple[int, ...]], layers: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for layer in layers:
        out.update(classes.get(layer, (layer,)))
    return out
