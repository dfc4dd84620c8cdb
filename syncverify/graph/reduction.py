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
`mlp_residual`), the run is given one transient layer and the shortest period p <= 4 whose
check holds (layers a+2..a+p+1 stand for their residues mod p), or kept whole.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

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
    return [(a, end - 1) for a, end in itertools.pairwise(starts)]


def layer_classes(
    plan: Plan, reduce: bool = True, periods: Mapping[int, tuple] = FrozenMap()
) -> dict[int, tuple[int, ...]]:
    """Representative layer -> the layers it stands for (itself only when not reducing).

    `periods` gives a run (by its first layer) a (period, transient) other than (1, 0), or
    WHOLE to keep it whole: the layer certificate (syncverify.analysis.certificate) sets it when
    a run's state does not repeat after one layer.
    """
    if not reduce:
        return {layer: (layer,) for layer in range(plan.model.layers)}
    classes: dict[int, tuple[int, ...]] = {}
    for a, b in runs(plan):
        classes.update(run_classes(a, b, periods.get(a, DEFAULT_PERIOD)))
    return classes


DEFAULT_PERIOD = (1, 0)
WHOLE = (0, 0)


def period_start(a: int, period: tuple) -> int:
    """The first layer of the repeating block of a run starting at `a`: after the run's first
    layer and `transient` more layers kept as themselves."""
    return a + 1 + period[1]


def run_classes(a: int, b: int, period: tuple) -> dict[int, tuple[int, ...]]:
    """The representatives of the run a..b under (p, transient): the first 1 + transient
    layers as themselves (they see the run's entry settle), one period s..s+p-1 (s = a + 1 +
    transient; each stands for its residue mod p among the middle layers), and a tail T..b of
    at least two layers with T = s mod p, so the state entering T in the reduced graph (what
    s+p-1 leaves) is the state the real layer T-1 leaves. Kept whole when nothing would be
    skipped."""
    p = period[0]
    if p <= 0:
        return {layer: (layer,) for layer in range(a, b + 1)}
    s = period_start(a, period)
    tail = s + ((b - 1 - s) // p) * p if b - 1 >= s else s  # largest T <= b-1, T = s mod p
    if tail <= s + p:
        return {layer: (layer,) for layer in range(a, b + 1)}
    out: dict[int, tuple[int, ...]] = {layer: (layer,) for layer in range(a, s)}
    for rep in range(s, s + p):
        out[rep] = tuple(range(rep, tail, p))
    for layer in range(tail, b + 1):
        out[layer] = (layer,)
    return out


def expand(classes: dict[int, tuple[int, ...]], layers: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for layer in layers:
        out.update(classes.get(layer, (layer,)))
    return out
