"""Ranks and process groups of one phase (S1).

Ranks are numbered by `layout`, fastest axis first: rank = sum(coord_i * prod_{j<i} size_j).
A group is the set of physical ranks that differ only in one axis. EP groups cut the flattened
non-pp coordinates of one stage, in layout order, into consecutive chunks of `ep` ranks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

LAYOUT_AXES = ("tp", "sp", "dp", "pp")


@dataclass(frozen=True)
class Topology:
    sizes: Mapping[str, int]  # tp, sp, dp, pp (and ep, which is not a layout axis)
    layout: tuple[str, ...]  # a permutation of LAYOUT_AXES, fastest first
    stages: tuple[int, ...]  # layers per pp stage (len == pp)

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.sizes.items())), self.layout, self.stages))

    @property
    def world(self) -> int:
        n = 1
        for axis in LAYOUT_AXES:
            n *= self.sizes[axis]
        return n

    @cached_property
    def _strides(self) -> dict[str, int]:
        strides, step = {}, 1
        for axis in self.layout:
            strides[axis] = step
            step *= self.sizes[axis]
        return strides

    @cached_property
    def _coords(self) -> dict[int, dict[str, int]]:
        return {}

    def coords(self, rank: int) -> dict[str, int]:
        """Coordinates of a rank on every layout axis, plus its ep coordinate (a fresh dict)."""
        known = self._coords.get(rank)
        if known is None:
            known = {axis: (rank // self._strides[axis]) % self.sizes[axis] for axis in self.layout}
            known["ep"] = self.ep_index(rank) % max(self.sizes.get("ep", 1), 1)
            self._coords[rank] = known
        return dict(known)

    def rank(self, coords: Mapping[str, int]) -> int:
        return sum(coords.get(axis, 0) * self._strides[axis] for axis in self.layout)

    def _non_pp_index(self, rank: int) -> int:
        """Position of the rank among the non-pp coordinates of its stage, in layout order."""
        index, step = 0, 1
        for axis in self.layout:
            if axis == "pp":
                continue
            index += ((rank // self._strides[axis]) % self.sizes[axis]) * step
            step *= self.sizes[axis]
        return index

    def ep_index(self, rank: int) -> int:
        return self._non_pp_index(rank)

    @cached_property
    def non_pp_indices(self) -> tuple[int, ...]:
        """_non_pp_index of every rank, computed axis by axis (rules that walk every rank of a
        16,384-rank world call it per rank otherwise)."""
        world = self.world
        total = [0] * world
        step = 1
        for axis in self.layout:
            if axis == "pp":
                continue
            stride, size = self._strides[axis], self.sizes[axis]
            if size > 1:
                total = [t + ((r // stride) % size) * step for r, t in enumerate(total)]
            step *= size
        return tuple(total)

    def group_bases(self, axis: str) -> list[int]:
        """The lowest rank of every group of a layout axis (the ranks whose coordinate is 0)."""
        stride, size = self._strides[axis], self.sizes[axis]
        return [r for r in range(self.world) if (r // stride) % size == 0]

    def group_of_base(self, axis: str, base: int) -> range:
        """The members of the group of a layout axis whose lowest rank is `base`."""
        stride = self._strides[axis]
        return range(base, base + stride * self.sizes[axis], stride)

    def stage_of(self, rank: int) -> int:
        return (rank // self._strides["pp"]) % self.sizes["pp"]

    def group(self, axis: str, rank: int) -> tuple[int, ...]:
        """The ranks of `rank`'s group on `axis` (tp, sp, dp, pp, ep or world), sorted."""
        if axis == "world":
            return tuple(range(self.world))
        if axis == "ep":
            return self._ep_group(rank)
        base = rank - ((rank // self._strides[axis]) % self.sizes[axis]) * self._strides[axis]
        return tuple(sorted(base + i * self._strides[axis] for i in range(self.sizes[axis])))

    def _ep_group(self, rank: int) -> tuple[int, ...]:
        ep = max(self.sizes.get("ep", 1), 1)
        stage = self.stage_of(rank)
        chunk = self._non_pp_index(rank) // ep
        members = [r for r in self.stage_ranks(stage) if self._non_pp_index(r) // ep == chunk]
        return tuple(sorted(members))

    def groups(self, axis: str) -> tuple[tuple[int, ...], ...]:
        """Every distinct group of `axis`, in order of their lowest rank."""
        return self._all_groups[axis]

    @cached_property
    def _all_groups(self) -> dict[str, tuple[tuple[int, ...], ...]]:
        out = {}
        for axis in LAYOUT_AXES + ("ep", "world"):
            seen: dict[int, tuple[int, ...]] = {}  # lowest rank -> its group
            for r in range(self.world):
                g = self.group(axis, r)
                seen.setdefault(g[0], g)
            out[axis] = tuple(seen[k] for k in sorted(seen))
        return out

    def stage_ranks(self, stage: int) -> tuple[int, ...]:
        return tuple(r for r in range(self.world) if self.stage_of(r) == stage)

    def stage_layers(self, stage: int) -> range:
        start = sum(self.stages[:stage])
        return range(start, start + self.stages[stage])

    def layer_stage(self, layer: int) -> int:
        total = 0
        for stage, count in enumerate(self.stages):
            total += count
            if layer < total:
                return stage
        raise ValueError(f"layer {layer} is in no stage")

    def axis_of_group(self, ranks: tuple[int, ...]) -> str | None:
        """The name of the axis whose group is exactly `ranks` (tp first), or None."""
        ranks = tuple(sorted(ranks))
        for axis in ("tp", "sp", "dp", "pp", "ep", "world"):
            if self.sizes.get(axis, 1) == 1 and axis not in ("world",) and len(ranks) > 1:
                continue
            if self.group(axis, ranks[0]) == ranks:
                return axis
        return None
