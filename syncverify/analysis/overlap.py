"""Blocking collectives that an async one with a later wait would hide (S21, performance).

In a phase that allows overlap (comm_compute, two_batch), a blocking collective stalls its rank
until completion. When the op that follows it on that rank does not read its output (the other
microbatch's segment under two_batch, shared experts beside a combine, a sender's next
microbatch), the same collective issued `async` with `wait_before` its first consumer would run
beside that op.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from syncverify.graph.world import PhaseWorld
from syncverify.plan import Plan


@dataclass(frozen=True)
class CouldBeAsync:
    sync: int
    phase: str
    example: tuple  # a collective instance
    next_op: tuple  # the independent op that waits for it


def _reads(graph: nx.DiGraph, coll: tuple, op: tuple, rank: int, depth: int = 0) -> bool:
    """Whether `op` reads `coll`'s output on `rank`, directly or through a later collective."""
    for _, v, edge in graph.out_edges(coll, data=True):
        for _, _, member in edge["data"]:
            if member != rank and member is not None:
                continue
            if v == op or (
                v.kind == "coll" and depth < 8 and _reads(graph, v, op, rank, depth + 1)
            ):
                return True
    return False


def _next_call_reads(graph: nx.DiGraph, coll: tuple, rank: int) -> bool:
    """Whether the next collective `rank` issues after `coll` reads its output: collectives
    read their input at issue (S22), so `coll` must complete first and cannot be async (a
    combine followed by an all_gather over tp at the same anchor)."""
    for _, v, edge in graph.out_edges(coll, data=True):
        if v.kind == "coll" and edge["order"] and rank in graph.nodes[v].get("issuers", {}):
            if any(member in (rank, None) for _, _, member in edge["data"]):
                return True
    return False


def find_could_be_async(
    plan: Plan, graph: nx.DiGraph, worlds: dict[str, PhaseWorld]
) -> list[CouldBeAsync]:
    found: dict[tuple, CouldBeAsync] = {}
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") != "coll" or attrs["is_async"] or attrs["phase"] not in worlds:
            continue
        if not worlds[attrs["phase"]].phase.allows_async or attrs["collective"] == "barrier":
            continue
        key = (attrs["sync"], attrs["phase"])
        if key in found:
            continue
        for rank in sorted(attrs["issuers"]):
            next_ops = [
                v
                for v in graph.successors(node)
                if graph.edges[node, v]["order"]
                and graph.nodes[v].get("rank") == rank
                and graph.nodes[v].get("kind") == "op"
            ]
            if (
                next_ops
                and not any(_reads(graph, node, op, rank) for op in next_ops)
                and not _next_call_reads(graph, node, rank)
            ):
                found[key] = CouldBeAsync(attrs["sync"], attrs["phase"], node, next_ops[0])
                break
    return sorted(found.values(), key=lambda c: (c.sync, c.phase))
