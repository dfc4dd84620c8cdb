"""Plan synthesis: the minimal correct sync set for a layout, the checker's semantics run backwards.

`synthesize_plan(model, layout...)` returns a plan (as a dict in plan format v1) whose sync points
are exactly what S1-S23 require for that layout: reductions after every partial sum, the gathers
its consumers need, K/V aggregation under SP, stage transfers, expert dispatch/combine or
reduction (S12, S13), the DP output gather (S18) and the device token carrier (S4). Under an
overlap mode every collective but the output gather is async and awaited before its first
consumer (S11).
"""

from __future__ import annotations

# the first op that reads what a sync anchored on each op delivers (S11 wait_before targets)
FIRST_CONSUMER = {
    "embed": "attn_norm",
    "o_proj": "attn_residual",
    "down": "mlp_residual",
    "experts": "mlp_residual",
    "shared_experts": "mlp_residual",
    "router": "experts",
    "qkv": "attention",
    "lm_head": "sample",
    "stage_boundary": "attn_norm",
}


def _moe_syncs(model: dict, tp: int, ep: int, dp: int) -> list[dict]:
    """S12/S13: what the experts' output needs, by what the experts receive."""
    moe = model.get("moe")
    if not moe:
        return []
    out = []
    if ep == 1:
        if tp > 1:
            out.append(
                {"id": "moe-ar", "after": "experts", "collective": "all_reduce", "group": "tp"}
            )
    elif ep == tp:
        # EP inside the TP group: tokens Replicated over the EP group, a partial sum over ep
        out.append({"id": "moe-ar", "after": "experts", "collective": "all_reduce", "group": "ep"})
    else:
        out.append(
            {
                "id": "dispatch",
                "after": "router",
                "collective": "all_to_all",
                "group": "ep",
                "role": "dispatch",
            }
        )
        out.append(
            {
                "id": "combine",
                "after": "experts",
                "collective": "all_to_all",
                "group": "ep",
                "role": "combine",
            }
        )
        if tp > 1:
            # the combine returns each TP rank's share of its replica's tokens (S12)
            out.append(
                {"id": "moe-ag", "after": "experts", "collective": "all_gather", "group": "tp"}
            )
            if moe.get("shared_experts"):
                out.append(
                    {
                        "id": "shared-ar",
                        "after": "shared_experts",
                        "collective": "all_reduce",
                        "group": "tp",
                    }
                )
    for sync in out:
        sync["layers"] = "moe"
    return out


def synthesize_syncs(
    model: dict,
    *,
    tp: int = 1,
    pp: int = 1,
    dp: int = 1,
    ep: int = 1,
    prefill_sp: int = 1,
    decode_dp: int | None = None,
    pp_device_token: bool = False,
    overlap: str = "none",
) -> list[dict]:
    decode_dp = dp if decode_dp is None else decode_dp
    dense_any = not model.get("moe") or _has_dense(model)
    syncs: list[dict] = []
    if tp > 1:
        syncs.append(
            {"id": "embed-ar", "after": "embed", "collective": "all_reduce", "group": "tp"}
        )
    if prefill_sp > 1:
        syncs.append(
            {
                "id": "kv-agg",
                "after": "qkv",
                "tensor": "kv",
                "collective": "all_gather",
                "group": "sp",
                "phases": ["prefill"],
            }
        )
    if tp > 1:
        syncs.append(
            {"id": "attn-ar", "after": "o_proj", "collective": "all_reduce", "group": "tp"}
        )
        if dense_any:
            mlp = {"id": "mlp-ar", "after": "down", "collective": "all_reduce", "group": "tp"}
            if model.get("moe"):
                mlp["layers"] = "dense"
            syncs.append(mlp)
    syncs += _moe_syncs(model, tp, ep, dp)
    if pp > 1:
        syncs.append(
            {
                "id": "stage-xfer",
                "after": "stage_boundary",
                "collective": "send_recv",
                "group": "pp",
            }
        )
    if tp > 1:
        syncs.append(
            {"id": "logits", "after": "lm_head", "collective": "all_gather", "group": "tp"}
        )
    if pp > 1 and pp_device_token:
        syncs.append(
            {
                "id": "token-back",
                "after": "sample",
                "collective": "send_recv",
                "group": "pp",
                "phases": ["decode"],
            }
        )
    dp_phases = [p for p, d in (("prefill", dp), ("decode", decode_dp)) if d > 1]
    if dp_phases:
        out: dict[str, str | list[str]] = {
            "id": "dp-out",
            "after": "sample",
            "collective": "gather",
            "group": "dp",
        }
        if len(dp_phases) == 1:
            out["phases"] = dp_phases
        syncs.append(out)
    if overlap in ("comm_compute", "two_batch"):
        last_at_anchor = {sync["after"]: sync for sync in syncs}
        for sync in syncs:
            # only the last sync at an anchor may be async: the next one reads its output at
            # issue (S22), and a wait must name an op (S11)
            if last_at_anchor[sync["after"]] is sync:
                _make_async(sync)
    return syncs


