"""Reading Hugging Face config.json files into plan model keys, on every real config we hold."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncverify.hfconfig import HfConfigError, config_file, read_hf_config
from syncverify.loader import load_plan
from syncverify.plan import MoE

MODELS = Path(__file__).parent / "data" / "models"

DENSE, ALL = None, "all"
# file: layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context, mla,
#       then experts, top_k, MoE layers, shared experts, per-expert ffn (None for dense models)
EXPECTED = {
    "Llama-3.1-8B.json": (32, 4096, 32, 8, 128, 14336, 128256, 131072, False, DENSE),
    "Llama-3.1-70B.json": (80, 8192, 64, 8, 128, 28672, 128256, 131072, False, DENSE),
    "Llama-3.1-405B.json": (126, 16384, 128, 8, 128, 53248, 128256, 131072, False, DENSE),
    "Qwen2.5-72B-Instruct.json": (80, 8192, 64, 8, 128, 29568, 152064, 32768, False, DENSE),
    "Mixtral-8x7B-v0.1.json": (
        32,
        4096,
        32,
        8,
        128,
        14336,
        32000,
        32768,
        False,
        (8, 2, ALL, 0, 14336),
    ),
    "Mixtral-8x22B-v0.1.json": (
        56,
        6144,
        48,
        8,
        128,
        16384,
        32000,
        65536,
        False,
        (8, 2, ALL, 0, 16384),
    ),
    "Qwen3-30B-A3B.json": (48, 2048, 32, 4, 128, 6144, 151936, 40960, False, (128, 8, ALL, 0, 768)),
    "Qwen3-235B-A22B.json": (
        94,
        4096,
        64,
        4,
        128,
        12288,
        151936,
        40960,
        False,
        (128, 8, ALL, 0, 1536),
    ),
    "DeepSeek-V3.json": (
        61,
        7168,
        128,
        128,
        192,
        18432,
        129280,
        163840,
        True,
        (256, 8, range(3, 61), 1, 2048),
    ),
    "DeepSeek-V2-Lite-Chat.json": (
        27,
        2048,
        16,
        16,
        192,
        10944,
        102400,
        163840,
        True,
        (64, 6, range(1, 27), 2, 1408),
    ),
    "Kimi-K2-Instruct.json": (
        61,
        7168,
        64,
        64,
        192,
        18432,
        163840,
        131072,
        True,
        (384, 8, range(1, 61), 1, 2048),
    ),
    "gpt-oss-120b.json": (36, 2880, 64, 8, 64, 2880, 201088, 131072, False, (128, 4, ALL, 0, 2880)),
    "Llama-4-Scout-17B-16E-Instruct.json": (
        48,
        5120,
        40,
        8,
        128,
        16384,
        202048,
        10485760,
        False,
        (16, 1, ALL, 1, 8192),
    ),
}


def test_every_model_file_has_an_expectation():
    assert sorted(p.name for p in MODELS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reader_gives_the_exact_model_keys(name):
    layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context, mla, moe = EXPECTED[name]
    got = read_hf_config(MODELS / name)
    # a config without head_dim leaves it to the plan's default, hidden // heads
    assert got.get("head_dim", got["hidden"] // got["heads"]) == head_dim
    assert {
        k: got.get(k)
        for k in ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "max_context", "mla")
    } == {
        "layers": layers,
        "hidden": hidden,
        "heads": heads,
        "kv_heads": kv_heads,
        "ffn": ffn,
        "vocab": vocab,
        "max_context": max_context,
        "mla": mla,
    }
    if moe is None:
        assert "moe" not in got
        return
    experts, top_k, moe_layers, shared, expert_ffn = moe
    assert got["moe"] == {
        "experts": experts,
        "top_k": top_k,
        "layers": moe_layer_set(layers, moe_layers),
        "shared_experts": shared,
        "ffn": expert_ffn,
    }


def moe_layer_set(layers, selection):
    return frozenset(range(layers)) if selection == ALL else frozenset(selection)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_plan_naming_the_file_loads_the_same_model(name):
    layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context, mla, moe = EXPECTED[name]
    text = f"syncverify: 1\nmodel: {{hf_config: {name}}}\nphases: {{decode: {{batch: 8}}}}\n"
    model = load_plan("plan.yaml", text=text, base_dir=MODELS).model
    assert (
        model.layers,
        model.hidden,
        model.heads,
        model.kv_heads,
        model.head_dim,
        model.ffn,
        model.vocab,
        model.max_context,
        model.mla,
        model.hf_config,
    ) == (layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context, mla, name)
    if moe is None:
        assert model.moe is None and model.dense_layers == frozenset(range(layers))
        return
    experts, top_k, moe_layers, shared, expert_ffn = moe
    assert model.moe == MoE(
        experts=experts,
        top_k=top_k,
        layers=moe_layer_set(layers, moe_layers),
        shared_experts=shared,
        ffn=expert_ffn,
    )
    assert model.dense_layers == frozenset(range(layers)) - model.moe.layers


def test_keys_written_in_the_plan_override_the_config():
    text = (
        "syncverify: 1\nmodel: {hf_config: DeepSeek-V3.json, layers: 8, kv_heads: 1,\n"
        '        moe: {layers: "2..7", top_k: 4}}\nphases: {decode: {batch: 8}}\n'
    )
    plan = load_plan("plan.yaml", text=text, base_dir=MODELS)
    assert (plan.model.layers, plan.model.kv_heads, plan.model.hidden) == (8, 1, 7168)
    assert (plan.model.moe.layers, plan.model.moe.top_k, plan.model.moe.experts) == (
        frozenset(range(2, 8)),
        4,
        256,
    )
    # values read from the file are located at the hf_config value; written ones at themselves
    assert plan.span(("model", "hidden")) == plan.span(("model", "hf_config"))
    assert plan.span(("model", "moe", "experts")) == plan.span(("model", "hf_config"))
    assert plan.span(("model", "layers")).line == 2 and ("model", "layers") in plan.written
    assert ("model", "hidden") not in plan.written


def test_mla_head_dim_is_the_query_key_head_size_not_the_added_head_dim_field():
    # transformers re-serialised DeepSeek-V2-Lite with `head_dim: 64` (= qk_rope_head_dim)
    raw = json.loads((MODELS / "DeepSeek-V2-Lite-Chat.json").read_text())
    assert raw["head_dim"] == 64
    assert read_hf_config(MODELS / "DeepSeek-V2-Lite-Chat.json")["head_dim"] == 128 + 64


def write(tmp_path, config: dict) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


QWEN2_MOE = {
    "num_hidden_layers": 8,
    "hidden_size": 2048,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "intermediate_size": 5632,
    "vocab_size": 151936,
    "num_experts": 60,
    "num_experts_per_tok": 4,
    "moe_intermediate_size": 1408,
    "shared_expert_intermediate_size": 5632,
    "decoder_sparse_step": 2,
    "mlp_only_layers": [5],
}


def test_qwen2_moe_shared_expert_and_sparse_step(tmp_path):
    moe = read_hf_config(write(tmp_path, QWEN2_MOE))["moe"]
    assert moe["shared_experts"] == 1
    assert moe["layers"] == {1, 3, 7}  # every 2nd layer, except mlp_only layer 5


def test_llama4_interleaved_moe_layers(tmp_path):
    config = {
        "model_type": "llama4",
        "text_config": {
            "num_hidden_layers": 6,
            "hidden_size": 5120,
            "num_attention_heads": 40,
            "vocab_size": 202048,
            "intermediate_size": 8192,
            "intermediate_size_mlp": 16384,
            "num_local_experts": 128,
            "num_experts_per_tok": 1,
            "interleave_moe_layer_step": 2,
        },
    }
    got = read_hf_config(write(tmp_path, config))
    assert got["ffn"] == 16384 and got["moe"]["ffn"] == 8192
    assert got["moe"]["layers"] == {1, 3, 5} and got["moe"]["shared_experts"] == 1


def test_deepseek_moe_layer_freq(tmp_path):
    config = {
        "num_hidden_layers": 8,
        "n_routed_experts": 8,
        "num_experts_per_tok": 2,
        "first_k_dense_replace": 1,
        "moe_layer_freq": 2,
    }
    assert read_hf_config(write(tmp_path, config))["moe"]["layers"] == {2, 4, 6}


def test_a_config_without_known_fields_reads_as_nothing(tmp_path):
    assert read_hf_config(write(tmp_path, {"architectures": ["Mystery"]})) == {"mla": False}


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "holds a JSON list, not an object"),
        ("{not json", "is not valid JSON"),
        ('{"num_hidden_layers": "32"}', 'num_hidden_layers is "32", not an integer'),
        ('{"num_hidden_layers": 0}', "num_hidden_layers is 0, less than 1"),
        ('{"num_hidden_layers": true}', "not an integer"),
        ('{"num_hidden_layers": 1000000000, "num_experts": 2}', "more than 100,000"),
        (
            '{"num_hidden_layers": 4, "num_experts": 4, "mlp_only_layers": ["a"]}',
            "mlp_only_layers must be",
        ),
    ],
)
def test_unusable_configs_raise_with_the_reason(tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(HfConfigError, match=message):
        read_hf_config(path)


def test_layer_cap_matches_the_schema():
    from syncverify.hfconfig import MAX_LAYERS
    from syncverify.schema import plan_schema

    assert plan_schema()["definitions"]["model"]["properties"]["layers"]["maximum"] == MAX_LAYERS


def test_missing_file_and_folder_without_config_raise(tmp_path):
    with pytest.raises(HfConfigError, match="no such file"):
        read_hf_config(tmp_path / "absent.json")
    (tmp_path / "model.safetensors.index.json").write_text("{}")
    looked_for = str(tmp_path / "config.json")
    with pytest.raises(HfConfigError) as raised:
        read_hf_config(tmp_path)
    assert (
        str(raised.value)
        == f"'{tmp_path}' is a folder without a config.json (looked for '{looked_for}')"
    )


def test_a_model_folder_reads_its_config_json(tmp_path):
    """A Hugging Face snapshot folder (config.json beside the weights) is read as its config."""
    snapshot = tmp_path / "models--meta-llama--Llama-3.1-8B" / "snapshots" / "0e9e39f2"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_bytes((MODELS / "Llama-3.1-8B.json").read_bytes())
    assert read_hf_config(snapshot) == read_hf_config(MODELS / "Llama-3.1-8B.json")
    assert config_file(snapshot) == snapshot / "config.json"
    assert config_file(MODELS / "Llama-3.1-8B.json") == MODELS / "Llama-3.1-8B.json"


def test_a_plan_may_name_the_model_folder(tmp_path):
    folder = tmp_path / "Llama-3.1-8B"
    folder.mkdir()
    (folder / "config.json").write_bytes((MODELS / "Llama-3.1-8B.json").read_bytes())
    plan = "syncverify: 1\nmodel: {hf_config: Llama-3.1-8B}\nphases:\n  decode: {batch: 8}\n"
    (tmp_path / "plan.yaml").write_text(plan)
    assert load_plan(str(tmp_path / "plan.yaml")).model.layers == 32


HF_KEYS = [
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "intermediate_size_mlp",
    "vocab_size",
    "max_position_embeddings",
    "kv_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "n_routed_experts",
    "num_experts",
    "num_local_experts",
    "num_experts_per_tok",
    "n_shared_experts",
    "shared_expert_intermediate_size",
    "moe_intermediate_size",
    "first_k_dense_replace",
    "moe_layer_freq",
    "decoder_sparse_step",
    "mlp_only_layers",
    "interleave_moe_layer_step",
    "moe_layers",
    "model_type",
    "text_config",
]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(HF_KEYS),
        st.one_of(
            st.integers(-3, 200),
            st.floats(allow_nan=True),
            st.booleans(),
            st.none(),
            st.text(max_size=5),
            st.lists(st.integers(-2, 50), max_size=5),
            st.dictionaries(st.sampled_from(HF_KEYS), st.integers(0, 64)),
        ),
    )
)
def test_any_config_reads_or_raises_hf_config_error(tmp_path_factory, config):
    path = tmp_path_factory.mktemp("hf") / "config.json"
    path.write_text(json.dumps(config))
    try:
        got = read_hf_config(path)
    except HfConfigError:
        return
    assert all(isinstance(v, (int, bool, dict)) for v in got.values())
