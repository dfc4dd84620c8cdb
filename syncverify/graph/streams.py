"""The schedule of one rank: the op instances it runs and the collectives it issues, in order.

A *stream* is what one rank does for one (phase, step, microbatch): its ops in data-flow order
with the sync points anchored on them (S7: several at one anchor run in list order). Streams are
joined into a rank's *program* by `syncverify.graph.program`. While a stream is built, the data
edges of the model's data flow are recorded: the residual stream through each layer, q/k/v into
attention, the K/V cache of earlier steps, stage-to-stage activations, the sampled token through
the host (S4) or a device carrier, and the outputs into the sink (S18).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syncverify.graph.nodes import EMBED_LAYER, CollNode, coll_node, host_node, op_node, sink_node
from syncverify.graph.world import PhaseWorld
from syncverify.plan import SyncPoint

GATHER_LIKE = ("gather", "all_gather")


@dataclass(frozen=True)
class Ref:
    """A value: the output `tensor` of `node`; for a collective, the output on rank `member`."""

    node: tuple
    tensor: str | None = None
    member: int | None = None


@dataclass(frozen=True)
class Issue:
    """One rank's call of a collective instance."""

    coll: CollNode
    sync: SyncPoint
    blocking: bool
    p2p: bool
    wait: tuple | None = None  # (phase, step, mb, layer, op) awaited on this rank (async)


@dataclass
class CollInfo:
    """What every member agrees on about one collective instance."""

    sync: SyncPoint
    members: tuple[int, ...]
    axis: str
    role: str = ""  # "" | "carrier" | "stage" | "handover"


@dataclass
class Recorder:
    """Everything the streams record for the graph builder."""

    programs: dict[int, list] = field(default_factory=dict)  # rank -> [op node | Issue]
    data: list[tuple] = field(default_factory=list)  # (src Ref, dst node, slot)
    colls: dict[CollNode, CollInfo] = field(default_factory=dict)
    implicit_order: list[tuple] = field(default_factory=list)  # (u, v) order-only edges
    kv_history: dict[tuple, list[Ref]] = field(default_factory=dict)  # (layer, mb, rank)
    prefill_kv: dict[tuple, list[Ref]] = field(default_factory=dict)  # (rank, layer)
    sinks: dict[tuple, int] = field(default_factory=dict)  # sink node -> reading rank