def _make_async(sync: dict) -> None:
    if sync["after"] == "sample":
        if sync["collective"] == "gather":
            sync["async"] = True  # S18: the output sink waits for it
        elif sync["collective"] == "send_recv":
            # S4: the token carrier's wait resolves on the receiver in step t+1, before embed
            sync["async"] = True
            sync["wait_before"] = "embed"
        return
    consumer = FIRST_CONSUMER.get(sync["after"])
    if consumer:
        sync["async"] = True
        sync["wait_before"] = consumer


def _has_dense(model: dict) -> bool:
    layers = model["moe"].get("layers", "all")
    if isinstance(layers, str):
        return layers != "all"
    return len(set(layers)) < model["layers"]  # a list of MoE layer indices


def stage_split(layers: int, pp: int) -> list[int]:
    """Layers per stage, the earlier stages taking one more when pp does not divide layers."""
    return [layers // pp + (1 if stage < layers % pp else 0) for stage in range(pp)]


def synthesize_plan(
    model: dict,
    *,
    name: str = "synthesized",
    tp: int = 1,
    pp: int = 1,
    dp: int = 1,
    ep: int = 1,
    prefill_sp: int = 1,
    decode_dp: int | None = None,
    overlap: str = "none",
    prefill_microbatches: int = 1,
    decode_microbatches: int = 1,
    tokens: int = 4096,
    batch: int = 8,
    token_return: str = "host",
    nodes: int | None = None,
    gpus_per_node: int | None = None,
) -> dict:
    """A complete plan dict for `model` (plan-format `model` keys) on the given layout.

    `prefill_sp` > 1 splits prompts over SP ranks in prefill and, with `decode_dp`, lets decode
    run the same devices as DP replicas (S5: the K/V all_gather leaves the whole prompt on every
    SP rank).
    """
    decode_dp = dp if decode_dp is None else decode_dp
    plan: dict = {
        "syncverify": 1,
        "name": name,
        "model": model,
        "parallel": {"tp": tp, "pp": pp, "dp": dp, "ep": ep},
    }
    if pp > 1 and model.get("layers", 0) % pp:
        plan["parallel"]["stages"] = stage_split(model["layers"], pp)  # S20: stated when uneven
    if nodes and gpus_per_node:
        plan["cluster"] = {"nodes": nodes, "gpus_per_node": gpus_per_node}
    prefill = {"microbatches": prefill_microbatches, "tokens": tokens, "overlap": overlap}
    decode = {
        "microbatches": decode_microbatches,
        "batch": batch,
        "overlap": overlap,
        "token_return": token_return,
    }
    if prefill_sp > 1:
        prefill["sp"] = prefill_sp
        prefill["dp"] = dp
        decode["dp"] = decode_dp
        plan["parallel"]["dp"] = 1
    plan["phases"] = {"prefill": prefill, "decode": decode}
    plan["sync"] = synthesize_syncs(
        model,
        tp=tp,
        pp=pp,
        dp=dp,
        ep=ep,
        prefill_sp=prefill_sp,
        decode_dp=decode_dp,
        pp_device_token=token_return == "device",
        overlap=overlap,
    )
    return plan
