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
search as `OrderIndex.ordered`, so the findings are those of the rebuild. Syncs issued back to
back are chains of nodes with one order predecessor each; kept as trees, a dropped node's
subtree is emptied at once, so a chain of k costs k, not k x k (tests/test_budget.py compares
the findings with the rebuild; syncverify.budget bounds what is left pairwise).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from syncverify.analysis.happens_before import OrderIndex
from syncverify.graph.edges import edges_with_data
from syncverify.graph.nodes import Node
from syncverify.graph.quotient import Classes
from syncverify.plan import Plan
from syncverify.records import RedundantReason


@dataclass(frozen=True)
class Redundant:
    sync: int
    calls_per_step: tuple  # ((phase, calls per rank per step), ...)
    reason: RedundantReason


def _instances(graph: nx.DiGraph) -> dict[int, list]:
    out = defaultdict(list)
    for node, attrs in graph.nodes(data=True):
        # prefill_end hand-overs are judged by the hand-over analysis (S5)
        if attrs.get("kind") == "coll" and attrs["phase"] != "handover":
            out[attrs["sync"]].append(node)
    return out


def _reason(plan: Plan, graph: nx.DiGraph, effects: dict, nodes: list) -> RedundantReason | None:
    sync = plan.syncs[graph.nodes[nodes[0]]["sync"]]
    if all(len(graph.nodes[n]["members"]) == 1 for n in nodes):
        return None  # a group of one: the static rule SV401 reports it
    if sync.collective == "barrier":
        return RedundantReason.BARRIER
    if all(effects.get(n, "identity") == "identity" for n in nodes):
        return RedundantReason.IDENTITY
    if all(not any(e["data"] for _, _, e in graph.out_edges(n, data=True)) for n in nodes):
        return RedundantReason.UNUSED
    return None


def _calls_per_step(
    graph: nx.DiGraph, nodes: list, classes: dict[int, tuple[int, ...]], quotient: Classes
) -> tuple:
    """Calls one rank makes per step (prefill: per pass), by phase, for the cost in messages;
    `classes` and `quotient` say which layers and microbatches a representative stands for."""
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


def find_redundant(
    plan: Plan,
    graph: nx.DiGraph,
    effects: dict,
    index: OrderIndex,
    races: list,
    blamed: frozenset[int] | set[int],
    layer_classes: dict[int, tuple[int, ...]],
    classes: Classes,
) -> list[Redundant]:
    """`races`: those of the whole graph; `blamed`: syncs already reported as changing a value
    wrongly or hanging (not merely redundant); `layer_classes` and `classes`: what the graph's
    representatives stand for, to count calls as on the real plan."""
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
            out.append(
                Redundant(sync_index, _calls_per_step(graph, nodes, layer_classes, classes), reason)
            )
    return out


