"""The ops of one rank on its buffers (the op-sharding of the plan format: embed vocab-parallel,
qkv/gate_up column-parallel, o_proj/down row-parallel, lm_head vocab-parallel, experts per S12,
shared experts like a dense MLP, norms/residuals/router per token).

An op takes what it is given: ops never slice, de-duplicate or reshape an input (S19). An input
it cannot use (expert order where tokens are needed, a feature shard where every feature is
needed, the wrong shard, repeated rows, addends of different tokens) raises `Misplaced`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from syncverify.simulate.buffers import Buf
from syncverify.simulate.model import (
    Dims,
    Weights,
    attend_batch,
    embed_rows,
    expert_out,
    rmsnorm,
    route,
    swiglu,
)
from syncverify.simulate.ranks import RankView

LATENT_HEAD = -1


class Misplaced(Exception):
    """An op's input is not in a placement the op can use (the message says how)."""


class MissingKV(Exception):
    """Attention lacks K/V it needs (the message names the sequence and positions)."""


def _need_tokens(buf: Buf, what: str, full: bool = True, dims: Dims | None = None) -> None:
    if buf.order != "token":
        raise Misplaced(f"{what} is in expert order (dispatched, never combined)")
    if buf.duplicated:
        raise Misplaced(f"{what} holds some tokens more than once")
    if full and dims is not None:
        dim, lo, hi = buf.cols
        if dim != "hidden" or lo != 0 or hi != dims.hidden:
            raise Misplaced(f"{what} holds {dim} columns {lo}-{hi}, not every hidden feature")


