"""The single-device reference: every sequence run on the whole tiny model, on one device.

Sequences are independent, so they run side by side (arrays of [sequences, positions, width]);
each is computed exactly as if it ran alone. The reference records, per sequence and position,
the values a simulated rank is held against (the residual stream after each add, the final norm,
the logits) and every sampled token.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

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


class Reference:
    def __init__(self, dims: Dims, weights: Weights):
        self.dims = dims
        self.w = weights
        # (layer, name) -> the recorded vectors; every key records the same (seq, pos) in the
        # same order, so one index, (seq, pos) -> row, serves them all
        self._vectors: dict = defaultdict(list)
        self.index: dict = {}
        self._rows = 0
        self.matrix: dict = {}
        self.sampled: dict[int, list[int]] = {}  # seq -> [prefill token, step 0 token, ...]

    def run(self, prompts: dict[int, np.ndarray], decoded: set[int], steps: int) -> None:
        """Prefill every prompt; decode `steps` steps of the sequences in `decoded`. Sequences
        an earlier call already ran are not run again."""
        todo = sorted(
            s
            for s in prompts
            if s not in self.sampled or (s in decoded and len(self.sampled[s]) <= steps)
        )
        if todo:
            self._run(todo, np.stack([prompts[s] for s in todo]), decoded, steps)
        self.matrix = {key: np.stack(vectors) for key, vectors in self._vectors.items()}

    def _run(self, seqs: list, prompts: np.ndarray, decoded: set, steps: int) -> None:
        cache: dict = {}
        positions = np.arange(prompts.shape[1])
        tokens = self._forward(seqs, prompts, positions, cache)
        for seq, token in zip(seqs, tokens):
            self.sampled[seq] = [int(token)]
        keep = [i for i, s in enumerate(seqs) if s in decoded]
        if not keep:
            return
        seqs = [seqs[i] for i in keep]
        cache = {layer: kv[keep] for layer, kv in cache.items()}
        tokens = tokens[keep]
        for step in range(steps):
            pos = np.array([prompts.shape[1] + step])
            tokens = self._forward(seqs, tokens[:, None], pos, cache)
            for seq, token in zip(seqs, tokens):
                self.sampled[seq].append(int(token))

    def rows_of(self, keys: list) -> tuple[list, np.ndarray]:
        """For (seq, pos) keys: the positions in `keys` the reference ran, and their rows."""
        found = [i for i, key in enumerate(keys) if key in self.index]
        return found, np.array([self.index[keys[i]] for i in found], dtype=int)

    def vectors(self, layer: int, name: str, rows: np.ndarray) -> np.ndarray:
        return self.matrix[(layer, name)][rows]

    def value(self, layer: int, name: str, seq: int, pos: int):
        row = self.index.get((seq, pos))
        return None if row is None else self._vectors[(layer, name)][row]

    def _record(self, layer: int, name: str, x: np.ndarray) -> None:
        self._vectors[(layer, name)].extend(x.reshape(-1, x.shape[-1]))

    def _forward(self, seqs: list, tokens: np.ndarray, positions: np.ndarray, cache) -> np.ndarray:
        dims, w = self.dims, self.w
        for seq in seqs:
            for pos in positions:
                self.index[(seq, int(pos))] = self._rows
                self._rows += 1
        x = embed_rows(tokens.reshape(-1), w.embed, 0, dims.vocab).reshape(
            len(seqs), len(positions), -1
        )
        for layer in range(dims.layers):
            x = self._layer(layer, x, positions, cache)
        h = rmsnorm(x, w.final_norm)
        logits = h @ w.lm_head
        self._record(dims.layers, "final_norm", h)
        self._record(dims.layers, "lm_head", logits)
        return np.argmax(logits[:, -1], axis=1)

    def _layer(self, layer, x, positions, cache) -> np.ndarray:
        dims, lw = self.dims, self.w.layers[layer]
        a = rmsnorm(x, lw["attn_norm"])
        q = a @ lw["wq"]
        kv = a @ (lw["wdkv"] if dims.mla else lw["wkv"])
        self._record(layer, "latent" if dims.mla else "kv", kv)  # a decode-only plan's prompt K/V
        cache[layer] = kv if layer not in cache else np.concatenate([cache[layer], kv], axis=1)
        x = x + self._attention(layer, q, positions, cache[layer]) @ lw["wo"]
        self._record(layer, "attn_residual", x)
        m = rmsnorm(x, lw["mlp_norm"])
        if dims.is_moe(layer):
            branch = self._moe(lw, m.reshape(-1, m.shape[-1])).reshape(m.shape)
        else:
            branch = swiglu(m, lw["mlp"][0], lw["mlp"][1]) @ lw["mlp"][2]
        x = x + branch
        self._record(layer, "mlp_residual", x)
        return x

    def _attention(self, layer, q, positions, stacked) -> np.ndarray:
        dims, lw, d = self.dims, self.w.layers[layer], self.dims.head_dim
        k_pos = np.arange(stacked.shape[1])
        out = np.zeros_like(q)
        if dims.mla:
            for h in range(dims.heads):
                cols = slice(h * d, (h + 1) * d)
                k, v = stacked @ lw["wuk"][:, cols], stacked @ lw["wuv"][:, cols]
                out[..., cols] = attend_batch(q[..., cols], k, v, positions, k_pos)
            return out
        width = dims.group * d
        for g in range(dims.kv_heads):
            k, v = (
                stacked[..., g * 2 * d : g * 2 * d + d],
                stacked[..., g * 2 * d + d : (g + 1) * 2 * d],
            )
            cols = slice(g * width, (g + 1) * width)
            out[..., cols] = attend_batch(q[..., cols], k, v, positions, k_pos)
        return out

    def _moe(self, lw, m) -> np.ndarray:
        dims = self.dims
        chosen, weights = route(m, lw["router"], dims.top_k)
        out = np.zeros_like(m)
        for e in range(dims.experts):
            rows, slot = np.nonzero(chosen == e)
            if len(rows):
                out[rows] += weights[rows, slot][:, None] * expert_out(m[rows], lw["experts"][e])
        if dims.shared_ffn:
            out = out + expert_out(m, lw["shared"])
        return out
