"""The tiny model: the plan's architecture scaled down, with fixed random weights (numpy).

Scaling keeps every divisibility the plan relies on (S20): heads split over every phase's
tp x sp (a Ulysses all_to_all over sp splits the heads of a TP shard further), kv_heads keeps
its order against tp (it divides tp, or tp divides it), ffn and the vocabulary
split over tp, experts over ep, the per-expert width over the expert-TP degree. The layer count,
the MoE layer set and the stage split are the plan's own, so every per-layer selector still
means what it says.

The math here (norm, attention, SwiGLU, routing) is shared by the single-device reference and by
the simulated ranks, so both compute the same numbers up to the order of floating-point sums.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil, gcd, lcm
from typing import TypedDict

import numpy as np

from syncverify.plan import Plan

HIDDEN = 16
HEAD_DIM = 4
LATENT = 8  # MLA: width of the shared latent K/V of one token
EPS = 1e-6
SEED = 20240607


def _round_up(value: int, multiple: int) -> int:
    return multiple * ceil(value / multiple)


@dataclass(frozen=True)
class Dims:
    layers: int
    hidden: int
    head_dim: int
    heads: int
    kv_heads: int
    mla: bool
    latent: int
    ffn: int
    vocab: int
    moe_layers: frozenset
    experts: int = 0
    top_k: int = 0
    expert_ffn: int = 0
    shared_ffn: int = 0  # all shared experts together, as one MLP (0: none)

    @property
    def group(self) -> int:
        """Query heads per KV head (GQA)."""
        return self.heads // self.kv_heads

    def width(self, dim: str) -> int:
        """The full width of a column dimension of an activation."""
        return {
            "hidden": self.hidden,
            "q": self.heads * self.head_dim,
            "kv": self.kv_heads * 2 * self.head_dim,
            "latent": self.latent,
            "ffn": self.ffn,
            "vocab": self.vocab,
            "token": 1,
        }[dim]

    def is_moe(self, layer: int) -> bool:
        return layer in self.moe_layers


def scaled_dims(plan: Plan) -> Dims:
    """The tiny model's shape for `plan` (see the module docstring)."""
    model = plan.model
    tp_all = lcm(*(p.degrees.tp for p in plan.phases))
    head_split = lcm(*(p.degrees.tp * p.degrees.sp for p in plan.phases))
    heads = 2 * head_split
    if model.mla or model.kv_heads == model.heads:
        kv_heads = heads
    else:
        # gcd keeps, for every phase's tp (and tp x sp), "it divides kv_heads" or "kv_heads
        # divides it"
        kv_heads = gcd(model.kv_heads, head_split)
    dims = Dims(
        layers=model.layers,
        hidden=HIDDEN,
        head_dim=HEAD_DIM,
        heads=heads,
        kv_heads=kv_heads,
        mla=model.mla,
        latent=LATENT,
        ffn=_round_up(8, tp_all),
        vocab=_round_up(32, tp_all),
        moe_layers=frozenset(model.moe_layers),
    )
    if model.moe is None:
        return dims
    ep_all = lcm(*(p.degrees.ep for p in plan.phases))
    expert_tp = lcm(*(p.degrees.tp for p in plan.phases if p.degrees.ep == 1), 1)
    experts = _round_up(max(4, 2 * ep_all), ep_all)
    shared = min(model.moe.shared_experts, 2)
    return replace(
        dims,
        experts=experts,
        top_k=max(1, min(model.moe.top_k, experts // 2)),
        expert_ffn=_round_up(4, expert_tp),
        shared_ffn=shared * _round_up(4, tp_all),
    )


Mlp = tuple[np.ndarray, np.ndarray, np.ndarray]  # gate, up, down


class LayerWeights(TypedDict, total=False):
    """One layer's weights; which keys are set depends on the layer (MLA, MoE, shared)."""

    attn_norm: np.ndarray
    mlp_norm: np.ndarray
    wq: np.ndarray
    wo: np.ndarray
    wkv: np.ndarray  # standard attention
    wdkv: np.ndarray  # MLA: down to the latent, and up to K and V
    wuk: np.ndarray
    wuv: np.ndarray
    mlp: Mlp  # dense layers
    router: np.ndarray  # MoE layers
    experts: list[Mlp]
    shared: Mlp  # MoE layers with shared experts


class Weights:
    """Fixed random weights (one seed), scaled so activations stay of order one."""

    def __init__(self, dims: Dims, seed: int = SEED):
        rng = np.random.default_rng(seed)
        H, d = dims.hidden, dims.head_dim

        def mat(rows: int, cols: int) -> np.ndarray:
            return rng.standard_normal((rows, cols)) / np.sqrt(rows)

        def gain() -> np.ndarray:
            return 1.0 + 0.1 * rng.standard_normal(H)

        self.dims = dims
        self.embed = rng.standard_normal((dims.vocab, H))
        self.layers: list[LayerWeights] = []
        for layer in range(dims.layers):
            w: LayerWeights = {
                "attn_norm": gain(),
                "mlp_norm": gain(),
                "wq": mat(H, dims.heads * d),
                "wo": mat(dims.heads * d, H),
            }
            if dims.mla:
                w["wdkv"] = mat(H, dims.latent)
                w["wuk"] = mat(dims.latent, dims.heads * d)
                w["wuv"] = mat(dims.latent, dims.heads * d)
            else:
                # per KV head g, columns [g*2d, g*2d+d) are K and [g*2d+d, (g+1)*2d) are V
                w["wkv"] = mat(H, dims.kv_heads * 2 * d)
            if dims.is_moe(layer):
                w["router"] = mat(H, dims.experts)
                w["experts"] = [
                    (mat(H, dims.expert_ffn), mat(H, dims.expert_ffn), mat(dims.expert_ffn, H))
                    for _ in range(dims.experts)
                ]
                if dims.shared_ffn:
                    w["shared"] = (
                        mat(H, dims.shared_ffn),
                        mat(H, dims.shared_ffn),
                        mat(dims.shared_ffn, H),
                    )
            else:
                w["mlp"] = (mat(H, dims.ffn), mat(H, dims.ffn), mat(dims.ffn, H))
            self.layers.append(w)
        self.final_norm = gain()
        self.lm_head = mat(H, dims.vocab)

    def norm_gain(self, layer: int, norm: str) -> np.ndarray:
        """The gain of `norm` (attn_norm, mlp_norm: of `layer`; final_norm)."""
        if norm == "final_norm":
            return self.final_norm
        if norm == "attn_norm":
            return self.layers[layer]["attn_norm"]
        if norm == "mlp_norm":
            return self.layers[layer]["mlp_norm"]
        raise KeyError(norm)


# ---- the math both the reference and the ranks run ------------------------------------------


def rmsnorm(x: np.ndarray, gain: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * gain


def swiglu(x: np.ndarray, gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The activated intermediate of a gated MLP (what `gate_up` hands to `down`)."""
    a = x @ gate
    return a / (1.0 + np.exp(-a)) * (x @ up)


def embed_rows(tokens: np.ndarray, table: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Vocab-parallel embedding: rows of tokens outside [lo, hi) are zero (a partial sum)."""
    out = np.zeros((len(tokens), table.shape[1]))
    mine = (tokens >= lo) & (tokens < hi)
    out[mine] = table[tokens[mine]]
    return out


def attend(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, q_pos: np.ndarray, k_pos: np.ndarray
) -> np.ndarray:
    """Causal attention of the query heads side by side in q ([n, heads*d]) that share one K/V
    head (k, v: [m, d]): queries at q_pos over keys at k_pos."""
    return attend_batch(q[None], k[None], v[None], q_pos, k_pos)[0]


def attend_batch(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, q_pos: np.ndarray, k_pos: np.ndarray
) -> np.ndarray:
    """`attend` for S sequences at once (q: [S, n, heads*d], k and v: [S, m, d])."""
    s, n, d = q.shape[0], q.shape[1], k.shape[2]
    heads = q.reshape(s, n, -1, d)
    scores = np.einsum("snhd,smd->shnm", heads, k) / np.sqrt(d)
    scores = np.where(k_pos[None, None, None, :] <= q_pos[None, None, :, None], scores, -np.inf)
    scores -= scores.max(axis=3, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=3, keepdims=True)
    return np.einsum("shnm,smd->snhd", p, v).reshape(s, n, -1)


def route(x: np.ndarray, router: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k experts per token by router score, ties to the lower index; softmax weights."""
    scores = x @ router
    chosen = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
    top = np.take_along_axis(scores, chosen, axis=1)
    weights = np.exp(top - top.max(axis=1, keepdims=True))
    return chosen, weights / weights.sum(axis=1, keepdims=True)


def expert_out(x: np.ndarray, expert: Mlp, cols: slice | None = None) -> np.ndarray:
    """One expert (or its ffn shard `cols`, a partial sum) on the rows of x."""
    gate, up, down = expert
    cols = cols if cols is not None else slice(None)
    return swiglu(x, gate[:, cols], up[:, cols]) @ down[cols]


def kv_heads_of(dims: Dims, tp: int, coord: int) -> range:
    """The KV heads a TP rank owns (S20: split over tp, or replicated when tp > kv_heads)."""
    if dims.kv_heads % tp == 0:
        per = dims.kv_heads // tp
        return range(coord * per, (coord + 1) * per)
    head = coord * dims.kv_heads // tp
    return range(head, head + 1)
