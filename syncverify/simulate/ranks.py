"""What one rank owns in one phase: its coordinates, stage, layers and weight shards (S1, S6,
S12, S20), read from the plan's topology; the shards are column ranges of the tiny model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from syncverify.plan import MODEL_TAIL_OPS, Phase, Plan
from syncverify.simulate.model import Dims, kv_heads_of


@dataclass(frozen=True)
class RankView:
    plan: Plan
    phase: Phase
    dims: Dims
    rank: int

    @cached_property
    def coords(self) -> dict:
        return self.phase.topology.coords(self.rank)

    @property
    def topo(self):
        return self.phase.topology

    @property
    def tp(self) -> int:
        return self.phase.degrees.tp

    @property
    def stage(self) -> int:
        return self.topo.stage_of(self.rank)

    @property
    def last_stage(self) -> bool:
        return self.stage == self.phase.degrees.pp - 1

    @cached_property
    def layers(self) -> range:
        return self.topo.stage_layers(self.stage)

    @property
    def runs_tail(self) -> bool:
        """S6: the tail runs on the last stage, under SP only on the last SP coordinate."""
        return self.last_stage and self.coords["sp"] == self.phase.degrees.sp - 1

    def runs(self, layer: int, op: str) -> bool:
        if op == "embed":
            return self.stage == 0
        if op in MODEL_TAIL_OPS:
            return self.runs_tail
        return layer in self.layers and op in self.plan.model.layer_ops(layer)

    def replicated(self, op: str) -> bool:
        return self.plan.sharding(op) == "replicated"

    # ---- column shards (element ranges of the full width) ----------------------------------
    def shard(self, dim: str, op: str) -> tuple:
        width = self.dims.width(dim)
        if self.replicated(op) or self.tp == 1:
            return (dim, 0, width)
        per = width // self.tp
        c = self.coords["tp"]
        return (dim, c * per, (c + 1) * per)

    @cached_property
    def kv_heads(self) -> range:
        return kv_heads_of(self.dims, self.tp, self.coords["tp"])

    def kv_cols(self) -> tuple:
        """The qkv op's K/V output columns on this rank (MLA: the whole latent, S20)."""
        if self.dims.mla:
            return ("latent", 0, self.dims.latent)
        if self.replicated("qkv"):
            return ("kv", 0, self.dims.width("kv"))
        span = 2 * self.dims.head_dim
        return ("kv", self.kv_heads.start * span, self.kv_heads.stop * span)

    @cached_property
    def experts(self) -> range:
        """S12: contiguous blocks of experts over the EP members in layout order; ep = 1: all."""
        ep = self.phase.degrees.ep
        per = self.dims.experts // ep if self.dims.experts else 0
        e = self.topo.ep_index(self.rank) % ep
        return range(e * per, (e + 1) * per)

    def expert_cols(self) -> slice:
        """ep = 1 with tp > 1: each expert split over TP like a dense MLP (S12); else whole."""
        if self.phase.degrees.ep > 1 or self.tp == 1:
            return slice(None)
        per = self.dims.expert_ffn // self.tp
        c = self.coords["tp"]
        return slice(c * per, (c + 1) * per)

    def shared_cols(self) -> slice:
        if self.replicated("shared_experts") or self.tp == 1:
            return slice(None)
        per = self.dims.shared_ffn // self.tp
        c = self.coords["tp"]
        return slice(c * per, (c + 1) * per)
