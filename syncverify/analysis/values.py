"""What a rank holds of a value: its placement, as the placement analysis tracks it.

A value on one rank is described by
- `tokens`: which tokens it covers, as intervals of a token block. A block is one replica's
  microbatch in one phase, ("P"|"D", replica, microbatch); an interval is a contiguous share
  [lo, hi) of that block's tokens (SP chunks, Megatron token shards, dispatch shares).
- `feat`: which features: (dim, lo, hi), a share of `dim` (heads, kv_heads, ffn, vocab); the
  full width is FULL.
- `need`/`have`: a partial sum (DTensor's Partial): the value is the sum of the contributions of
  the ranks in `need`, and this buffer holds the contributions counted in `have`. A complete
  value has need None.
- `order`: "token", or "expert" after a dispatch (S12), with this rank's expert `block` and the
  `shares` each member sent, which the combine returns.
- `copies`: > 1 when an all_gather concatenated identical copies (S19: ops never de-duplicate).
- `by`: the sync point whose collective last changed the value, kept while ops pass the value's
  placement on (norms, attention) and dropped by ops that make a new one (linears, adds), so a
  defect can be blamed on the collective that caused it (S19: redundant-sync, error).
Replicated over a group = every member holds an equal complete value; Sharded = members hold
different shares of tokens or features; over a group of one both collapse to Replicated (S2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

ZERO, ONE = Fraction(0), Fraction(1)
FULL = ("*", ZERO, ONE)


@dataclass(frozen=True)
class Val:
    tokens: frozenset
    feat: tuple = FULL
    need: frozenset | None = None
    have: tuple = ()
    order: str = "token"
    copies: int = 1
    block: tuple | None = None
    shares: frozenset = frozenset()
    kind: str = "act"
    by: int | None = None  # the sync whose collective last changed it, while ops pass it on

    @property
    def complete(self) -> bool:
        return self.need is None

    @property
    def full(self) -> bool:
        return self.feat[1] == ZERO and self.feat[2] == ONE

    def same_placement(self, other: Val) -> bool:
        return (
            self.tokens,
            self.feat,
            self.need,
            self.have,
            self.order,
            self.copies,
            self.block,
        ) == (
            other.tokens,
            other.feat,
            other.need,
            other.have,
            other.order,
            other.copies,
            other.block,
        )

    def made_complete(self) -> Val:
        return replace(self, need=None, have=())


def replace(val, **changes):
    """dataclasses.replace for a Val, without its field introspection (the analyses make
    thousands of Vals per plan; this is several times faster). Any other dataclass goes
    through dataclasses.replace."""
    if type(val) is not Val:
        return dataclasses.replace(val, **changes)
    unknown = changes.keys() - val.__dict__.keys()
    if unknown:
        raise TypeError(f"Val has no field {sorted(unknown)[0]!r}")
    new = object.__new__(Val)
    new.__dict__.update(val.__dict__, **changes)
    return new


def partial(need: Iterable[int], rank: int) -> tuple[frozenset | None, tuple]:
    """A contribution of `rank` to a sum over `need`; over a group of one it is complete (S2)."""
    need = frozenset(need)
    if len(need) <= 1:
        return None, ()
    return need, ((rank, 1),)


def add_have(values: Iterable[Val], weights: Iterable[int] | None = None) -> dict[int, int]:
    """How many times each contribution is present in the sum of `values` (each value counted
    `weight` times: the real ranks a kept one stands for)."""
    values = list(values)
    total: dict[int, int] = {}
    for v, weight in zip(values, weights if weights is not None else [1] * len(values)):
        for rank, count in v.have:
            total[rank] = total.get(rank, 0) + count * weight
    return total


@lru_cache(maxsize=4096)
def shard(dim: str, index: int, count: int) -> tuple:
    if count <= 1:
        return FULL
    return (dim, Fraction(index, count), Fraction(index + 1, count))


def feat_union(feats: list[tuple]) -> tuple | None:
    """Concatenate feature shares of one dim; None when they do not tile an interval."""
    dims = {f[0] for f in feats}
    if len(dims) != 1:
        return None
    spans = sorted((f[1], f[2]) for f in feats)
    lo, hi = spans[0]
    for a, b in spans[1:]:
        if a != hi:
            return None
        hi = b
    return FULL if (lo, hi) == (ZERO, ONE) else (feats[0][0], lo, hi)


def feat_contains(outer: tuple, inner: tuple) -> bool:
    if outer[1] == ZERO and outer[2] == ONE:
        return True
    return outer[0] == inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2]


# ---- token sets -------------------------------------------------------------------------------
def tokens(block: tuple, lo: Fraction = ZERO, hi: Fraction = ONE) -> frozenset:
    return frozenset({(block, lo, hi)})


def normalize(intervals: Iterable[tuple]) -> tuple[frozenset, bool]:
    """Merge touching intervals per block; also say whether any overlapped (duplicates)."""
    by_block: dict = {}
    for block, lo, hi in intervals:
        by_block.setdefault(block, []).append((lo, hi))
    out, overlap = set(), False
    for block, spans in by_block.items():
        spans.sort()
        cur_lo, cur_hi = spans[0]
        for lo, hi in spans[1:]:
            if lo < cur_hi:
                overlap = True
            if lo <= cur_hi:
                cur_hi = max(cur_hi, hi)
            else:
                out.add((block, cur_lo, cur_hi))
                cur_lo, cur_hi = lo, hi
        out.add((block, cur_lo, cur_hi))
    return frozenset(out), overlap


def chunk(toks: frozenset, index: int, count: int) -> frozenset:
    """The index-th of `count` equal contiguous shares of the tokens in concatenation order.

    Blocks concatenate in block order (an all_gather over replicas concatenates them in rank
    order, and replicas' blocks sort the same way), so scattering a gathered value hands each
    member back the share it contributed; a single block splits into sub-intervals.
    """
    spans = sorted(toks)
    total = sum(hi - lo for _, lo, hi in spans)
    start, stop = total * index / count, total * (index + 1) / count
    out, offset = set(), Fraction(0)
    for block, lo, hi in spans:
        width = hi - lo
        a, b = max(start, offset), min(stop, offset + width)
        if a < b:
            out.add((block, lo + (a - offset), lo + (b - offset)))
        offset += width
    return frozenset(out)


def blocks(toks: frozenset) -> frozenset:
    return frozenset(b for b, _, _ in toks)


def covers_blocks(toks: frozenset, wanted: Iterable[tuple]) -> bool:
    """Whether `toks` holds every token of each wanted block."""
    merged, _ = normalize(toks)
    whole = {b for b, lo, hi in merged if lo == ZERO and hi == ONE}
    return set(wanted) <= whole
