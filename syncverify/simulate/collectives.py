"""Collectives over numpy buffers: what each member holds once a call completes.

Each function takes the members (sorted ranks) and every member's input as it was when that
member issued the call (S22), and returns each member's output. A call that cannot produce a
meaningful value (a reduction over members holding different tokens, a combine of tokens that
were never dispatched) raises `Unusable`: the runtime reports it as the divergence it causes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from syncverify.simulate.buffers import (
    Buf,
    chunk_positions,
    concat_cols,
    concat_rows,
    row_key,
    sort_rows,
)


class Unusable(Exception):
    """The call's inputs cannot be combined as the collective says (the message says why)."""


def transfer(
    kind: str,
    role: str | None,
    members: tuple,
    ins: dict[int, Buf | None],
    expert_holders: Callable[[int], tuple],
) -> dict[int, Buf]:
    if len(members) == 1 and kind != "all_to_all":
        return {m: b for m, b in ins.items() if b is not None}  # a group of one (S2)
    if kind in ("send_recv", "broadcast"):
        return broadcast(members, ins)
    held = {m: buf for m in members if (buf := ins.get(m)) is not None}
    missing = [m for m in members if m not in held]
    if missing:
        raise Unusable(f"rank {missing[0]} has no value to contribute")
    if kind == "all_reduce":
        return reduce(members, held, scatter=False)
    if kind == "reduce_scatter":
        return reduce(members, held, scatter=True)
    if kind == "all_gather":
        gathered = gather_all(members, held)
        return dict.fromkeys(members, gathered)
    if kind == "gather":
        root = members[0]
        return {m: (gather_all(members, held) if m == root else held[m]) for m in members}
    if kind == "all_to_all":
        if role == "dispatch":
            return dispatch(members, held, expert_holders)
        if role == "combine":
            return combine(members, held)
        return transpose(members, held)
    return {}


def broadcast(members: tuple, ins: dict) -> dict[int, Buf]:
    """The lowest member holding the value sends it to every member."""
    root = next((m for m in members if ins.get(m) is not None), None)
    if root is None:
        raise Unusable("no member holds a value to send")
    return dict.fromkeys(members, ins[root])


def reduce(members: tuple, ins: dict[int, Buf], scatter: bool) -> dict[int, Buf]:
    vals = [ins[m] for m in members]
    base = vals[0]
    for v in vals[1:]:
        if v.order != base.order or v.rows != base.rows:
            raise Unusable("it sums values of different tokens (different requests or shards)")
        if v.cols != base.cols:
            raise Unusable(f"it sums different features ({_cols(base.cols)} and {_cols(v.cols)})")
    total = vals[0].data.copy()
    for v in vals[1:]:
        total = total + v.data
    summed = base.with_data(total)
    if not scatter:
        return dict.fromkeys(members, summed)
    return {
        m: summed.take(chunk_positions(len(summed.rows), len(members), i))
        for i, m in enumerate(members)
    }


def gather_all(members: tuple, ins: dict[int, Buf]) -> Buf:
    """Concatenate along the dim the inputs are sharded on (S19): tokens if they differ, else
    features; identical inputs give duplicated rows, which no op accepts."""
    vals = [ins[m] for m in members]
    rows_differ = len({v.rows for v in vals}) > 1
    cols_differ = len({v.cols for v in vals}) > 1
    if rows_differ and cols_differ:
        raise Unusable("members hold different tokens and different features")
    if cols_differ:
        joined = concat_cols(vals)
        if joined is None:
            raise Unusable("the members' features do not tile one range")
        return joined
    return concat_rows(vals)