class LeaveOneOut:
    """The full graph's order, and what dropping a set of collective nodes does to it.

    Blocking collectives a rank issues back to back make chains: each is issued after the last
    completed, so its only order predecessor is the one before (and the op after the chain
    waits for all of them). A node off the ranks' chains with a single predecessor has that
    predecessor's clock; such nodes make trees (`root`, Euler-tour `tin`/`tout`), and a node's
    predecessors are kept grouped by tree. Dropping a node empties the clocks of its subtree and
    changes nothing else in the tree, so the clocks are recomputed for the tree roots alone: k
    syncs at one anchor cost k per candidate, not k x k.
    """

    MAX_DEPTH = 64  # OrderIndex.ordered's bound on paths off the ranks' chains

    def __init__(self, graph: nx.DiGraph, index: OrderIndex, races: list):
        self.nodes = graph.nodes
        self.index = index
        self.zero = [0] * index.width
        preds: dict[Node, list] = defaultdict(list)
        for u, successors in index.succ.items():
            for v in successors:
                preds[v].append(u)
        self._trees(preds)
        # per root: the predecessor groups of each tree root, and who reads each tree
        self.groups: dict[Node, list] = {}
        readers: dict[Node, list] = defaultdict(list)
        for v in index.order:
            if self.root[v] != v:
                continue
            by_tree: dict[Node, list] = defaultdict(list)
            for p in preds.get(v, ()):
                by_tree[self.root[p]].append(self.tin[p])
            self.groups[v] = [(r, sorted(tins)) for r, tins in by_tree.items()]
            # a cut that spares a group's first member leaves its contribution as it was, so
            # the first member alone says when `v` must be recomputed (one entry per group)
            for r, tins in self.groups[v]:
                readers[r].append((tins[0], v))
        self.readers = _by_tin(readers)
        # a collective some member never issues is a hang, judged apart (find_races skips it)
        hanging = {
            n
            for n, a in graph.nodes(data=True)
            if a.get("kind") == "coll" and len(a["issuers"]) != len(a["members"])
        }
        unordered = {(r.producer, r.consumer) for r in races}
        self.producers: dict[Node, list] = defaultdict(list)  # consumer -> producers
        self.through: dict[Node, list] = defaultdict(list)  # node -> edges ordered via it
        consumers: dict[Node, list] = defaultdict(list)  # tree root -> (tin, consumer)
        for u, v, attrs in edges_with_data(graph):
            if not attrs["data"] or u in hanging or v in hanging or (u, v) in unordered:
                continue
            if v not in self.producers:
                consumers[self.root[v]].append((self.tin[v], v))
            self.producers[v].append(u)
            if self.nodes[u].get("kind") != "op":
                for node in self._path(u, v):
                    self.through[node].append((u, v))
        self.consumers = _by_tin(consumers)

    def _trees(self, preds: dict) -> None:
        """`root`, `tin` and `tout` of every node: a node off the ranks' chains with exactly one
        order predecessor hangs below it; every other node roots a tree."""
        parent_of: dict[Node, Node] = {}
        children: dict[Node, list] = defaultdict(list)
        for n in self.index.order:
            ps = preds.get(n, ())
            if len(ps) == 1 and self.nodes[n].get("kind") != "op":
                parent_of[n] = ps[0]
                children[ps[0]].append(n)
        self.root: dict[Node, Node] = {}
        self.tin: dict[Node, int] = {}
        self.tout: dict[Node, int] = {}
        count = 0
        for top in self.index.order:
            if top in parent_of:
                continue
            stack = [(top, False)]
            while stack:
                node, leaving = stack.pop()
                if leaving:
                    self.tout[node] = count
                    continue
                self.root[node], self.tin[node] = top, count
                count += 1
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children.get(node, ())))

    def orders_the_same_without(self, removed: Iterable[Node]) -> bool:
        """Whether every data edge ordered in the full graph (and not touching `removed`) is
        still ordered once `removed` are dropped from the order graph."""
        removed = set(removed)
        cuts: dict[Node, list] = defaultdict(list)  # tree root -> dropped subtrees
        for node in removed:
            cuts[self.root[node]].append((self.tin[node], self.tout[node]))
        changed = self._clocks_without(removed, cuts)
        consumers = [v for r in changed for v in self.consumers.get(r, ((), ()))[1]]
        for r, spans in cuts.items():
            consumers += _within(self.consumers.get(r), spans)
        suspects = [(u, v) for v in consumers for u in self.producers.get(v, ())]
        suspects += [edge for node in removed for edge in self.through.get(node, ())]
        return all(
            u in removed or v in removed or self._ordered(u, v, removed, cuts, changed)
            for u, v in suspects
        )

    def _clocks_without(self, removed: set, cuts: dict) -> dict[Node, list]:
        """The tree roots whose vector clock differs once `removed` are dropped, with the new
        clock (the other nodes of a tree have their root's clock, or none below a cut)."""
        index, nodes = self.index, self.nodes
        row, clock = index.row, index.clock
        changed: dict[Node, list] = {}
        todo = [
            (row[v], v)
            for r, spans in cuts.items()
            for v in _within(self.readers.get(r), spans)
            if v not in removed
        ]
        heapq.heapify(todo)
        done = set()
        while todo:
            _, node = heapq.heappop(todo)
            if node in done:
                continue
            done.add(node)
            inputs = []
            for r, tins in self.groups.get(node, ()):
                spans = cuts.get(r)
                if spans and all(any(lo <= t < hi for lo, hi in spans) for t in tins):
                    continue  # every predecessor in this tree is dropped or below
                inputs.append(changed.get(r) or clock[row[r]])
            if not inputs:
                mine = list(self.zero)
            elif len(inputs) == 1:
                mine = list(inputs[0])
            else:
                mine = list(map(max, *inputs))
            attrs = nodes[node]
            if attrs.get("kind") == "op":
                mine[attrs["rank"]] = attrs["position"] + 1
            if mine != clock[row[node]]:
                changed[node] = mine
                for reader in self.readers.get(node, ((), ()))[1]:
                    if reader not in removed and reader not in done:
                        heapq.heappush(todo, (row[reader], reader))
        return changed

    def _clock(self, node: Node, cuts: dict, changed: dict) -> list:
        """`node`'s vector clock once the nodes of `cuts` are dropped."""
        r = self.root[node]
        if r != node and any(lo <= self.tin[node] < hi for lo, hi in cuts.get(r, ())):
            return self.zero  # its only path in was through a dropped node
        mine = changed.get(r)
        return mine if mine is not None else self.index.clock[self.index.row[r]]

    def _ordered(
        self, u: Node, v: Node, removed: set, cuts: dict, changed: dict, depth: int = 0
    ) -> bool:
        """OrderIndex.ordered on the graph without `removed`."""
        if u == v:
            return True
        attrs = self.nodes[u]
        if attrs.get("kind") == "op":
            return self._clock(v, cuts, changed)[attrs["rank"]] >= attrs["position"] + 1
        if depth > self.MAX_DEPTH:
            return False
        return any(
            s not in removed and (s == v or self._ordered(s, v, removed, cuts, changed, depth + 1))
            for s in self.index.succ.get(u, ())
        )

    def _path(self, u: Node, v: Node, depth: int = 0) -> list:
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


def _by_tin(entries: dict[Node, list]) -> dict[Node, tuple[list, list]]:
    """(tins, nodes) sorted by tin, per tree root, for bisecting a subtree's span."""
    out = {}
    for root, pairs in entries.items():
        pairs.sort(key=lambda pair: pair[0])
        out[root] = ([t for t, _ in pairs], [n for _, n in pairs])
    return out


def _within(entries: tuple[list, list] | None, spans: list) -> list:
    """The nodes of `entries` whose tin falls in one of `spans`."""
    if not entries:
        return []
    tins, nodes = entries
    return [n for lo, hi in spans for n in nodes[bisect_left(tins, lo) : bisect_left(tins, hi)]]
