"""Each rank's program: the op instances it runs and the calls it issues, in order.

A value lives in a *slot* of the rank, `(phase, step, microbatch, layer, name)`; a sync anchored
on an op transforms that op's output slot in place, in list order (S7), and its consumers read
the slot afterwards. What is decided here, per the plan format:
- who issues a sync (S6 the ranks that run the anchor, S9 selectors, S10 groups are never
  narrowed, S17 idle replicas under `skip` issue nothing);
- the stage transfer (S3: paired with the next stage's rank of equal non-pp coordinates, posted
  by the receiver just before its first layer), the token carrier (S4), the hand-over (S5),
  `step_end` syncs (S14);
- where an async call is awaited (S11: the first instance of `wait_before` after the issue point
  on the consuming rank, the same layer or the next, never in another step);
- the schedule: microbatches in index order, or interleaved by pairs under `two_batch` (S16).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from syncverify.plan import MODEL_TAIL_OPS, Phase, Plan, SyncPoint
from syncverify.simulate.ranks import RankView
from syncverify.simulate.workload import Workload

EMBED = -1
GATHER_LIKE = ("gather", "all_gather")
CACHE = ("cache",)


@dataclass
class OpItem:
    phase: str
    step: int
    mb: int
    layer: int
    op: str
    reads: dict                       # role -> slot
    writes: dict                      # role -> slot
    source: Optional[tuple] = None    # embed: where its tokens come from

    @property
    def instance(self) -> tuple:
        return (self.phase, self.step, self.mb, self.layer, self.op)


@dataclass
class IssueItem:
    call: tuple                       # (phase, step, mb, sync index, layer, members)
    sync: SyncPoint
    members: tuple
    comm: object                      # a frozenset of ranks, or (sender, receiver) for p2p
    blocking: bool
    p2p: bool
    reads: dict = field(default_factory=dict)     # tensor -> slot this rank contributes
    writes: dict = field(default_factory=dict)    # tensor -> slot this rank's output goes to
    wait: Optional[tuple] = None      # the op instance before which it is awaited (async)
    handover: bool = False


class ProgramBuilder:
    def __init__(self, plan: Plan, workload: Workload, dims, steps: int):
        self.plan = plan
        self.work = workload
        self.dims = dims
        self.steps = steps
        self.layers = plan.model.layers
        self.views: dict[tuple, RankView] = {}
        self._groups: dict[tuple, tuple] = {}
        self._anchored: dict[tuple, tuple] = {}

    def syncs_after(self, anchor: str, phase: str) -> tuple[SyncPoint, ...]:
        key = (anchor, phase)
        if key not in self._anchored:
            self._anchored[key] = self.plan.syncs_after(anchor, phase)
        return self._anchored[key]

    def view(self, phase: Phase, rank: int) -> RankView:
        key = (phase.name, rank)
        if key not in self.views:
            self.views[key] = RankView(self.plan, phase, self.dims, rank)
        return self.views[key]

    def active(self, phase: Phase, rank: int) -> bool:
        load = self.work.load(phase.name)
        return load.active(self.view(phase, rank).coords["dp"])

    def selected(self, phase: Phase, sync: SyncPoint, rank: int) -> bool:
        return self.active(phase, rank) and sync.selects(self.view(phase, rank).coords)

    def group(self, phase: Phase, axis: str, rank: int) -> tuple:
        key = (phase.name, axis, rank)
        if key not in self._groups:
            self._groups[key] = phase.topology.group(axis, rank)
        return self._groups[key]

    # ---- whole programs --------------------------------------------------------------------
    def program(self, rank: int) -> list:
        items: list = []
        for phase in self.plan.phases:
            if rank >= phase.topology.world or not self.active(phase, rank):
                continue
            steps = self.steps if phase.name == "decode" else 1
            if phase.name == "decode":
                items += self.handover_issues(phase, rank)
            for step in range(steps):
                streams = [self.stream(phase, step, mb, rank) for mb in range(phase.microbatches)]
                items += schedule_step(streams, phase.overlap)
                if phase.name == "decode":
                    items += self.step_end_issues(phase, step, rank)
        return items

    def stream(self, phase: Phase, step: int, mb: int, rank: int) -> list:
        out: list = []
        v = self.view(phase, rank)
        s = _Stream(self, phase, step, mb, rank, v, out)
        if v.stage == 0:
            h = s.embed()
        else:
            h = s.receive_stage_input()
        for layer in v.layers:
            h = s.layer(layer, h)
        if not v.last_stage:
            s.send_stage_output(h)
        elif v.runs_tail:
            s.tail(h)
        return out

    def handover_issues(self, phase: Phase, rank: int) -> list:
        """S5: the prefill_end syncs, once, over the decode phase's groups, before decode."""
        if self.plan.phase("prefill") is None:
            return []
        out = []
        for sync in self.plan.syncs:
            if sync.after != "prefill_end" or not self.selected(phase, sync, rank):
                continue
            members = self.group(phase, sync.group, rank)
            out.append(IssueItem(("handover", 0, 0, sync.index, EMBED, members), sync, members,
                                 frozenset(members), not sync.is_async, False,
                                 reads={"kv": CACHE}, writes={"kv": CACHE},
                                 wait=self.handover_wait(phase, sync, rank), handover=True))
        return out

    def handover_wait(self, phase: Phase, sync: SyncPoint, rank: int) -> Optional[tuple]:
        if not sync.is_async or not sync.wait_before:
            return None
        op, v = sync.wait_before, self.view(phase, rank)
        if op == "embed":
            layer = EMBED
        elif op in MODEL_TAIL_OPS:
            layer = self.layers
        else:
            layer = next((l for l in v.layers if op in self.plan.model.layer_ops(l)), None)
        if layer is None or not v.runs(layer, op):
            return None
        return ("decode", 0, 0, layer, op)

    def step_end_issues(self, phase: Phase, step: int, rank: int) -> list:
        """S14: a sync after step_end is issued by every rank at the end of each decode step."""
        out = []
        for sync in self.syncs_after("step_end", "decode"):
            if self.selected(phase, sync, rank):
                members = self.group(phase, sync.group, rank)
                out.append(IssueItem(("decode", step, -1, sync.index, EMBED, members), sync, members,
                                     frozenset(members), not sync.is_async,
                                     sync.collective == "send_recv"))
        return out


