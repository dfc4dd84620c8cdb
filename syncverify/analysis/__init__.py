"""The graph analyses, run once per plan and shared by every graph rule.

- placement: values and their placements (missing, corrupting and wrong-group collectives);
- happens-before: races between a producer and a consumer with no order path;
- collective matching: hangs (missing ranks, order and size mismatches) and deadlock cycles,
  also with an idle DP replica when a phase uses `dp_idle: skip` (S17);
- hand-over: the prompt's K/V on every decode rank at prefill_end (S5);
- redundancy and overlap: syncs that order nothing, blocking calls that could be async.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import networkx as nx

from syncverify import progress
from syncverify.analysis.handover import HandoverResult, analyse_handover
from syncverify.analysis.happens_before import OrderIndex, Race, analyse_order
from syncverify.analysis.matching import Hang, missing_ranks, order_mismatches, size_mismatches
from syncverify.analysis.overlap import CouldBeAsync, find_could_be_async
from syncverify.analysis.placement import PlacementResult, analyse_placement
from syncverify.analysis.redundancy import Redundant, find_redundant
from syncverify.graph.builder import Scenario, unroll
from syncverify.graph.nodes import CollNode, Node
from syncverify.graph.quotient import Classes, Reduction, identity, quotient
from syncverify.graph.world import PhaseWorld
from syncverify.plan import Plan
from syncverify.records import RedundantReason


@dataclass
class Analyses:
    plan: Plan
    graph: nx.DiGraph
    placement: PlacementResult
    order: OrderIndex
    races: list[Race]
    deadlock: list[Node] | None  # every node on a cycle of waits, or None
    hangs: list[Hang]
    handover: HandoverResult | None
    # what the graph was unrolled over, to read its representatives back as real indices
    worlds: dict[str, PhaseWorld]  # phase name -> its ranks, groups, layers and steps
    classes: Classes  # representative rank / microbatch / replica -> the real ones (quotient)
    layer_classes: dict[int, tuple[int, ...]]  # representative layer -> real layers (reduction)
    redundant: list[Redundant] = field(default_factory=list)
    could_be_async: list[CouldBeAsync] = field(default_factory=list)
    certificate: object | None = None  # analysis.certificate.Certificate, when certified


def _why_missing(plan: Plan, graph: nx.DiGraph, worlds: dict[str, PhaseWorld]):
    def why(node: CollNode, rank: int) -> str:
        world = worlds["decode" if node.phase == "handover" else node.phase]
        if not world.active(rank):
            return "idle"
        sync = plan.syncs[graph.nodes[node]["sync"]]
        if not world.selected(sync, rank):
            return "selector"
        return "never-reaches"

    return why


def idle_scenarios(plan: Plan, reduce: bool = True, base: Scenario | None = None) -> list[Scenario]:
    """S17: for each phase that lets an idle replica skip, one replica idle, the others busy
    (each scenario otherwise as `base`: its steps and layer periods).

    Replicas are symmetric unless a selector names dp coordinates; then each replica is tried.
    """
    base = base or Scenario(reduce=reduce)
    out = []
    for phase in plan.phases:
        dp = phase.degrees.dp
        if phase.dp_idle != "skip" or dp == 1:
            continue
        by_dp = any(s.ranks and "dp" in s.ranks for s in plan.syncs if s.runs_in(phase.name))
        for replica in range(dp) if by_dp else [0]:
            out.append(replace(base, idle=((phase.name, replica),)))
    return out


def run_analyses(plan: Plan, reduce: bool = True, reduction: Reduction = Reduction()) -> Analyses:
    """Every analysis of `plan`.

    By default the graph is built for representatives only (graph.quotient: replicas and
    microbatches; graph.reduction: layers) and findings are expanded back through the classes;
    `reduce=False` unrolls everything (the reference the property tests compare against).
    `reduction` says how far to cut down; `analysis.certificate.certified_analyses` widens it
    until the plan's certificate holds.
    """
    original = plan
    progress.stage(f"building the graph of {original.name}")
    plan, classes = quotient(plan, reduction) if reduce else (plan, identity(plan))
    scenario = Scenario(reduce=reduce, steps=reduction.steps, periods=reduction.layer_periods)
    unrolled = unroll(plan, scenario)
    graph, worlds = unrolled.graph, unrolled.worlds
    progress.stage(f"analysing {original.name}")
    placement = analyse_placement(graph, plan, worlds, classes)
    index, races = analyse_order(graph)
    deadlock = None if index.acyclic else index.cycle()
    hangs = (
        missing_ranks(graph, _why_missing(plan, graph, worlds))
        + order_mismatches(graph)
        + size_mismatches(graph, placement.values)
    )
    for idle in idle_scenarios(plan, reduce, scenario):
        idle_unrolled = unroll(plan, idle)
        idle_graph = idle_unrolled.graph
        hangs += [
            h
            for h in missing_ranks(idle_graph, _why_missing(plan, idle_graph, idle_unrolled.worlds))
            if h.reason == "idle"
        ]
    handover = None
    if "prefill" in worlds and "decode" in worlds:
        handover = analyse_handover(
            plan, worlds["prefill"], worlds["decode"], placement.attention_kv
        )
    blamed = {d.sync for d in placement.defects if d.sync is not None} | {h.sync for h in hangs}
    redundant = find_redundant(
        plan, graph, placement.effects, index, races, blamed, unrolled.layer_classes, classes
    )
    if handover is not None:
        redundant += [
            Redundant(i, (), RedundantReason.HANDOVER) for i in handover.unneeded if i not in blamed
        ]
    return Analyses(
        original,
        graph,
        placement,
        index,
        races,
        deadlock,
        hangs,
        handover,
        worlds=worlds,
        classes=classes,
        layer_classes=unrolled.layer_classes,
        redundant=redundant,
        could_be_async=find_could_be_async(plan, graph, worlds),
    )
