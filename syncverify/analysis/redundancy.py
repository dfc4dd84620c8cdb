"""Order-only syncs that order nothing (S19): a barrier, or a collective that changes no value
anyone reads, whose removal leaves every data edge ordered and adds no hang.

Leave-one-out: for each candidate sync, drop its collective instances from the order graph and
ask whether a data edge the full graph orders is left unordered (a race the plan did not have).

Without rebuilding the order index per candidate (that was candidates x DAG, quadratic in the
sync points: 2,000 took 87 s): `LeaveOneOut` keeps the full graph's vector clocks and, per
candidate, recomputes only the clocks that change, in topological order from the removed
nodes' successors, stopping wherever a node's clock comes out as before (the next collective
between the same ranks restores it). A data edge can flip only if its consumer's clock changed
or, for a producer off the ranks' chains (a collective, the host), the order path that ordered
it passes through a removed node: those edges alone are judged again, with the same path
search as `OrderIndex.ordered`, so the findings are those of the rebuild.
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass

import networkx as nx

from syncverify.analysis.happens_before import OrderIndex
from syncverify.graph.edges import edges_with_data
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
    judge = None
    out = []
    for sync_index, nodes in sorted(_instances(graph).items()):
        reason = None if sync_index in blamed else _reason(plan, graph, effects, nodes)
        if reason is None:
            continue
        judge = judge or LeaveOneOut(graph, index, races)
        if judge.orders_the_same_without(nodes):
            out.append(Redundant(sync_index, _calls_per_step(graph, nodes), reason))
    return out


class LeaveOneOut:
    """The full graph's order, and what dropping a set of collective nodes does to it."""

    MAX_DEPTH = 64                   # OrderIndex.ordered's bound on paths off the ranks' chains

    def __init__(self, graph: nx.DiGraph, index: OrderIndex, races: list):
        self.nodes = graph.nodes
        self.index = index
        self.preds: dict[tuple, list] = defaultdict(list)
        for u, successors in index.succ.items():
            for v in successors:
                self.preds[v].append(u)
        # a collective some member never issues is a hang, judged apart (find_races skips it)
        hanging = {n for n, a in graph.nodes(data=True)
                   if a.get("kind") == "coll" and len(a["issuers"]) != len(a["members"])}
        unordered = {(r.producer, r.consumer) for r in races}
        self.producers: dict[tuple, list] = defaultdict(list)    # consumer -> producers
        self.through: dict[tuple, list] = defaultdict(list)      # node -> edges ordered via it
        for u, v, attrs in edges_with_data(graph):
            if not attrs["data"] or u in hanging or v in hanging or (u, v) in unordered:
                continue
            self.producers[v].append(u)
            if self.nodes[u].get("kind") != "op":
                for node in self._path(u, v):
                    self.through[node].append((u, v))

    def orders_the_same_without(self, removed: list) -> bool:
        """Whether every data edge ordered in the full graph (and not touching `removed`) is
        still ordered once `removed` are dropped from the order graph."""
        removed = set(removed)
        changed = self._clocks_without(removed)
        suspects = [(u, v) for v in changed for u in self.producers.get(v, ())]
        suspects += [edge for node in removed for edge in self.through.get(node, ())]
        return all(u in removed or v in removed or self._ordered(u, v, removed, changed)
                   for u, v in suspects)

    def _clocks_without(self, removed: set) -> dict[tuple, list]:
        """The nodes whose vector clock differs once `removed` are dropped, with the new clock."""
        index, nodes = self.index, self.nodes
        row, clock, succ = index.row, index.clock, index.succ
        changed: dict[tuple, list] = {}
        todo = [(row[s], s) for node in removed for s in succ.get(node, ()) if s not in removed]
        heapq.heapify(todo)
        done = set()
        while todo:
            _, node = heapq.heappop(todo)
            if node in done:
                continue
            done.add(node)
            inputs = [changed.get(p) or clock[row[p]] for p in self.preds.get(node, ())
                      if p not in removed]
            if not inputs:
                mine = [0] * index.width
            elif len(inputs) == 1:
                mine = list(inputs[0])
            else:
                mine = list(map(max, *inputs))
            attrs = nodes[node]
            if attrs.get("kind") == "op":
                mine[attrs["rank"]] = attrs["position"] + 1
            if mine != clock[row[node]]:
                changed[node] = mine
                for s in succ.get(node, ()):
                    if s not in removed and s not in done:
                        heapq.heappush(todo, (row[s], s))
        return changed

    def _ordered(self, u: tuple, v: tuple, removed: set, changed: dict, depth: int = 0) -> bool:
        """OrderIndex.ordered on the graph without `removed`."""
        if u == v:
            return True
        attrs = self.nodes[u]
        if attrs.get("kind") == "op":
            mine = changed.get(v) or self.index.clock[self.index.row[v]]
            return mine[attrs["rank"]] >= attrs["position"] + 1
        if depth > self.MAX_DEPTH:
            return False
        return any(s not in removed and (s == v or self._ordered(s, v, removed, changed, depth + 1))
                   for s in self.index.succ.get(u, ()))

    def _path(self, u: tuple, v: tuple, depth: int = 0) -> list:
        """The nodes off the ranks' chains on the first order path OrderIndex.ordered finds
        from `u` to `v` (u ordered before v in the full graph)."""
        if u == v or self.nodes[u].get("kind") == "op":
            return []
        if depth > self.MAX_DEPTH:
            return []
        for s in self.index.succ.get(u, ()):
            if s == v:
                return [u]
            if self.index.ordered(s, v, depth + 1):
                return [u] + self._path(s, v, depth + 1)
        return [u]
