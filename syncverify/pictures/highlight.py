"""Which boxes and arrows of a picture a finding is about.

A finding says where it happens in the user's terms (`Where`: phase, ranks, layers, steps,
microbatches, op, sync) and, as a counterexample, the DAG nodes that show it (`trace`, as
`graph.nodes.describe` writes them). A box is hot when one of its instances matches: an op
instance of the finding's op at its ranks, layers, steps and microbatches; an instance of its
sync point; or a node of its trace. An arrow is hot when both ends are, or when it brings data
into a hot op (the read the finding is about).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from syncverify.graph.nodes import Node, describe

if TYPE_CHECKING:
    from syncverify.graph.builder import Unrolled

ANY = None


def ranges(text: str | None) -> Callable[[int], bool] | None:
    """A predicate for a collapsed range text: "0-7, 9", ">= 1", "every step"; None: any."""
    if not text or text == "every step":
        return ANY
    tests: list[Callable[[int], bool]] = []
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r">=\s*(\d+)", part) or re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            continue
        if part.startswith(">="):
            tests.append(_at_least(int(m.group(1))))
        else:
            tests.append(_between(int(m.group(1)), int(m.group(2) or m.group(1))))
    return lambda v: any(t(v) for t in tests)


def _at_least(lo: int) -> Callable[[int], bool]:
    return lambda v: v >= lo


def _between(lo: int, hi: int) -> Callable[[int], bool]:
    return lambda v: lo <= v <= hi


def _within(test, value: int) -> bool:
    return test is ANY or test(value)


def matches(node: Node, where, plan, sync_names: dict, classes) -> bool:
    """Whether the (representative) instance `node` is one of those `where` describes."""
    if node.kind not in ("op", "coll") or (where.phase and node.phase not in where.phase):
        return False
    if not (_within(ranges(where.steps), node.step) or node.phase != "decode"):
        return False
    mbs = classes.real_microbatches(node.phase, {node.mb}) if classes else {node.mb}
    if not any(_within(ranges(where.microbatches), mb) for mb in mbs):
        return False
    layer = node.layer
    layer_ok = layer < 0 or layer >= plan.model.layers or _within(ranges(where.layers), layer)
    if node.kind == "op":
        ranks = classes.real_ranks(node.phase, {node.rank}) if classes else {node.rank}
        return (
            bool(where.op)
            and node.op == where.op
            and layer_ok
            and any(_within(ranges(where.ranks), rank) for rank in ranks)
        )
    return bool(where.sync) and sync_names.get(node.sync_index) == where.sync and layer_ok


def highlight(picture, plan, findings: Iterable, dag: Unrolled) -> int:
    """Mark the boxes and arrows `findings` are about; returns how many boxes are hot."""
    from types import SimpleNamespace

    from syncverify.rule_support.for_graph_rules import shown

    classes = dag.classes
    # what `shown` reads of an Analyses, to name the real instance a representative stands for
    as_analyses = SimpleNamespace(
        graph=dag.graph, worlds=dag.worlds, classes=classes, layer_classes=dag.layer_classes
    )
    sync_names = {s.index: s.id or f"#{s.index + 1}" for s in plan.syncs}
    findings = list(findings)
    traces = {line for f in findings for line in f.trace}
    for box in picture.boxes:
        box.hot = any(
            matches(n, f.where, plan, sync_names, classes) for f in findings for n in box.members
        ) or any(describe(shown(as_analyses, n), plan.model.layers) in traces for n in box.members)
    hot = {b.id for b in picture.boxes if b.hot}
    ops = {b.id for b in picture.boxes if b.hot and b.kind == "op"}
    for arrow in picture.arrows:
        arrow.hot = (arrow.tail in hot and arrow.head in hot) or (arrow.data and arrow.head in ops)
    return len(hot)
