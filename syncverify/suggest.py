""" "Did you mean" for keys and names: the spellings other tools use, then difflib.

`difflib` alone cannot map `pipeline_parallel_size` to `pp` or `num_hidden_layers` to `layers`:
the alias tables below carry the names users bring from Hugging Face configs, vLLM, SGLang,
Megatron and DeepSpeed. An alias may point at several keys; only those valid where the word was
written are offered.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

KEY_ALIASES: dict[str, tuple[str, ...]] = {}


def _alias(targets: str, *spellings: str, table: dict = KEY_ALIASES) -> None:
    for spelling in spellings:
        table[spelling] = table.get(spelling, ()) + tuple(targets.split())


# parallel degrees and layout
_alias(
    "pp",
    "pipline",
    "pipeline",
    "pipe",
    "pipeline_parallel",
    "pipeline_parallel_size",
    "pp_size",
    "pipeline_model_parallel_size",
    "pp_degree",
    "pipeline_parallel_degree",
    "num_stages",
    "pipeline_size",
    "pipeline_parallelism",
    "ppsize",
)
_alias(
    "tp",
    "tensor_parallel",
    "tensor_parallel_size",
    "tp_size",
    "tensor_model_parallel_size",
    "tensor",
    "tp_degree",
    "mp",
    "mp_size",
    "model_parallel",
    "model_parallel_size",
    "tensor_parallel_degree",
    "tensor_parallelism",
    "tpsize",
)
_alias(
    "dp",
    "data_parallel",
    "data_parallel_size",
    "dp_size",
    "data",
    "replicas",
    "num_replicas",
    "dp_degree",
    "data_parallelism",
    "dpsize",
)
_alias(
    "ep",
    "expert_parallel",
    "expert_parallel_size",
    "ep_size",
    "expert_model_parallel_size",
    "moe_ep",
    "expert_parallelism",
    "ep_degree",
    "enable_expert_parallel",
    "epsize",
)
_alias(
    "sp",
    "sequence_parallel",
    "sequence_parallel_size",
    "sp_size",
    "context_parallel",
    "context_parallel_size",
    "cp",
    "cp_size",
    "ulysses",
    "ulysses_degree",
    "sequence_parallelism",
    "spsize",
)
_alias(
    "stages",
    "stage",
    "pp_stages",
    "layers_per_stage",
    "pipeline_stages",
    "partition",
    "stage_layers",
    "pp_layer_partition",
    "pp_partition",
    "split",
)
_alias(
    "layout",
    "order",
    "rank_order",
    "mesh",
    "rank_layout",
    "axis_order",
    "device_mesh",
    "mesh_order",
)
# model (Hugging Face config names and common shorthands)
_alias(
    "layers",
    "num_hidden_layers",
    "num_layers",
    "n_layers",
    "n_layer",
    "layer",
    "depth",
    "nlayers",
    "moe_layers",
    "layer_ids",
    "layer_range",
    "only_layers",
)
_alias(
    "hidden",
    "hidden_size",
    "d_model",
    "dim",
    "hidden_dim",
    "n_embd",
    "embed_dim",
    "model_dim",
    "emb_dim",
    "embedding_size",
)
_alias(
    "heads",
    "num_attention_heads",
    "num_heads",
    "n_heads",
    "n_head",
    "attention_heads",
    "q_heads",
    "num_q_heads",
    "head",
)
_alias(
    "kv_heads",
    "num_key_value_heads",
    "n_kv_heads",
    "num_kv_heads",
    "kv_head",
    "key_value_heads",
    "num_kv_groups",
    "kvheads",
    "n_kv_head",
    "num_query_groups",
    "multi_query_group_num",
)
_alias("head_dim", "head_size", "headdim", "head_dimension", "kv_channels", "d_head", "dim_head")
_alias(
    "ffn",
    "intermediate_size",
    "ffn_dim",
    "ffn_hidden_size",
    "ffn_size",
    "mlp_dim",
    "d_ff",
    "inner_dim",
    "intermediate",
    "filter_size",
    "mlp_hidden_size",
    "n_inner",
    "moe_intermediate_size",
    "expert_ffn",
    "expert_intermediate_size",
    "moe_ffn",
    "intermediate_size_mlp",
)
_alias("vocab", "vocab_size", "n_vocab", "vocabulary", "vocab_dim", "padded_vocab_size")
_alias(
    "max_context",
    "max_position_embeddings",
    "max_seq_len",
    "max_seq_length",
    "context_length",
    "max_model_len",
    "context",
    "max_len",
    "ctx",
    "context_len",
    "n_ctx",
    "n_positions",
    "max_sequence_length",
    "seq_length",
    "context_window",
    "seq_len",
)
_alias(
    "hf_config",
    "hf",
    "config",
    "hf_config_path",
    "config_json",
    "huggingface_config",
    "hf_path",
    "from_hf",
    "config_path",
    "hf_model",
    "model_config",
    "huggingface",
)
_alias("mla", "multi_head_latent_attention", "latent_attention", "use_mla", "kv_lora_rank")
_alias("moe", "mixture_of_experts", "experts_config", "moe_config", "expert")
_alias(
    "experts",
    "num_experts",
    "n_routed_experts",
    "num_local_experts",
    "n_experts",
    "routed_experts",
    "expert",
    "num_routed_experts",
    "expert_num",
    "n_expert",
    "moe_num_experts",
)
_alias(
    "top_k",
    "num_experts_per_tok",
    "topk",
    "experts_per_token",
    "k",
    "n_experts_per_tok",
    "moe_top_k",
    "active_experts",
    "num_selected_experts",
    "moe_topk",
    "router_topk",
    "experts_per_tok",
)
_alias(
    "shared_experts",
    "n_shared_experts",
    "num_shared_experts",
    "shared",
    "shared_expert",
    "n_shared_expert",
    "moe_shared_experts",
)
# cluster
_alias(
    "nodes",
    "num_nodes",
    "node",
    "n_nodes",
    "hosts",
    "machines",
    "nnodes",
    "node_count",
    "num_hosts",
)
_alias(
    "gpus_per_node",
    "gpus",
    "gpus_per_host",
    "devices_per_node",
    "gpu_per_node",
    "nproc_per_node",
    "ngpus",
    "num_gpus",
    "gpu",
    "local_world_size",
    "devices",
    "n_gpus",
    "gpus_node",
)
# phases
_alias(
    "microbatches",
    "micro_batches",
    "num_microbatches",
    "micro_batch",
    "microbatch",
    "n_microbatches",
    "num_micro_batches",
    "mbs",
    "microbatch_count",
    "num_microbatch",
    "micro_batch_count",
)
_alias(
    "batch",
    "batch_size",
    "bs",
    "micro_batch_size",
    "max_batch_size",
    "batch_per_replica",
    "max_num_seqs",
    "sequences",
    "num_seqs",
    "batchsize",
)
_alias(
    "tokens",
    "prompt_tokens",
    "prompt_len",
    "prompt_length",
    "input_len",
    "isl",
    "num_tokens",
    "sequence_length",
    "seq_len",
    "input_length",
    "prompt_size",
    "token",
    "context_length",
)
_alias(
    "overlap",
    "overlap_mode",
    "overlapping",
    "comm_overlap",
    "overlap_comm",
    "tbo",
    "two_batch_overlap",
)
_alias("dp_idle", "idle", "idle_replica", "dp_idle_mode", "idle_dp", "idle_mode", "on_idle")
_alias(
    "token_return",
    "token",
    "token_path",
    "return_token",
    "token_transfer",
    "sampled_token",
    "token_source",
    "token_mode",
)
_alias("prefill", "prefilling", "prompt", "encode", "context_phase", "prefill_phase")
_alias("decode", "decoding", "generate", "generation", "decode_phase", "gen")
# sync points
_alias(
    "wait_before",
    "wait",
    "wait_for",
    "await",
    "wait_at",
    "wait_on",
    "sync_before",
    "before",
    "waits_before",
    "wait_until",
    "await_before",
    "join",
    "wait_before_op",
)
_alias("after", "op", "at", "anchor", "where", "location", "point", "after_op", "place", "position")
_alias(
    "collective",
    "type",
    "kind",
    "coll",
    "comm",
    "communication",
    "primitive",
    "operation",
    "collective_op",
)
_alias("group", "process_group", "pg", "axis", "groups", "over", "comm_group", "mesh_dim", "dim")
_alias("async", "is_async", "asynchronous", "non_blocking", "nonblocking", "async_op", "blocking")
_alias("phases", "phase", "in_phases", "only_phases", "stages_phases")
_alias("ranks", "rank", "only_ranks", "selector", "on_ranks", "rank_selector", "members")
_alias("id", "name", "label", "sync_id", "key")
_alias("tensor", "tensors", "output", "outputs", "which")
_alias("role", "roles", "direction", "a2a_role")
# ops
_alias("sharding", "shard", "sharded", "placement", "parallelism", "partitioning")
# top level
_alias(
    "syncverify",
    "version",
    "format",
    "schema_version",
    "sync_verify",
    "syncverify_version",
    "format_version",
    "plan_version",
)
_alias(
    "parallel",
    "parallelism",
    "parallel_config",
    "degrees",
    "parallelism_config",
    "parallel_degrees",
)
_alias(
    "sync",
    "syncs",
    "sync_points",
    "collectives",
    "synchronization",
    "sync_point",
    "synchronizations",
)
_alias("ops", "op", "op_sharding", "operators", "sharding", "op_overrides")
_alias("cluster", "devices", "hardware", "topology", "machines")
_alias("name", "title", "plan", "plan_name", "description")

VALUE_ALIASES: dict[str, tuple[str, ...]] = {}


def _value(targets: str, *spellings: str) -> None:
    _alias(targets, *spellings, table=VALUE_ALIASES)


# collectives
_value("all_reduce", "allreduce", "ar", "reduce", "psum", "sum")
_value("reduce_scatter", "reducescatter", "rs", "reduce_scatter_tensor", "psum_scatter")
_value("all_gather", "allgather", "ag", "all_gather_into_tensor")
_value("all_to_all", "alltoall", "a2a", "all2all", "alltoallv", "all_to_all_single", "shuffle")
_value(
    "send_recv",
    "sendrecv",
    "p2p",
    "send",
    "recv",
    "isend",
    "irecv",
    "point_to_point",
    "send_receive",
)
_value("broadcast", "bcast", "broadcast_tensor")
_value("gather", "gather_object")
_value("barrier", "sync", "synchronize", "fence")
# groups
_value("tp", "tensor", "tensor_parallel", "model_parallel", "mp")
_value("pp", "pipeline", "pipeline_parallel", "pipe")
_value("dp", "data", "data_parallel", "replica", "replicas")
_value("ep", "expert", "experts", "expert_parallel", "moe")
_value("sp", "sequence", "sequence_parallel", "context", "cp")
_value("world", "global", "all", "everyone", "all_ranks")
# ops and boundaries (module names of Hugging Face / vLLM models)
_value(
    "embed", "embedding", "embed_tokens", "embeddings", "wte", "tok_embeddings", "vocab_embedding"
)
_value(
    "attn_norm",
    "input_layernorm",
    "attention_norm",
    "ln_1",
    "ln1",
    "pre_attn_norm",
    "attn_layernorm",
)
_value("qkv", "qkv_proj", "q_proj", "k_proj", "v_proj", "query_key_value", "c_attn", "wqkv")
_value("attention", "attn", "self_attn", "self_attention", "sdpa", "flash_attn", "core_attention")
_value("o_proj", "out_proj", "dense", "c_proj", "wo", "attn_out", "output_proj", "proj")
_value("attn_residual", "residual", "attention_residual", "attn_add", "residual_add")
_value(
    "mlp_norm",
    "post_attention_layernorm",
    "ffn_norm",
    "ln_2",
    "ln2",
    "pre_mlp_norm",
    "mlp_layernorm",
)
_value(
    "gate_up", "gate_up_proj", "gate_proj", "up_proj", "w1", "w3", "fc1", "c_fc", "dense_h_to_4h"
)
_value("down", "down_proj", "w2", "fc2", "dense_4h_to_h", "mlp_out")
_value("mlp_residual", "ffn_residual", "mlp_add")
_value("router", "gate", "moe_gate", "routing", "topk")
_value("experts", "moe", "expert", "routed_experts", "fused_moe", "mlp", "ffn")
_value("shared_experts", "shared_expert", "shared", "shared_mlp")
_value("final_norm", "norm", "ln_f", "final_layernorm", "model_norm")
_value("lm_head", "logits", "output", "unembed", "head", "output_layer")
_value("sample", "sampling", "sampler", "argmax", "token")
_value("stage_boundary", "stage", "pipeline_boundary", "stage_end", "pp_boundary", "stage_transfer")
_value("step_end", "step", "end_of_step", "decode_step_end")
_value("prefill_end", "handover", "kv_transfer", "end_of_prefill", "prefill_done")
# modes and names
_value("two_batch", "tbo", "two_batch_overlap", "dbo", "dual_batch_overlap", "microbatch_overlap")
_value("comm_compute", "compute_comm", "overlap", "async", "comm_overlap")
_value("across_steps", "async_scheduling", "overlap_scheduler", "cross_step")
_value("none", "off", "false", "no", "disabled", "sync", "blocking")
_value("dummy_batch", "dummy", "pad", "padding", "idle_batch")
_value("skip", "idle", "nothing", "none")
_value("host", "cpu", "scheduler")
_value("device", "gpu", "on_device")
_value("replicated", "repl", "replica", "replicate", "duplicated", "full", "none")
_value("default", "megatron", "sharded", "column", "row")
_value("prefill", "prefilling", "prompt", "context")
_value("decode", "decoding", "generate", "generation")
_value("kv", "k", "v", "key_value", "keys_values", "cache")
_value("q", "query", "queries")
_value("dispatch", "scatter", "send")
_value("combine", "gather", "return", "reduce")


def normalize(word: str) -> str:
    return word.strip().lower().replace("-", "_").replace(" ", "_").replace(".", "_")


def exact_match(word: str, allowed: Iterable[str], aliases: dict | None = None) -> str | None:
    """The allowed name `word` is a known other spelling of (case, dashes, aliases), or None."""
    allowed = list(allowed)
    key = normalize(str(word))
    if key in allowed and key != word:
        return key
    for target in (aliases if aliases is not None else KEY_ALIASES).get(key, ()):
        if target in allowed:
            return target
    squashed = {a.replace("_", ""): a for a in allowed}
    return squashed.get(key.replace("_", ""))


def close_match(word: str, allowed: Iterable[str]) -> str | None:
    """The allowed name closest to `word` by spelling (difflib), or None."""
    close = difflib.get_close_matches(normalize(str(word)), list(allowed), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, allowed: Iterable[str], aliases: dict | None = None) -> str | None:
    """The allowed name `word` most likely stands for, or None."""
    allowed = list(allowed)
    return exact_match(word, allowed, aliases) or close_match(word, allowed)


def suggest_value(word, allowed: Iterable[str]) -> str | None:
    return suggest(str(word), allowed, VALUE_ALIASES)
