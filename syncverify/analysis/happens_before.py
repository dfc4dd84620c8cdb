"""Happens-before analysis: is every data edge ordered by the schedule?

For each data edge u -> v that crosses devices or streams, there must be an order path from u's
completion to v: otherwise v may read before u's value is there (a race, S22: a stale read).

Reachability is answered with vector clocks over the order edges, as FastTrack/ThreadSanitizer
do: every rank's program is one chain; the clock of a node holds, per rank, one past the last
position of that rank's ops that reach it. A query is then one comparison; collective, host and
sink nodes (not on a rank's chain) are answered through their order successors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from syncverify.graph.edges import edges_with_data
from syncverify.graph.nodes import Node


@dataclass(frozen=True)
class Race:
    """A data edge with no order path: `consumer` may read `producer`'s output too early."""

    producer: Node
    consumer: Node
    reason: str  # unawaited | awaited-late | host-token | unordered
    sync: int | None = None
    wait: Node | None = None  # where the async collective is awaited on that rank, if anywhere


class OrderIndex:
    """Vector clocks over the order edges of a DAG whose op nodes carry rank and position."""

    def __init__(self, graph: nx.DiGraph, removed: Iterable[Node] = ()):
        self.g = graph
        removed = set(removed)
        self.succ: dict[Node, list] = defaultdict(list)
        preds: dict[Node, list] = defaultdict(list)
        for u, v, attrs in edges_with_data(graph):
            if attrs["order"] and u not in removed and v not in removed:
                self.succ[u].append(v)
                preds[v].append(u)
        ranks = [a["rank"] for _, a in graph.nodes(data=True) if a.get("kind") == "op"]
        self.width = (max(ranks) + 1) if ranks else 1
        order = self._topological(preds)
        self.acyclic = order is not None
        # the order, the rows and the clocks are read only when acyclic (empty otherwise)
        self.order: list[Node] = order if order is not None else []
        self.row: dict[Node, int] = {}
        self.clock: list[list[int]] = []  # per row: one past the last position seen, per rank
        if self.acyclic:
            self._clocks(preds)

    def _topological(self, preds) -> list[Node] | None:
        indeg = {n: len(preds.get(n, ())) for n in self.g.nodes}
        ready = [n for n, d in indeg.items() if d == 0]
        order: list[Node] = []
        while ready:
            n = ready.pop()
            order.append(n)
            for v in self.succ.get(n, ()):
                indeg[v] -= 1
                if indeg[v] == 0:
                    ready.append(v)
        return order if len(order) == len(indeg) else None

    def _clocks(self, preds) -> None:
        clock: list[list[int]] = []
        row = self.row
        nodes = self.g.nodes
        zero = [0] * self.width
        for i, n in enumerate(self.order):
            row[n] = i
            ps = preds.get(n)
            if not ps:
                mine = list(zero)
            elif len(ps) == 1:
                mine = list(clock[row[ps[0]]])
            else:
                mine = list(map(max, *(clock[row[p]] for p in ps)))
            attrs = nodes[n]
            if attrs.get("kind") == "op":
                mine[attrs["rank"]] = attrs["position"] + 1
            clock.append(mine)
        self.clock = clock

    def ordered(self, u: Node, v: Node, _depth: int = 0) -> bool:
        """Whether u completes before v starts (an order path u ~> v)."""
        if u == v:
            return True
        attrs = self.g.nodes[u]
        if attrs.get("kind") == "op":
            return self.clock[self.row[v]][attrs["rank"]] >= attrs["position"] + 1
        if _depth > 64:
            return False
        return any(s == v or self.ordered(s, v, _depth + 1) for s in self.succ.get(u, ()))

    def reachable(self, nodes) -> set[Node]:
        """`nodes` and every node ordered after one of them (what a deadlock there blocks)."""
        seen, todo = set(nodes), list(nodes)
        while todo:
            for nxt in self.succ.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def cycle(self) -> list[Node]:
        """Every node on a cycle of order edges (the deadlock), sorted: the nodes of the
        strongly connected components with more than one node. Not one cycle: which cycle a
        search meets first depends on how much was unrolled, while the set of waits that can
        never be satisfied does not (so the reduced and the full check name the same)."""
        order_graph = nx.DiGraph((u, v) for u, vs in self.succ.items() for v in vs)
        stuck = set()
        for component in nx.strongly_connected_components(order_graph):
            if len(component) > 1:
                stuck |= component
        return sorted(stuck)


def incomplete(graph: nx.DiGraph, node: Node) -> bool:
    """A collective some member never issues never completes (S23): a hang, reported apart."""
    attrs = graph.nodes[node]
    return attrs.get("kind") == "coll" and set(attrs["issuers"]) != set(attrs["members"])


def find_races(graph: nx.DiGraph, index: OrderIndex, skip: Iterable[Node] = ()) -> list[Race]:
    # a collective that never completes is a hang, reported by collective matching
    skip = set(skip) | {
        n
        for n, a in graph.nodes(data=True)
        if a.get("kind") == "coll" and len(a["issuers"]) != len(a["members"])
    }
    races = []
    for u, v, attrs in edges_with_data(graph):
        if not attrs["data"] or u in skip or v in skip:
            continue
        if index.ordered(u, v):
            continue
        races.append(_classify(graph, index, u, v))
    return races


def _classify(graph: nx.DiGraph, index: OrderIndex, u: Node, v: Node) -> Race:
    ua = graph.nodes[u]
    if ua.get("kind") == "coll":
        rank = graph.nodes[v].get("rank")
        waits = [s for s in index.succ.get(u, ()) if graph.nodes[s].get("rank") == rank]
        if ua.get("is_async"):
            reason = "awaited-late" if waits else "unawaited"
            return Race(u, v, reason, ua["sync"], waits[0] if waits else None)
        return Race(u, v, "unordered", ua["sync"])
    if graph.nodes[v].get("kind") == "host":
        return Race(u, v, "host-token")
    return Race(u, v, "unordered")


def analyse_order(graph: nx.DiGraph) -> tuple[OrderIndex, list[Race]]:
    """The order index of `graph` and its races.

    A deadlock stops only the waits on its cycles and what is ordered after them: the races
    between the ops it does not block are still judged (so one deadlock does not hide an
    unawaited collective elsewhere), on the order edges among those ops alone. That is exact:
    an order path between two unblocked ops never passes through a blocked one (whatever
    follows a blocked node is blocked). Races of blocked ops are not judged: they never run.
    """
    index = OrderIndex(graph)
    if index.acyclic:
        return index, find_races(graph, index)
    blocked = index.reachable(index.cycle())
    return index, find_races(graph, OrderIndex(graph, removed=blocked), skip=blocked)
