"""Rank and microbatch symmetry: check a smaller plan that stands for the real one.

DP replicas run the same program on different requests, and so do the microbatches of a step.
Unless something tells them apart, replica 0 and replica 1 are all there is to see: replica 0
is the one the output sink reads first and the one left idle under `dp_idle: skip` (S17), and
replica 1 stands for every other replica (they are identical to it up to the request they
serve). When EP groups span some replicas but not all, replicas are alike within an EP group and
the EP groups are alike: two positions in each of two EP groups are kept.

The ranks of one TP group likewise run the same ops on different heads and ffn columns: TP
coordinate 0 and coordinate 1 (standing for every other) show the same collectives, partial sums
and shards. Placement reads feature shares and copy counts back through the classes
(`real_feature`, `member_weights`), so messages name the real shares and counts.

Microbatches: the first pp + 1 (pairs under two_batch, S16) show the pipeline filling up, and
one more stands for its steady state and every later microbatch.

`quotient(plan)` returns the plan with tp, dp, ep and the microbatch counts cut down to their
representatives, and the classes that map each representative rank and microbatch back to the
real ones; findings are expanded through them, so they read the same as on the full plan.
What keeps an axis as it is: a rank selector naming it (S9; naming ep keeps tp and dp), a
degree that differs between the phases (the S5 hand-over), EP groups that follow no axis
boundary, and for tp also KV heads that tp does not divide (S20) and EP groups that cut a TP
group. docs/semantics.md "Symmetry" gives the argument; tests/test_symmetry.py checks it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

from syncverify.frozenmap import FrozenMap
from syncverify.plan import Phase, Plan, SyncPoint
from syncverify.topology import LAYOUT_AXES, Topology

KEPT_REPLICAS = 2
KEPT_TP = 2
DEFAULT_STEPS = 3  # graph.world.DECODE_STEPS: decode steps 0, 1 and 2


@dataclass(frozen=True)
class Reduction:
    """How far the default check cuts a plan down. It starts at the symmetry argument's windows
    and is widened wherever the plan's certificate (syncverify.analysis.certificate) cannot
    prove a window exact: an axis kept whole, every microbatch of a phase kept, a run of layers
    given a longer period or kept whole, more decode steps unrolled."""

    whole_axes: frozenset = frozenset()  # rank axes kept whole: "tp", "dp"
    whole_microbatches: frozenset = frozenset()  # phases whose microbatches are all kept
    layer_periods: FrozenMap = FrozenMap()  # run start -> (period, transient) (graph.reduction)
    steps: int = DEFAULT_STEPS

    def widened(self, **changes) -> Reduction:
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Classes:
    """Representative -> the real indices it stands for, per phase."""

    ranks: dict  # phase -> {rank: tuple of real ranks}
    microbatches: dict  # phase -> {mb: tuple of real microbatches}
    replicas: dict  # phase -> {replica: tuple of real replicas}
    tp: dict = field(default_factory=dict)  # phase -> {tp coordinate: real coordinates}
    topologies: dict = field(default_factory=dict)  # phase -> the real Topology

    def member_weights(self, phase: str, axis: str, members: tuple[int, ...]) -> tuple[int, ...]:
        """For a group of kept ranks on `axis`: how many members of the real group each stands
        for (the real group is the one of the first member's representative)."""
        topology = self.topologies.get(phase)
        if topology is None:
            return (1,) * len(members)
        return _member_weights(self, phase, axis, tuple(members))

    def real_ranks(self, phase: str, ranks) -> set[int]:
        table = self.ranks.get(phase, {})
        return {r for rank in ranks for r in table.get(rank, (rank,))}

    def real_microbatches(self, phase: str, mbs) -> set[int]:
        table = self.microbatches.get(phase, {})
        return {m for mb in mbs for m in table.get(mb, (mb,))}

    def real_replicas(self, phase: str, replicas) -> set[int]:
        table = self.replicas.get(phase, {})
        return {d for rep in replicas for d in table.get(rep, (rep,))}

    def real_feature(self, phase: str, feat: tuple) -> tuple:
        """A feature share (dim, lo, hi) of the kept TP coordinates as the real ranks hold it:
        within one kept coordinate, the share of the first real rank it stands for; across
        several, the union of the real coordinates they stand for."""
        table = self.tp.get(phase)
        if not table or len(table) == sum(len(real) for real in table.values()):
            return feat
        dim, lo, hi = feat
        kept, real = len(table), sum(len(members) for members in table.values())
        # the kept coordinates the share touches (floor and ceil: a share smaller than one
        # coordinate's, as after an all_to_all that splits it further, stays within it)
        first, last = math.floor(lo * kept), max(math.ceil(hi * kept) - 1, math.floor(lo * kept))
        start = min(table[first]) + lo * kept - first
        end = (min(table[first]) if first == last else max(table[last])) + hi * kept - last
        return (dim, start / real, end / real)

    def real_group(self, phase: str, axis: str, members) -> tuple[int, ...]:
        """The real group on `axis` a group of kept ranks stands for first: the one of its
        lowest member's representative."""
        topology = self.topologies.get("decode" if phase == "handover" else phase)
        if topology is None:
            return tuple(members)
        return topology.group(axis, self.representative(phase, min(members)))

    def representative(self, phase: str, rank: int) -> int:
        """The real rank a representative is shown as (its class's first member)."""
        return min(self.ranks.get(phase, {}).get(rank, (rank,)))

    def representative_mb(self, phase: str, mb: int) -> int:
        return min(self.microbatches.get(phase, {}).get(mb, (mb,)))


@lru_cache(maxsize=4096)
def _member_weights(classes: Classes, phase: str, axis: str, members: tuple) -> tuple[int, ...]:
    real_group = set(
        classes.topologies[phase].group(axis, classes.representative(phase, members[0]))
    )
    table = classes.ranks.get(phase, {})
    return tuple(len(real_group.intersection(table.get(m, (m,)))) for m in members)


def identity(plan: Plan) -> Classes:
    return Classes({}, {}, {})


def _ep_roles(phase: Phase) -> dict[str, tuple[str, int]] | None:
    """How each non-pp layout axis sits in the EP groups (S1: EP groups cut the flattened non-pp
    coordinates, in layout order, into chunks of `ep` ranks).

    'inside': the axis varies within one EP group; 'outside': EP groups never span it; ('cut', q):
    each EP group holds q consecutive coordinates of it. None when a chunk boundary falls inside a
    coordinate's stride (the groups then follow no axis, and nothing is cut down).
    """
    remaining = max(phase.degrees.ep, 1)
    roles = {}
    for axis in phase.topology.layout:
        if axis == "pp":
            continue
        size = phase.topology.sizes[axis]
        if remaining == 1:
            roles[axis] = ("outside", 1)
        elif remaining % size == 0:
            roles[axis] = ("inside", size)
            remaining //= size
        elif size % remaining == 0:
            roles[axis] = ("cut", remaining)
            remaining = 1
        else:
            return None
    return roles if remaining == 1 else None


def _named_axes(plan: Plan) -> set[str]:
    """The axes rank selectors name (S9)."""
    return {axis for sync in plan.syncs for axis in (sync.ranks or ())}


def _selected_sets(plan: Plan, axis: str) -> list[frozenset]:
    """The coordinate sets the rank selectors name on `axis` (S9)."""
    return [frozenset(s.ranks[axis]) for s in plan.syncs if s.ranks and axis in s.ranks]


def _replicas_distinct(plan: Plan) -> bool:
    """Whether something tells DP replicas apart beyond what selector classes capture, in any
    phase (then no phase is cut down, so the phases keep the same replicas and the S5 hand-over
    between them stays as it is)."""
    named = _named_axes(plan)
    if "ep" in named and not _replica_only(plan):
        return True  # S9: ep positions mix replicas with TP and SP ranks
    if len({p.degrees.dp for p in plan.phases}) > 1:
        return True  # S5: a hand-over between different replica counts
    if any(_ep_roles(phase) is None for phase in plan.phases):
        return True
    if "dp" in named and not _selectors_agree_across_phases(plan):
        return True
    if "ep" in named:  # replica-only here
        tables = {p.name: _replica_classes(plan, p) for p in plan.phases}
        return not _ep_selectors_consistent(plan, tables)
    return False


def _replica_only(plan: Plan) -> bool:
    """tp = sp = 1 in every phase: a rank's ep coordinate is then its replica's index mod ep,
    which replica classes can follow (a selector on it names replicas)."""
    return all(p.degrees.tp == 1 and p.degrees.sp == 1 for p in plan.phases)


def _ep_selected_replicas(plan: Plan) -> list[frozenset]:
    """The replicas each ep selector names, in each phase it runs in (replica-only plans)."""
    out = []
    for sync in plan.syncs:
        if sync.ranks and "ep" in sync.ranks:
            for phase in plan.phases:
                if sync.runs_in(phase.name):
                    ep = max(phase.degrees.ep, 1)
                    out.append(
                        frozenset(d for d in range(phase.degrees.dp) if d % ep in sync.ranks["ep"])
                    )
    return out


def _tp_ranks_distinct(plan: Plan) -> bool:
    """Whether something tells the ranks of a TP group apart (then tp is kept as it is).

    Ranks of one TP group run the same ops on different heads and ffn columns; a kept group of
    two (coordinate 0, and 1 standing for every other) shows the same collectives, partial sums
    and shards, and a selector naming tp coordinates splits the classes further. What breaks
    that: a selector naming ep (S9: ep positions mix TP and DP coordinates), tp differing
    between phases (the S5 hand-over reshards K/V by tp coordinate), KV heads replicated over tp
    or not divisible by the kept group (S20: which ranks share a KV head depends on the real
    tp), and EP groups that cut a TP group (their members would be some TP coordinates but not
    others).
    """
    if "ep" in _named_axes(plan):
        return True
    if len({p.degrees.tp for p in plan.phases}) > 1:
        return True
    model = plan.model
    for phase in plan.phases:
        tp = phase.degrees.tp
        kept = len(_selector_classes(tp, _selected_sets(plan, "tp")))
        if not model.mla and (model.kv_heads % tp or model.kv_heads % kept):
            return True
        roles = _ep_roles(phase)
        if roles is None or roles["tp"][0] == "cut":
            return True
    return False


def _selector_classes(count: int, selected: list[frozenset]) -> dict[int, tuple[int, ...]]:
    """Coordinate 0 alone (the root of gathers, replica 0 of S17/S18), then the others grouped
    by which selectors name them: coordinates no selector tells apart behave alike."""
    if count <= KEPT_REPLICAS:
        return _classes(count, count)
    # a coordinate's signature: the selectors naming it, gathered from the selectors' own sets
    # (count + named coordinates of work, not count x selectors: 65,536 replicas x 4,400
    # selectors took a minute); coordinates no selector names share the empty signature
    named: dict[int, list[int]] = {}
    for index, chosen in enumerate(selected):
        for coord in chosen:
            if 0 < coord < count:
                named.setdefault(coord, []).append(index)
    by_signature: dict[tuple, list[int]] = {}
    unnamed = [coord for coord in range(1, count) if coord not in named]
    if unnamed:
        by_signature[()] = unnamed
    for coord, indices in named.items():
        by_signature.setdefault(tuple(indices), []).append(coord)
    groups = [(0,)] + sorted(tuple(sorted(g)) for g in by_signature.values())
    return dict(enumerate(groups))


def replicas_kept(plan: Plan, phase: Phase, reduction: Reduction = Reduction()) -> int:
    """DP replicas in the reduced phase."""
    return len(_axis_classes(plan, phase, reduction.whole_axes)["dp"])


def ranks_kept(plan: Plan, phase: Phase, reduction: Reduction = Reduction()) -> int:
    """Ranks in the reduced phase (every layout axis's kept coordinates)."""
    count = 1
    for classes in _axis_classes(plan, phase, reduction.whole_axes).values():
        count *= len(classes)
    return count


def _selectors_agree_across_phases(plan: Plan) -> bool:
    """Whether every dp selector names the same kept replicas in every phase it runs in (the
    reduced plan's selectors are plan-wide, while EP groups may cut replicas differently in
    each phase); otherwise dp is kept whole."""
    tables = {phase.name: _replica_classes(plan, phase) for phase in plan.phases}
    # replica -> its kept replica, so each selector costs its own size, not the class count
    kept_of = {
        name: {r: c for c, real in table.items() for r in real} for name, table in tables.items()
    }
    for sync in plan.syncs:
        if not sync.ranks or "dp" not in sync.ranks:
            continue
        named = {
            frozenset(
                kept_of[p.name][d]
                for d in sync.ranks["dp"]
                if d in kept_of[p.name] and tables[p.name][kept_of[p.name][d]][0] == d
            )
            for p in plan.phases
            if sync.runs_in(p.name)
        }
        if len(named) > 1:
            return False
    return True


def _ep_selectors_consistent(plan: Plan, tables: dict) -> bool:
    """Each ep selector names, in every phase it runs in, exactly the kept ep coordinates of
    the replicas it names there, read from one plan-wide set (a coordinate past a phase's
    kept ep names nothing in it)."""
    for sync in plan.syncs:
        if not sync.ranks or "ep" not in sync.ranks:
            continue
        runs = [p for p in plan.phases if sync.runs_in(p.name)]
        own = {p.name: _kept_ep_coordinates(sync.ranks["ep"], p, tables[p.name]) for p in runs}
        union = frozenset().union(*own.values())
        for p in runs:
            kept_ep = _kept_ep_of(p, tables[p.name])
            if frozenset(e for e in union if e < kept_ep) != own[p.name]:
                return False
    return True


def _kept_ep_of(phase: Phase, replicas: dict) -> int:
    """The kept ep of a replica-only phase: the kept replicas of its first EP group."""
    ep = max(phase.degrees.ep, 1)
    return sum(1 for real in replicas.values() if real[0] < ep)


def _kept_ep_coordinates(selected: frozenset, phase: Phase, replicas: dict) -> frozenset:
    """The kept ep coordinates (kept replica mod kept ep) of the replicas whose real ep
    coordinate (replica mod ep) a selector names."""
    ep, kept_ep = max(phase.degrees.ep, 1), _kept_ep_of(phase, replicas)
    return frozenset(c % kept_ep for c, real in replicas.items() if real[0] % ep in selected)


def _replica_classes(plan: Plan, phase: Phase) -> dict[int, tuple[int, ...]]:
    """Kept replica -> real replicas, the same table in every phase (the phases hand over
    replica by replica, S5): selector classes, or, when EP groups span some replicas but not
    all, classes of each digit of the replica index in the radix of the EP group sizes.

    EP groups of `inner` consecutive replicas make the replica index two digits: position in
    the group and group. Replicas are alike within a group and the groups are alike, so each
    digit keeps coordinate 0 and one coordinate standing for the others (split further by the
    coordinates selectors name). Phases whose EP groups differ (EP32 in prefill, EP256 in
    decode) make more digits: 1,024 replicas are position in 32 x group of 32 within a group of
    256 x group of 256. Kept whole when the group sizes do not nest or a selector straddles."""
    dp = phase.topology.sizes["dp"]
    selected = _selected_sets(plan, "dp")
    if _replica_only(plan):
        selected = selected + _ep_selected_replicas(plan)
    dp_roles = []
    for p in plan.phases:
        roles = _ep_roles(p)
        # every caller runs after _replicas_distinct found EP roles in each phase
        assert roles is not None
        dp_roles.append(roles["dp"])
    inners = sorted({size for role, size in dp_roles if role == "cut"})
    if not inners:
        return _selector_classes(dp, selected)
    chain = inners + [dp]
    if any(hi % lo for lo, hi in itertools.pairwise(chain)):
        return _classes(dp, dp)
    table: dict[int, tuple[int, ...]] = {0: (0,)}
    below = 1  # the replicas one step of this digit spans
    for size in chain:
        radix = size // below
        digit = _selector_classes(
            radix, [frozenset((d // below) % radix for d in s) for s in selected]
        )
        kept_below = len(table)
        table = {
            k + kept_below * c: tuple(sorted(r + below * v for r in table[k] for v in digit[c]))
            for c in digit
            for k in table
        }
        below = size
    if all(len({r in s for r in real}) == 1 for real in table.values() for s in selected):
        return table
    return _classes(dp, dp)


def _axis_classes(
    plan: Plan, phase: Phase, whole: frozenset = frozenset()
) -> dict[str, dict[int, tuple[int, ...]]]:
    """Per layout axis: kept coordinate -> the real coordinates it stands for (`whole`: axes a
    failed certificate keeps as they are)."""
    sizes = phase.topology.sizes
    out = {axis: _classes(sizes[axis], sizes[axis]) for axis in ("sp", "pp")}
    tp = sizes["tp"]
    out["tp"] = (
        _classes(tp, tp)
        if "tp" in whole or _tp_ranks_distinct(plan)
        else _selector_classes(tp, _selected_sets(plan, "tp"))
    )
    dp = sizes["dp"]
    if "dp" in whole or _replicas_distinct(plan) or dp <= KEPT_REPLICAS:
        out["dp"] = _classes(dp, dp)
    else:
        out["dp"] = _replica_classes(plan, phase)
    return out


def microbatch_classes(
    phase: Phase, reduction: Reduction = Reduction()
) -> dict[int, tuple[int, ...]]:
    """The first microbatches, then one that stands for the rest (all of them in a phase whose
    microbatch certificate failed: `reduction.whole_microbatches`).

    A pipeline of pp stages holds up to pp microbatches in flight, and a blocking send/recv
    rendezvous (S3) can close a cycle of waits only across them: with a device token carrier a
    pipeline of two stages deadlocks from the third microbatch on. So pp + 1 microbatches are
    kept as themselves and one more stands for the steady state; under two_batch (S16) the same
    count of pairs, the last pair standing for every later one (even with even, odd with odd).
    """
    count = phase.microbatches
    if phase.name in reduction.whole_microbatches:
        return _classes(count, count)
    depth = phase.degrees.pp + 1
    if phase.overlap == "two_batch":
        kept_pairs = depth + 1
        if count <= 2 * kept_pairs:
            return {i: (i,) for i in range(count)}
        out: dict[int, tuple[int, ...]] = {i: (i,) for i in range(2 * (kept_pairs - 1))}
        last = 2 * (kept_pairs - 1)
        out[last] = tuple(range(last, count, 2))
        out[last + 1] = tuple(range(last + 1, count, 2))
        return out
    return _classes(count, depth + 1)


def _classes(count: int, kept: int) -> dict[int, tuple[int, ...]]:
    """The first kept-1 stand for themselves, the last kept one for every remaining index."""
    if kept >= count:
        return {i: (i,) for i in range(count)}
    out: dict[int, tuple[int, ...]] = {i: (i,) for i in range(kept - 1)}
    out[kept - 1] = tuple(range(kept - 1, count))
    return out


def _scaled_phase(plan: Plan, phase: Phase, reduction: Reduction) -> tuple[Phase, dict, dict, dict]:
    axes = _axis_classes(plan, phase, reduction.whole_axes)
    microbatches = microbatch_classes(phase, reduction)
    sizes = dict(phase.topology.sizes)
    kept = {axis: len(classes) for axis, classes in axes.items()}
    sizes.update(kept)
    sizes["ep"] = _kept_ep(phase, axes)
    degrees = replace(phase.degrees, tp=kept["tp"], dp=kept["dp"], ep=sizes["ep"])
    topology = Topology(
        sizes=FrozenMap(sizes), layout=phase.topology.layout, stages=phase.topology.stages
    )
    scaled = replace(phase, degrees=degrees, topology=topology, microbatches=len(microbatches))
    real = phase.topology
    ranks = {}
    for rank in range(topology.world):
        coords = topology.coords(rank)
        members = [0]
        for axis in LAYOUT_AXES:
            stride = real.rank({axis: 1})
            members = [m + c * stride for m in members for c in axes[axis][coords[axis]]]
        ranks[rank] = tuple(sorted(members))
    return scaled, ranks, microbatches, axes


def _kept_ep(phase: Phase, axes: dict[str, dict]) -> int:
    """The EP degree whose groups are the kept members of the real EP groups."""
    roles = _ep_roles(phase)
    if phase.degrees.ep <= 1 or roles is None:
        return phase.degrees.ep  # nothing was cut down (_replicas_distinct)
    ep = 1
    for axis, (role, count) in roles.items():
        if role == "inside":
            ep *= len(axes[axis])
        elif role == "cut":
            # the kept coordinates of the first EP group: classes are ordered position-first
            # and the first group's class holds real group 0 (_replica_classes)
            ep *= sum(1 for real in axes[axis].values() if real[0] < count)
    return ep


def quotient(plan: Plan, reduction: Reduction = Reduction()) -> tuple[Plan, Classes]:
    phases, ranks, mbs, replicas, tp = [], {}, {}, {}, {}
    for phase in plan.phases:
        scaled, ranks[phase.name], mbs[phase.name], axes = _scaled_phase(plan, phase, reduction)
        replicas[phase.name], tp[phase.name] = axes["dp"], axes["tp"]
        phases.append(scaled)
    ranks["handover"], mbs["handover"] = ranks.get("decode", {}), {}
    topologies = {phase.name: phase.topology for phase in plan.phases}
    syncs = tuple(
        _kept_selector(sync, {"tp": tp, "dp": replicas}, plan.phases) for sync in plan.syncs
    )
    return (
        replace(plan, phases=tuple(phases), syncs=syncs),
        Classes(ranks, mbs, replicas, tp, topologies),
    )


def _cut_down(classes: dict[int, tuple[int, ...]]) -> bool:
    """Whether an axis's classes stand for more coordinates than they keep."""
    return any(len(real) > 1 for real in classes.values())


def _kept_selector(sync, tables: dict, phases) -> SyncPoint:
    """A sync whose selector names kept coordinates: each kept tp or dp coordinate whose class
    the selector names (classes never straddle a selector's set, and name the same kept
    coordinates in every phase the sync runs in: _selectors_agree_across_phases)."""
    if not sync.ranks or not any(axis in sync.ranks for axis in ("tp", "dp", "ep")):
        return sync
    phase = next((p.name for p in phases if sync.runs_in(p.name)), None)
    if phase is None:
        return sync
    ranks = dict(sync.ranks)
    for axis, by_phase in tables.items():
        classes = by_phase[phase]
        # an axis kept whole keeps its coordinates (and its size may differ between phases)
        if axis in ranks and _cut_down(classes):
            ranks[axis] = frozenset(c for c, real in classes.items() if real[0] in ranks[axis])
    replicas = tables["dp"]
    if "ep" in ranks and any(_cut_down(t) for t in replicas.values()):
        # only replica-only plans get here (_replicas_distinct); consistent across phases
        ranks["ep"] = frozenset().union(
            *(
                _kept_ep_coordinates(sync.ranks["ep"], p, replicas[p.name])
                for p in phases
                if sync.runs_in(p.name)
            )
        )
    return replace(sync, ranks=FrozenMap(ranks))
