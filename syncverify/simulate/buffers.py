"""Buffers: what a rank holds of a value, as numbers plus the names of their rows and columns.

Rows are named so that collectives can move them and ops can refuse what they cannot use:
token order rows are `(replica, microbatch, slot, position)`; expert order rows (after a
dispatch, S12) are `(token row, expert, sender rank)`. Rows are always kept in `row_key` order,
so two buffers of the same tokens line up: replica, microbatch, then position before sequence,
as a `[sequence, batch, ...]` activation lies in memory (Megatron's layout). A split of the
tokens into contiguous shares (a reduce_scatter, the swap back of a Ulysses all_to_all) then
cuts every sequence of a microbatch at the same positions, as the SP split of S6 does. Columns
are one contiguous range `(dim, lo, hi)` of an activation's full width (hidden, q, kv, latent,
ffn, vocab, token).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


class Stop(Exception):
    """The simulation ends here: a divergence or a hang, described by `outcome`."""

    def __init__(self, outcome):
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclass
class Buf:
    data: np.ndarray  # [rows, columns]
    rows: tuple
    cols: tuple  # (dim, lo, hi)
    order: str = "token"  # token | expert
    # token order after the router: (experts [n,k], weights [n,k])
    route: tuple[np.ndarray, np.ndarray] | None = None
    weights: np.ndarray | None = None  # expert order: each row's routing weight

    def with_data(self, data: np.ndarray, cols: tuple | None = None) -> Buf:
        return Buf(
            data,
            self.rows,
            cols if cols is not None else self.cols,
            self.order,
            self.route,
            self.weights,
        )

    @property
    def duplicated(self) -> bool:
        return len(set(self.rows)) != len(self.rows)

    def take(self, index) -> Buf:
        """The rows at `index` (a list of positions), keeping their metadata."""
        index = list(index)
        return replace(
            self,
            data=self.data[index],
            rows=tuple(self.rows[i] for i in index),
            route=None if self.route is None else (self.route[0][index], self.route[1][index]),
            weights=None if self.weights is None else self.weights[index],
        )


def full_cols(dim: str, width: int) -> tuple:
    return (dim, 0, width)


def row_key(row: tuple) -> tuple:
    """The order of rows in a buffer: token rows by (replica, microbatch, position, slot);
    expert rows by their token row, then expert and sender."""
    if isinstance(row[0], tuple):
        return (row_key(row[0]),) + row[1:]
    return (row[0], row[1], row[3], row[2])


def sort_rows(buf: Buf) -> Buf:
    order = sorted(range(len(buf.rows)), key=lambda i: row_key(buf.rows[i]))
    if order == list(range(len(order))):
        return buf
    return buf.take(order)


def concat_rows(bufs: list[Buf]) -> Buf:
    """Rows of several buffers (same columns) in one, sorted; duplicates are kept."""
    base = bufs[0]
    routes = [b.route for b in bufs if b.route is not None]
    route = None
    if len(routes) == len(bufs):  # every buffer routed
        route = (
            np.concatenate([r[0] for r in routes]),
            np.concatenate([r[1] for r in routes]),
        )
    weights = None
    if all(b.weights is not None for b in bufs):
        weights = np.concatenate([b.weights for b in bufs])
    data = np.concatenate([b.data for b in bufs]) if bufs else base.data
    rows = tuple(r for b in bufs for r in b.rows)
    return sort_rows(Buf(data, rows, base.cols, base.order, route, weights))


def concat_cols(bufs: list[Buf]) -> Buf | None:
    """Columns of several buffers (same rows) side by side, or None if they do not tile."""
    ordered = sorted(bufs, key=lambda b: b.cols[1])
    dim, lo, hi = ordered[0].cols
    for b in ordered[1:]:
        if b.cols[0] != dim or b.cols[1] != hi:
            return None
        hi = b.cols[2]
    return replace(
        ordered[0], data=np.concatenate([b.data for b in ordered], axis=1), cols=(dim, lo, hi)
    )


def chunk_positions(count: int, parts: int, index: int) -> range:
    """The index-th of `parts` contiguous shares of `count` rows (as numpy's array_split)."""
    base, extra = divmod(count, parts)
    start = index * base + min(index, extra)
    return range(start, start + base + (1 if index < extra else 0))