class Ops:
    def __init__(self, dims: Dims, weights: Weights, prompt_len: int):
        self.dims = dims
        self.w = weights
        self.prompt_len = prompt_len

    # ---- per token -------------------------------------------------------------------------
    def embed(self, v: RankView, rows: tuple, tokens: np.ndarray) -> Buf:
        _, lo, hi = v.shard("vocab", "embed")
        return Buf(embed_rows(tokens, self.w.embed, lo, hi), rows, ("hidden", 0, self.dims.hidden))

    def norm(self, layer: int, op: str, x: Buf) -> Buf:
        _need_tokens(x, f"{op}'s input", dims=self.dims)
        return x.with_data(rmsnorm(x.data, self.w.norm_gain(layer, op)))

    def router(self, layer: int, x: Buf) -> Buf:
        _need_tokens(x, "router's input", dims=self.dims)
        experts, weights = route(x.data, self.w.layers[layer]["router"], self.dims.top_k)
        return Buf(x.data, x.rows, x.cols, route=(experts, weights))

    def add(self, op: str, addends: dict) -> Buf:
        """A residual: every addend holds the same tokens and features (S13, S19)."""
        names = list(addends)
        base = addends[names[0]]
        _need_tokens(base, f"{op}'s {names[0]}", dims=self.dims)
        total = base.data
        for name in names[1:]:
            other = addends[name]
            _need_tokens(other, f"{op}'s {name}", dims=self.dims)
            if other.rows != base.rows:
                raise Misplaced(f"{op} adds {name} and {names[0]} holding different tokens")
            total = total + other.data
        return base.with_data(total)

    # ---- attention -------------------------------------------------------------------------
    def qkv(self, v: RankView, layer: int, x: Buf) -> tuple[Buf, Buf]:
        _need_tokens(x, "qkv's input", dims=self.dims)
        lw = self.w.layers[layer]
        qcols = v.shard("q", "qkv")
        q = x.with_data(x.data @ lw["wq"][:, qcols[1] : qcols[2]], qcols)
        kvcols = v.kv_cols()
        weight = lw["wdkv"] if self.dims.mla else lw["wkv"]
        kv = x.with_data(x.data @ weight[:, kvcols[1] : kvcols[2]], kvcols)
        q.route = kv.route = None
        return q, kv

    def attention(self, layer: int, q: Buf, kv: Buf, cache: dict, needed_positions, seq_of) -> Buf:
        """Writes the K/V rows it is given into the rank's cache, then attends over the cache.

        `needed_positions(seq, pos)` is every position attention must see for a query (the
        whole prompt in prefill, as the checker decides; the prompt and decoded tokens in decode);
        dummy sequences (negative ids) attend over whatever is there.
        """
        _need_tokens(q, "attention's q", full=False)
        _need_tokens(kv, "attention's k/v", full=False)
        heads = self._heads(q)
        needed = {LATENT_HEAD} if self.dims.mla else {h // self.dims.group for h in heads}
        held = self._write_kv(layer, kv, cache, seq_of)
        if not needed <= held:
            raise Misplaced(
                f"attention's k/v holds KV heads {_ranges(held)}, "
                f"its query heads need {_ranges(needed)}"
            )
        out = np.zeros_like(q.data)
        for seqs, idx, q_pos, k_pos in self._batches(
            layer, q, heads, cache, needed_positions, seq_of
        ):
            part = q.data[idx].reshape(len(seqs), len(q_pos), -1)
            out[idx] = self._attend(
                layer, part, heads, q.cols[1], seqs, q_pos, k_pos, cache
            ).reshape(len(idx), -1)
        return q.with_data(out)

    def _batches(self, layer, q: Buf, heads, cache, needed_positions, seq_of):
        """Sequences whose queries and keys sit at the same positions, attended together."""
        by_seq = defaultdict(list)
        for i, row in enumerate(q.rows):
            by_seq[seq_of(row)].append(i)
        groups = defaultdict(list)
        layer_cache = cache.get(layer, {})
        for seq, idx in by_seq.items():
            q_pos = tuple(q.rows[i][3] for i in idx)
            wanted = needed_positions(seq, max(q_pos))
            keys = {self._kv_key(h) for h in heads}
            if seq >= 0:
                for g in sorted(keys):
                    entries = layer_cache.get((seq, g), {})
                    lacking = [p for p in wanted if p not in entries]
                    if lacking:
                        raise MissingKV(
                            f"attention lacks the K/V of sequence {seq} positions "
                            f"{_ranges(lacking)} for KV head {g if g >= 0 else 'latent'}"
                        )
                k_pos = tuple(wanted)
            else:  # a dummy sequence attends over whatever K/V is there
                present = set.intersection(*(set(layer_cache.get((seq, g), {})) for g in keys))
                k_pos = tuple(p for p in wanted if p in present)
                if not k_pos:
                    continue
            groups[(q_pos, k_pos, "real" if seq >= 0 else seq)].append(seq)
        for (q_pos, k_pos, _), seqs in groups.items():
            idx = [i for seq in seqs for i in by_seq[seq]]
            yield seqs, idx, np.array(q_pos), np.array(k_pos)

    def _kv_key(self, head: int) -> int:
        return LATENT_HEAD if self.dims.mla else head // self.dims.group

    def _heads(self, q: Buf) -> range:
        dim, lo, hi = q.cols
        d = self.dims.head_dim
        if dim != "q" or lo % d or hi % d:
            raise Misplaced(f"attention's q holds {dim} columns {lo}-{hi}, not whole query heads")
        return range(lo // d, hi // d)

    def _write_kv(self, layer: int, kv: Buf, cache: dict, seq_of) -> set:
        """Store each K/V row under (sequence, KV head) -> position; return the heads given."""
        dim, lo, hi = kv.cols
        layer_cache = cache.setdefault(layer, {})
        if self.dims.mla:
            if (dim, lo, hi) != ("latent", 0, self.dims.latent):
                raise Misplaced(
                    f"attention's k/v holds {dim} columns {lo}-{hi}, not the whole latent"
                )
            spans = {LATENT_HEAD: (0, hi)}
        else:
            span = 2 * self.dims.head_dim
            if dim != "kv" or lo % span or hi % span:
                raise Misplaced(
                    f"attention's k/v holds {dim} columns {lo}-{hi}, not whole KV heads"
                )
            spans = {
                g: ((g - lo // span) * span, (g - lo // span + 1) * span)
                for g in range(lo // span, hi // span)
            }
        for row, values in zip(kv.rows, kv.data):
            seq = seq_of(row)
            for g, (a, b) in spans.items():
                layer_cache.setdefault((seq, g), {})[row[3]] = values[a:b]
        return set(spans)

    def _attend(self, layer, qdata, heads, qlo, seqs, q_pos, k_pos, cache) -> np.ndarray:
        """Per KV head (per head under MLA), the query heads of this rank that read it."""
        d, lw = self.dims.head_dim, self.w.layers[layer]
        out = np.zeros_like(qdata)
        layer_cache = cache.get(layer, {})
        groups = defaultdict(list)
        for h in heads:
            groups[h if self.dims.mla else h // self.dims.group].append(h)
        for key, members in groups.items():
            g = self._kv_key(members[0])
            stacked = np.stack(
                [np.stack([layer_cache[(seq, g)][p] for p in k_pos]) for seq in seqs]
            )
            local = slice(members[0] * d - qlo, (members[-1] + 1) * d - qlo)
            if self.dims.mla:
                cols = slice(key * d, (key + 1) * d)
                k, v = stacked @ lw["wuk"][:, cols], stacked @ lw["wuv"][:, cols]
            else:
                k, v = stacked[:, :, :d], stacked[:, :, d:]
            out[:, :, local] = attend_batch(qdata[:, :, local], k, v, q_pos, k_pos)
        return out

    def o_proj(self, v: RankView, layer: int, x: Buf) -> Buf:
        return self._row_parallel(v, "o_proj", "q", x, self.w.layers[layer]["wo"])

    def _row_parallel(self, v: RankView, op: str, dim: str, x: Buf, weight: np.ndarray) -> Buf:
        _need_tokens(x, f"{op}'s input", full=False)
        want = v.shard(dim, op)
        if x.cols != want:
            raise Misplaced(
                f"{op} needs {want[0]} columns {want[1]}-{want[2]} "
                f"and gets {x.cols[0]} columns {x.cols[1]}-{x.cols[2]}"
            )
        return x.with_data(x.data @ weight[want[1] : want[2]], ("hidden", 0, self.dims.hidden))

    # ---- MLP and experts --------------------------------------------------------------------
    def gate_up(self, v: RankView, layer: int, x: Buf) -> Buf:
        _need_tokens(x, "gate_up's input", dims=self.dims)
        gate, up, _ = self.w.layers[layer]["mlp"]
        cols = v.shard("ffn", "gate_up")
        return x.with_data(
            swiglu(x.data, gate[:, cols[1] : cols[2]], up[:, cols[1] : cols[2]]), cols
        )

    def down(self, v: RankView, layer: int, x: Buf) -> Buf:
        return self._row_parallel(v, "down", "ffn", x, self.w.layers[layer]["mlp"][2])

    def experts(self, v: RankView, layer: int, x: Buf) -> Buf:
        """S12: token order -> this rank's experts (or expert shards) on every token it holds, a
        partial sum; expert order -> each dispatched row through its expert, weighted."""
        experts = self.w.layers[layer]["experts"]
        cols = v.expert_cols()
        if x.order == "expert":
            return self._dispatched_experts(v, x, experts, cols)
        _need_tokens(x, "experts' input", dims=self.dims)
        if x.route is None:
            raise Misplaced("experts' input carries no routing")
        chosen, weights = x.route
        out = np.zeros_like(x.data)
        for e in v.experts:
            rows, slot = np.nonzero(chosen == e)
            if len(rows):
                out[rows] += weights[rows, slot][:, None] * expert_out(
                    x.data[rows], experts[e], cols
                )
        return Buf(out, x.rows, x.cols)

    def _dispatched_experts(self, v: RankView, x: Buf, experts, cols) -> Buf:
        if x.weights is None:  # a dispatch gives every row it sends its routing weight
            raise ValueError("expert-order rows without their routing weights")
        routing = x.weights
        out = np.zeros_like(x.data)
        by_expert = defaultdict(list)
        for i, (_row, e, _sender) in enumerate(x.rows):
            by_expert[e].append(i)
        for e, idx in by_expert.items():
            if e not in v.experts:
                raise Misplaced(
                    f"expert {e} received tokens on a rank that holds experts {_ranges(v.experts)}"
                )
            out[idx] = routing[idx][:, None] * expert_out(x.data[idx], experts[e], cols)
        return x.with_data(out)

    def shared_experts(self, v: RankView, layer: int, x: Buf, routed: Buf | None = None) -> Buf:
        _need_tokens(x, "shared_experts' input", dims=self.dims)
        out = x.with_data(expert_out(x.data, self.w.layers[layer]["shared"], v.shared_cols()))
        out.route = None
        if routed is None:
            return out
        return self.add("shared_experts", {"routed": routed, "shared": out})

    # ---- the tail ---------------------------------------------------------------------------
    def lm_head(self, v: RankView, x: Buf) -> Buf:
        _need_tokens(x, "lm_head's input", dims=self.dims)
        cols = v.shard("vocab", "lm_head")
        return x.with_data(x.data @ self.w.lm_head[:, cols[1] : cols[2]], cols)

    def sample(self, phase: str, x: Buf) -> tuple[Buf, Buf]:
        """Greedy: the prompt's last position in prefill, every row in decode. Returns the
        sampled rows' logits and their tokens."""
        _need_tokens(x, "sample's input", full=False)
        if x.cols != ("vocab", 0, self.dims.vocab):
            raise Misplaced(
                f"sample needs the logits of the whole vocabulary and gets "
                f"{x.cols[0]} columns {x.cols[1]}-{x.cols[2]}"
            )
        keep = [
            i for i, row in enumerate(x.rows) if phase == "decode" or row[3] == self.prompt_len - 1
        ]
        logits = x.take(keep)
        tokens = np.argmax(logits.data, axis=1).astype(float)[:, None] if keep else np.zeros((0, 1))
        return logits, Buf(tokens, logits.rows, ("token", 0, 1))


def _ranges(values) -> str:
    values = sorted(values)
    if not values:
        return "none"
    out, start, prev = [], values[0], values[0]
    for v in values[1:]:
        if v != prev + 1:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = v
        prev = v
    out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out)