class _Stream:
    """One (phase, step, microbatch) of one rank, appended to `out`."""

    def __init__(self, b: ProgramBuilder, phase: Phase, step: int, mb: int, rank: int,
                 view: RankView, out: list):
        self.b, self.phase, self.step, self.mb, self.rank, self.v, self.out = \
            b, phase, step, mb, rank, view, out
        self.name = phase.name
        self.topo = phase.topology

    def slot(self, layer: int, name: str) -> tuple:
        return (self.name, self.step, self.mb, layer, name)

    def op(self, layer: int, op: str, reads: dict, writes: dict, source=None) -> None:
        self.out.append(OpItem(self.name, self.step, self.mb, layer, op, reads, writes, source))

    # ---- syncs at an anchor ----------------------------------------------------------------
    def syncs_at(self, anchor: str, layer: int) -> list[SyncPoint]:
        per_layer = 0 <= layer < self.b.layers
        return [s for s in self.b.syncs_after(anchor, self.name)
                if not per_layer or s.applies_to_layer(layer)]

    def after(self, anchor: str, layer: int, slots: dict) -> None:
        """Apply the syncs anchored on `anchor` to `slots` (tensor -> slot), in list order."""
        for sync in self.syncs_at(anchor, layer):
            chosen = {t: s for t, s in slots.items() if sync.tensor is None or t in (None, sync.tensor)}
            if not chosen:
                continue
            self.apply(sync, layer, anchor, chosen)

    def apply(self, sync: SyncPoint, layer: int, anchor: str, slots: dict) -> None:
        members = self.b.group(self.phase, sync.group, self.rank)
        # S9: a selector that leaves a whole group out means no instance at all there
        if not any(self.b.selected(self.phase, sync, m) and self.b.view(self.phase, m).runs(layer, anchor)
                   for m in members):
            return
        if not self.b.selected(self.phase, sync, self.rank):
            return
        moves = sync.collective != "barrier"
        self.out.append(IssueItem((self.name, self.step, self.mb, sync.index, layer, members), sync,
                                  members, frozenset(members), not sync.is_async,
                                  sync.collective == "send_recv",
                                  reads=dict(slots) if moves else {},
                                  writes=dict(slots) if moves else {},
                                  wait=self.wait_target(sync, layer)))

    def wait_target(self, sync: SyncPoint, layer: int) -> Optional[tuple]:
        """S11: the first `wait_before` instance after the issue point, same layer or the next."""
        op = sync.wait_before
        if not sync.is_async or not op:
            return None
        layers = self.b.layers
        if op in MODEL_TAIL_OPS:
            target = layers
        elif layer == EMBED:
            target = 0
        elif layer >= layers:
            target = layers
        else:
            ops = self.b.plan.model.layer_ops(layer)
            later = ops[ops.index(sync.after) + 1:] if sync.after in ops else ()
            target = layer if op in later else layer + 1
        if not self.v.runs(target, op):
            return None
        return (self.name, self.step, self.mb, target, op)

    # ---- the model --------------------------------------------------------------------------
    def embed(self) -> tuple:
        out = self.slot(EMBED, "embed")
        self.op(EMBED, "embed", {}, {"x": out}, source=self.token_source())
        self.after("embed", EMBED, {None: out})
        return out

    def token_source(self) -> tuple:
        """Where embed's tokens come from: the prompt, the host (S4, S5 (ii)) or the device."""
        if self.name == "prefill":
            return ("prompt",)
        if self.step == 0 or self.phase.token_return == "host":
            return ("host", self.step, self.mb)
        if self.phase.degrees.pp == 1:
            # S4: sample and embed run on the same ranks: program order carries the token
            return ("slot", ("decode", self.step - 1, self.mb, self.b.layers, "tokens"))
        slot = self.slot(EMBED, "token_in")
        self.receive_token(slot)
        return ("slot", slot)

    def layer(self, layer: int, h: tuple) -> tuple:
        a = self.slot(layer, "attn_norm")
        self.op(layer, "attn_norm", {"x": h}, {"x": a})
        self.after("attn_norm", layer, {None: a})
        q, kv = self.slot(layer, "q"), self.slot(layer, "kv")
        self.op(layer, "qkv", {"x": a}, {"q": q, "kv": kv})
        self.after("qkv", layer, {"q": q, "kv": kv})
        att = self.slot(layer, "attention")
        self.op(layer, "attention", {"q": q, "kv": kv, "cache": CACHE}, {"x": att})
        self.after("attention", layer, {None: att})
        o = self.slot(layer, "o_proj")
        self.op(layer, "o_proj", {"x": att}, {"x": o})
        self.after("o_proj", layer, {None: o})
        r1 = self.slot(layer, "attn_residual")
        self.op(layer, "attn_residual", {"residual": h, "branch": o}, {"x": r1})
        self.after("attn_residual", layer, {None: r1})
        m = self.slot(layer, "mlp_norm")
        self.op(layer, "mlp_norm", {"x": r1}, {"x": m})
        self.after("mlp_norm", layer, {None: m})
        addends = self.moe(layer, m) if self.b.plan.model.is_moe_layer(layer) else self.mlp(layer, m)
        r2 = self.slot(layer, "mlp_residual")
        self.op(layer, "mlp_residual", {"residual": r1, **addends}, {"x": r2})
        self.after("mlp_residual", layer, {None: r2})
        return r2

    def mlp(self, layer: int, m: tuple) -> dict:
        g, d = self.slot(layer, "gate_up"), self.slot(layer, "down")
        self.op(layer, "gate_up", {"x": m}, {"x": g})
        self.after("gate_up", layer, {None: g})
        self.op(layer, "down", {"x": g}, {"x": d})
        self.after("down", layer, {None: d})
        return {"branch": d}

    def moe(self, layer: int, m: tuple) -> dict:
        """S12/S13. Syncs after `router` move the experts' input (the routed mlp_norm output)."""
        routed_in, e = self.slot(layer, "router"), self.slot(layer, "experts")
        self.op(layer, "router", {"x": m}, {"x": routed_in})
        self.after("router", layer, {None: routed_in})
        self.op(layer, "experts", {"x": routed_in}, {"x": e})
        if not self.b.plan.model.moe.shared_experts:
            self.after("experts", layer, {None: e})
            return {"branch": e}
        s = self.slot(layer, "shared_experts")
        if self.dispatched(layer):
            # S13: a dispatched routed output meets the shared experts after the combine
            self.after("experts", layer, {None: e})
            self.op(layer, "shared_experts", {"x": m}, {"x": s})
            self.after("shared_experts", layer, {None: s})
            return {"branch": e, "shared": s}
        # S13: in token order the shared output is added right after `experts`, before its syncs
        self.op(layer, "shared_experts", {"x": m, "routed": e}, {"x": s})
        self.after("shared_experts", layer, {None: s})
        self.after("experts", layer, {None: s})
        return {"branch": s}

    def dispatched(self, layer: int) -> bool:
        """The experts receive dispatched tokens: an all_to_all (or an all_gather, whose
        reduce_scatter after the experts is the combine) after `router` (S12)."""
        return any(s.collective in ("all_to_all", "all_gather") for s in self.syncs_at("router", layer))

    def tail(self, h: tuple) -> None:
        L = self.b.layers
        f, lg = self.slot(L, "final_norm"), self.slot(L, "lm_head")
        self.op(L, "final_norm", {"x": h}, {"x": f})
        self.after("final_norm", L, {None: f})
        self.op(L, "lm_head", {"x": f}, {"x": lg})
        self.after("lm_head", L, {None: lg})
        tokens, chain = self.slot(L, "tokens"), self.slot(L, "sampled")
        self.op(L, "sample", {"x": lg}, {"tokens": tokens, "chain": chain})
        for sync in self.syncs_at("sample", L):
            if self.is_carrier(sync):
                self.send_token(sync, tokens)
            else:
                self.apply(sync, L, "sample", {None: chain})

    # ---- stage boundaries (S3) -------------------------------------------------------------
    def partner(self, stage: int, sync: SyncPoint, rank: Optional[int] = None) -> Optional[int]:
        rank = self.rank if rank is None else rank
        if not 0 <= stage < self.phase.degrees.pp:
            return None
        coords = dict(self.topo.coords(rank))
        coords["pp"] = stage
        other = self.topo.rank(coords)
        return other if other in self.b.group(self.phase, sync.group, rank) else None

    def stage_members(self, sync: SyncPoint, sender: int, receiver: int) -> tuple:
        if sync.collective == "send_recv":
            return (sender, receiver)
        return self.b.group(self.phase, sync.group, sender)

    def stage_comm(self, sync: SyncPoint, members: tuple):
        return members if sync.collective == "send_recv" else frozenset(members)

    def send_stage_output(self, h: tuple) -> None:
        for sync in self.syncs_at("stage_boundary", EMBED):
            receiver = self.partner(self.v.stage + 1, sync)
            if receiver is None or not self.b.selected(self.phase, sync, self.rank):
                continue
            members = self.stage_members(sync, self.rank, receiver)
            moves = sync.collective != "barrier"
            self.out.append(IssueItem((self.name, self.step, self.mb, sync.index, EMBED, members), sync,
                                      members, self.stage_comm(sync, members), not sync.is_async,
                                      sync.collective == "send_recv", reads={None: h} if moves else {}))

    def receive_stage_input(self) -> tuple:
        slot = self.slot(EMBED, "stage_in")
        for sync in self.syncs_at("stage_boundary", EMBED):
            sender = self.partner(self.v.stage - 1, sync)
            if sender is None or sync.collective == "barrier":
                continue
            if not self.b.selected(self.phase, sync, sender):
                continue
            members = self.stage_members(sync, sender, self.rank)
            self.out.append(IssueItem((self.name, self.step, self.mb, sync.index, EMBED, members), sync,
                                      members, self.stage_comm(sync, members), not sync.is_async,
                                      sync.collective == "send_recv", writes={None: slot},
                                      wait=self.stage_wait(sync)))
        return slot

    def stage_wait(self, sync: SyncPoint) -> Optional[tuple]:
        op = sync.wait_before
        if not sync.is_async or not op:
            return None
        if op in MODEL_TAIL_OPS:
            layer = self.b.layers
        else:
            layer = next((l for l in self.v.layers if op in self.b.plan.model.layer_ops(l)), None)
        if layer is None or not self.v.runs(layer, op):
            return None
        return (self.name, self.step, self.mb, layer, op)

    # ---- the device token carrier (S4) -----------------------------------------------------
    def is_carrier(self, sync: SyncPoint) -> bool:
        return (self.name == "decode" and self.phase.token_return == "device"
                and self.phase.degrees.pp > 1 and sync.collective in ("send_recv", "broadcast")
                and sync.group in ("pp", "world"))

    def token_partner(self, rank: int) -> int:
        coords = dict(self.topo.coords(rank))
        coords["pp"] = self.phase.degrees.pp - 1 if coords["pp"] == 0 else 0
        return self.topo.rank(coords)

    def send_token(self, sync: SyncPoint, tokens: tuple) -> None:
        if self.step + 1 >= self.b.steps or not self.b.selected(self.phase, sync, self.rank):
            return              # S4: the last step checked issues none
        members = (self.rank, self.token_partner(self.rank))
        self.out.append(IssueItem((self.name, self.step, self.mb, sync.index, self.b.layers, members),
                                  sync, members, members, not sync.is_async, True,
                                  reads={None: tokens}))

    def receive_token(self, slot: tuple) -> None:
        for sync in self.syncs_at("sample", self.b.layers):
            if not self.is_carrier(sync):
                continue
            sender = self.token_partner(self.rank)
            if not self.b.selected(self.phase, sync, sender):
                continue
            members = (sender, self.rank)
            wait = None
            if sync.is_async and sync.wait_before == "embed":
                wait = (self.name, self.step, self.mb, EMBED, "embed")
            self.out.append(IssueItem((self.name, self.step - 1, self.mb, sync.index, self.b.layers,
                                       members), sync, members, members, not sync.is_async, True,
                                      writes={None: slot}, wait=wait))


# ---- S16: the schedule of one step ----------------------------------------------------------

def segments(stream: list) -> list[list]:
    """S16: a segment is the ops from one sync point to the next and the calls issued there; the
    calls a stream posts before its first op (a stage's receive) open its first segment."""
    out: list[list] = [[]]
    for item in stream:
        current = out[-1]
        ends_with_calls = bool(current) and isinstance(current[-1], IssueItem)
        if isinstance(item, OpItem) and ends_with_calls and any(isinstance(i, OpItem) for i in current):
            out.append([])
        out[-1].append(item)
    return [segment for segment in out if segment]


def schedule_step(streams: list[list], overlap: str) -> list:
    """Microbatches in index order; under two_batch, pairs (2k, 2k+1) segment by segment."""
    if overlap != "two_batch":
        return [item for stream in streams for item in stream]
    out = []
    for k in range(0, len(streams) - 1, 2):
        a, b = segments(streams[k]), segments(streams[k + 1])
        for i in range(max(len(a), len(b))):
            out += a[i] if i < len(a) else []
            out += b[i] if i < len(b) else []
    if len(streams) % 2:
        out += streams[-1]
    return out
