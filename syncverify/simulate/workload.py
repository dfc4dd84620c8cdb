"""What the simulated cluster serves: sequences, prompts, batch sizes and who holds which token.

A token row is named `(replica, microbatch, slot, position)` in its phase; `seq_of` maps the
first three to a sequence id (negative ids are an idle replica's dummy sequences, S17).

Sizes are chosen, not copied from the plan: prompts of `sp * tp` tokens or more (so SP chunks
and Megatron token shards divide, S20) and decode batches that are multiples of tp.
Sequences are assigned to decode replicas by the *spread* assignment: prefilled sequences are
listed slot by slot over every prefill (replica, microbatch) block, and each decode replica
takes a contiguous run of that list at least as long as the number of blocks. So where S5 lets
sequences move between replicas, every decode replica decodes a sequence of every prefill block,
which is what any assignment can demand of it (identity and rotation included); with the same
degrees and layout in both phases each replica decodes only what it prefilled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

import numpy as np

from syncverify.plan import Phase, Plan

DUMMY_BASE = -1


@dataclass(frozen=True)
class Scenario:
    """Which DP replica sits idle (S17): replica 0 in every phase with dp > 1, or none."""

    idle_replica: int | None = None

    @property
    def label(self) -> str:
        if self.idle_replica is None:
            return "every replica busy"
        return f"replica {self.idle_replica} idle"

    def idle_in(self, phase: Phase) -> int | None:
        return self.idle_replica if phase.degrees.dp > 1 else None


def same_layout(plan: Plan) -> bool:
    """S5: the same degrees and stage split in both phases keep sequences on their replica."""
    prefill, decode = plan.phase("prefill"), plan.phase("decode")
    return (
        prefill is not None
        and decode is not None
        and prefill.degrees == decode.degrees
        and prefill.topology.stages == decode.topology.stages
    )


@dataclass
class PhaseLoad:
    phase: Phase
    batch: int  # sequences per microbatch per replica
    idle: int | None  # the idle replica, if any
    skip: bool  # the idle replica issues nothing (dp_idle: skip)
    seq_of: dict = field(default_factory=dict)  # (replica, mb, slot) -> sequence id

    def busy(self) -> list[int]:
        return [d for d in range(self.phase.degrees.dp) if d != self.idle]

    def active(self, replica: int) -> bool:
        return not (self.skip and replica == self.idle)


@dataclass
class Workload:
    plan: Plan
    scenario: Scenario
    steps: int
    prompt_len: int
    prompts: dict[int, np.ndarray]
    decoded: set[int]
    loads: dict[str, PhaseLoad]

    def load(self, phase: str) -> PhaseLoad:
        return self.loads[phase]


def build_workload(plan: Plan, vocab: int, scenario: Scenario, steps: int) -> Workload:
    prefill, decode = plan.phase("prefill"), plan.phase("decode")
    loads = {p.name: PhaseLoad(p, 1, scenario.idle_in(p), p.dp_idle == "skip") for p in plan.phases}
    prompt_len = _prompt_len(prefill)
    if decode is not None:
        loads["decode"].batch = _decode_batch(plan, loads)
    if prefill is not None:
        loads["prefill"].batch = _prefill_batch(plan, loads)
        _number_prefill(loads["prefill"])
    if decode is not None:
        _assign_decode(plan, loads)
    decoded = {s for s in loads["decode"].seq_of.values() if s >= 0} if decode else set()
    seqs = set()
    for load in loads.values():
        seqs |= set(load.seq_of.values())
    prompts = {s: _prompt(s, vocab, prompt_len) for s in sorted(seqs)}
    return Workload(plan, scenario, steps, prompt_len, prompts, decoded, loads)


def _prompt(seq: int, vocab: int, length: int) -> np.ndarray:
    """Distinct prompts, the same for a sequence id in every scenario (one reference run)."""
    return np.random.default_rng((7, seq + 2**40)).integers(0, vocab, length)


def _prompt_len(prefill: Phase | None) -> int:
    if prefill is None:
        return 3
    unit = prefill.degrees.sp * prefill.degrees.tp
    return unit * ceil(3 / unit)


def _blocks_per_decode_replica(plan: Plan, loads) -> int:
    if "prefill" not in loads:
        return 1
    prefill = loads["prefill"]
    if same_layout(plan):
        return prefill.phase.microbatches
    return len(prefill.busy()) * prefill.phase.microbatches


def _decode_batch(plan: Plan, loads) -> int:
    decode = loads["decode"].phase
    tp, mbs = decode.degrees.tp, decode.microbatches
    wanted = max(_blocks_per_decode_replica(plan, loads), 2)
    return tp * ceil(wanted / (mbs * tp))


def _prefill_batch(plan: Plan, loads) -> int:
    prefill = loads["prefill"]
    if "decode" not in loads:
        return 2
    decode = loads["decode"]
    per_replica = decode.batch * decode.phase.microbatches
    if same_layout(plan):
        return ceil(per_replica / prefill.phase.microbatches)
    total = per_replica * len(decode.busy())
    return ceil(total / (len(prefill.busy()) * prefill.phase.microbatches))


def _number_prefill(load: PhaseLoad) -> None:
    """Slot-major numbering over the (replica, microbatch) blocks; the idle replica's are
    dummies."""
    blocks = [(d, m) for d in range(load.phase.degrees.dp) for m in range(load.phase.microbatches)]
    busy = [b for b in blocks if b[0] != load.idle]
    idle = [b for b in blocks if b[0] == load.idle]
    for slot in range(load.batch):
        for i, (d, m) in enumerate(busy):
            load.seq_of[(d, m, slot)] = slot * len(busy) + i
        for i, (d, m) in enumerate(idle):
            load.seq_of[(d, m, slot)] = DUMMY_BASE - (slot * len(idle) + i)


def _assign_decode(plan: Plan, loads) -> None:
    decode = loads["decode"]
    mbs, batch = decode.phase.microbatches, decode.batch
    prefill = loads.get("prefill")
    if prefill is not None and same_layout(plan):
        for d in range(decode.phase.degrees.dp):
            mine = [
                prefill.seq_of[(d, m, s)]
                for s in range(prefill.batch)
                for m in range(prefill.phase.microbatches)
            ]
            for m in range(mbs):
                for s in range(batch):
                    decode.seq_of[(d, m, s)] = mine[m * batch + s]
        return
    if prefill is None:
        order = list(range(len(decode.busy()) * mbs * batch))
    else:
        order = sorted(s for s in prefill.seq_of.values() if s >= 0)
    for i, d in enumerate(decode.busy()):
        for m in range(mbs):
            for s in range(batch):
                index = (i * mbs + m) * batch + s
                decode.seq_of[(d, m, s)] = order[index]
    if decode.idle is not None:
        for m in range(mbs):
            for s in range(batch):
                decode.seq_of[(decode.idle, m, s)] = DUMMY_BASE - 10**6 - (m * batch + s)
