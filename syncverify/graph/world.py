"""One phase as the graph builder sees it: who runs what, who issues which sync, with whom.

This is where the numbered semantics that decide participation live: S1 (groups), S3 (stage
boundaries), S4 (the token carrier), S5 (prefill_end), S6 (which ranks run embed and the tail),
S9 (rank selectors), S11 (where an async sync is awaited) and S17 (idle replicas).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from syncverify.graph.nodes import EMBED_LAYER, CollNode, coll_node
from syncverify.plan import MODEL_TAIL_OPS, Phase, Plan, SyncPoint

DECODE_STEPS = 3


class PhaseWorld:
    def __init__(
        self,
        plan: Plan,
        phase: Phase,
        idle_replicas: frozenset[int] = frozenset(),
        steps: int = DECODE_STEPS,
        layers: frozenset[int] | None = None,
    ):
        self.plan = plan
        # the layers unrolled: every layer, or one representative per class (graph.reduction)
        self.layers = frozenset(range(plan.model.layers)) if layers is None else layers
        self._ordered_layers = sorted(self.layers)
        self.phase = phase
        self.name = phase.name
        self.topo = phase.topology
        self.idle = idle_replicas
        self.steps = steps if phase.name == "decode" else 1
        decode = plan.phase("decode")
        self.plan_has_decode = decode is not None
        self.world_of_plan_has_decode = self.plan_has_decode and phase.name == "prefill"
        self.decode_microbatches = decode.microbatches if decode else 0

    # ---- layers ---------------------------------------------------------------------------
    def stage_layers(self, stage: int) -> list[int]:
        """The unrolled layers of a stage, in order."""
        return [
            candidate for candidate in self.topo.stage_layers(stage) if candidate in self.layers
        ]

    def next_layer(self, layer: int) -> int:
        """The next unrolled layer after `layer` (model.layers past the last one)."""
        for candidate in self._ordered_layers:
            if candidate > layer:
                return candidate
        return self.plan.model.layers

    # ---- participation ------------------------------------------------------------------
    def active(self, rank: int) -> bool:
        """S17: under dp_idle skip an idle replica's ranks issue nothing in this phase."""
        return self.topo.coords(rank)["dp"] not in self.idle

    def runs_tail(self, rank: int) -> bool:
        """S6: the tail runs on the last stage; under SP only on the last SP coordinate."""
        coords = self.topo.coords(rank)
        if coords["pp"] != self.topo.sizes["pp"] - 1:
            return False
        return coords["sp"] == self.topo.sizes["sp"] - 1

    def runs(self, rank: int, layer: int | None, op: str) -> bool:
        """Whether `rank` runs `op` (of `layer`) in this phase."""
        if not self.active(rank):
            return False
        stage = self.topo.stage_of(rank)
        if op == "embed":
            return stage == 0
        if op in MODEL_TAIL_OPS:
            return self.runs_tail(rank)
        if layer is None or layer < 0:
            return False
        return (
            layer in self.layers
            and layer in self.topo.stage_layers(stage)
            and op in self.plan.model.layer_ops(layer)
        )

    def selected(self, sync: SyncPoint, rank: int) -> bool:
        """S9: the selector decides who issues; it never changes the group."""
        return self.active(rank) and sync.selects(self.topo.coords(rank))

    def group(self, axis: str, rank: int) -> tuple[int, ...]:
        return self.topo.group(axis, rank)

    def splits_group(
        self, sync: SyncPoint, group: tuple, layer: int, runs: Callable[[int, int, str], bool]
    ) -> bool:
        """Whether some member that runs the anchor issues the sync (S9: a split group)."""
        return any(runs(m, layer, sync.after) and self.selected(sync, m) for m in group)

    # ---- the syncs of this phase -----------------------------------------------------------
    @cached_property
    def _by_anchor(self) -> dict[str, tuple[SyncPoint, ...]]:
        out: dict[str, list[SyncPoint]] = {}
        for sync in self.plan.syncs:
            if sync.runs_in(self.name):
                out.setdefault(sync.after, []).append(sync)
        return {k: tuple(v) for k, v in out.items()}

    def syncs_at(self, anchor: str, layer: int | None) -> tuple[SyncPoint, ...]:
        syncs = self._by_anchor.get(anchor, ())
        if layer is None or layer < 0 or layer >= self.plan.model.layers:
            return syncs
        return tuple(s for s in syncs if s.applies_to_layer(layer))

    def dispatched(self, layer: int) -> bool:
        """Whether the experts of `layer` receive dispatched tokens (S12: an all_to_all, or an
        all_gather whose reduce_scatter after the experts is the combine)."""
        return any(
            s.collective in ("all_to_all", "all_gather") for s in self.syncs_at("router", layer)
        )

    def handover_syncs(self) -> tuple[SyncPoint, ...]:
        if self.name != "decode" or self.plan.phase("prefill") is None:
            return ()
        return tuple(s for s in self.plan.syncs if s.after == "prefill_end")

    def handover_key(self, sync: SyncPoint, rank: int) -> CollNode:
        return coll_node("handover", 0, 0, sync.index, -1, self.group(sync.group, rank))

    # ---- partners ------------------------------------------------------------------------
    def stage_partner(self, rank: int, stage: int, sync: SyncPoint) -> int | None:
        """S3: the rank of `stage` with the same non-pp coordinates, if the group reaches it."""
        if not 0 <= stage < self.topo.sizes["pp"]:
            return None
        coords = dict(self.topo.coords(rank))
        coords["pp"] = stage
        partner = self.topo.rank(coords)
        return partner if partner in self.group(sync.group, rank) else None

    def is_token_carrier(self, sync: SyncPoint) -> bool:
        """S4: with token_return device, a send_recv/broadcast over pp or world after sample."""
        return (
            self.name == "decode"
            and self.phase.token_return == "device"
            and self.topo.sizes["pp"] > 1
            and sync.after == "sample"
            and sync.collective in ("send_recv", "broadcast")
            and sync.group in ("pp", "world")
        )

    def token_partner(self, rank: int) -> int:
        """S4: a last-stage rank pairs with the stage-0 rank of equal non-pp coordinates."""
        coords = dict(self.topo.coords(rank))
        coords["pp"] = self.topo.sizes["pp"] - 1 if coords["pp"] == 0 else 0
        return self.topo.rank(coords)

    def covers_dp(self, axis: str, rank: int) -> bool:
        return set(self.group("dp", rank)) <= set(self.group(axis, rank))

    def sink_reader(self) -> int | None:
        """S18: the sink reads the lowest busy rank that samples (the gather's root)."""
        for rank in range(self.topo.world):
            if self.runs_tail(rank) and self.active(rank):
                return rank
        return None

    # ---- where an async sync is awaited (S11) ----------------------------------------------
    def wait_target(self, sync: SyncPoint, step: int, mb: int, layer: int, rank: int):
        """(phase, step, mb, layer, op) of the first `wait_before` op after the issue point."""
        op = sync.wait_before
        if not op:
            return None
        model = self.plan.model
        if layer == EMBED_LAYER:
            candidates = [(0, op)] if model.layers else []
        elif layer >= model.layers:
            # S11: the first instance after the issue point: a tail op later than the anchor
            tail = (
                MODEL_TAIL_OPS[MODEL_TAIL_OPS.index(sync.after) + 1 :]
                if sync.after in MODEL_TAIL_OPS
                else ()
            )
            candidates = [(model.layers, op)] if op in tail else []
        else:
            ops = model.layer_ops(layer)
            later = ops[ops.index(sync.after) + 1 :] if sync.after in ops else ()
            following = self.next_layer(layer)
            candidates = [(layer, op)] if op in later else [(following, op)]
            if following >= model.layers:
                candidates = [(layer, op)] if op in later else [(model.layers, op)]
        for target_layer, target_op in candidates:
            if target_op in MODEL_TAIL_OPS:
                target_layer = model.layers
            if self.runs(rank, target_layer, target_op):
                return (self.name, step, mb, target_layer, target_op)
        return None

    def stage_wait(self, sync: SyncPoint, step: int, mb: int, rank: int, stage: int):
        if not sync.is_async or not sync.wait_before:
            return None
        layer: int | None
        if sync.wait_before in MODEL_TAIL_OPS:
            layer = self.plan.model.layers
        else:
            layer = next(
                (
                    candidate
                    for candidate in self.stage_layers(stage)
                    if sync.wait_before in self.plan.model.layer_ops(candidate)
                ),
                None,
            )
        if layer is None or not self.runs(rank, layer, sync.wait_before):
            return None
        return (self.name, step, mb, layer, sync.wait_before)

    def handover_wait(self, sync: SyncPoint, rank: int):
        """The first decode instance of `wait_before` on `rank` (step 0, microbatch 0)."""
        op = sync.wait_before
        if not op:
            return None
        layer: int | None
        if op == "embed":
            layer = EMBED_LAYER
        elif op in MODEL_TAIL_OPS:
            layer = self.plan.model.layers
        else:
            stage = self.topo.stage_of(rank)
            layer = next(
                (
                    candidate
                    for candidate in self.stage_layers(stage)
                    if op in self.plan.model.layer_ops(candidate)
                ),
                None,
            )
        if layer is None or not self.runs(rank, layer, op):
            return None
        return ("decode", 0, 0, layer, op)
