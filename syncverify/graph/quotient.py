"""Replica and microbatch symmetry: check a smaller plan that stands for the real one.

DP replicas run the same program on different requests, and so do the microbatches of a step.
Unless something tells them apart, replica 0 and replica 1 are all there is to see: replica 0
is the one the output sink reads first and the one left idle under `dp_idle: skip` (S17), and
replica 1 stands for every other replica (they are identical to it up to the request they
serve). Microbatches likewise: the first pp + 1 (pairs under two_batch, S16) show the pipeline
filling up, and one more stands for its steady state and every later microbatch.

`quotient(plan)` returns the plan with dp and the microbatch counts cut down to their
representatives, and the classes that map each representative rank and microbatch back to the
real ones; findings are expanded through them, so they read the same as on the full plan.

What keeps replicas apart, and so keeps dp as it is: a rank selector naming dp coordinates
(S9), an EP group that spans some but not all replicas, and a hand-over between phases whose
replica counts differ.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from syncverify.frozenmap import FrozenMap
from syncverify.plan import Phase, Plan
from syncverify.topology import Topology

KEPT_REPLICAS = 2


@dataclass(frozen=True)
class Classes:
    """Representative -> the real indices it stands for, per phase."""
    ranks: dict            # phase -> {rank: tuple of real ranks}
    microbatches: dict     # phase -> {mb: tuple of real microbatches}
    replicas: dict         # phase -> {replica: tuple of real replicas}

    def real_ranks(self, phase: str, ranks) -> set[int]:
        table = self.ranks.get(phase, {})
        return {r for rank in ranks for r in table.get(rank, (rank,))}

    def real_microbatches(self, phase: str, mbs) -> set[int]:
        table = self.microbatches.get(phase, {})
        return {m for mb in mbs for m in table.get(mb, (mb,))}

    def real_replicas(self, phase: str, replicas) -> set[int]:
        table = self.replicas.get(phase, {})
        return {d for rep in replicas for d in table.get(rep, (rep,))}

    def representative(self, phase: str, rank: int) -> int:
        """The real rank a representative is shown as (its class's first member)."""
        return min(self.ranks.get(phase, {}).get(rank, (rank,)))

    def representative_mb(self, phase: str, mb: int) -> int:
        return min(self.microbatches.get(phase, {}).get(mb, (mb,)))


def identity(plan: Plan) -> Classes:
    return Classes({}, {}, {})


def _replicas_distinct(plan: Plan) -> bool:
    """Whether something tells DP replicas apart, in any phase (then no phase is cut down,
    so the phases keep the same replicas and the S5 hand-over between them stays as it is)."""
    if any(s.ranks and "dp" in s.ranks for s in plan.syncs):
        return True                      # S9: a selector names replicas
    if len({p.degrees.dp for p in plan.phases}) > 1:
        return True                      # S5: a hand-over between different replica counts
    for phase in plan.phases:
        d = phase.degrees
        per_replica = d.tp * d.sp
        if d.ep > per_replica and d.ep != per_replica * d.dp:
            return True                  # EP groups span some replicas but not all
    return False


def replicas_kept(plan: Plan, phase: Phase) -> int:
    dp = phase.degrees.dp
    if dp <= KEPT_REPLICAS or _replicas_distinct(plan):
        return dp
    return KEPT_REPLICAS


def microbatch_classes(phase: Phase) -> dict[int, tuple[int, ...]]:
    """The first microbatches, then one that stands for the rest.

    A pipeline of pp stages holds up to pp microbatches in flight, and a blocking send/recv
    rendezvous (S3) can close a cycle of waits only across them: with a device token carrier a
    pipeline of two stages deadlocks from the third microbatch on. So pp + 1 microbatches are
    kept as themselves and one more stands for the steady state; under two_batch (S16) the same
    count of pairs, the last pair standing for every later one (even with even, odd with odd).
    """
    count = phase.microbatches
    depth = phase.degrees.pp + 1
    if phase.overlap == "two_batch":
        kept_pairs = depth + 1
        if count <= 2 * kept_pairs:
            return {i: (i,) for i in range(count)}
        out = {i: (i,) for i in range(2 * (kept_pairs - 1))}
        last = 2 * (kept_pairs - 1)
        out[last] = tuple(range(last, count, 2))
        out[last + 1] = tuple(range(last + 1, count, 2))
        return out
    return _classes(count, depth + 1)


def _classes(count: int, kept: int) -> dict[int, tuple[int, ...]]:
    """The first kept-1 stand for themselves, the last kept one for every remaining index."""
    if kept >= count:
        return {i: (i,) for i in range(count)}
    out = {i: (i,) for i in range(kept - 1)}
    out[kept - 1] = tuple(range(kept - 1, count))
    return out


def _scaled_phase(plan: Plan, phase: Phase) -> tuple[Phase, dict, dict, dict]:
    dp = phase.degrees.dp
    kept_dp = replicas_kept(plan, phase)
    replicas = _classes(dp, kept_dp)
    microbatches = microbatch_classes(phase)
    degrees = phase.degrees
    ep = degrees.ep
    if kept_dp != dp and ep == degrees.tp * degrees.sp * dp:
        ep = degrees.tp * degrees.sp * kept_dp       # EP over every replica stays so
    scaled_degrees = replace(degrees, dp=kept_dp, ep=ep)
    sizes = dict(phase.topology.sizes)
    sizes.update(dp=kept_dp, ep=ep)
    topology = Topology(sizes=FrozenMap(sizes), layout=phase.topology.layout,
                        stages=phase.topology.stages)
    scaled = replace(phase, degrees=scaled_degrees, topology=topology,
                     microbatches=len(microbatches))
    ranks = {}
    for rank in range(topology.world):
        coords = topology.coords(rank)
        ranks[rank] = tuple(sorted(
            phase.topology.rank({**coords, "dp": d}) for d in replicas[coords["dp"]]))
    return scaled, ranks, microbatches, replicas


def quotient(plan: Plan) -> tuple[Plan, Classes]:
    phases, ranks, mbs, replicas = [], {}, {}, {}
    for phase in plan.phases:
        scaled, ranks[phase.name], mbs[phase.name], replicas[phase.name] = _scaled_phase(plan, phase)
        phases.append(scaled)
    ranks["handover"], mbs["handover"] = ranks.get("decode", {}), {}
    return replace(plan, phases=tuple(phases)), Classes(ranks, mbs, replicas)
