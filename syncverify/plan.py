"""The Plan model: a frozen, typed picture of one plan file (plan format v1).

The loader (`syncverify.loader`) is the only code that sees YAML; everything after it reads
these dataclasses. Every value the user wrote can be located again through `Plan.span(path)`,
where `path` is the key path of the value in the file, e.g. ``("parallel", "tp")`` or
``("sync", 3, "group")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from syncverify.span import Span
from syncverify.topology import Topology

PHASES = ("prefill", "decode")
AXES = ("tp", "sp", "dp", "pp", "ep")
LAYOUT_AXES = ("tp", "sp", "dp", "pp")
DEFAULT_LAYOUT = ("tp", "sp", "dp", "pp")
GROUPS = ("tp", "sp", "pp", "ep", "dp", "world")
COLLECTIVES = (
    "all_reduce",
    "reduce_scatter",
    "all_gather",
    "all_to_all",
    "send_recv",
    "broadcast",
    "gather",
    "barrier",
)
OVERLAP_MODES = {
    "prefill": ("none", "comm_compute", "two_batch"),
    "decode": ("none", "comm_compute", "two_batch", "across_steps"),
}
DP_IDLE_MODES = ("dummy_batch", "skip")
TOKEN_RETURN_MODES = ("host", "device")
ROLES = ("dispatch", "combine")
SHARDINGS = ("default", "replicated")

MODEL_HEAD_OPS = ("embed",)
MODEL_TAIL_OPS = ("final_norm", "lm_head", "sample")
DENSE_LAYER_OPS = (
    "attn_norm",
    "qkv",
    "attention",
    "o_proj",
    "attn_residual",
    "mlp_norm",
    "gate_up",
    "down",
    "mlp_residual",
)
MOE_LAYER_OPS_NO_SHARED = (
    "attn_norm",
    "qkv",
    "attention",
    "o_proj",
    "attn_residual",
    "mlp_norm",
    "router",
    "experts",
    "mlp_residual",
)
MOE_LAYER_OPS = (
    "attn_norm",
    "qkv",
    "attention",
    "o_proj",
    "attn_residual",
    "mlp_norm",
    "router",
    "experts",
    "shared_experts",
    "mlp_residual",
)
LAYER_OPS = tuple(dict.fromkeys(DENSE_LAYER_OPS + MOE_LAYER_OPS))
ALL_OPS = MODEL_HEAD_OPS + LAYER_OPS + MODEL_TAIL_OPS
BOUNDARIES = ("stage_boundary", "step_end", "prefill_end")
ANCHORS = ALL_OPS + BOUNDARIES
TENSORS = {"qkv": ("q", "kv")}


@dataclass(frozen=True)
class MoE:
    experts: int
    top_k: int
    layers: frozenset[int]
    shared_experts: int = 0
    ffn: int = 0


@dataclass(frozen=True)
class Model:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    ffn: int | None = None
    mla: bool = False
    max_context: int | None = None
    moe: MoE | None = None
    hf_config: str | None = None

    def is_moe_layer(self, layer: int) -> bool:
        return self.moe is not None and layer in self.moe.layers

    def layer_ops(self, layer: int) -> tuple[str, ...]:
        """The ops of one layer, in data-flow (and program) order."""
        if self.moe is None or layer not in self.moe.layers:
            return DENSE_LAYER_OPS
        return MOE_LAYER_OPS if self.moe.shared_experts else MOE_LAYER_OPS_NO_SHARED

    @cached_property
    def dense_layers(self) -> frozenset[int]:
        return frozenset(i for i in range(self.layers) if not self.is_moe_layer(i))

    @cached_property
    def moe_layers(self) -> frozenset[int]:
        return frozenset(i for i in range(self.layers) if self.is_moe_layer(i))


@dataclass(frozen=True)
class Cluster:
    nodes: int
    gpus_per_node: int

    @property
    def size(self) -> int:
        return self.nodes * self.gpus_per_node


@dataclass(frozen=True)
class Degrees:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    sp: int = 1
    ep: int = 1

    @property
    def world(self) -> int:
        return self.tp * self.sp * self.dp * self.pp

    def of(self, axis: str) -> int:
        return getattr(self, axis)


@dataclass(frozen=True)
class Phase:
    name: str  # "prefill" | "decode"
    degrees: Degrees
    topology: Topology
    microbatches: int = 1
    tokens: int | None = None
    batch: int = 1
    overlap: str = "none"
    dp_idle: str = "dummy_batch"
    token_return: str = "host"

    @property
    def allows_async(self) -> bool:
        """S11: async collectives exist only under comm_compute and two_batch."""
        return self.overlap in ("comm_compute", "two_batch")


@dataclass(frozen=True)
class SyncPoint:
    index: int  # position in the `sync` list (0-based)
    after: str  # an op name or a boundary
    collective: str
    group: str
    id: str | None = None
    tensor: str | None = None  # None: every output of the anchor op
    role: str | None = None  # all_to_all only; resolved (explicit or inferred)
    phases: tuple[str, ...] = PHASES  # the phases it runs in (as written, default both)
    layers: frozenset[int] | None = None  # None: every layer (per-layer anchors only)
    is_async: bool = False
    wait_before: str | None = None
    ranks: Mapping[str, frozenset[int]] | None = None  # S9 selector; None: every rank

    @property
    def label(self) -> str:
        """How messages name the sync point: its id, else its position and shape."""
        if self.id:
            return f"'{self.id}'"
        return f"sync #{self.index + 1} ({self.collective} over {self.group} after {self.after})"

    @property
    def path(self) -> tuple:
        return ("sync", self.index)

    @property
    def is_per_layer(self) -> bool:
        return self.after in LAYER_OPS

    @property
    def is_boundary(self) -> bool:
        return self.after in BOUNDARIES

    def runs_in(self, phase: str) -> bool:
        return phase in self.phases

    def applies_to_layer(self, layer: int) -> bool:
        return self.layers is None or layer in self.layers

    def selects(self, coords: Mapping[str, int]) -> bool:
        """S9: whether the rank with these coordinates issues this sync."""
        if not self.ranks:
            return True
        return all(coords.get(axis, 0) in allowed for axis, allowed in self.ranks.items())


@dataclass(frozen=True)
class Plan:
    path: str  # as given by the user (used in output)
    text: str  # the source, for code frames
    name: str
    model: Model
    parallel: Degrees  # the shared degrees, before phase overrides
    layout: tuple[str, ...]
    explicit_stages: tuple[int, ...] | None
    phases: tuple[Phase, ...]
    syncs: tuple[SyncPoint, ...]
    cluster: Cluster | None = None
    op_sharding: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    spans: Mapping[tuple, Span] = field(default_factory=lambda: MappingProxyType({}))
    # keys the user wrote explicitly (phase overrides included), e.g. ("phases", "decode", "sp")
    written: frozenset[tuple] = frozenset()

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def span(self, path: tuple) -> Span:
        """The span of the value at `path`, or of its nearest written ancestor."""
        path = tuple(path)
        while path:
            found = self.spans.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.spans.get((), Span(1, 1))

    def key_span(self, path: tuple) -> Span:
        """The span of the key that introduces `path` (falls back to the value's span)."""
        found = self.spans.get(("@key",) + tuple(path))
        return found if found is not None else self.span(path)

    def sharding(self, op: str) -> str:
        return self.op_sharding.get(op, "default")

    def syncs_after(self, anchor: str, phase: str) -> tuple[SyncPoint, ...]:
        return tuple(s for s in self.syncs if s.after == anchor and s.runs_in(phase))