def dispatch(members: tuple, ins: dict[int, Buf], expert_holders) -> dict[int, Buf]:
    """S12: each token goes once to the ranks holding its chosen experts; a token held by several
    members is sent by the one whose position among its holders owns its contiguous share."""
    holders: dict[tuple, list] = defaultdict(list)
    routes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for m in members:
        buf = ins[m]
        if buf.order != "token":
            raise Unusable("it dispatches tokens that are already dispatched")
        if buf.route is None:
            raise Unusable("it dispatches tokens that were never routed")
        routes[m] = buf.route
        holders[buf.rows].append(m)
    sent: dict[int, list] = defaultdict(list)
    for rows, who in holders.items():
        for i, m in enumerate(who):
            for j in chunk_positions(len(rows), len(who), i):
                _send_token(ins[m], routes[m], j, m, members, expert_holders, sent)
    width = ins[members[0]].data.shape[1]
    out = {}
    for m in members:
        entries = sorted(sent[m], key=lambda e: row_key(e[0]))
        data = np.stack([e[1] for e in entries]) if entries else np.zeros((0, width))
        out[m] = Buf(
            data,
            tuple(e[0] for e in entries),
            ins[members[0]].cols,
            "expert",
            weights=np.array([e[2] for e in entries]),
        )
    return out


def _send_token(
    buf: Buf,
    route: tuple[np.ndarray, np.ndarray],
    j: int,
    sender: int,
    members,
    expert_holders,
    sent,
) -> None:
    experts, weights = route
    for k in range(experts.shape[1]):
        e = int(experts[j, k])
        for dest in expert_holders(e):
            if dest in members:
                sent[dest].append(((buf.rows[j], e, sender), buf.data[j], weights[j, k]))


def combine(members: tuple, ins: dict[int, Buf]) -> dict[int, Buf]:
    """S12: every expert output goes back to the member that sent its token and is summed there."""
    sums: dict[int, dict] = defaultdict(dict)
    width = None
    for m in members:
        buf = ins[m]
        if buf.order != "expert":
            raise Unusable("it combines tokens that were never dispatched")
        width = buf.data.shape[1]
        for (row, _e, sender), y in zip(buf.rows, buf.data):
            if sender in members:
                acc = sums[sender]
                acc[row] = acc[row] + y if row in acc else y.copy()
    out = {}
    for m in members:
        rows = tuple(sorted(sums[m], key=row_key))
        data = np.stack([sums[m][r] for r in rows]) if rows else np.zeros((0, width or 0))
        out[m] = Buf(data, rows, ins[m].cols)
    return out


def transpose(members: tuple, ins: dict[int, Buf]) -> dict[int, Buf]:
    """An all_to_all outside MoE (Ulysses): token shards <-> feature shards. The swap back
    hands member i the i-th contiguous share of the tokens in row order: the i-th chunk of
    every sequence's positions (`row_key`), so two sequences per microbatch split as S6 cuts
    a prompt."""
    vals = [ins[m] for m in members]
    n = len(members)
    if vals[0].cols[0] == "token":
        return exchange_chunks(members, ins)
    out = {}
    if len({v.rows for v in vals}) > 1:
        if len({v.cols for v in vals}) > 1:
            raise Unusable("members hold different tokens and different features")
        dim, lo, hi = vals[0].cols
        for i, m in enumerate(members):
            cols = chunk_positions(hi - lo, n, i)
            parts = [
                v.with_data(
                    v.data[:, cols.start : cols.stop], (dim, lo + cols.start, lo + cols.stop)
                )
                for v in vals
            ]
            out[m] = concat_rows(parts)
        return out
    joined = concat_cols(vals)
    if joined is None:
        raise Unusable("the members' features do not tile one range")
    joined = sort_rows(joined)
    for i, m in enumerate(members):
        out[m] = joined.take(chunk_positions(len(joined.rows), n, i))
    return out


def exchange_chunks(members: tuple, ins: dict[int, Buf]) -> dict[int, Buf]:
    """An all_to_all of token ids (sampled tokens have no feature dim to split): member i
    receives the i-th contiguous share of every member's buffer, in member order, into a buffer
    that its consumers read as before (the same rows): the ids land on other sequences'
    rows, as on a device. The runtime has checked that the members pass equal sizes."""
    n = len(members)
    if len(ins[members[0]].rows) % n:
        raise Unusable(
            f"its {len(ins[members[0]].rows)} tokens do not split evenly over {n} members"
        )
    out = {}
    for i, m in enumerate(members):
        parts = [
            ins[other].data[list(chunk_positions(len(ins[other].rows), n, i))] for other in members
        ]
        out[m] = ins[m].with_data(np.concatenate(parts))
    return out


def _cols(cols: tuple) -> str:
    dim, lo, hi = cols
    return f"{dim} columns {lo}-{hi}"
