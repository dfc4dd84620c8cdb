"""Collective matching: does every member of every group issue the same calls in the same order?

What PyTorch's Flight Recorder reports after a hang, found before deployment (S23): the members
of a group (a communicator: one set of ranks, whatever its name, S1) pair their calls by
position in issue order. We report, in Flight Recorder's vocabulary:
- `missing ranks`: a collective instance some members never issue (S9 split selectors, S10
  groups spanning stages, S17 idle replicas that skip), so the others wait forever;
- `order mismatch`: members issue complete collectives in different orders (a cross wait);
- `size mismatch`: members of one instance pass buffers of different sizes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from syncverify.graph.nodes import CollNode
from syncverify.records import NO_RANKS, HangKind, HangReason, Node, Ranks


@dataclass(frozen=True)
class Hang:
    kind: HangKind
    node: Node  # the collective instance (first one that diverges)
    sync: int
    missing: Ranks = NO_RANKS  # ranks that never issue it
    issuers: Ranks = NO_RANKS
    reason: HangReason = HangReason.NONE
    other: Node | None = None  # order mismatch: the call the other member issues instead
    ranks: Ranks = NO_RANKS  # order/size mismatch: the diverging ranks
    scenario: str = ""


def missing_ranks(graph: nx.DiGraph, why) -> list[Hang]:
    """Every collective instance that some member never issues. `why(node, rank)` explains.

    An instance no member issues makes nobody wait (a selector that leaves out whole groups,
    S9): its consumers lack the data, which the placement and hand-over analyses report."""
    hangs = []
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") != "coll":
            continue
        missing = Ranks(tuple(sorted(set(attrs["members"]) - set(attrs["issuers"]))))
        if missing and attrs["issuers"]:
            reasons = {why(node, r) for r in missing}
            reason = (
                HangReason.IDLE
                if HangReason.IDLE in reasons
                else (
                    HangReason.SELECTOR
                    if HangReason.SELECTOR in reasons
                    else HangReason.NEVER_REACHES
                )
            )
            hangs.append(
                Hang(
                    HangKind.MISSING_RANKS,
                    node,
                    attrs["sync"],
                    missing,
                    Ranks(tuple(sorted(attrs["issuers"]))),
                    reason,
                    scenario=graph.graph.get("scenario", ""),
                )
            )
    return hangs


def order_mismatches(graph: nx.DiGraph) -> list[Hang]:
    """Per communicator, the first position where members' sequences of complete calls differ."""
    sequences: dict[frozenset, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") != "coll" or set(attrs["issuers"]) != set(attrs["members"]):
            continue
        comm = _communicator(node, attrs)
        for rank, position in attrs["issuers"].items():
            sequences[comm][rank].append((position, node))
    hangs = []
    for per_rank in sequences.values():
        ordered = {r: [n for _, n in sorted(calls)] for r, calls in per_rank.items()}
        ranks = sorted(ordered)
        reference = ordered[ranks[0]]
        for rank in ranks[1:]:
            seq = ordered[rank]
            for a, b in zip(reference, seq):
                if a != b:
                    hangs.append(
                        Hang(
                            HangKind.ORDER_MISMATCH,
                            a,
                            graph.nodes[a]["sync"],
                            other=b,
                            ranks=Ranks((ranks[0], rank)),
                            scenario=graph.graph.get("scenario", ""),
                        )
                    )
                    break
            else:
                continue
            break
    return hangs


def _communicator(node: CollNode, attrs: dict):
    """A group's rank set (S1); point-to-point calls match per direction (sender, receiver)."""
    if attrs.get("collective") == "send_recv" or attrs.get("role") in ("stage", "carrier"):
        if len(node.group) == 2:
            return tuple(node.group)
    return frozenset(attrs["members"])


def size_mismatches(graph: nx.DiGraph, values: dict) -> list[Hang]:
    """Members of one instance whose input buffers differ in size (token count x width)."""
    hangs = []
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") != "coll" or attrs.get("collective") in (
            "barrier",
            "send_recv",
            "broadcast",
        ):
            continue
        sizes = {}
        for u, edge in graph.pred[node].items():
            for _slot, tensor, member in edge["data"]:
                rank = member if u.kind == "coll" else (u.rank if u.kind == "op" else None)
                produced = values.get(u, {})
                val = produced.get((tensor, member if u.kind == "coll" else None))
                if rank is not None and val is not None:
                    sizes[(rank, tensor)] = _size(val)
        by_tensor: dict[str, dict[int, tuple]] = defaultdict(dict)  # tensor -> rank -> size
        for (rank, tensor), size in sizes.items():
            by_tensor[tensor][rank] = size
        for per_rank in by_tensor.values():
            if len(set(per_rank.values())) > 1:
                ranks = Ranks(tuple(sorted(per_rank)))
                hangs.append(
                    Hang(
                        HangKind.SIZE_MISMATCH,
                        node,
                        attrs["sync"],
                        ranks=ranks,
                        scenario=graph.graph.get("scenario", ""),
                    )
                )
    return hangs


def _size(val) -> tuple:
    token_measure = sum(hi - lo for _, lo, hi in val.tokens)
    return (token_measure, val.feat[2] - val.feat[1], val.copies, val.order)
