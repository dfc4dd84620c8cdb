"""Shrink a plan dict while a predicate (a disagreement) still holds (bench/, hunting).

Greedy: drop one sync, one sync key (async, wait_before, phases, ranks, layers), one phase
setting (fewer microbatches, overlap none, dp_idle default) or the layout, keeping each change
under which the predicate still holds, until none does. Hypothesis shrinks the property tests'
draws itself; this serves the benchmarks' random draws.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator

SYNC_KEYS = ("async", "wait_before", "phases", "ranks", "layers", "tensor")


def _without_syncs(plan: dict) -> Iterator[dict]:
    for i in range(len(plan["sync"])):
        smaller = copy.deepcopy(plan)
        del smaller["sync"][i]
        yield smaller


def _without_sync_keys(plan: dict) -> Iterator[dict]:
    for i, sync in enumerate(plan["sync"]):
        for key in SYNC_KEYS:
            if key in sync:
                smaller = copy.deepcopy(plan)
                del smaller["sync"][i][key]
                if key == "async":
                    smaller["sync"][i].pop("wait_before", None)
                yield smaller


def _simpler_phases(plan: dict) -> Iterator[dict]:
    for name, phase in plan["phases"].items():
        step = 2 if phase.get("overlap") == "two_batch" else 1
        if phase.get("microbatches", 1) - step >= 1:
            smaller = copy.deepcopy(plan)
            smaller["phases"][name]["microbatches"] -= step
            yield smaller
        if phase.get("dp_idle", "dummy_batch") != "dummy_batch":
            smaller = copy.deepcopy(plan)
            del smaller["phases"][name]["dp_idle"]
            yield smaller
    if "layout" in plan["parallel"]:
        smaller = copy.deepcopy(plan)
        del smaller["parallel"]["layout"]
        yield smaller


def candidates(plan: dict) -> Iterator[dict]:
    yield from _without_syncs(plan)
    yield from _simpler_phases(plan)
    yield from _without_sync_keys(plan)


def minimise(
    plan: dict, holds: Callable[[dict], bool], budget: int = 400, seconds: float = 120.0
) -> dict:
    """The smallest plan reached from `plan` on which `holds` is still true, within `budget`
    tries and about `seconds` (a large plan takes seconds a try)."""
    current = copy.deepcopy(plan)
    deadline = time.monotonic() + seconds
    tries = 0
    progress = True
    while progress:
        progress = False
        for smaller in candidates(current):
            tries += 1
            if tries > budget or time.monotonic() > deadline:
                return current
            if holds(smaller):
                current, progress = smaller, True
                break
    return current
