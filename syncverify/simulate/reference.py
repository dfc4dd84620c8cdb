"""The single-device reference: every sequence run alone on the whole tiny model.

It records, per sequence and position, the output of every op whose value is complete on a
rank when the plan is right (norms, q/k/v, attention, residuals, the MLP intermediate, logits),
so a simulated rank's value can be held against it wherever it is computed.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from syncverify.simulate.model import (Dims, Weights, attend, embed_rows, expert_out, rmsnorm,
                                       route, swiglu)


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
        self.sampled: dict[int, list[int]] = {}     # seq -> [prefill token, step 0 token, ...]

    def run(self, prompts: dict[int, np.ndarray], decoded: set[int], steps: int) -> None:
        """Prefill every prompt; decode `steps` steps of the sequences in `decoded`."""
        for seq, prompt in sorted(prompts.items()):
            if seq in self.sampled and (seq not in decoded or len(self.sampled[seq]) > steps):
                continue            # already run (by an earlier scenario)
            cache: dict = defaultdict(list)
            positions = np.arange(len(prompt))
            token = self._forward(seq, prompt, positions, cache)
            self.sampled[seq] = [token]
            if seq not in decoded:
                continue
            for step in range(steps):
                pos = np.array([len(prompt) + step])
                token = self._forward(seq, np.array([token]), pos, cache)
                self.sampled[seq].append(token)
        self.matrix = {key: np.stack(vectors) for key, vectors in self._vectors.items()}

    def rows_of(self, keys: list) -> tuple[list, np.ndarray]:
        """For (seq, pos) keys: the positions in `keys` the reference ran, and their rows."""
        found = [i for i, key in enumerate(keys) if key in self.index]
        return found, np.array([self.index[keys[i]] for i in found], dtype=int)

    def vectors(self, layer: int, name: str, rows: np.ndarray) -> np.ndarray:
        return self.matrix[(layer, name)][rows]

    def value(self, layer: int, name: str, seq: int, pos: int):
        row = self.index.get((seq, pos))
        return None if row is None else self._vectors[(layer, name)][row]

    def _record(self, layer: int, name: str, seq: int, positions: np.ndarray, x: np.ndarray):
        self._vectors[(layer, name)].extend(x)

    def _forward(self, seq: int, tokens: np.ndarray, positions: np.ndarray, cache) -> int:
        dims, w = self.dims, self.w
        for pos in positions:
            self.index[(seq, int(pos))] = self._rows
            self._rows += 1
        x = embed_rows(tokens, w.embed, 0, dims.vocab)
        for layer in range(dims.layers):
            x = self._layer(seq, layer, x, positions, cache)
        h = rmsnorm(x, w.final_norm)
        logits = h @ w.lm_head
        tail = dims.layers
        self._record(tail, "final_norm", seq, positions, h)
        self._record(tail, "lm_head", seq, positions, logits)
        return int(np.argmax(logits[-1]))

    def _layer(self, seq, layer, x, positions, cache) -> np.ndarray:
        dims, lw = self.dims, self.w.layers[layer]
        rec = lambda name, value: self._record(layer, name, seq, positions, value)  # noqa: E731
        a = rmsnorm(x, lw["attn_norm"])
        rec("attn_norm", a)
        q = a @ lw["wq"]
        kv = a @ (lw["wdkv"] if dims.mla else lw["wkv"])
        rec("q", q)
        rec("latent" if dims.mla else "kv", kv)
        cache[layer].extend(zip(positions.tolist(), kv))
        att = self._attention(layer, q, positions, cache[layer])
        rec("attention", att)
        x = x + att @ lw["wo"]
        rec("attn_residual", x)
        m = rmsnorm(x, lw["mlp_norm"])
        rec("mlp_norm", m)
        if dims.is_moe(layer):
            branch = self._moe(lw, m)
        else:
            g = swiglu(m, lw["mlp"][0], lw["mlp"][1])
            rec("gate_up", g)
            branch = g @ lw["mlp"][2]
        x = x + branch
        rec("mlp_residual", x)
        return x

    def _attention(self, layer, q, positions, entries) -> np.ndarray:
        dims, lw, d = self.dims, self.w.layers[layer], self.dims.head_dim
        k_pos = np.array([p for p, _ in entries])
        stacked = np.stack([kv for _, kv in entries])
        out = np.zeros_like(q)
        if dims.mla:
            for h in range(dims.heads):
                cols = slice(h * d, (h + 1) * d)
                k, v = stacked @ lw["wuk"][:, cols], stacked @ lw["wuv"][:, cols]
                out[:, cols] = attend(q[:, cols], k, v, positions, k_pos)
            return out
        width = dims.group * d
        for g in range(dims.kv_heads):
            k, v = stacked[:, g * 2 * d:g * 2 * d + d], stacked[:, g * 2 * d + d:(g + 1) * 2 * d]
            cols = slice(g * width, (g + 1) * width)
            out[:, cols] = attend(q[:, cols], k, v, positions, k_pos)
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
