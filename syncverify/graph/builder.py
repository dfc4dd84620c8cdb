"""Unrolls a plan into the dependency DAG (networkx) over devices, layers, microbatches, steps.

Nodes (see `syncverify.graph.nodes`): op instances, collective instances (one per collective
per group instance, connected to each member), host token slots and output sinks.

Edges carry two attributes:
- `data`: a list of (slot, tensor, member) the head reads from the tail: `slot` is the input of
  the head op ("x", "residual", "branch", "q", "kv", "kv_cache", "kv_prompt", "tokens", "in",
  ...), `tensor` which output of the tail ("q"/"kv" of qkv), `member` the rank whose output of a
  collective is read;
- `order`: True when the schedule guarantees the tail completes before the head starts: program
  order on a rank's stream, an issue point before its collective, a blocking collective before
  the issuer's next op, an async one before its `wait_before` (S11), a send/recv rendezvous (S3),
  the host's read of a sampled token (S4), the sink's wait (S18).
Collective nodes carry `issuers` ({rank: position of the call in that rank's issue order}) and
`members` (the ranks of the group instance), which collective matching compares.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from syncverify.frozenmap import FrozenMap
from syncverify.graph.nodes import EMBED_LAYER, op_node
from syncverify.graph.program import schedule_step
from syncverify.graph.quotient import Classes
from syncverify.graph.reduction import layer_classes
from syncverify.graph.streams import Issue, Recorder, StreamBuilder, handover_issues
from syncverify.graph.world import DECODE_STEPS, PhaseWorld
from syncverify.plan import Plan


@dataclass(frozen=True)
class Scenario:
    """Which DP replicas sit idle (S17, `dp_idle: skip`), per phase."""

    idle: tuple[tuple[str, int], ...] = ()
    steps: int = DECODE_STEPS
    reduce: bool = True  # unroll representative layers only (graph.reduction)
    periods: FrozenMap = FrozenMap()  # run start -> (period, transient) (graph.reduction)

    def idle_in(self, phase: str) -> frozenset[int]:
        return frozenset(d for p, d in self.idle if p == phase)

    @property
    def label(self) -> str:
        if not self.idle:
            return "every replica busy"
        return "; ".join(f"{phase}: DP replica {d} idle (dp_idle: skip)" for phase, d in self.idle)


@dataclass(frozen=True)
class Unrolled:
    """A plan's DAG and what it was unrolled over, which readers of the graph need beside it."""

    graph: nx.DiGraph
    worlds: dict[str, PhaseWorld]  # phase name -> its ranks, groups, layers and steps
    layer_classes: dict[int, tuple[int, ...]]  # representative layer -> the layers it stands for
    # representative rank / microbatch / replica -> the real ones, when the plan is a quotient
    classes: Classes | None = None


def build_graph(plan: Plan, scenario: Scenario = Scenario()) -> nx.DiGraph:
    return unroll(plan, scenario).graph


def unroll(plan: Plan, scenario: Scenario = Scenario()) -> Unrolled:
    rec = Recorder()
    worlds: dict[str, PhaseWorld] = {}
    classes = layer_classes(plan, scenario.reduce, scenario.periods)
    for phase in plan.phases:
        world = PhaseWorld(
            plan, phase, scenario.idle_in(phase.name), scenario.steps, frozenset(classes)
        )
        worlds[phase.name] = world
        _unroll_phase(world, StreamBuilder(world, rec), rec)
    graph: nx.DiGraph = nx.DiGraph(plan=plan.name, scenario=scenario.label)
    edges: dict = {}
    _add_programs(graph, edges, rec)
    for sink in rec.sinks:
        graph.add_node(sink, kind="sink")
    _add_data(graph, edges, rec)
    for u, v in rec.implicit_order:
        _edge(edges, u, v, order=True)
    # edges are gathered in a dict first and added at once, in the order first seen: looking
    # each one up in the graph as it comes costs a third of the build
    graph.add_edges_from((u, v, attrs) for (u, v), attrs in edges.items())
    return Unrolled(graph, worlds, classes)


def _unroll_phase(world: PhaseWorld, builder: StreamBuilder, rec: Recorder) -> None:
    phase = world.phase
    for rank in range(world.topo.world):
        program = rec.programs.setdefault(rank, [])
        if not world.active(rank):
            continue
        program.extend(handover_issues(world, builder, rank))
        for step in range(world.steps):
            streams = [builder.stream(step, mb, rank) for mb in range(phase.microbatches)]
            program.extend(schedule_step(streams, phase.overlap))
            program.extend(_step_end_issues(world, builder, step, rank))


def _step_end_issues(world: PhaseWorld, builder: StreamBuilder, step: int, rank: int) -> list:
    """S14: a sync after step_end is issued by every rank at the end of each decode step."""
    if world.name != "decode":
        return []
    out: list[Issue] = []
    for sync in world.syncs_at("step_end", None):
        value = builder.apply(out, step, -1, rank, EMBED_LAYER, sync, None)
        del value
    return out


def _add_programs(graph: nx.DiGraph, edges: dict, rec: Recorder) -> None:
    for key, info in rec.colls.items():
        graph.add_node(
            key,
            kind="coll",
            phase=key.phase,
            step=key.step,
            mb=key.mb,
            layer=key.layer,
            sync=info.sync.index,
            collective=info.sync.collective,
            axis=info.axis,
            members=info.members,
            role=info.role,
            is_async=info.sync.is_async,
            issuers={},
        )
    for rank, program in sorted(rec.programs.items()):
        _add_program(graph, edges, rank, program)


def _add_program(graph: nx.DiGraph, edges: dict, rank: int, program: list) -> None:
    """Program order, issue points, completions and waits of one rank."""
    last_op = chain_point = None
    pending: list[tuple] = []
    waits: list[tuple] = []
    position = calls = 0
    for item in program:
        if isinstance(item, Issue):
            graph.nodes[item.coll]["issuers"][rank] = calls
            calls += 1
            if chain_point is not None:
                _edge(edges, chain_point, item.coll, order=True)
            if item.blocking:
                pending.append(item.coll)
                # the next call is issued after this one completes; sends and recvs posted
                # together do not block each other (S3), but a call over a group of this rank
                # alone has no partner to wait for: it completes when issued
                if not item.p2p or len(graph.nodes[item.coll]["members"]) == 1:
                    chain_point = item.coll
            elif item.wait:
                phase, step, mb, layer, op = item.wait
                waits.append((item.coll, op_node(phase, step, mb, rank, layer, op)))
            continue
        graph.add_node(
            item,
            kind="op",
            phase=item.phase,
            step=item.step,
            mb=item.mb,
            rank=rank,
            layer=item.layer,
            op=item.op,
            position=position,
        )
        position += 1
        if last_op is not None:
            _edge(edges, last_op, item, order=True)
        for coll in pending:
            _edge(edges, coll, item, order=True)
        pending = []
        last_op = chain_point = item
    for coll, target in waits:
        if target in graph:
            _edge(edges, coll, target, order=True)


def _add_data(graph: nx.DiGraph, edges: dict, rec: Recorder) -> None:
    for ref, dst, slot in rec.data:
        for node in (ref.node, dst):
            if node not in graph:
                graph.add_node(node, kind=node.kind)
        _edge(edges, ref.node, dst, data=(slot, ref.tensor, ref.member))


def _edge(edges: dict, u: tuple, v: tuple, order: bool = False, data=None) -> None:
    attrs = edges.get((u, v))
    if attrs is None:
        attrs = edges[(u, v)] = {"order": False, "data": []}
    if order:
        attrs["order"] = True
    if data is not None:
        attrs["data"].append(data)
