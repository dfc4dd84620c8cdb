"""Order-only syncs that order nothing (S19): a barrier, or a collective that changes no value
anyone reads, whose removal leaves every data edge ordered and adds no hang.

Leave-one-out: for each candidate sync, drop its collective instances from the order graph,
recompute the vector clocks, and compare the races with and without it.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import networkx as nx

from syncverify.analysis.happens_before import OrderIndex, find_races
from syncverify.plan import Plan


@dataclass(frozen=True)
class Redundant:
    sync: int
    calls_per_step: tuple          # ((phase, calls per rank per step), ...)
    reason: str                    # barrier | identity | unused


def _instances(graph: nx.DiGraph) -> dict[int, list]:
    out = defaultdict(list)
    for node, attrs in graph.nodes(data=True):
        # prefill_end hand-overs are judged by the hand-over analysis (S5)
        if attrs.get("kind") == "coll" and attrs["phase"] != "handover":
            out[attrs["sync"]].append(node)
    return out


def _reason(plan: Plan, graph: nx.DiGraph, effects: dict, nodes: list) -> str | None:
    sync = plan.syncs[graph.nodes[nodes[0]]["sync"]]
    if all(len(graph.nodes[n]["members"]) == 1 for n in nodes):
        return None                    # a group of one: the static rule SV401 reports it
    if sync.collective == "barrier":
        return "barrier"
    if all(effects.get(n, "identity") == "identity" for n in nodes):
        return "identity"
    if all(not any(e["data"] for _, _, e in graph.out_edges(n, data=True)) for n in nodes):
        return "unused"
    return None


def _calls_per_step(graph: nx.DiGraph, nodes: list) -> tuple:
    """Calls one rank makes per step (prefill: per pass), by phase, for the cost in messages."""
    classes = graph.graph.get("layer_classes") or {}
    quotient = graph.graph.get("classes")
    per_rank: dict[str, Counter] = {}
    for n in nodes:
        attrs = graph.nodes[n]
        if attrs["step"] != 0:
            continue
        # the layers and microbatches this instance stands for
        weight = len(classes.get(attrs["layer"], (attrs["layer"],)))
        if quotient is not None and attrs["mb"] >= 0:
            weight *= len(quotient.real_microbatches(attrs["phase"], (attrs["mb"],)))
        for rank in attrs["issuers"]:
            per_rank.setdefault(attrs["phase"], Counter())[rank] += weight
    return tuple(sorted((phase, max(c.values())) for phase, c in per_rank.items()))


def find_redundant(plan: Plan, graph: nx.DiGraph, effects: dict, index: OrderIndex,
                   races: list, blamed: set[int] = frozenset()) -> list[Redundant]:
    """`races`: those of the whole graph; `blamed`: syncs already reported as changing a value
    wrongly or hanging (not merely redundant)."""
    if not index.acyclic:
        return []
    base = {(r.producer, r.consumer) for r in races}
    out = []
    for sync_index, nodes in sorted(_instances(graph).items()):
        reason = None if sync_index in blamed else _reason(plan, graph, effects, nodes)
        if reason is None:
            continue
        without = OrderIndex(graph, removed=nodes)
        if not without.acyclic:
            continue
        races = {(r.producer, r.consumer) for r in find_races(graph, without, skip=nodes)}
        if races <= base:
            out.append(Redundant(sync_index, _calls_per_step(graph, nodes), reason))
    return out