class StreamBuilder:
    """Builds the streams of one phase world; one instance per (phase, scenario)."""

    def __init__(self, world: PhaseWorld, rec: Recorder):
        self.w = world
        self.plan = world.plan
        self.rec = rec

    # ---- ops and data edges -------------------------------------------------------------
    def emit(
        self,
        out: list,
        step: int,
        mb: int,
        rank: int,
        layer: int,
        op: str,
        inputs: dict[str, object],
    ) -> Ref:
        node = op_node(self.w.name, step, mb, rank, layer, op)
        out.append(node)
        for slot, refs in inputs.items():
            for ref in refs if isinstance(refs, list) else [refs]:
                if ref is not None:
                    self.rec.data.append((ref, node, slot))
        return Ref(node)

    def after(
        self,
        out: list,
        step: int,
        mb: int,
        rank: int,
        layer: int,
        anchor: str,
        value: Ref | None,
    ) -> Ref | None:
        """Apply the syncs anchored on `anchor` (list order, S7) to `value` on `rank`."""
        for sync in self.w.syncs_at(anchor, layer):
            value = self.apply(out, step, mb, rank, layer, sync, value)
        return value

    def after_qkv(self, out: list, step: int, mb: int, rank: int, layer: int, qkv: tuple):
        """The syncs after qkv: each moves the `tensor` it names, or both q and kv in one call."""
        q: Ref | None = Ref(qkv, "q")
        kv: Ref | None = Ref(qkv, "kv")
        for sync in self.w.syncs_at("qkv", layer):
            if sync.tensor in (None, "q"):
                q = self.apply(out, step, mb, rank, layer, sync, q)
            if sync.tensor in (None, "kv"):
                kv = self.apply(out, step, mb, rank, layer, sync, kv, issue=sync.tensor == "kv")
        return q, kv

    def apply(
        self,
        out: list,
        step: int,
        mb: int,
        rank: int,
        layer: int,
        sync: SyncPoint,
        value: Ref | None,
        issue: bool = True,
    ) -> Ref | None:
        """Issue `sync` on `rank` (if it does) and return the value its consumers read.

        `issue=False` routes a second tensor through a call already issued (q and kv of one
        sync after qkv are one collective call).
        """
        group = self.w.group(sync.group, rank)
        issues = self.w.selected(sync, rank)
        if not issues and not self.w.splits_group(sync, group, layer, self._anchor_runs):
            return value  # S9: whole groups left out lack the sync
        key = coll_node(self.w.name, step, mb, sync.index, layer, group)
        self.rec.colls.setdefault(key, CollInfo(sync, group, sync.group))
        if issues and issue:
            out.append(self.issue(key, sync, step, mb, rank, layer))
        if sync.collective == "barrier" or value is None:
            return value  # a barrier orders, it moves no value
        self.rec.data.append((value, key, "in"))
        return Ref(key, value.tensor, rank)

    def _anchor_runs(self, rank: int, layer: int, anchor: str) -> bool:
        return self.w.runs(rank, layer, anchor)

    def issue(
        self,
        key: CollNode,
        sync: SyncPoint,
        step: int,
        mb: int,
        rank: int,
        layer: int,
        p2p: bool = False,
        wait: tuple | None = None,
    ) -> Issue:
        if wait is None and sync.is_async:
            wait = self.w.wait_target(sync, step, mb, layer, rank)
        return Issue(
            key,
            sync,
            blocking=not sync.is_async,
            p2p=p2p or sync.collective == "send_recv",
            wait=wait if sync.is_async else None,
        )

    # ---- one stream ---------------------------------------------------------------------
    def stream(self, step: int, mb: int, rank: int) -> list:
        """What `rank` does for (step, mb) of this phase, as nodes and Issues in order."""
        out: list = []
        w = self.w
        stage = w.topo.stage_of(rank)
        h = None
        if stage == 0:
            tokens = self.token_input(out, step, mb, rank)
            h = self.emit(out, step, mb, rank, EMBED_LAYER, "embed", {"tokens": tokens})
            h = self.after(out, step, mb, rank, EMBED_LAYER, "embed", h)
        else:
            h = self.receive_stage_input(out, step, mb, rank, stage)
        for layer in w.stage_layers(stage):
            h = self.layer(out, step, mb, rank, layer, h)
        if stage < w.topo.sizes["pp"] - 1:
            self.send_stage_output(out, step, mb, rank, stage, h)
        elif w.runs_tail(rank):
            self.tail(out, step, mb, rank, h)
        return out

    def layer(self, out, step, mb, rank, layer, h):
        a: Ref | None = self.emit(out, step, mb, rank, layer, "attn_norm", {"x": h})
        a = self.after(out, step, mb, rank, layer, "attn_norm", a)
        qkv = self.emit(out, step, mb, rank, layer, "qkv", {"x": a})
        q, kv = self.after_qkv(out, step, mb, rank, layer, qkv.node)
        history = self.rec.kv_history.setdefault((layer, mb, rank), [])
        inputs = {"q": q, "kv": kv, "kv_cache": list(history)}
        if self.w.name == "decode":
            inputs["kv_prompt"] = self.prompt_kv(rank, layer)
        elif self.w.world_of_plan_has_decode:
            self.rec.prefill_kv.setdefault((rank, layer), []).append(kv)
        o: Ref | None = self.emit(out, step, mb, rank, layer, "attention", inputs)
        history.append(kv)
        o = self.after(out, step, mb, rank, layer, "attention", o)
        p: Ref | None = self.emit(out, step, mb, rank, layer, "o_proj", {"x": o})
        p = self.after(out, step, mb, rank, layer, "o_proj", p)
        h = self.emit(out, step, mb, rank, layer, "attn_residual", {"residual": h, "branch": p})
        h = self.after(out, step, mb, rank, layer, "attn_residual", h)
        m: Ref | None = self.emit(out, step, mb, rank, layer, "mlp_norm", {"x": h})
        m = self.after(out, step, mb, rank, layer, "mlp_norm", m)
        if self.plan.model.is_moe_layer(layer):
            branch = self.moe(out, step, mb, rank, layer, m)
        else:
            g: Ref | None = self.emit(out, step, mb, rank, layer, "gate_up", {"x": m})
            g = self.after(out, step, mb, rank, layer, "gate_up", g)
            d = self.emit(out, step, mb, rank, layer, "down", {"x": g})
            branch = {"branch": self.after(out, step, mb, rank, layer, "down", d)}
        h = self.emit(out, step, mb, rank, layer, "mlp_residual", {"residual": h, **branch})
        return self.after(out, step, mb, rank, layer, "mlp_residual", h)

    def moe(self, out, step, mb, rank, layer, m):
        """Router, experts and shared experts (S12, S13); returns mlp_residual's other inputs."""
        r = self.emit(out, step, mb, rank, layer, "router", {"x": m})
        # syncs after the router move the experts' input (the tokens), guided by the routing
        x = self.after(out, step, mb, rank, layer, "router", m)
        e = self.emit(out, step, mb, rank, layer, "experts", {"x": x, "routing": r})
        moe = self.plan.model.moe
        assert moe is not None  # layer() calls moe() only for an MoE layer
        if not moe.shared_experts:
            return {"branch": self.after(out, step, mb, rank, layer, "experts", e)}
        if self.w.dispatched(layer):
            # S13: a dispatched routed output meets the shared experts after the combine
            routed = self.after(out, step, mb, rank, layer, "experts", e)
            s: Ref | None = self.emit(out, step, mb, rank, layer, "shared_experts", {"x": m})
            s = self.after(out, step, mb, rank, layer, "shared_experts", s)
            return {"branch": routed, "shared": s}
        # S13: in token order the shared output joins right after `experts`, before its syncs
        s = self.emit(out, step, mb, rank, layer, "shared_experts", {"x": m, "routed": e})
        s = self.after(out, step, mb, rank, layer, "shared_experts", s)
        return {"branch": self.after(out, step, mb, rank, layer, "experts", s)}

    # ---- stage boundaries (S3) -----------------------------------------------------------
    def send_stage_output(self, out, step, mb, rank, stage, h):
        for sync in self.w.syncs_at("stage_boundary", None):
            partner = self.w.stage_partner(rank, stage + 1, sync)
            if partner is None:
                continue
            if sync.collective == "send_recv" and not self.w.selected(sync, rank):
                continue  # S9: an unselected pair neither sends nor receives
            key = self.stage_coll(sync, step, mb, rank, partner)
            if h is not None and sync.collective != "barrier":
                self.rec.data.append((h, key, "in"))
            if self.w.selected(sync, rank):
                out.append(
                    self.issue(
                        key, sync, step, mb, rank, -1, p2p=sync.collective == "send_recv", wait=()
                    )
                )

    def receive_stage_input(self, out, step, mb, rank, stage):
        value = None
        for sync in self.w.syncs_at("stage_boundary", None):
            sender = self.w.stage_partner(rank, stage - 1, sync)
            if sender is None or sync.collective == "barrier":
                continue
            if self.w.selected(sync, sender):  # S9: selectors pick pairs by the sender
                key = self.stage_coll(sync, step, mb, sender, rank)
                wait = self.w.stage_wait(sync, step, mb, rank, stage)
                out.append(
                    self.issue(
                        key, sync, step, mb, rank, -1, p2p=sync.collective == "send_recv", wait=wait
                    )
                )
                value = Ref(key, None, rank)
        return value

    def stage_coll(self, sync, step, mb, sender, receiver) -> CollNode:
        if sync.collective == "send_recv":
            members: tuple[int, ...] = (sender, receiver)
        else:
            members = self.w.group(sync.group, sender)
        key = coll_node(self.w.name, step, mb, sync.index, -1, members)
        self.rec.colls.setdefault(key, CollInfo(sync, tuple(sorted(members)), sync.group, "stage"))
        return key

    # ---- the model's tail, the token path (S4) and the sink (S18) -------------------------
    def tail(self, out, step, mb, rank, h):
        tail_layer = self.plan.model.layers
        f: Ref | None = self.emit(out, step, mb, rank, tail_layer, "final_norm", {"x": h})
        f = self.after(out, step, mb, rank, tail_layer, "final_norm", f)
        lg: Ref | None = self.emit(out, step, mb, rank, tail_layer, "lm_head", {"x": f})
        lg = self.after(out, step, mb, rank, tail_layer, "lm_head", lg)
        tok = self.emit(out, step, mb, rank, tail_layer, "sample", {"x": lg})
        self.feed_host(step, mb, rank, tok)
        value: Ref | None = tok
        to_sink = tok if self.w.topo.sizes["dp"] == 1 else None
        for sync in self.w.syncs_at("sample", tail_layer):
            if self.w.is_token_carrier(sync):
                self.send_token(out, step, mb, rank, sync, tok)
                continue
            value = self.apply(out, step, mb, rank, tail_layer, sync, value)
            if (
                to_sink is None
                and sync.collective in GATHER_LIKE
                and self.w.covers_dp(sync.group, rank)
            ):
                to_sink = value
        if rank == self.w.sink_reader():
            sink = sink_node(self.w.name, step, mb)
            self.rec.sinks[sink] = rank
            # S18: with dp > 1 the sink reads only through a gather over dp after sample;
            # without one it receives nothing (with dp = 1 it reads the sample directly)
            if to_sink is not None:
                self.rec.data.append((to_sink, sink, "tokens"))
                self.rec.implicit_order.append((to_sink.node, sink))  # the sink waits (S18)

    def feed_host(self, step, mb, rank, tok):
        """S4/S5(ii): the host reads every sampled token it hands to the next decode step."""
        if not self.w.plan_has_decode:
            return
        if self.w.name == "prefill":
            for dmb in range(self.w.decode_microbatches):
                self._to_host(tok, host_node(0, dmb), ordered=True)
        elif step + 1 < self.w.steps and self.w.phase.token_return == "host":
            self._to_host(
                tok, host_node(step + 1, mb), ordered=self.w.phase.overlap != "across_steps"
            )

    def _to_host(self, tok, host, ordered):
        self.rec.data.append((tok, host, "tokens"))
        if ordered:
            self.rec.implicit_order.append((tok.node, host))

    def send_token(self, out, step, mb, rank, sync, tok):
        if step + 1 >= self.w.steps:
            return  # S4: the last step checked issues none
        if not self.w.selected(sync, rank):
            return  # S9: an unselected pair neither sends nor receives
        partner = self.w.token_partner(rank)
        key = self.carrier_coll(sync, step, mb, rank, partner)
        self.rec.data.append((tok, key, "in"))
        out.append(self.issue(key, sync, step, mb, rank, self.plan.model.layers, p2p=True, wait=()))

    def carrier_coll(self, sync, step, mb, sender, receiver) -> CollNode:
        key = coll_node(
            self.w.name, step, mb, sync.index, self.plan.model.layers, (sender, receiver)
        )
        self.rec.colls.setdefault(
            key, CollInfo(sync, tuple(sorted((sender, receiver))), sync.group, "carrier")
        )
        return key

    def token_input(self, out, step, mb, rank):
        """Where embed's tokens come from: the prompt, the host, or a device carrier (S4)."""
        if self.w.name == "prefill":
            return None  # the prompt: the host hands it over with the launch
        if step == 0 or self.w.phase.token_return == "host":
            host = host_node(step, mb)
            self.rec.implicit_order.append(
                (host, op_node("decode", step, mb, rank, EMBED_LAYER, "embed"))
            )
            return Ref(host)
        if self.w.topo.sizes["pp"] == 1:
            # S4: sample and embed run on the same ranks: program order carries the token
            sample = op_node("decode", step - 1, mb, rank, self.plan.model.layers, "sample")
            return Ref(sample) if self.w.runs_tail(rank) else None
        value = None
        for sync in self.w.syncs_at("sample", self.plan.model.layers):
            if not self.w.is_token_carrier(sync):
                continue
            sender = self.w.token_partner(rank)
            if self.w.selected(sync, sender):  # S9: selectors pick pairs by the sender
                key = self.carrier_coll(sync, step - 1, mb, sender, rank)
                wait = (
                    ("decode", step, mb, EMBED_LAYER, sync.wait_before)
                    if sync.wait_before
                    else None
                )
                out.append(
                    self.issue(
                        key, sync, step - 1, mb, rank, self.plan.model.layers, p2p=True, wait=wait
                    )
                )
                value = Ref(key, None, rank)
        return value

    # ---- the prefill -> decode hand-over (S5) ---------------------------------------------
    def prompt_kv(self, rank, layer) -> list:
        """The prompt's K/V for decode attention: the hand-over syncs, else this rank's prefill."""
        refs = []
        for sync in self.w.handover_syncs():
            key = self.w.handover_key(sync, rank)
            refs.append(Ref(key, None, rank))
        if not refs:
            refs = list(self.rec.prefill_kv.get((rank, layer), []))
        return refs


def handover_issues(world: PhaseWorld, builder: StreamBuilder, rank: int) -> list:
    """The prefill_end syncs a decode rank issues before its first decode op (S5)."""
    out = []
    for sync in world.handover_syncs():
        key = world.handover_key(sync, rank)
        builder.rec.colls.setdefault(
            key, CollInfo(sync, world.group(sync.group, rank), sync.group, "handover")
        )
        for (src_rank, _layer), refs in builder.rec.prefill_kv.items():
            if src_rank == rank:
                for ref in refs:
                    builder.rec.data.append((ref, key, "in"))
        if world.selected(sync, rank):
            wait = world.handover_wait(sync, rank) if sync.is_async else None
            out.append(Issue(key, sync, blocking=not sync.is_async, p2p=False, wait=wait))
    return out
