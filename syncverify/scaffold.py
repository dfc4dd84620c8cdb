"""`syncverify init`: a complete, commented plan for a Hugging Face config and a layout.

The sync set comes from `syncverify.synthesis` (the checker's semantics run backwards); this
module turns it into a plan file a person can read: `model.hf_config` pointing at the config
(relative to the written file), the degrees, the phases, and above each sync point a comment
saying why the layout needs it, citing the plan format's S-numbers. Before anything is written
the plan is checked; a layout that does not fit the model (heads that do not split over tp, ...)
is refused with the checker's findings.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import click

COMMENT_WIDTH = 96


@dataclass(frozen=True)
class Layout:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    sp: int = 1
    ep: int = 1
    nodes: int | None = None
    gpus_per_node: int | None = None
    overlap: str = "none"
    microbatches: int | None = None
    tokens: int = 4096
    batch: int = 64
    token_return: str = "host"

    def __post_init__(self) -> None:
        """Refuse a layout too large to check before anything is synthesized or rendered
        (`--pp 10000000` wrote out a ten-million-entry stage list for a minute, SV014)."""
        from syncverify.budget import layout_refusal

        refused = layout_refusal(self.world, self.pp, self.default_microbatches())
        if refused:
            axis, why = refused
            if axis == "world":
                axis = max(("tp", "pp", "dp", "sp"), key=lambda a: getattr(self, a))
            raise LayoutTooLarge(f"{why} [SV014]", param_hint=f"'--{axis}'")
        self._check_cluster()

    def _check_cluster(self) -> None:
        """An explicit cluster must hold the degrees exactly (S1: the world is the devices):
        refused, naming the flags, rather than silently made larger (`--nodes 3` for 16
        devices once became "3 nodes x 6")."""
        nodes, per_node, world = self.nodes, self.gpus_per_node, self.world
        uses = f"{plural(world, 'device')} ({self.degrees()})"
        if nodes and per_node and nodes * per_node != world:
            raise ClusterMismatch(
                f"{plural(nodes, 'node')} x {plural(per_node, 'device')} is "
                f"{plural(nodes * per_node, 'device')}, but the layout uses {world} "
                f"({self.degrees()}): make --nodes x --gpus-per-node equal {world}",
                param_hint="'--nodes' / '--gpus-per-node'",
            )
        if nodes and not per_node and world % nodes:
            raise ClusterMismatch(
                f"{uses} do not split over {plural(nodes, 'node')}: "
                f"use a --nodes that divides {world} ({divisors(world)})",
                param_hint="'--nodes'",
            )
        if per_node and not nodes and world % per_node:
            raise ClusterMismatch(
                f"{uses} do not fill whole nodes of {plural(per_node, 'device')}: "
                f"use a --gpus-per-node that divides {world} ({divisors(world)})",
                param_hint="'--gpus-per-node'",
            )

    def degrees(self) -> str:
        """`tp 8 x dp 2`: the degrees above 1 whose product is the world."""
        used = [f"{axis} {getattr(self, axis)}" for axis in ("tp", "sp", "dp", "pp")]
        return " x ".join(d for d in used if not d.endswith(" 1")) or "one device"

    @property
    def world(self) -> int:
        return self.tp * self.pp * self.dp * self.sp

    def default_microbatches(self) -> int:
        """As given, else one per stage, which keeps every stage busy (S21: fewer is a
        bubble); two_batch needs an even count (S16)."""
        if self.microbatches:
            return self.microbatches
        if self.overlap == "two_batch":
            return max(2, self.pp + self.pp % 2)
        return self.pp

    def command(self, hf: str) -> str:
        """The `syncverify init` command line that asks for this layout."""
        words = ["syncverify init", f"--hf {hf}"]
        for key, value in self.__dict__.items():
            if value != getattr(Layout, key):
                words.append(f"--{key.replace('_', '-')} {value}")
        return " ".join(words)

    def cluster(self) -> tuple[int, int] | None:
        """(nodes, gpus_per_node) from either or both options; None when neither is given."""
        if self.nodes and self.gpus_per_node:
            return self.nodes, self.gpus_per_node
        if self.gpus_per_node:  # divides the world (_check_cluster)
            return self.world // self.gpus_per_node, self.gpus_per_node
        if self.nodes:
            return self.nodes, self.world // self.nodes
        return None


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def divisors(number: int, shown: int = 8) -> str:
    """`1, 2, 4, 8 or 16`; past `shown` of them, the smallest then `..., number`."""
    found = [str(d) for d in range(1, number + 1) if number % d == 0]
    if len(found) > shown:
        return ", ".join(found[: shown - 1]) + ", ... or " + found[-1]
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " or " + found[-1]


class LayoutTooLarge(click.BadParameter):
    """A layout past the size budget (syncverify.budget): click reports it on the option, exit 2."""


class ClusterMismatch(click.BadParameter):
    """--nodes / --gpus-per-node that cannot hold the degrees: reported on the flags, exit 2."""


class InitProblem(Exception):
    """The config cannot be read or the options do not make a layout (exit code 2)."""


# ------------------------------------------------------------------------ the model


def hf_config_file(hf_path: str) -> str:
    """The config file `--hf` names: itself, or the config.json in the model folder it names
    (refused on the flag, exit 2, when the folder holds none)."""
    from syncverify.hfconfig import HfConfigError, config_file

    try:
        return str(config_file(Path(hf_path)))
    except HfConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="'--hf'") from None


def model_keys(hf_path: str) -> dict:
    """The plan `model` keys a config gives, MoE layers written as "all", "a..b" or a list."""
    from syncverify.hfconfig import HfConfigError, read_hf_config

    try:
        model = dict(read_hf_config(hf_path))
    except (HfConfigError, OSError) as exc:
        raise InitProblem(f"--hf: cannot read '{hf_path}': {exc}") from None
    missing = [k for k in ("layers", "hidden", "heads", "vocab") if k not in model]
    if missing:
        raise InitProblem(f"'{hf_path}' gives no {', '.join(missing)} (not a decoder config?)")
    if model.get("moe"):
        moe = dict(model["moe"])
        moe["layers"] = layer_selector(sorted(moe["layers"]), model["layers"])
        model["moe"] = moe
    return model


def layer_selector(layers: list[int], total: int):
    if layers == list(range(total)):
        return "all"
    if layers == list(range(layers[0], layers[-1] + 1)):
        return f"{layers[0]}..{layers[-1]}"
    return layers


# ------------------------------------------------------------------------ the plan


def build_plan(model: dict, layout: Layout, name: str) -> dict:
    from syncverify.synthesis import synthesize_plan

    cluster = layout.cluster()
    microbatches = layout.default_microbatches()
    return synthesize_plan(
        model,
        name=name,
        tp=layout.tp,
        pp=layout.pp,
        dp=layout.dp,
        ep=layout.ep,
        prefill_sp=layout.sp,
        decode_dp=layout.dp * layout.sp if layout.sp > 1 else None,
        overlap=layout.overlap,
        prefill_microbatches=microbatches,
        decode_microbatches=microbatches,
        tokens=layout.tokens,
        batch=layout.batch,
        token_return=layout.token_return,
        nodes=cluster and cluster[0],
        gpus_per_node=cluster and cluster[1],
    )


def plan_name(hf_path: str, layout: Layout) -> str:
    from syncverify.hfconfig import config_file

    parts = [model_label(config_file(Path(hf_path)).resolve()).lower()]
    for axis in ("tp", "pp", "sp", "dp", "ep"):
        degree = getattr(layout, axis)
        if degree > 1:
            parts.append(f"{axis}{degree}")
    if layout.overlap != "none":
        parts.append(layout.overlap.replace("_", "-"))
    return "-".join(parts)


def model_label(config: Path) -> str:
    """What the model is called, from the config file's path: the file's stem
    (`Llama-3.1-8B.json`), or for a `config.json` its folder's name; a Hugging Face cache
    snapshot (`models--meta-llama--Llama-3.1-8B/snapshots/<hash>/config.json`) is named after
    its repository. Names only: `config` may be relative to any folder."""
    from syncverify.hfconfig import CONFIG_NAME

    folder = config.parent
    if config.name != CONFIG_NAME or folder.name in ("", ".", ".."):
        return config.stem
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--"):
        return folder.parent.parent.name.rsplit("--", 1)[-1]
    return folder.name


def config_title(hf_ref: str) -> str:
    """How the plan's header names the config: its file name, or the model for a config.json
    in a model folder."""
    config = Path(hf_ref)
    label = model_label(config)
    return config.name if label == config.stem else label


def hf_reference(hf_path: str, output: str | None) -> str:
    """The config's path as the plan names it, relative to the plan file's folder: the
    config.json itself when `hf_path` is the model's folder."""
    from syncverify.hfconfig import config_file

    hf_path = str(config_file(Path(hf_path)))
    folder = Path(output).resolve().parent if output and output != "-" else Path.cwd()
    try:
        return Path(os.path.relpath(Path(hf_path).resolve(), folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(hf_path).resolve().as_posix()


# ------------------------------------------------------------------------ the text


def render(plan: dict, model: dict, hf_ref: str, layout: Layout, argv: str) -> str:
    """The plan as commented YAML, one sync point per line."""
    lines = _header(plan, model, hf_ref, layout, argv)
    lines += [
        "syncverify: 1",
        f"name: {_flow(plan['name'])}",
        "model:",
        f"  hf_config: {_flow(hf_ref)}",
    ]
    if "cluster" in plan:
        lines.append(f"cluster: {_flow(plan['cluster'])}")
    lines.append(f"parallel: {_flow(_without_ones(plan['parallel'], keep=('tp',)))}")
    lines.append("phases:")
    for phase, keys in plan["phases"].items():
        lines.append(f"  {phase}: {_flow(_without_ones(keys, keep=('microbatches',)))}")
    lines.append("sync:" if plan["sync"] else "sync: []   # one device: nothing to synchronize")
    for sync in plan["sync"]:
        lines += [f"  # {line}" for line in _wrapped(reason(sync, plan, model))]
        lines.append(f"  - {_flow(sync)}")
    return "\n".join(lines) + "\n"


def _header(plan: dict, model: dict, hf_ref: str, layout: Layout, argv: str) -> list[str]:
    shape = (
        f"{model['layers']} layers, hidden {model['hidden']}, {model['heads']} heads, "
        f"{model.get('kv_heads', model['heads'])} KV heads"
        + (" (MLA: one latent KV per token)" if model.get("mla") else "")
        + (f", ffn {model['ffn']}" if model.get("ffn") else "")
        + f", vocab {model['vocab']}"
    )
    moe = model.get("moe")
    if moe:
        where = "in every layer" if moe["layers"] == "all" else f"in layers {moe['layers']}"
        shape += f"; MoE {where}: {moe['experts']} experts, top-{moe['top_k']}" + (
            f", {moe['shared_experts']} shared" if moe.get("shared_experts") else ""
        )
    degrees = (
        " x ".join(
            f"{axis.upper()}{getattr(layout, axis)}"
            for axis in ("tp", "sp", "dp", "pp")
            if getattr(layout, axis) > 1
        )
        or "one device"
    )
    world = f"{layout.world} device{'s' if layout.world != 1 else ''}"
    text = [
        f"{config_title(hf_ref)}: {shape}.",
        f"Layout: {degrees} = {world}"
        + (f", EP{layout.ep} over the MoE layers" if layout.ep > 1 else "")
        + ".",
    ]
    if layout.sp > 1:
        text.append(
            f"Prefill splits each prompt over {layout.sp} SP ranks; decode runs the same "
            f"devices as {layout.dp * layout.sp} DP replicas (SP is prefill-only, S5)."
        )
    text.append(
        f"Written by `{argv}`: the minimal sync set for this layout (each sync point "
        "below is required, and the checker finds nothing missing). The numbers S1-S23 "
        "refer to the plan format's semantics (docs/plan-format.md)."
    )
    return [f"# {line}" for paragraph in text for line in _wrapped(paragraph, COMMENT_WIDTH - 2)]


def _wrapped(text: str, width: int = COMMENT_WIDTH - 4) -> list[str]:
    return textwrap.wrap(text, width=width, break_on_hyphens=False, break_long_words=False)


def _without_ones(keys: dict, keep: tuple) -> dict:
    """Degrees of 1 and a prefill dp of 1 are the defaults: leave them out."""
    degrees = ("tp", "pp", "dp", "sp", "ep")
    return {k: v for k, v in keys.items() if k in keep or k not in degrees or v != 1}


def _flow(value) -> str:
    import yaml

    return (
        yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6)
        .strip()
        .removesuffix("...")
        .strip()
    )


# ------------------------------------------------------------------------ why each sync


def reason(sync: dict, plan: dict, model: dict) -> str:
    """Why the layout needs `sync`, in one or two sentences, citing S-numbers."""
    why = _reason_by_id(sync, plan, model)
    overlap = any(p.get("overlap", "none") != "none" for p in plan["phases"].values())
    if overlap and not sync.get("async") and sync["after"] != "sample":
        why += (
            " Blocking: the next sync at this anchor reads its output when it is issued (S7, S22)."
        )
    if sync.get("async"):
        if sync.get("wait_before"):
            why += (
                f" Async: the ops after it run during the transfer; it is awaited before "
                f"{sync['wait_before']}, its first reader (S11)."
            )
        else:
            why += " Async with no wait: the output sink waits for it (S18)."
    return why


def _reason_by_id(sync: dict, plan: dict, model: dict) -> str:
    parallel = plan["parallel"]
    ep, tp = parallel.get("ep", 1), parallel.get("tp", 1)
    phases = sync.get("phases")
    only = f" ({phases[0]} only)" if phases and len(phases) == 1 else ""
    reasons = {
        "embed-ar": "TP: the embedding is vocab-parallel, so each TP rank holds a partial sum of "
        "every token's embedding; it is reduced before the first layer reads it "
        "(S2, S19).",
        "kv-agg": "SP: each SP rank computes K/V for its chunk of the prompt, and attention needs "
        "the K/V of every token of its sequence; the all_gather also leaves the whole "
        "prompt's K/V on every rank for the hand-over to decode (S5, S6).",
        "attn-ar": "TP: o_proj is row-parallel, so its output is a partial sum over tp, reduced "
        "before attn_residual adds it (S19).",
        "mlp-ar": "TP: down is row-parallel, so its output is a partial sum over tp, reduced "
        "before mlp_residual adds it (S19)."
        + (
            " Dense layers only: the MoE layers' experts have their own sync."
            if sync.get("layers") == "dense"
            else ""
        ),
        "moe-ar": (
            "MoE with ep = 1: each expert is split over the TP group like a dense MLP, "
            "so the experts' output is a partial sum over tp (S12), reduced before the "
            "residual add"
            if ep == 1
            else f"MoE with EP{ep} inside the TP group: tokens are replicated over the EP group "
            f"and each rank runs its own experts on every token, so the output is a "
            f"partial sum over ep (S12), reduced before the residual add"
        )
        + (" (shared experts are added before it, S13)." if _shared(model) else "."),
        "dispatch": f"MoE with EP{ep} over ranks that hold different tokens: each token is sent "
        "once to the ranks that hold its experts, whose blocks sit contiguously over "
        "the EP group (S12).",
        "combine": "MoE: brings each expert output back to the rank that sent the token, before "
        "the residual add (S12)"
        + (", where the shared experts' output joins it (S13)." if _shared(model) else "."),
        "moe-ag": f"MoE with tp = {tp} and EP across replicas: the dispatch took each TP rank's "
        f"1/tp share of its replica's tokens, so the combine returns only that share; "
        f"the all_gather over tp makes it whole again (S12).",
        "shared-ar": "MoE: the shared experts are TP-sharded like a dense MLP, a partial sum over "
        "tp reduced before mlp_residual adds it to the combined routed output (S13).",
        "stage-xfer": "PP: each stage after the first receives the previous stage's activations; "
        "the send/recv pairs each rank with the next stage's rank of equal "
        "non-pp coordinates (S3).",
        "logits": "TP: lm_head is vocab-parallel, so each rank holds the logits of its vocabulary "
        "shard, and sample needs all of them (S19).",
        "token-back": "PP with token_return: device: step t's sampled token goes from the last "
        "stage back to stage 0's embed of step t+1, in decode only (S4).",
        "dp-out": f"DP: the output sink reads every replica's sampled tokens through one gather "
        f"over dp per microbatch (S18){only}.",
    }
    return reasons.get(
        sync.get("id", ""),
        f"required by the layout ({sync['collective']} over "
        f"{sync['group']} after {sync['after']}).",
    )


def _shared(model: dict) -> bool:
    return bool((model.get("moe") or {}).get("shared_experts"))
