"""What graph rules share: collapsing DAG instances into the ranges users read, locating a
sync point in the YAML, and the fix snippets of the seed's requirement table."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import cache
from typing import get_type_hints, overload

from syncverify import catalog
from syncverify.findings import Where
from syncverify.graph.nodes import EMBED_LAYER, CollNode, Node, OpNode, SinkNode, describe
from syncverify.graph.reduction import expand
from syncverify.plan import Plan
from syncverify.ranges import compact
from syncverify.records import Group, Ranks, Replicas


def group_by(items: Iterable, key: Callable) -> dict:
    """Items by key; within a group, items at DAG nodes come earliest instance first, so the
    first item (the one messages quote) is the same however much was unrolled."""
    out: dict = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    for group in out.values():
        if group and hasattr(group[0], "node"):
            group.sort(key=lambda item: node_order(item.node))
        elif group and hasattr(group[0], "consumer"):
            group.sort(key=lambda item: node_order(item.consumer))
    return dict(sorted(out.items(), key=lambda kv: repr(_plain(kv[0]))))


def _plain(key):
    """A group key with enum members as their text, so groups sort as their words do."""
    if isinstance(key, tuple):
        return tuple(_plain(k) for k in key)
    return str(key) if isinstance(key, StrEnum) else key


def where(analyses, nodes: list[Node], op: str | None = None, sync: int | None = None) -> Where:
    """One Where for many DAG nodes: phases, rank ranges, layer ranges, steps, microbatches.

    Representatives are expanded back to the ranks, layers and microbatches they stand for
    (graph.quotient, graph.reduction).
    """
    plan = analyses.plan
    steps = steps_checked(analyses)
    phases, ranks, layers, step_set, mbs = set(), set(), set(), set(), set()
    node_ranks: tuple[int, ...]  # one rank, a group's members, or none (the sink)
    for node in nodes:
        if isinstance(node, OpNode):
            node_ranks = (node.rank,)
            op = op or node.op
        elif isinstance(node, CollNode):
            node_ranks = node.group
        elif isinstance(node, SinkNode):
            node_ranks = ()
        else:
            continue
        phase, step, mb = node.phase, node.step, node.mb
        layer = EMBED_LAYER if isinstance(node, SinkNode) else node.layer
        ranks |= real_ranks(analyses, phase, node_ranks)
        phase = "decode" if phase == "handover" else phase
        phases.add(phase)
        if 0 <= layer < plan.model.layers:
            layers.add(layer)
        if phase == "decode" and step >= 0:
            step_set.add(step)
        if mb >= 0:
            mbs |= real_microbatches(analyses, phase, (mb,))
    layers = real_layers(analyses, layers)
    return Where(
        phase=", ".join(p for p in ("prefill", "decode") if p in phases) or None,
        ranks=compact(ranks) if ranks else None,
        layers=compact(layers) if layers else None,
        steps=steps_text(step_set, steps) if step_set else None,
        microbatches=compact(mbs) if mbs else None,
        op=op,
        sync=sync_name(plan, sync) if sync is not None else None,
    )


def real_ranks(analyses, phase: str, ranks: Iterable[int]) -> set[int]:
    """The real ranks that representative ranks stand for (graph.quotient)."""
    classes = analyses.classes
    return classes.real_ranks(phase, ranks) if classes else set(ranks)


def shown_group(analyses, phase: str, ranks: Iterable[int]) -> tuple[int, ...]:
    """The real group a group of representative ranks stands for first (for counterexamples):
    the group on the same axis of its lowest member's representative. A set of ranks that is
    no axis's group stands for the union of its members' classes."""
    ranks = tuple(sorted(ranks))
    classes = analyses.classes
    if not classes or not ranks:
        return ranks
    world = analyses.worlds["decode" if phase == "handover" else phase]
    axis = world.topo.axis_of_group(ranks)
    if axis is None:
        return tuple(sorted(classes.real_ranks(phase, ranks)))
    return classes.real_group(phase, axis, ranks)


def shown_pair(analyses, node: CollNode, first: int, other: int) -> tuple[int, int]:
    """Two members of a collective instance as the full unroll names them: `first` (the lowest
    member) as the lowest rank of the real group the instance stands for first, `other` as the
    lowest rank of that group that `other`'s class holds (the first member that behaves like it:
    class members behave alike, and the members between them did not)."""
    classes = analyses.classes
    if not classes:
        return first, other
    group = shown(analyses, node).group
    real = set(classes.ranks.get(node.phase, {}).get(other, (other,)))
    return min(group), min(
        real.intersection(group), default=classes.representative(node.phase, other)
    )


def shown_group_ends(analyses, node: CollNode) -> tuple[int, int]:
    """The lowest and highest rank of the real group a collective instance stands for first."""
    group = shown(analyses, node).group
    return min(group), max(group)


def real_replicas(analyses, phase: str, replicas: Iterable[int]) -> set[int]:
    classes = analyses.classes
    return classes.real_replicas(phase, replicas) if classes else set(replicas)


def real_microbatches(analyses, phase: str, mbs: Iterable[int]) -> set[int]:
    classes = analyses.classes
    return classes.real_microbatches(phase, mbs) if classes else set(mbs)


def real_layers(analyses, layers: Iterable[int]) -> set[int]:
    """The model layers representative layers stand for (graph.reduction's layer classes)."""
    layer_classes = analyses.layer_classes
    return expand(layer_classes, set(layers)) if layer_classes else set(layers)


# how each typed payload field (syncverify.records) maps from representatives to real values
_REAL_BY_TYPE: dict[object, Callable] = {
    Ranks: lambda a, phase, ranks: Ranks(tuple(sorted(real_ranks(a, phase, ranks)))),
    Group: lambda a, phase, group: Group(shown_group(a, phase, group)),
    Replicas: lambda a, phase, reps: Replicas(tuple(sorted(real_replicas(a, phase, reps)))),
}


@cache
def _expandable_fields(payload_type: type) -> tuple[tuple[str, Callable], ...]:
    hints = get_type_hints(payload_type)
    return tuple((name, _REAL_BY_TYPE[t]) for name, t in hints.items() if t in _REAL_BY_TYPE)


def real_payload(analyses, defect):
    """`defect`'s payload with every `Ranks`, `Group` and `Replicas` field mapped to the real
    values its representatives stand for (in the phase of the defect's node), by field type."""
    # a `type` variable: mypy reads type(x) itself as not Hashable, which @cache wants
    payload_type: type = type(defect.payload)
    changes = {
        name: real(analyses, defect.node.phase, getattr(defect.payload, name))
        for name, real in _expandable_fields(payload_type)
    }
    return dataclasses.replace(defect.payload, **changes) if changes else defect.payload


@overload
def shown(analyses, node: OpNode) -> OpNode: ...
@overload
def shown(analyses, node: CollNode) -> CollNode: ...
@overload
def shown(analyses, node: Node) -> Node: ...
def shown(analyses, node: Node) -> Node:
    """A representative node as the real instance it stands for first (for counterexamples)."""
    classes = analyses.classes
    if not classes:
        return node
    if isinstance(node, OpNode):
        return node._replace(
            mb=classes.representative_mb(node.phase, node.mb),
            rank=classes.representative(node.phase, node.rank),
        )
    if isinstance(node, CollNode):
        phase, group = node.phase, node.group
        attrs = analyses.graph.nodes[node] if node in analyses.graph else {}
        if attrs.get("role") in ("stage", "carrier") or not attrs.get("axis"):
            mapped = tuple(classes.representative(phase, r) for r in group)  # one pair
        else:
            mapped = classes.real_group(phase, attrs["axis"], group)  # the whole group
        mb = classes.representative_mb(phase, node.mb) if node.mb >= 0 else node.mb
        return node._replace(mb=mb, group=mapped)
    return node


def steps_text(step_set: set, steps: int) -> str:
    """'every step' when all checked decode steps are in; '>= k' when they run to the end."""
    if step_set == set(range(steps)):
        return "every step"
    if max(step_set) == steps - 1 and step_set == set(range(min(step_set), steps)):
        return f">= {min(step_set)}"
    return compact(step_set)


def sync_name(plan: Plan, index: int) -> str:
    sync = plan.syncs[index]
    return sync.id or f"#{index + 1}"


def sync_at(plan: Plan, index: int, key: str | None = None) -> tuple:
    """The YAML path of a sync point, or of one of its keys when the user wrote it."""
    path = ("sync", index)
    if key and (path + (key,)) in plan.written:
        return path + (key,)
    if key and plan.spans.get(path + (key,)):
        return path + (key,)
    return path


def where_to_add(plan: Plan):
    """For a missing sync: the `sync:` key, where the fix goes (else the top of the file)."""
    if plan.spans.get(("sync",)) is not None or plan.spans.get(("@key", "sync")) is not None:
        return plan.key_span(("sync",))
    return ()


PHASE_ORDER = {"prefill": 0, "handover": 1, "decode": 2}


def node_order(n: Node) -> tuple:
    """Earliest first: prefill, then step, microbatch, rank, layer."""
    if isinstance(n, OpNode | CollNode):
        rank = n.rank if isinstance(n, OpNode) else min(n.group)
        return (PHASE_ORDER.get(n.phase, 3), n.step, n.mb, rank, n.layer, repr(n))
    return (3, 0, 0, 0, 0, repr(n))


def first_node(nodes: Iterable[Node]) -> Node:
    """The earliest instance, the one a counterexample shows."""
    return min(nodes, key=node_order)


def layers_clause(plan: Plan, layers: set) -> str:
    """', layers: moe' when a fix must be limited to some layers; '' when it applies to all."""
    if not layers or layers == set(range(plan.model.layers)):
        return ""
    if layers == set(plan.model.moe_layers):
        return ", layers: moe"
    if layers == set(plan.model.dense_layers):
        return ", layers: dense"
    return (
        f', layers: "{min(layers)}..{max(layers)}"'
        if layers == set(range(min(layers), max(layers) + 1))
        else ", layers: [" + ", ".join(map(str, sorted(layers))) + "]"
    )


def fix(requirement: str, **fields) -> str:
    """The fix snippet of one entry of rules/requirements.yaml, filled in."""
    entry = catalog.requirements()[requirement]
    return entry["fix"].format(**fields)


def trace(analyses, nodes: Iterable[Node], note: str | None = None) -> tuple[str, ...]:
    plan = analyses.plan
    out = [describe(shown(analyses, n), plan.model.layers) for n in nodes]
    if note:
        out.append(note)
    return tuple(out)


def axis_of(world, ranks: Iterable[int]) -> str:
    ranks = tuple(sorted(ranks))
    name = world.topo.axis_of_group(ranks) if ranks else None
    return name or f"ranks {compact(ranks)}"


def affected_layers(analyses, nodes: list[Node]) -> set:
    """The model layers these instances stand for (representatives expanded)."""
    plan = analyses.plan
    instances = [n for n in nodes if isinstance(n, OpNode | CollNode)]
    layers = {n.layer for n in instances if 0 <= n.layer < plan.model.layers}
    return real_layers(analyses, layers)


def steps_checked(analyses) -> int:
    world = analyses.worlds.get("decode")
    return world.steps if world else 1
