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
"""
from __future__ import annotations

from typing import Iterable

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


def layer_classes(plan: Plan, reduce: bool = True) -> dict[int, tuple[int, ...]]:
    """Representative layer -> the layers it stands for (itself only when not reducing)."""
    layers = plan.model.layers
    if not reduce:
        return {l: (l,) for l in range(layers)}
    starts = sorted(_breakpoints(plan)) + [layers]
    classes: dict[int, tuple[int, ...]] = {}
    for a, end in zip(starts, starts[1:]):
        b = end - 1
        if b - a + 1 <= 4:
            for l in range(a, b + 1):
                classes[l] = (l,)
            continue
        classes[a] = (a,)
        classes[a + 1] = tuple(range(a + 1, b - 1))
        classes[b - 1] = (b - 1,)
        classes[b] = (b,)
    return classes


def expand(classes: dict[int, tuple[int, ...]], layers: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for layer in layers:
        out.update(classes.get(layer, (layer,)))
    return out
