"""The dependency DAG collapsed by symmetry, small enough to draw.

The checker's graph (`syncverify.graph.builder`) has one node per op per rank, layer,
microbatch and step. A picture keeps one phase, the first steps and microbatches, and merges:

- ranks that do the same thing: two ranks are in one *class* when they run the same ops (step,
  microbatch, layer, op) and issue the same sync points, so the TP ranks of a stage and the DP
  replicas of a layout are one lane ("ranks 0-7, stage 0");
- layers that behave alike: the builder already unrolls one representative per class of
  identical layers (`graph.reduction`), drawn as "L1-37";
- the group instances of one sync point at one layer ("attn-ar: all_reduce tp, 2 groups").

An arrow joins two boxes when any instance edge joins their members: solid when it carries data
(the head reads what the tail produced), dotted when it only orders them (program order, a
blocking call, a wait).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syncverify.graph.nodes import EMBED_LAYER, Node
from syncverify.plan import Plan
from syncverify.ranges import compact

if TYPE_CHECKING:
    from syncverify.graph.builder import Unrolled


@dataclass
class Box:
    id: str
    kind: str  # op | coll | host | sink
    label: str
    lane: int | None  # the rank class an op box belongs to
    members: list = field(default_factory=list)  # the DAG nodes it stands for
    hot: bool = False  # part of a highlighted finding


@dataclass
class Arrow:
    tail: str
    head: str
    data: bool
    order: bool
    hot: bool = False


@dataclass
class Picture:
    title: str
    lanes: list[str]
    boxes: list[Box]
    arrows: list[Arrow]

    def box(self, box_id: str) -> Box:
        return next(b for b in self.boxes if b.id == box_id)


def collapse(
    plan: Plan, dag: Unrolled, phase: str, steps: int = 1, microbatches: int = 1
) -> Picture:
    """The picture of `phase` (first `steps` decode steps, first `microbatches` microbatches).

    `dag.classes` (graph.quotient) maps the ranks of a reduced plan back to the real ones for
    the lane labels: a lane of replica 1 stands for every replica but the first."""
    graph, world = dag.graph, dag.worlds[phase]
    keep = _keeper(phase, steps, microbatches)
    real = dag.classes
    rank_sets = rank_classes(dag, phase, keep)
    lane_of = {rank: i for i, ranks in enumerate(rank_sets) for rank in ranks}
    layer_text = layer_texts(dag)
    many = (steps > 1 and phase == "decode", microbatches > 1)  # say step / microbatch
    keys: dict[tuple, tuple] = {}
    for node in graph:
        if keep(node):
            keys[node] = _key(node, graph, lane_of)
    position: dict[tuple, int] = {}
    for node, key in keys.items():
        spot = graph.nodes[node].get("position", 0)
        position[key] = min(position.get(key, spot), spot)
    order = sorted(set(keys.values()), key=lambda key: _sort_key(key, position))
    ids = {key: f"n{i}" for i, key in enumerate(order)}
    boxes = {
        ids[key]: Box(
            ids[key],
            key[0],
            _label(key, plan, layer_text, many),
            key[1] if key[0] == "op" else None,
        )
        for key in order
    }
    for node, key in keys.items():
        boxes[ids[key]].members.append(node)
    for box in boxes.values():
        if box.kind == "coll" and len(box.members) > 1:
            box.label += f" ({len(box.members)} groups)"
    arrows = _arrows(graph, keys, ids)
    lanes = [_lane_label(real_ranks(real, phase, ranks), world) for ranks in rank_sets]
    title = f"{plan.name}: {phase}" + (
        f", decode step{'s' if steps > 1 else ''} {compact(range(steps))}"
        if phase == "decode"
        else ""
    )
    return Picture(title, lanes, list(boxes.values()), arrows)


def _keeper(phase: str, steps: int, microbatches: int):
    def keep(node: Node) -> bool:
        if node.kind == "host":
            return phase == "decode" and node.step < steps and node.mb < microbatches
        return node.phase == phase and node.step < steps and node.mb < microbatches

    return keep


def rank_classes(dag: Unrolled, phase: str, keep) -> list[tuple[int, ...]]:
    """Ranks grouped by what they do in the kept part of `phase`, in rank order."""
    ops: dict[int, list] = {}
    calls: dict[int, list] = {}
    for node, attrs in dag.graph.nodes(data=True):
        if not keep(node):
            continue
        if node.kind == "op":
            ops.setdefault(node.rank, []).append(
                (node.step, node.mb, attrs.get("position", 0), node.layer, node.op)
            )
        elif node.kind == "coll":
            for rank in attrs.get("issuers", {}):
                calls.setdefault(rank, []).append((node.step, node.mb, node.sync_index, node.layer))
    world = dag.worlds[phase]
    signature: dict[tuple, list[int]] = {}
    for rank in range(world.topo.world):
        mine = (
            tuple((s, m, layer, o) for s, m, _, layer, o in sorted(ops.get(rank, []))),
            tuple(sorted(calls.get(rank, []))),
        )
        signature.setdefault(mine, []).append(rank)
    return sorted((tuple(r) for sig, r in signature.items() if sig != ((), ())), key=min)


def _key(node: Node, graph, lane_of: dict) -> tuple:
    """The box a node is drawn in (a picture key, not a DAG node): kind first."""
    if node.kind == "op":
        return ("op", lane_of[node.rank], node.step, node.mb, node.layer, node.op)
    if node.kind == "coll":
        lanes = tuple(sorted({lane_of[m] for m in graph.nodes[node]["members"] if m in lane_of}))
        return ("coll", node.step, node.mb, node.layer, node.sync_index, lanes)
    if node.kind == "host":
        return ("host", node.step, node.mb)
    return ("sink", node.step, node.mb)


def _sort_key(key: tuple, position: dict) -> tuple:
    """Lanes in rank order, each in program order; collectives by step, layer, sync."""
    kind = key[0]
    if kind == "op":
        return (1, key[1], position[key])
    if kind == "coll":
        return (2, key[1], key[2], key[3], key[4], key[5])
    if kind == "host":
        return (0, key[1], key[2])
    return (3, key[1], key[2])


def layer_texts(dag: Unrolled) -> dict[int, str]:
    """Representative layer -> "L0", "L1-37" (the layers it stands for)."""
    classes = dag.layer_classes
    return {rep: "L" + compact(layers).replace(", ", ",") for rep, layers in classes.items()}


def _label(key: tuple, plan: Plan, layer_text, many: tuple[bool, bool]) -> str:
    kind = key[0]
    if kind == "host":
        return f"host: token of step {key[1]}" + _when(None, key[2], (False, many[1]))
    if kind == "sink":
        return "output sink" + _when(key[1], key[2], many)
    if kind == "op":
        _, _, step, mb, layer, op = key
        text = op + _layer_suffix(layer, plan, layer_text)
    else:
        _, step, mb, layer, sync_index, _lanes = key
        sync = plan.syncs[sync_index]
        name = sync.id or f"sync {sync_index + 1}"
        mode = ", async" if sync.is_async else ""
        text = f"{name}: {sync.collective} {sync.group}{mode}" + _layer_suffix(
            layer, plan, layer_text
        )
    return text + _when(step, mb, many)


def _when(step, mb, many: tuple[bool, bool]) -> str:
    parts = ([f"s{step}"] if many[0] else []) + ([f"mb{mb}"] if many[1] else [])
    return " · " + " ".join(parts) if parts else ""


def _layer_suffix(layer: int, plan: Plan, layer_text: dict) -> str:
    if layer == EMBED_LAYER or layer >= plan.model.layers:
        return ""
    return " " + layer_text.get(layer, f"L{layer}")


def real_ranks(classes, phase: str, ranks: Iterable[int]) -> tuple[int, ...]:
    """The real ranks representative `ranks` stand for (themselves without classes)."""
    return tuple(sorted(classes.real_ranks(phase, ranks) if classes else set(ranks)))


def _lane_label(ranks: Iterable[int], world) -> str:
    ranks = tuple(ranks)
    stages = {world.topo.stage_of(r) for r in ranks}
    where = f", stage {stages.pop()}" if len(stages) == 1 and world.topo.sizes["pp"] > 1 else ""
    return f"rank{'s' if len(ranks) > 1 else ''} {compact(ranks)}{where}"


def _arrows(graph, keys: dict, ids: dict) -> list[Arrow]:
    found: dict[tuple, Arrow] = {}
    for u, v, attrs in graph.edges(data=True):
        if u not in keys or v not in keys:
            continue
        tail, head = ids[keys[u]], ids[keys[v]]
        if tail == head:
            continue
        arrow = found.setdefault((tail, head), Arrow(tail, head, False, False))
        arrow.data |= bool(attrs.get("data"))
        arrow.order |= bool(attrs.get("order"))
    return sorted(found.values(), key=lambda a: (int(a.tail[1:]), int(a.head[1:])))
