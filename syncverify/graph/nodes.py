"""Node identities of the dependency DAG and how they read in messages.

Op instance:          OpNode("op", phase, step, mb, rank, layer, op)
Collective instance:  CollNode("coll", phase, step, mb, sync_index, layer, group)
Host token slot:      HostNode("host", step, mb)            decode step `step`'s token (S4, S5)
Output sink:          SinkNode("sink", phase, step, mb)      S18

`layer` is -1 for `embed` and `model.layers` for the model's tail ops (final_norm, lm_head,
sample). `group` is the sorted tuple of the collective instance's member ranks; for a send_recv
it is (sender, receiver). The hand-over collectives of `prefill_end` use phase "handover".

Keys are NamedTuples read by field name (`node.layer`, not `node[5]`). They stay plain tuples
underneath, kind first: equal to, hashed and ordered like the tuples above, and printed like
them (repr is tuple's, so anything that sorts or shows keys by their text is unchanged).
Every key in the graph must be made by the constructors below, never by a tuple literal: a
plain tuple passed to `add_edge` would be stored as the neighbour and lose its field names.

Why NamedTuple and not plain tuples with named index constants (`node[LAYER]`), measured by
`python bench/node_keys.py --repeat 7` (250,000 op keys, CPU seconds, best of 7, 2-core box):
create 0.057 (tuple) -> 0.317 (op_node), insert into a DiGraph 0.415 -> 0.399, lookup 0.066 ->
0.073, read two fields 0.033 -> 0.035. Only creation costs more, about 1 us a key: 2.5 ms on the
2,422 nodes of DeepSeek-V3 on 1,024 GPUs (reduced), 0.26 s on a 250,000-node --exhaustive
unroll that takes about 25 s (~100 us a node); hashing and lookups, which dominate, are the
tuple's own. `bench/scale.py --quick` CPU figures before and after are in the commit message.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

EMBED_LAYER = -1


class OpNode(NamedTuple):
    kind: Literal["op"]
    phase: str
    step: int
    mb: int
    rank: int
    layer: int
    op: str

    def __repr__(self) -> str:
        return tuple.__repr__(self)


class CollNode(NamedTuple):
    kind: Literal["coll"]
    phase: str
    step: int
    mb: int
    sync_index: int
    layer: int
    group: tuple[int, ...]

    def __repr__(self) -> str:
        return tuple.__repr__(self)


class HostNode(NamedTuple):
    kind: Literal["host"]
    step: int
    mb: int

    def __repr__(self) -> str:
        return tuple.__repr__(self)


class SinkNode(NamedTuple):
    kind: Literal["sink"]
    phase: str
    step: int
    mb: int

    def __repr__(self) -> str:
        return tuple.__repr__(self)


Node = OpNode | CollNode | HostNode | SinkNode


def op_node(phase: str, step: int, mb: int, rank: int, layer: int, op: str) -> OpNode:
    return OpNode("op", phase, step, mb, rank, layer, op)


def coll_node(
    phase: str, step: int, mb: int, sync_index: int, layer: int, group: tuple
) -> CollNode:
    return CollNode("coll", phase, step, mb, sync_index, layer, tuple(group))


def host_node(step: int, mb: int) -> HostNode:
    return HostNode("host", step, mb)


def sink_node(phase: str, step: int, mb: int) -> SinkNode:
    return SinkNode("sink", phase, step, mb)


_BY_KIND: dict[str, type[Node]] = {
    "op": OpNode,
    "coll": CollNode,
    "host": HostNode,
    "sink": SinkNode,
}


def as_node(key: tuple) -> Node | tuple:
    """`key` with its field names: a node key of the graph as it is, a plain tuple of the same
    shape (written before node keys had names) as the node it equals; anything else as given."""
    if isinstance(key, OpNode | CollNode | HostNode | SinkNode):
        return key
    kind = _BY_KIND.get(key[0]) if key else None
    if kind is None or len(key) != len(kind._fields):
        return key
    return kind._make(key)


def describe(node: Node | tuple, tail_layer: int | None = None) -> str:
    """A node as users read it: 'decode step 1 mb 0 rank 3: o_proj of layer 40'."""
    node = as_node(node)
    if isinstance(node, OpNode):
        where = _layer_text(node.layer, tail_layer)
        return f"{_when(node)} rank {node.rank}: {node.op}{where}"
    if isinstance(node, CollNode):
        where = _layer_text(node.layer, tail_layer)
        ranks = _ranks(node.group)
        if node.phase == "handover":
            return f"prefill_end hand-over sync #{node.sync_index + 1} over ranks {ranks}"
        return f"{_when(node)}: sync #{node.sync_index + 1}{where} over ranks {ranks}"
    if isinstance(node, HostNode):
        return f"host: token for decode step {node.step} mb {node.mb}"
    if isinstance(node, SinkNode):
        return f"output sink of {node.phase} step {node.step} mb {node.mb}"
    return repr(node)


def _when(node: OpNode | CollNode) -> str:
    if node.phase == "decode":
        return f"{node.phase} step {node.step} mb {node.mb}"
    return f"{node.phase} mb {node.mb}"


def _layer_text(layer: int, tail_layer: int | None) -> str:
    if layer == EMBED_LAYER or (tail_layer is not None and layer >= tail_layer):
        return ""
    return f" of layer {layer}"


def _ranks(group: tuple) -> str:
    from syncverify.ranges import compact

    return compact(group)
