"""Deliberately wrong reductions, to show the property tests catch a broken symmetry argument.

Each patches one window of the default check's reduction so that it ignores the plan (and the
certificate's widening, which the window functions apply):

- a shorter microbatch window: graph.quotient.microbatch_classes keeps the first microbatch and
  one that stands for every later one (the right window keeps pp + 2, or all of them);
- an assumed layer period of one: the graph builder cuts every run of equal layers as if what a
  layer leaves repeated after one layer (graph.reduction's periods are ignored).
"""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

from syncverify.graph import builder, quotient


def _two_microbatches(phase, *_args, **_kwargs) -> dict[int, tuple[int, ...]]:
    count = phase.microbatches
    if count <= 2:
        return {i: (i,) for i in range(count)}
    return {0: (0,), 1: tuple(range(1, count))}


@contextmanager
def shorter_microbatch_window():
    with mock.patch.object(quotient, "microbatch_classes", _two_microbatches):
        yield


@contextmanager
def layer_period_of_one():
    real = builder.layer_classes

    def period_one(plan, reduce=True, *_args, **_kwargs):
        return real(plan, reduce)

    with mock.patch.object(builder, "layer_classes", period_one):
        yield


BROKEN = {
    "a shorter microbatch window": shorter_microbatch_window,
    "an assumed layer period of one": layer_period_of_one,
}
