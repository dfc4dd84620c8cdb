"""Reading a Hugging Face `config.json` into plan model keys (plan-format.md "Field map").

Known field names: Llama, Mixtral, Qwen2/2.5, Qwen2-MoE, Qwen3 (dense and MoE), DeepSeek-V2/V3,
Kimi-K2, gpt-oss and Llama-4 (whose text model nests under `text_config`, as in every
multimodal config). The reader is driven by fields, not by `model_type`, so a new model built
from the same fields reads too; fields it does not find are simply absent from the result, and
the loader asks the plan for them.

MLA models (DeepSeek, Kimi: `kv_lora_rank` set): `head_dim` is the query/key head size,
`qk_nope_head_dim + qk_rope_head_dim` (192 for DeepSeek-V2/V3). Their config's own `head_dim`,
where present, is not the attention head size: transformers adds `head_dim: 64`
(= qk_rope_head_dim) when it re-serialises DeepSeek-V2 configs, so it is ignored for MLA.
`num_key_value_heads` is kept as written; it is nominal under MLA (one latent KV per token).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_BYTES = 10 * 1024 * 1024
MAX_LAYERS = 100_000  # as the plan schema's model.layers maximum

# plan key -> the config field it is read from (for messages)
HF_FIELDS = {
    "layers": "num_hidden_layers",
    "hidden": "hidden_size",
    "heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
    "head_dim": "head_dim",
    "ffn": "intermediate_size",
    "vocab": "vocab_size",
    "max_context": "max_position_embeddings",
    "experts": "n_routed_experts / num_experts / num_local_experts",
    "top_k": "num_experts_per_tok",
    "shared_experts": "n_shared_experts",
    "moe_ffn": "moe_intermediate_size",
}


class HfConfigError(Exception):
    """The config file cannot be used: unreadable, not a JSON object, or a field of the wrong
    type."""


def read_hf_config(path) -> dict:
    """The plan model keys a Hugging Face config.json gives.

    Returns a dict with some of: layers, hidden, heads, kv_heads, head_dim, mla, ffn, vocab,
    max_context, and `moe` (a dict with experts, top_k, layers as a frozenset of indices,
    shared_experts, ffn) for MoE models. Raises HfConfigError when the file cannot be used.
    """
    config = _text_model(_load(config_file(Path(path))))
    out: dict[str, Any] = {}
    _put(
        out,
        "layers",
        _int(config, "num_hidden_layers", "n_layer", "num_layers", maximum=MAX_LAYERS),
    )
    _put(out, "hidden", _int(config, "hidden_size", "n_embd", "d_model"))
    _put(out, "heads", _int(config, "num_attention_heads", "n_head"))
    _put(out, "kv_heads", _int(config, "num_key_value_heads"))
    _put(out, "vocab", _int(config, "vocab_size"))
    _put(out, "max_context", _int(config, "max_position_embeddings", "n_positions"))
    mla = _int(config, "kv_lora_rank", minimum=0)
    out["mla"] = bool(mla)
    _put(out, "head_dim", _head_dim(config, bool(mla)))
    _put(
        out,
        "ffn",
        _int(config, "intermediate_size_mlp")
        or _int(config, "intermediate_size", "ffn_dim", "n_inner"),
    )
    moe = _moe(config, out.get("layers"))
    if moe:
        out["moe"] = moe
    return out


CONFIG_NAME = "config.json"  # the file name of a Hugging Face model's config


def config_file(path: Path) -> Path:
    """The config file `path` names: itself, or the `config.json` in it when it is a model
    folder (a Hugging Face snapshot holds config.json beside the weights)."""
    path = Path(path)
    inside = path / CONFIG_NAME
    try:  # is_dir/is_file raise on a folder that cannot be searched (EACCES)
        if not path.is_dir():
            return path
        if inside.is_file():
            return inside
    except OSError as exc:
        raise HfConfigError(f"cannot read '{path}': {exc.strerror or exc}") from None
    raise HfConfigError(f"'{path}' is a folder without a {CONFIG_NAME} (looked for '{inside}')")


def _load(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise HfConfigError(f"'{path}' is larger than {MAX_BYTES:,} bytes: not a config.json")
        with path.open("rb") as handle:  # devices and pipes (/dev/zero) report size 0
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise HfConfigError(f"'{path}' is larger than {MAX_BYTES:,} bytes: not a config.json")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise HfConfigError(f"no such file: '{path}'") from None
    except UnicodeDecodeError:
        raise HfConfigError(f"'{path}' is not UTF-8 text") from None
    except OSError as exc:
        raise HfConfigError(f"cannot read '{path}': {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HfConfigError(
            f"'{path}' is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise HfConfigError(f"'{path}' is nested too deeply to be a config.json") from None
    except ValueError:  # Python converts no integer of more than 4,300 digits
        raise HfConfigError(
            f"'{path}' holds a number of more than 4,300 digits: not a config.json"
        ) from None
    if not isinstance(data, dict):
        raise HfConfigError(f"'{path}' holds a JSON {type(data).__name__}, not an object")
    return data


def _text_model(config: dict) -> dict:
    """Multimodal configs (Llama-4, ...) nest the decoder under `text_config`; outer keys fill
    gaps."""
    inner = config.get("text_config")
    if not isinstance(inner, dict):
        return config
    merged = {k: v for k, v in config.items() if k != "text_config"}
    merged.update(inner)
    return merged


def _put(out: dict, key: str, value) -> None:
    if value is not None:
        out[key] = value


def _int(config: dict, *names: str, minimum: int = 1, maximum: int | None = None) -> int | None:
    """The first of `names` that is set, as an integer in range; None when none is set."""
    for name in names:
        value = config.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not value.is_integer())
        ):
            raise HfConfigError(f"{name} is {json.dumps(value)}, not an integer")
        if value < minimum:
            raise HfConfigError(f"{name} is {int(value)}, less than {minimum}")
        if maximum is not None and value > maximum:
            raise HfConfigError(f"{name} is {int(value)}, more than {maximum:,}")
        return int(value)
    return None


def _head_dim(config: dict, mla: bool) -> int | None:
    if mla:
        nope, rope = (
            _int(config, "qk_nope_head_dim", minimum=0),
            _int(config, "qk_rope_head_dim", minimum=0),
        )
        if nope is not None and rope is not None and nope + rope > 0:
            return nope + rope
        return None  # their `head_dim`, if any, is not the attention head size
    return _int(config, "head_dim")


def _moe(config: dict, layers: int | None) -> dict | None:
    experts = (
        _int(config, "n_routed_experts", minimum=0)
        or _int(config, "num_experts", minimum=0)
        or _int(config, "num_local_experts", minimum=0)
    )
    if not experts:
        return None
    moe: dict[str, Any] = {"experts": experts}
    _put(moe, "top_k", _int(config, "num_experts_per_tok", "experts_per_token", "moe_topk"))
    moe["shared_experts"] = _shared_experts(config)
    _put(moe, "ffn", _int(config, "moe_intermediate_size") or _int(config, "intermediate_size"))
    if layers is not None:
        moe["layers"] = _moe_layers(config, layers)
    return moe


def _is_llama4(config: dict) -> bool:
    return (
        str(config.get("model_type", "")).startswith("llama4")
        or "interleave_moe_layer_step" in config
    )


def _shared_experts(config: dict) -> int:
    count = _int(config, "n_shared_experts", minimum=0)
    if count is not None:
        return count  # DeepSeek, Kimi
    if _int(config, "shared_expert_intermediate_size", minimum=0):
        return 1  # Qwen2-MoE: one shared expert of that width
    return 1 if _is_llama4(config) else 0  # Llama-4: one per MoE layer, no field says so


def _moe_layers(config: dict, layers: int) -> frozenset[int]:
    """Which layers are MoE, by the fields each family uses."""
    explicit = config.get("moe_layers")
    if isinstance(explicit, list):  # Llama-4 (newer transformers)
        return frozenset(_index_list(explicit, "moe_layers"))
    # _int is None exactly when the field is unset (null or missing)
    if (first := _int(config, "first_k_dense_replace", minimum=0)) is not None:  # DeepSeek, Kimi
        every = _int(config, "moe_layer_freq") or 1
        return frozenset(i for i in range(layers) if i >= first and i % every == 0)
    if "decoder_sparse_step" in config or "mlp_only_layers" in config:  # Qwen2-MoE, Qwen3-MoE
        step = _int(config, "decoder_sparse_step") or 1
        dense = set(_index_list(config.get("mlp_only_layers") or [], "mlp_only_layers"))
        return frozenset(i for i in range(layers) if i not in dense and (i + 1) % step == 0)
    if (interleave := _int(config, "interleave_moe_layer_step")) is not None:  # Llama-4
        return frozenset(range(interleave - 1, layers, interleave))
    return frozenset(range(layers))  # Mixtral, gpt-oss: every layer


def _index_list(values: list, name: str) -> list[int]:
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise HfConfigError(f"{name} must be a list of layer indices")
    return values
