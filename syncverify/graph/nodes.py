"""Node identities of the dependency DAG and how they read in messages.

Op instance:          ("op", phase, step, microbatch, rank, layer, op)
Collective instance:  ("coll", phase, step, microbatch, sync_index, layer, group)
Host token slot:      ("host", step, microbatch)            decode step `step`'s token (S4, S5)
Output sink:          ("sink", phase, step, microbatch)      S18

`layer` is -1 for `embed` and `model.layers` for the model's tail ops (final_norm, lm_head,
sample). `group` is the sorted tuple of the collective instance's member ranks; for a send_recv
it is (sender, receiver). The hand-over collectives of `prefill_end` use phase "handover".
"""

from __future__ import annotations

EMBED_LAYER = -1


def op_node(phase: str, step: int, mb: int, rank: int, layer: int, op: str) -> tuple:
    return ("op", phase, step, mb, rank, layer, op)


def coll_node(phase: str, step: int, mb: int, sync_index: int, layer: int, group: tuple) -> tuple:
    return ("coll", phase, step, mb, sync_index, layer, tuple(group))


def host_node(step: int, mb: int) -> tuple:
    return ("host", step, mb)


def sink_node(phase: str, step: int, mb: int) -> tuple:
    return ("sink", phase, step, mb)


def describe(node: tuple, tail_layer: int | None = None) -> str:
    """A node as users read it: 'decode step 1 mb 0 rank 3: o_proj of layer 40'."""
    kind = node[0]
    if kind == "op":
        _, phase, step, mb, rank, layer, op = node
        where = _layer_text(layer, tail_layer)
        when = f"{phase} step {step} mb {mb}" if phase == "decode" else f"{phase} mb {mb}"
        return f"{when} rank {rank}: {op}{where}"
    if kind == "coll":
        _, phase, step, mb, sync_index, layer, group = node
        where = _layer_text(layer, tail_layer)
        if phase == "handover":
            return f"prefill_end hand-over sync #{sync_index + 1} over ranks {_ranks(group)}"
        when = f"{phase} step {step} mb {mb}" if phase == "decode" else f"{phase} mb {mb}"
        return f"{when}: sync #{sync_index + 1}{where} over ranks {_ranks(group)}"
    if kind == "host":
        return f"host: token for decode step {node[1]} mb {node[2]}"
    if kind == "sink":
        _, phase, step, mb = node
        return f"output sink of {phase} step {step} mb {mb}"
    return repr(node)


def _layer_text(layer: int, tail_layer: int | None) -> str:
    if layer == EMBED_LAYER or (tail_layer is not None and layer >= tail_layer):
        return ""
    return f" of layer {layer}"


def _ranks(group: tuple) -> str:
    from syncverify.ranges import compact

    return compact(group)
