"""The edges of the dependency DAG.

Each edge carries `order` (True when the schedule orders its ends: program order, a blocking
collective's completion, a wait) and `data` (a list of (slot, tensor, member) the consumer
reads from the producer); docs/semantics.md has the full table.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from syncverify.graph.nodes import Node


def edges_with_data(graph: nx.DiGraph) -> Iterator[tuple[Node, Node, dict]]:
    """(u, v, attrs) for every edge, as graph.edges(data=True) gives them, in the same order.

    Read straight from the adjacency: the analyses walk every edge several times per check, and
    the edge view's per-edge lambda is a noticeable part of a short check's time.
    """
    for u, successors in graph.adjacency():
        for v, attrs in successors.items():
            yield u, v, attrs
