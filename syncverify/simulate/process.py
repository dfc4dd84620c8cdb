"""A rank's process: the plan format read as a program, one rank at a time.

`RankProcess(...).run()` is a generator: it walks what the rank does, in the order the plan
format says it does it, and yields one instruction at a time to the machine
(`syncverify.simulate.runtime`), which runs it when the rank may go on:
- `Compute`: run one op instance, reading and writing named values (slots) of the rank;
- `Post`: issue this rank's part of one collective call.
Nothing is unrolled ahead of time: where an async call is awaited is not computed here but
stated as an `Await` (the op named by `wait_before` and where it may occur), which the machine
matches against the ops the rank runs afterwards (S11).

What the process decides, per the plan format:
- the order of work: the phases in order; in decode the hand-over first (S5), then each step's
  microbatches in index order (S3), or, under `two_batch`, pairs (2k, 2k+1) interleaved
  segment by segment (S16), then the `step_end` syncs (S14);
- the data flow of the model: the ops of each layer in plan order, each reading the values the
  model says, the syncs at an op transforming its output in list order (S7);
- who issues a call: the ranks that run the anchor (S6), pass its selector (S9) and are active
  (S17: an idle replica under `skip` runs nothing); the group is never narrowed (S10);
- the pipeline transfer (S3), the device token carrier (S4), the hand-over (S5).
A value lives in a slot `(phase, step, microbatch, layer, name)`; a sync writes the slot of
the value it transforms, so a consumer reads whatever the last call at the anchor left (S7).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from syncverify.plan import MODEL_TAIL_OPS, Phase, Plan, SyncPoint
from syncverify.simulate.ranks import RankView
from syncverify.simulate.workload import Workload

EMBED = -1  # the layer index of embed and of the stage boundary
CACHE = ("cache",)  # the rank's K/V cache, written by the hand-over
GATHER_LIKE = ("gather", "all_gather")
ANY_LAYER = None


@dataclass
class Compute:
    phase: str
    step: int
    mb: int
    layer: int
    op: str
    reads: dict  # role -> slot
    writes: dict  # role -> slot
    source: tuple | None = None  # embed: where its tokens come from

    @property
    def stream(self) -> tuple:
        return (self.phase, self.step, self.mb)

    @property
    def instance(self) -> tuple:
        return (self.phase, self.step, self.mb, self.layer, self.op)


@dataclass(frozen=True)
class Await:
    """S11: the first instance of `op` that the rank runs in `stream` after the issue point,
    in one of `layers` (ANY_LAYER: wherever it comes)."""

    stream: tuple
    op: str
    layers: frozenset | None = ANY_LAYER

    def matches(self, item: Compute) -> bool:
        return (
            item.stream == self.stream
            and item.op == self.op
            and (self.layers is ANY_LAYER or item.layer in self.layers)
        )


@dataclass
class Post:
    call: tuple  # (phase, step, mb, sync index, layer, members)
    sync: SyncPoint
    members: tuple
    comm: object  # who pairs calls (S23): the rank set, or (sender, receiver)
    blocking: bool
    p2p: bool
    reads: dict = field(default_factory=dict)  # tensor -> slot this rank contributes
    writes: dict = field(default_factory=dict)  # tensor -> slot this rank's output goes to
    wait: Await | None = None
    handover: bool = False


class Cluster:
    """What every process may ask about other ranks: coordinates, groups, who is active."""

    def __init__(self, plan: Plan, workload: Workload, dims, steps: int):
        self.plan = plan
        self.work = workload
        self.dims = dims
        self.steps = steps
        self._views: dict[tuple, RankView] = {}
        self._groups: dict[tuple, tuple] = {}
        self._anchored: dict[tuple, tuple] = {}

    def view(self, phase: Phase, rank: int) -> RankView:
        key = (phase.name, rank)
        if key not in self._views:
            self._views[key] = RankView(self.plan, phase, self.dims, rank)
        return self._views[key]

    def group(self, phase: Phase, axis: str, rank: int) -> tuple:
        key = (phase.name, axis, rank)
        if key not in self._groups:
            self._groups[key] = phase.topology.group(axis, rank)
        return self._groups[key]

    def syncs_after(self, anchor: str, phase: str) -> tuple[SyncPoint, ...]:
        key = (anchor, phase)
        if key not in self._anchored:
            self._anchored[key] = self.plan.syncs_after(anchor, phase)
        return self._anchored[key]

    def active(self, phase: Phase, rank: int) -> bool:
        """S17: a rank of an idle replica under `dp_idle: skip` runs nothing."""
        return self.work.load(phase.name).active(self.view(phase, rank).coords["dp"])

    def issues(self, phase: Phase, sync: SyncPoint, rank: int) -> bool:
        """S9 and S17: an active rank that passes the selector."""
        return self.active(phase, rank) and sync.selects(self.view(phase, rank).coords)

    def samplers(self, phase: Phase) -> list[int]:
        return [
            r
            for r in range(phase.topology.world)
            if self.active(phase, r) and self.view(phase, r).runs_tail
        ]


class RankProcess:
    """One rank running the plan (see the module docstring)."""

    def __init__(self, cluster: Cluster, rank: int):
        self.c = cluster
        self.plan = cluster.plan
        self.rank = rank
        self.tail = self.plan.model.layers

    def run(self) -> Iterator:
        for phase in self.plan.phases:
            if self.rank >= phase.topology.world or not self.c.active(phase, self.rank):
                continue
            if phase.name == "decode":
                yield from self.handover(phase)
            steps = self.c.steps if phase.name == "decode" else 1
            for step in range(steps):
                streams = [Stream(self, phase, step, mb).run() for mb in range(phase.microbatches)]
                if phase.overlap == "two_batch":
                    yield from two_batch(streams)
                else:
                    for stream in streams:
                        yield from stream
                if phase.name == "decode":
                    yield from self.step_end(phase, step)

    def handover(self, phase: Phase) -> Iterator:
        """S5: the prefill_end syncs run once, between the phases, over the decode groups."""
        if self.plan.phase("prefill") is None:
            return
        for sync in self.plan.syncs:
            if sync.after != "prefill_end" or not self.c.issues(phase, sync, self.rank):
                continue
            members = self.c.group(phase, sync.group, self.rank)
            wait = None
            if sync.is_async and sync.wait_before:
                wait = Await(("decode", 0, 0), sync.wait_before)  # decode's first op of that name
            yield Post(
                ("handover", 0, 0, sync.index, EMBED, members),
                sync,
                members,
                frozenset(members),
                not sync.is_async,
                False,
                reads={"kv": CACHE},
                writes={"kv": CACHE},
                wait=wait,
                handover=True,
            )

    def step_end(self, phase: Phase, step: int) -> Iterator:
        """S14: a sync after step_end is issued by every rank at the end of each decode step."""
        for sync in self.c.syncs_after("step_end", "decode"):
            if self.c.issues(phase, sync, self.rank):
                members = self.c.group(phase, sync.group, self.rank)
                yield Post(
                    ("decode", step, -1, sync.index, EMBED, members),
                    sync,
                    members,
                    frozenset(members),
                    not sync.is_async,
                    sync.collective == "send_recv",
                )


def two_batch(streams: list) -> Iterator:
    """S16: microbatches pair up as (2k, 2k+1); the rank runs a's ops up to and through the
    calls it issues there, then b's, and so on. A segment ends where an op follows calls that
    follow an op; calls posted before a stream's first op (a stage's receive) open its first
    segment. An odd last microbatch runs alone."""
    for k in range(0, len(streams) - 1, 2):
        pair = [_Segmented(streams[k]), _Segmented(streams[k + 1])]
        while not all(s.done for s in pair):
            for s in pair:
                yield from s.segment()
    if len(streams) % 2:
        yield from streams[-1]


class _Segmented:
    """A stream consumed one S16 segment at a time."""

    def __init__(self, stream: Iterator):
        self.stream = stream
        self.held: Compute | None = None  # the op that opens the next segment
        self.done = False

    def segment(self) -> Iterator:
        ran_op = posted_after_op = False
        if self.held is not None:
            item, self.held = self.held, None
            ran_op = True
            yield item
        for item in self.stream:
            if isinstance(item, Compute):
                if posted_after_op:
                    self.held = item
                    return
                ran_op = True
            elif ran_op:
                posted_after_op = True
            yield item
        self.done = True


class Stream:
    """One (phase, step, microbatch) of one rank: its ops in data-flow order and its calls."""

    def __init__(self, proc: RankProcess, phase: Phase, step: int, mb: int):
        self.p = proc
        self.c = proc.c
        self.phase = phase
        self.name = phase.name
        self.step = step
        self.mb = mb
        self.rank = proc.rank
        self.view = proc.c.view(phase, proc.rank)
        self.tail = proc.tail
        self.model = proc.plan.model
        self.value: dict[str, tuple] = {}  # value name -> the slot holding it

    def run(self) -> Iterator:
        v = self.view
        if v.stage == 0:
            yield from self.embed()
        else:
            yield from self.receive_stage_input()
        for layer in v.layers:
            yield from self.layer(layer)
        if not v.last_stage:
            yield from self.send_stage_output()
        elif v.runs_tail:
            yield from self.model_tail()

    # ---- ops and the syncs after them --------------------------------------------------------
    def slot(self, layer: int, name: str) -> tuple:
        return (self.name, self.step, self.mb, layer, name)

    def compute(self, layer: int, op: str, reads: dict, writes: dict, source=None) -> Compute:
        """An op instance reading the named values `reads` (role -> value name) and writing the
        values `writes` (role -> value name), each into a slot of its own."""
        read = {
            role: (CACHE if name is CACHE else self.value[name]) for role, name in reads.items()
        }
        out = {role: self.slot(layer, slot_name) for role, (_value, slot_name) in writes.items()}
        for role, (value, _slot_name) in writes.items():
            self.value[value] = out[role]
        return Compute(self.name, self.step, self.mb, layer, op, read, out, source)

    def syncs_at(self, anchor: str, layer: int) -> list[SyncPoint]:
        per_layer = 0 <= layer < self.tail
        return [
            s
            for s in self.c.syncs_after(anchor, self.name)
            if not per_layer or s.applies_to_layer(layer)
        ]

    def after(self, anchor: str, layer: int, outputs: dict) -> Iterator:
        """S7: the syncs at `anchor`, in list order, each on the outputs it names (`tensor`:
        one of qkv's outputs; otherwise all of them, in one call)."""
        for sync in self.syncs_at(anchor, layer):
            chosen = {
                t: self.value[name]
                for t, name in outputs.items()
                if sync.tensor is None or t in (None, sync.tensor)
            }
            if chosen:
                yield from self.issue(sync, layer, anchor, chosen)

    def issue(self, sync: SyncPoint, layer: int, anchor: str, slots: dict) -> Iterator:
        members = self.c.group(self.phase, sync.group, self.rank)
        # S9: a selector that leaves a whole group out means no call there at all
        if not any(
            self.c.issues(self.phase, sync, m) and self.c.view(self.phase, m).runs(layer, anchor)
            for m in members
        ):
            return
        if not self.c.issues(self.phase, sync, self.rank):
            return
        moves = {} if sync.collective == "barrier" else dict(slots)
        yield Post(
            (self.name, self.step, self.mb, sync.index, layer, members),
            sync,
            members,
            frozenset(members),
            not sync.is_async,
            sync.collective == "send_recv",
            reads=moves,
            writes=dict(moves),
            wait=self.awaited(sync, layer),
        )

    def awaited(self, sync: SyncPoint, layer: int) -> Await | None:
        """S11: the first `wait_before` op after the issue point, in the same layer or the next
        (a tail op: this stream's tail); never in another step or microbatch."""
        if not sync.is_async or not sync.wait_before:
            return None
        if sync.wait_before in MODEL_TAIL_OPS:
            return Await(self.stream_key, sync.wait_before)
        return Await(self.stream_key, sync.wait_before, frozenset((layer, layer + 1)))

    @property
    def stream_key(self) -> tuple:
        return (self.name, self.step, self.mb)

    # ---- the model's data flow -----------------------------------------------------------------
    def embed(self) -> Iterator:
        source = yield from self.token_source()
        yield self.compute(EMBED, "embed", {}, {"x": ("h", "embed")}, source)
        yield from self.after("embed", EMBED, {None: "h"})

    def layer(self, layer: int) -> Iterator:
        yield from self.op(layer, "attn_norm", {"x": "h"})
        yield self.compute(layer, "qkv", {"x": "attn_norm"}, {"q": ("q", "q"), "kv": ("kv", "kv")})
        yield from self.after("qkv", layer, {"q": "q", "kv": "kv"})
        yield from self.op(layer, "attention", {"q": "q", "kv": "kv", "cache": CACHE})
        yield from self.op(layer, "o_proj", {"x": "attention"})
        yield from self.op(layer, "attn_residual", {"residual": "h", "branch": "o_proj"}, "h")
        yield from self.op(layer, "mlp_norm", {"x": "h"})
        if self.model.is_moe_layer(layer):
            branch = yield from self.moe(layer)
        else:
            yield from self.op(layer, "gate_up", {"x": "mlp_norm"})
            yield from self.op(layer, "down", {"x": "gate_up"})
            branch = {"branch": "down"}
        yield from self.op(layer, "mlp_residual", {"residual": "h", **branch}, "h")

    def op(self, layer: int, op: str, reads: dict, value: str | None = None) -> Iterator:
        """An op with one output (named `value`, default the op's name), then its syncs."""
        value = value or op
        yield self.compute(layer, op, reads, {"x": (value, op)})
        yield from self.after(op, layer, {None: value})

    def moe(self, layer: int) -> Generator[Compute | Post, None, dict[str, str]]:
        """S12/S13; returns mlp_residual's other inputs. Syncs after `router` move the experts'
        input (the routed mlp_norm output)."""
        yield from self.op(layer, "router", {"x": "mlp_norm"})
        yield self.compute(layer, "experts", {"x": "router"}, {"x": ("experts", "experts")})
        if self.model.moe is None or not self.model.moe.shared_experts:
            yield from self.after("experts", layer, {None: "experts"})
            return {"branch": "experts"}
        if self.dispatched(layer):
            # S13: a dispatched routed output meets the shared experts after the combine
            yield from self.after("experts", layer, {None: "experts"})
            yield from self.op(layer, "shared_experts", {"x": "mlp_norm"})
            return {"branch": "experts", "shared": "shared_experts"}
        # S13: in token order the shared output is added right after `experts`, before its syncs
        yield self.compute(
            layer,
            "shared_experts",
            {"x": "mlp_norm", "routed": "experts"},
            {"x": ("routed_sum", "shared_experts")},
        )
        yield from self.after("shared_experts", layer, {None: "routed_sum"})
        yield from self.after("experts", layer, {None: "routed_sum"})
        return {"branch": "routed_sum"}

    def dispatched(self, layer: int) -> bool:
        """The experts receive dispatched tokens: an all_to_all (or an all_gather, whose
        reduce_scatter after the experts is the combine) after `router` (S12)."""
        return any(
            s.collective in ("all_to_all", "all_gather") for s in self.syncs_at("router", layer)
        )

    def model_tail(self) -> Iterator:
        L = self.tail
        yield from self.op(L, "final_norm", {"x": "h"})
        yield from self.op(L, "lm_head", {"x": "final_norm"})
        # the token the host and a carrier read, and the copy the other syncs at sample (and
        # then the output sink, S18) work on
        yield self.compute(
            L,
            "sample",
            {"x": "lm_head"},
            {"tokens": ("tokens", "tokens"), "chain": ("sampled", "sampled")},
        )
        for sync in self.syncs_at("sample", L):
            if self.carries_token(sync):
                yield from self.send_token(sync)
            else:
                yield from self.issue(sync, L, "sample", {None: self.value["sampled"]})

    # ---- the pipeline (S3) ---------------------------------------------------------------------
    def neighbour(self, stage: int, sync: SyncPoint, rank: int | None = None) -> int | None:
        """The rank of `stage` with the coordinates of `rank` otherwise, if the sync's group
        holds it."""
        rank = self.rank if rank is None else rank
        if not 0 <= stage < self.phase.degrees.pp:
            return None
        topo = self.phase.topology
        other = topo.rank(dict(topo.coords(rank), pp=stage))
        return other if other in self.c.group(self.phase, sync.group, rank) else None

    def transfer_members(self, sync: SyncPoint, sender: int, receiver: int) -> tuple[tuple, object]:
        """A send_recv pairs the two ranks; any other collective runs over the sender's group."""
        if sync.collective == "send_recv":
            return (sender, receiver), (sender, receiver)
        members = self.c.group(self.phase, sync.group, sender)
        return members, frozenset(members)

    def send_stage_output(self) -> Iterator:
        for sync in self.syncs_at("stage_boundary", EMBED):
            receiver = self.neighbour(self.view.stage + 1, sync)
            if receiver is None or not self.c.issues(self.phase, sync, self.rank):
                continue
            members, comm = self.transfer_members(sync, self.rank, receiver)
            moves = {} if sync.collective == "barrier" else {None: self.value["h"]}
            yield Post(
                (
                    self.name,
                    self.step,
                    self.mb,
                    boundary_call(sync, self.view.stage),
                    EMBED,
                    members,
                ),
                sync,
                members,
                comm,
                not sync.is_async,
                sync.collective == "send_recv",
                reads=moves,
            )

    def receive_stage_input(self) -> Iterator:
        """The receiver posts its receive just before its first layer; a barrier there is the
        sender's alone (nothing to receive). Selectors pick pairs by the sender (S9)."""
        slot = self.slot(EMBED, "stage_in")
        self.value["h"] = slot
        for sync in self.syncs_at("stage_boundary", EMBED):
            sender = self.neighbour(self.view.stage - 1, sync)
            if (
                sender is None
                or sync.collective == "barrier"
                or not self.c.issues(self.phase, sync, sender)
            ):
                continue
            members, comm = self.transfer_members(sync, sender, self.rank)
            wait = (
                Await(self.stream_key, sync.wait_before)
                if sync.is_async and sync.wait_before
                else None
            )
            yield Post(
                (
                    self.name,
                    self.step,
                    self.mb,
                    boundary_call(sync, self.view.stage - 1),
                    EMBED,
                    members,
                ),
                sync,
                members,
                comm,
                not sync.is_async,
                sync.collective == "send_recv",
                writes={None: slot},
                wait=wait,
            )

    # ---- tokens: prompt, host, device (S4, S5 (ii)) ----------------------------------------------
    def token_source(self) -> Generator[Compute | Post, None, tuple]:
        """Where embed's tokens come from (returned); posts the carrier's receive if needed."""
        if self.name == "prefill":
            return ("prompt",)
        if self.step == 0 or self.phase.token_return == "host":
            return ("host", self.step, self.mb)
        if self.phase.degrees.pp == 1:
            # S4: sample and embed run on the same ranks: program order carries the token
            return ("slot", ("decode", self.step - 1, self.mb, self.tail, "tokens"))
        slot = self.slot(EMBED, "token_in")
        yield from self.receive_token(slot)
        return ("slot", slot)

    def carries_token(self, sync: SyncPoint) -> bool:
        """S4: with the token on device and pp > 1, a send_recv or broadcast over pp or world
        after sample carries it to stage 0."""
        return (
            self.name == "decode"
            and self.phase.token_return == "device"
            and self.phase.degrees.pp > 1
            and sync.collective in ("send_recv", "broadcast")
            and sync.group in ("pp", "world")
        )

    def token_partner(self, rank: int) -> int:
        """The last-stage rank and the stage-0 rank of equal non-pp coordinates pair up."""
        topo = self.phase.topology
        coords = topo.coords(rank)
        return topo.rank(dict(coords, pp=self.phase.degrees.pp - 1 if coords["pp"] == 0 else 0))

    def send_token(self, sync: SyncPoint) -> Iterator:
        if self.step + 1 >= self.c.steps or not self.c.issues(self.phase, sync, self.rank):
            return  # S4: the last step checked issues none; S9: unselected pairs
        members = (self.rank, self.token_partner(self.rank))
        yield Post(
            (self.name, self.step, self.mb, sync.index, self.tail, members),
            sync,
            members,
            members,
            not sync.is_async,
            True,
            reads={None: self.value["tokens"]},
        )

    def receive_token(self, slot: tuple) -> Iterator:
        """Stage 0's part of step t-1's carrier, posted in step t before embed; its wait
        resolves there, on embed (S4: the one wait that crosses a step)."""
        for sync in self.syncs_at("sample", self.tail):
            if not self.carries_token(sync):
                continue
            sender = self.token_partner(self.rank)
            if not self.c.issues(self.phase, sync, sender):
                continue
            members = (sender, self.rank)
            wait = None
            if sync.is_async and sync.wait_before:
                wait = Await(self.stream_key, sync.wait_before, frozenset((EMBED,)))
            yield Post(
                (self.name, self.step - 1, self.mb, sync.index, self.tail, members),
                sync,
                members,
                members,
                not sync.is_async,
                True,
                writes={None: slot},
                wait=wait,
            )


def boundary_call(sync: SyncPoint, sender_stage: int) -> tuple[int, int]:
    """Which call of `sync` a stage boundary posts: S3 makes the boundary after each stage its
    own instance. A group that spans stages (world, or pp for a collective other than
    send_recv) has the same members at every boundary, so without the boundary in the call's
    identity the calls of different boundaries would merge into one that completes."""
    return (sync.index, sender_stage)
