"""Placement analysis: is every op fed the value it needs, on every rank?

Walks the DAG's data edges in topological order and propagates, per rank, what each value
holds (`syncverify.analysis.values.Val`) through op transfer functions (the op-sharding table,
`rules/ops.yaml`) and collective transfer functions (all_reduce: Partial -> Replicated,
reduce_scatter: Partial -> Sharded(tokens), all_gather: Sharded -> Replicated, all_to_all:
token order <-> expert order, send_recv: moves a value unchanged, ...).

An unmet requirement is a `Defect`: the op that needed something, what it got, and the
collective that would have given it. After reporting, the analysis repairs the value (treats it
as what the op needed) so one missing sync gives one defect per place, not a cascade.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

import networkx as nx

from syncverify import catalog
from syncverify.analysis.values import (
    FULL,
    Val,
    add_have,
    blocks,
    chunk,
    covers_blocks,
    feat_contains,
    feat_union,
    normalize,
    partial,
    replace,
    shard,
    tokens,
)
from syncverify.graph.edges import edges_with_data
from syncverify.graph.nodes import CollNode, OpNode
from syncverify.graph.quotient import Classes
from syncverify.graph.world import PhaseWorld
from syncverify.plan import ALL_OPS, SHARDINGS, Plan
from syncverify.records import (
    NO_DETAIL,
    AddendsDiffer,
    Contributions,
    Copies,
    Defect,
    DefectKind,
    FromProducer,
    Group,
    KvNotAggregated,
    MissingSlot,
    Node,
    NotReplicated,
    PartialInput,
    Replicas,
    ShardText,
    SinkMissing,
    Times,
    WrongGroup,
    WrongGroupReason,
    WrongShard,
    blamed,
)


@dataclass
class PlacementResult:
    defects: list[Defect] = field(default_factory=list)
    effects: dict[tuple, str] = field(default_factory=dict)  # coll -> identity|changed
    attention_kv: dict[tuple, Val] = field(default_factory=dict)  # (phase, rank, layer) -> kv
    values: dict[tuple, dict] = field(default_factory=dict)  # node -> {(tensor, member): Val}


class Placement:
    def __init__(
        self, graph: nx.DiGraph, plan: Plan, worlds: dict[str, PhaseWorld], classes: Classes
    ):
        self.g = graph
        self.plan = plan
        self.worlds = worlds
        self.classes = classes  # what the representatives stand for, to read them as real
        self.out: dict[tuple, dict] = {}
        self.result = PlacementResult(values=self.out)
        self.peers: dict[tuple, list] = {}
        self._sharding: dict[str, dict] = {}

    # ---- driver -------------------------------------------------------------------------
    def run(self) -> PlacementResult:
        preds: dict[tuple, list] = defaultdict(list)
        for u, v, attrs in edges_with_data(self.g):
            for slot, tensor, member in attrs["data"]:
                preds[v].append((u, slot, tensor, member))
        self.peers = self._replicated_peers()
        self._preds = preds
        self._peer_tokens: dict[int, list] = {}
        extra = {
            n: [u for p in peers if p != n for u, *_ in preds[p]]
            for peers in self.peers.values()
            for n in peers
        }
        for node in self._data_order(preds, extra):
            kind = node.kind
            if kind == "op":
                self._eval_op(node, preds[node])
            elif kind == "coll":
                self._eval_coll(node, preds[node])
            elif kind == "host":
                self.out[node] = {(None, None): Val(frozenset(), kind="tokens")}
            elif kind == "sink":
                self._eval_sink(node, preds[node])
        return self.result

    def _replicated_peers(self) -> dict[tuple, list]:
        """Ops that need their input Replicated over the TP group, keyed with their TP peers."""
        groups: dict[tuple, list] = defaultdict(list)
        for node, attrs in self.g.nodes(data=True):
            if attrs.get("kind") != "op":
                continue
            world = self.world(node.phase)
            if world.topo.sizes["tp"] == 1 or not self._needs_replicated(node, world):
                continue
            tp_group = world.group("tp", node.rank)
            key = (node.phase, node.step, node.mb, node.layer, node.op, tp_group)
            groups[key].append(node)
        return {n: nodes for nodes in groups.values() for n in nodes}

    def _needs_replicated(self, node, world) -> bool:
        kind = self.sharding(node.op)["kind"]
        return kind in ("column_parallel", "mlp") or (
            kind == "experts" and world.topo.sizes["ep"] == 1
        )

    def _data_order(self, preds, extra) -> list:
        """Topological order of the data edges; `extra` adds "after every peer's input" edges."""
        succ: dict[tuple, list] = defaultdict(list)
        indeg: dict[tuple, int] = {}
        for v, items in preds.items():
            for u, *_ in items:
                succ[u].append(v)
            indeg[v] = indeg.get(v, 0) + len(items)
        for v, us in extra.items():
            for u in us:
                succ[u].append(v)
            indeg[v] = indeg.get(v, 0) + len(us)
        ready = [n for n in self.g.nodes if not indeg.get(n)]
        order = []
        while ready:
            n = ready.pop()
            order.append(n)
            for v in succ.get(n, ()):
                indeg[v] -= 1
                if indeg[v] == 0:
                    ready.append(v)
        return order

    def report(self, kind: DefectKind, node: Node, sync: int | None, payload=NO_DETAIL) -> None:
        self.result.defects.append(Defect(kind, node, sync, payload))

    def _inputs(self, items) -> dict[str, list]:
        """slot -> [(Val, producer node, member)] for one node's incoming data."""
        slots: dict[str, list] = defaultdict(list)
        for u, slot, tensor, member in items:
            produced = self.out.get(u, {})
            member_key = member if u.kind == "coll" else None
            val = produced.get((tensor, member_key)) or produced.get((None, member_key))
            if val is not None:
                slots[slot].append((val, u, member))
        return slots

    # ---- context ------------------------------------------------------------------------
    def _weights(self, node, sync, members) -> dict[int, int]:
        """How many real ranks each member of a collective's group stands for (graph.quotient):
        counts of copies and contributions read as on the real plan."""
        ordered = tuple(sorted(members))
        weights = self.classes.member_weights(self.world(node.phase).name, sync.group, ordered)
        return dict(zip(ordered, weights))

    def _feat_text(self, feat: tuple, node: OpNode | CollNode) -> str:
        return _real_feat_text(self.classes, self.world(node.phase).name, feat)

    def world(self, phase: str) -> PhaseWorld:
        return self.worlds["decode" if phase == "handover" else phase]

    def rank_tokens(self, world: PhaseWorld, mb: int, rank: int) -> frozenset:
        coords = world.topo.coords(rank)
        block = (world.name[0].upper(), coords["dp"], mb)
        sp = world.topo.sizes["sp"]
        if sp == 1:
            return tokens(block)
        return tokens(block, Fraction(coords["sp"], sp), Fraction(coords["sp"] + 1, sp))

    def sharding(self, op: str) -> dict:
        spec = self._sharding.get(op)  # asked twice per op instance: kept per op name
        if spec is None:
            spec = self._sharding[op] = catalog.op_spec(op, self.plan.sharding(op))
        return spec

    # ---- ops ----------------------------------------------------------------------------
    def _eval_op(self, node: tuple, items) -> None:
        _, phase, _step, _mb, rank, _layer, op = node
        world = self.world(phase)
        slots = self._inputs(items)
        spec = self.sharding(op)
        handler = getattr(self, "_op_" + spec["kind"])
        result = handler(node, world, rank, slots, spec)
        if op == "shared_experts":
            result = self._add_routed(node, result, slots)
        if isinstance(result, dict):
            self.out[node] = result
        else:
            self.out[node] = {(None, None): result}

    def _one(self, node, slots, slot: str, world, rank, mb) -> Val:
        """The value read at `slot`; a missing one is reported once and stood in for."""
        got = slots.get(slot)
        if got:
            return got[0][0]
        self._report_missing(node, slot)
        return Val(self.rank_tokens(world, mb, rank))

    def _report_missing(self, node, slot) -> None:
        _, _phase, _step, _mb, _rank, _layer, op = node
        if op == "embed":
            self.report(DefectKind.MISSING_TOKEN, node, None, MissingSlot(slot))
        elif slot in ("x", "residual") and op in ("attn_norm", "attn_residual", "final_norm"):
            if op == "attn_norm" or (op == "final_norm"):
                self.report(DefectKind.MISSING_STAGE_INPUT, node, None, MissingSlot(slot))
        else:
            self.report(DefectKind.MISSING_INPUT, node, None, MissingSlot(slot))

    def _require(self, node, val: Val, producer, want_full=True, want_complete=True) -> Val:
        """The checks every op makes of a token-order input; returns the repaired value."""
        ok = True
        if val.order != "token":
            self.report(
                DefectKind.EXPERT_ORDER,
                node,
                self._blame(producer),
                FromProducer(self._origin(producer)),
            )
            ok = False
        elif want_complete and val.need is not None:  # not complete (spelled out for mypy)
            self.report(
                DefectKind.PARTIAL_INPUT,
                node,
                self._blame_partial(producer),
                PartialInput(
                    Group(tuple(sorted(val.need))),
                    Contributions(val.have),
                    self._origin(producer),
                ),
            )
            ok = False
        elif val.copies > 1:
            blame = self._blame(producer, val)
            self.report(
                blamed(blame, DefectKind.DUPLICATED, DefectKind.DUPLICATED_UNBLAMED),
                node,
                blame,
                Copies(val.copies, self._origin(producer)),
            )
            ok = False
        elif want_full and not val.full:
            self.report(
                DefectKind.SHARDED_FEATURES,
                node,
                None,
                ShardText(self._feat_text(val.feat, node), self._origin(producer)),
            )
            ok = False
        if ok:
            return val
        return replace(
            val,
            order="token",
            need=None,
            have=(),
            copies=1,
            feat=FULL,
            block=None,
            shares=frozenset(),
            tokens=val.tokens if val.order == "token" else self._own_tokens(node),
        )

    def _own_tokens(self, node) -> frozenset:
        _, phase, _step, mb, rank, *_ = node
        return self.rank_tokens(self.world(phase), mb, rank)

    def _first(self, slots, slot):
        got = slots.get(slot)
        return got[0] if got else (None, None, None)

    def _op_vocab_embed(self, node, world, rank, slots, spec):
        _, phase, _step, mb, *_ = node
        if phase == "decode" and not slots.get("tokens"):
            self.report(DefectKind.MISSING_TOKEN, node, None, MissingSlot())
        need, have = partial(world.group("tp", rank), rank)
        return Val(self.rank_tokens(world, mb, rank), need=need, have=have)

    def _op_embed(self, node, world, rank, slots, spec):
        _, phase, _step, mb, *_ = node
        if phase == "decode" and not slots.get("tokens"):
            self.report(DefectKind.MISSING_TOKEN, node, None, MissingSlot())
        return Val(self.rank_tokens(world, mb, rank))

    def _op_elementwise(self, node, world, rank, slots, spec):
        val, producer, _ = self._first(slots, "x")
        if val is None:
            return self._one(node, slots, "x", world, rank, node.mb)
        return replace(self._require(node, val, producer), kind="act")

    def _op_column_parallel(self, node, world, rank, slots, spec):
        val, producer, _ = self._first(slots, "x")
        if val is None:
            val = self._one(node, slots, "x", world, rank, node.mb)
        val = self._require(node, val, producer)
        val = self._note_replicated(node, world, "tp", rank, val, producer)
        coord, tp = world.topo.coords(rank)["tp"], world.topo.sizes["tp"]
        val = replace(val, by=None)
        if node.op == "qkv":
            return {
                ("q", None): replace(val, feat=shard("heads", coord, tp)),
                ("kv", None): replace(val, feat=self._kv_share(coord, tp)),
            }
        return replace(val, feat=shard(spec["dim"], coord, tp))

    def _kv_share(self, coord: int, tp: int) -> tuple:
        """S20: KV heads split over tp, replicated when tp > kv_heads; MLA's latent is whole."""
        model = self.plan.model
        if model.mla or tp == 1:
            return FULL
        kv = model.kv_heads
        if kv % tp == 0:
            return shard("kv_heads", coord, tp)
        head = coord * kv // tp
        return shard("kv_heads", head, kv)

    def _op_row_parallel(self, node, world, rank, slots, spec):
        val, producer, _ = self._first(slots, "x")
        if val is None:
            val = self._one(node, slots, "x", world, rank, node.mb)
        coord, tp = world.topo.coords(rank)["tp"], world.topo.sizes["tp"]
        expected = shard(spec["dim"], coord, tp)
        val = self._require(node, val, producer, want_full=False)
        if val.feat != expected and not (val.feat == FULL and expected == FULL):
            blame = self._blame(producer, val)
            self.report(
                blamed(blame, DefectKind.WRONG_SHARD_BLAMED, DefectKind.WRONG_SHARD),
                node,
                blame,
                WrongShard(
                    self._feat_text(val.feat, node),
                    self._feat_text(expected, node),
                    self._origin(producer),
                ),
            )
        need, have = partial(world.group("tp", rank), rank)
        return replace(val, feat=FULL, need=need, have=have, by=None)

    def _op_linear(self, node, world, rank, slots, spec):
        val, producer, _ = self._first(slots, "x")
        if val is None:
            val = self._one(node, slots, "x", world, rank, node.mb)
        return replace(self._require(node, val, producer), feat=FULL, by=None)

    def _op_mlp(self, node, world, rank, slots, spec):
        """Shared experts split over TP like a dense MLP: partial over tp (S13)."""
        val, producer, _ = self._first(slots, "x")
        if val is None:
            val = self._one(node, slots, "x", world, rank, node.mb)
        val = self._require(node, val, producer)
        val = self._note_replicated(node, world, "tp", rank, val, producer)
        need, have = partial(world.group("tp", rank), rank)
        return replace(val, need=need, have=have, by=None)

    def _add_routed(self, node, shared: Val, slots) -> Val:
        """S13: in token order the shared output is added to the routed output right here."""
        routed, producer, _ = self._first(slots, "routed")
        if routed is None:
            return shared
        return self._add(node, [("routed", routed, producer), ("shared", shared, node)])

    def _op_attention(self, node, world, rank, slots, spec):
        q, qp, _ = self._first(slots, "q")
        kv, kvp, _ = self._first(slots, "kv")
        if q is None:
            q = self._one(node, slots, "q", world, rank, node.mb)
        q = self._require(node, q, qp, want_full=False)
        if kv is not None:
            self.result.attention_kv[(node.phase, rank, node.layer, node.mb)] = kv
            kv = self._require(node, kv, kvp, want_full=False)
            wanted = {b for b, _, _ in q.tokens}
            if not covers_blocks(kv.tokens, wanted):
                self.report(
                    DefectKind.KV_NOT_AGGREGATED,
                    node,
                    None,
                    KvNotAggregated(world.topo.sizes["sp"]),
                )
            if not feat_contains(kv.feat, self._kv_needed(q.feat)):
                # the K/V are this rank's shard: a collective that widened q is to blame
                blame = self._blame(kvp, kv)
                blame = blame if blame is not None else q.by
                self.report(
                    blamed(blame, DefectKind.WRONG_SHARD_BLAMED, DefectKind.WRONG_SHARD),
                    node,
                    blame,
                    WrongShard(
                        self._feat_text(kv.feat, node),
                        self._feat_text(self._kv_needed(q.feat), node),
                        "qkv",
                    ),
                )
        return replace(q, feat=q.feat)

    def _kv_needed(self, qfeat: tuple) -> tuple:
        model = self.plan.model
        if model.mla or qfeat == FULL:
            return FULL
        kv = model.kv_heads
        lo = (qfeat[1] * kv).__floor__()
        hi = -((-qfeat[2] * kv).__floor__())
        return (
            shard("kv_heads", lo, kv)
            if hi - lo == 1
            else ("kv_heads", Fraction(lo, kv), Fraction(hi, kv))
        )

    def _op_add(self, node, world, rank, slots, spec):
        addends = []
        for slot in ("residual", "branch", "shared"):
            val, producer, _ = self._first(slots, slot)
            if val is None:
                if slot == "shared" or (slot == "residual" and not slots.get("branch")):
                    continue
                if slot == "residual":
                    continue  # a missing stage input is reported at attn_norm
                val = self._one(node, slots, slot, world, rank, node.mb)
            addends.append((slot, val, producer))
        if not addends:
            return self._one(node, slots, "residual", world, rank, node.mb)
        return self._add(node, addends)

    def _add(self, node, addends) -> Val:
        """S13/S19: every addend in the same placement; the residual wins the repair."""
        base_slot, base, base_producer = addends[0]
        for slot, val, producer in addends[1:]:
            if val.order != "token":
                self.report(
                    DefectKind.EXPERT_ORDER,
                    node,
                    self._blame(producer),
                    FromProducer(self._origin(producer)),
                )
            elif val.same_placement(base):
                continue
            elif val.complete != base.complete:
                partial_one = (
                    (slot, val, producer) if not val.complete else (base_slot, base, base_producer)
                )
                self.report(
                    DefectKind.PARTIAL_INPUT,
                    node,
                    self._blame_partial(partial_one[2]),
                    PartialInput(
                        Group(tuple(sorted(partial_one[1].need))),
                        Contributions(partial_one[1].have),
                        self._origin(partial_one[2]),
                        partial_one[0],
                    ),
                )
            elif val.copies != base.copies:
                dup = (val, producer) if val.copies > 1 else (base, base_producer)
                blame = self._blame(dup[1])
                self.report(
                    blamed(blame, DefectKind.DUPLICATED, DefectKind.DUPLICATED_UNBLAMED),
                    node,
                    blame,
                    Copies(dup[0].copies, self._origin(dup[1])),
                )
            else:
                blame = self._blame(producer)
                kind = (
                    DefectKind.ADDENDS_HOLD_DIFFERENT_TOKENS
                    if val.tokens != base.tokens
                    else blamed(blame, DefectKind.ADDENDS_DIFFER_BLAMED, DefectKind.ADDENDS_DIFFER)
                )
                self.report(
                    kind,
                    node,
                    blame,
                    AddendsDiffer(slot, self._origin(producer), self._origin(base_producer)),
                )
        if base.order != "token" or base.copies > 1:
            return replace(self._require(node, base, base_producer), by=None)
        return replace(base, by=None)

    def _op_experts(self, node, world, rank, slots, spec):
        val, producer, _ = self._first(slots, "x")
        if val is None:
            val = self._one(node, slots, "x", world, rank, node.mb)
        if val.order == "expert":
            if not val.complete:
                return self._require(node, val, producer)
            return val  # runs this rank's expert block on dispatched tokens
        val = self._require(node, val, producer)
        if world.topo.sizes["ep"] == 1:
            # S12: ep = 1 with tp > 1: every expert is split over tp like a dense MLP
            val = self._note_replicated(node, world, "tp", rank, val, producer)
            need, have = partial(world.group("tp", rank), rank)
        else:
            # S12: tokens Replicated over the EP group: each rank runs its own experts on every
            # token, so the output is a partial sum over ep
            need, have = partial(world.group("ep", rank), rank)
        return replace(val, need=need, have=have, by=None)

    def _op_sample(self, node, world, rank, slots, spec):
        val, producer, _ = self._first(slots, "x")
        if val is None:
            val = self._one(node, slots, "x", world, rank, node.mb)
        val = self._require(node, val, producer)
        return replace(val, kind="tokens")

    # ---- group checks ----------------------------------------------------------------------
    def _note_replicated(self, node, world, axis, rank, val: Val, producer) -> Val:
        """A column-parallel op needs the same tokens on every member of its TP group.

        Its peers' inputs are already known (the walk orders them first); on a mismatch the
        op is reported and goes on with what an all_gather over the group would have given.
        """
        peers = self.peers.get(node)
        if not peers:
            return val
        held = self._peer_tokens.get(id(peers))
        if held is None:
            held = []
            for peer in peers:
                got = self._inputs(self._preds[peer]).get("x")
                if got:
                    held.append(got[0][0].tokens)
            self._peer_tokens[id(peers)] = held
        if len(set(held)) <= 1:
            return val
        self.report(
            DefectKind.NOT_REPLICATED,
            node,
            None,
            NotReplicated(Group(world.group(axis, rank)), self._origin(producer)),
        )
        merged, _ = normalize(t for toks in held for t in toks)
        return replace(val, tokens=merged)

    # ---- collectives --------------------------------------------------------------------
    def _eval_coll(self, node, items) -> None:
        attrs = self.g.nodes[node]
        sync = self.plan.syncs[attrs["sync"]]
        by_tensor: dict = defaultdict(dict)
        for u, _slot, tensor, member in items:
            produced = self.out.get(u, {})
            source_member = member if u.kind == "coll" else (u.rank if u.kind == "op" else None)
            val = produced.get((tensor, member if u.kind == "coll" else None))
            if val is None:
                val = produced.get((None, member if u.kind == "coll" else None))
            if val is not None:
                rank = source_member if source_member is not None else min(attrs["members"])
                by_tensor[tensor][rank] = val
        outputs: dict = {}
        changed = False
        for tensor, ins in by_tensor.items():
            outs = self._transfer(node, sync, attrs, ins, tensor)
            for member, val in outs.items():
                if member not in ins or not val.same_placement(ins[member]):
                    changed = True
                    val = replace(val, by=sync.index)
                outputs[(tensor, member)] = val
        self.out[node] = outputs
        self.result.effects[node] = "changed" if changed else "identity"

    def _transfer(self, node, sync, attrs, ins: dict[int, Val], tensor=None) -> dict[int, Val]:
        members = attrs["members"]
        kind = sync.collective
        if kind in ("send_recv", "broadcast"):
            root = min(ins)
            return dict.fromkeys(members, ins[root])
        if kind in ("all_reduce", "reduce_scatter"):
            return self._reduce(node, sync, members, ins)
        if kind in ("all_gather", "gather"):
            gathered = self._gather(node, sync, members, ins)
            if kind == "gather":
                root = min(members)
                return {m: (gathered if m == root else ins[m]) for m in ins}
            return dict.fromkeys(members, gathered)
        if kind == "all_to_all":
            return self._all_to_all(node, sync, members, ins, tensor)
        return dict(ins)

    def _reduce(self, node, sync, members, ins):
        vals = [ins[m] for m in sorted(ins)]
        index = {m: i for i, m in enumerate(sorted(members))}
        scatter = sync.collective == "reduce_scatter"

        def result(m, v):
            return replace(v, tokens=chunk(v.tokens, index[m], len(members))) if scatter else v

        if len(members) == 1:
            return dict(ins)
        if all(v.complete for v in vals):
            # S19: a reduction of a value that did not need one changes it; the repair drops it
            if len({blocks(v.tokens) for v in vals}) > 1:
                self.report(
                    DefectKind.WRONG_GROUP,
                    node,
                    sync.index,
                    WrongGroup(WrongGroupReason.DIFFERENT_TOKENS),
                )
            elif len({v.feat for v in vals}) > 1:
                self.report(
                    DefectKind.REDUCE_SHARDED,
                    node,
                    sync.index,
                    ShardText(self._feat_text(vals[0].feat, node)),
                )
            else:
                self.report(
                    DefectKind.DOUBLE_REDUCTION,
                    node,
                    sync.index,
                    Times(sum(self._weights(node, sync, members).values())),
                )
            return dict(ins)
        if len({v.tokens for v in vals}) > 1 or len({v.order for v in vals}) > 1:
            self.report(
                DefectKind.WRONG_GROUP,
                node,
                sync.index,
                WrongGroup(
                    WrongGroupReason.DIFFERENT_TOKENS, Group(tuple(sorted(vals[0].need or ())))
                ),
            )
            return {m: result(m, v.made_complete()) for m, v in ins.items()}
        needs = {v.need for v in vals if v.need is not None}
        total = add_have(vals)
        need = next(iter(needs)) if len(needs) == 1 else frozenset().union(*needs)
        if any(count > 1 for count in total.values()):
            weights = self._weights(node, sync, members)
            real_total = add_have([ins[m] for m in sorted(ins)], [weights[m] for m in sorted(ins)])
            self.report(
                DefectKind.DOUBLE_REDUCTION, node, sync.index, Times(max(real_total.values()))
            )
            return {m: result(m, v.made_complete()) for m, v in ins.items()}
        if set(total) - set(need) or len(needs) > 1:
            self.report(
                DefectKind.WRONG_GROUP,
                node,
                sync.index,
                WrongGroup(WrongGroupReason.EXTRA_CONTRIBUTIONS, Group(tuple(sorted(need)))),
            )
            return {m: result(m, v.made_complete()) for m, v in ins.items()}
        if set(total) == set(need):
            return {m: result(m, v.made_complete()) for m, v in ins.items()}
        have = tuple(sorted(total.items()))
        return {m: result(m, replace(v, have=have)) for m, v in ins.items()}

    def _gather(self, node, sync, members, ins) -> Val:
        vals = [ins[m] for m in sorted(ins)]
        base = vals[0]
        if len(members) == 1:
            return base
        if len({v.tokens for v in vals}) > 1:
            merged, overlap = normalize(t for v in vals for t in v.tokens)
            return replace(base, tokens=merged, copies=base.copies * (2 if overlap else 1))
        if len({v.feat for v in vals}) > 1:
            feat = feat_union([v.feat for v in vals])
            if feat is None and _leaves_a_gap({v.feat for v in vals}):
                # S19: an all_gather concatenates along the dim its input is sharded on; shares
                # with a hole between them (after an all_to_all split each member's share) make
                # no slice of the whole value (the executor cannot build it). Reported once,
                # then repaired to the whole value so nothing downstream cascades.
                self.report(DefectKind.UNTILED_GATHER, node, sync.index)
            return replace(base, feat=feat if feat is not None else FULL)
        return replace(base, copies=base.copies * sum(self._weights(node, sync, members).values()))

    def _all_to_all(self, node, sync, members, ins, tensor=None):
        if len(members) > 1 and any(v.kind == "tokens" for v in ins.values()):
            # sampled token ids have one value per sequence and no feature or expert dim to
            # exchange: any all_to_all of them hands sequences' tokens to the wrong rank (S19)
            self.report(DefectKind.SCRAMBLED_TOKENS, node, sync.index)
            return dict(ins)
        role = sync.role or (
            "dispatch" if sync.after == "router" else "combine" if sync.after == "experts" else None
        )
        if role == "dispatch":
            return self._dispatch(node, sync, members, ins)
        if role == "combine":
            return self._combine(node, sync, members, ins)
        return self._transpose(node, sync, members, ins, "kv_heads" if tensor == "kv" else "heads")

    def _dispatch(self, node, sync, members, ins):
        vals = list(ins.values())
        if any(v.order == "expert" for v in vals):
            self.report(DefectKind.DOUBLE_DISPATCH, node, sync.index)
            return dict(ins)
        holders: dict = defaultdict(list)
        for m in sorted(ins):
            holders[ins[m].tokens].append(m)
        shares = set()
        for toks, who in holders.items():
            # S12: a token held by several members is sent once, by the member owning its share
            for i, m in enumerate(who):
                shares.add((m, chunk(toks, i, len(who))))
        union, _ = normalize(t for _, s in shares for t in s)
        order = sorted(members)
        out = {}
        for m in members:
            base = ins.get(m, vals[0])
            i = order.index(m)
            out[m] = replace(
                base,
                order="expert",
                tokens=union,
                block=(Fraction(i, len(order)), Fraction(i + 1, len(order))),
                shares=frozenset(shares),
            )
        return out

    def _combine(self, node, sync, members, ins):
        vals = list(ins.values())
        if any(v.order != "expert" for v in vals):
            kind = (
                DefectKind.COMBINE_UNDISPATCHED
                if all(v.complete for v in vals)
                else DefectKind.WRONG_COLLECTIVE
            )
            self.report(kind, node, sync.index)
            return {m: v.made_complete() for m, v in ins.items()}
        blocks = sorted(v.block for v in vals)
        covered = feat_union([("experts", lo, hi) for lo, hi in blocks])
        shares = dict(vals[0].shares)
        out = {}
        for m in members:
            base = ins.get(m, vals[0])
            mine = shares.get(m, frozenset())
            out[m] = replace(base, order="token", tokens=mine, block=None, shares=frozenset())
        if covered != FULL or set(shares) - set(members):
            self.report(
                DefectKind.WRONG_GROUP, node, sync.index, WrongGroup(WrongGroupReason.COMBINE_GROUP)
            )
        return out

    def _transpose(self, node, sync, members, ins, heads: str):
        """An all_to_all outside MoE: token shards <-> feature shards (Ulysses style). A whole
        value is split along `heads`: qkv's K/V over its KV heads, anything else over heads."""
        order = sorted(members)
        vals = [ins[m] for m in order if m in ins]
        out = {}
        if len({v.tokens for v in vals}) > 1:
            merged, _ = normalize(t for v in vals for t in v.tokens)
            for i, m in enumerate(order):
                base = ins.get(m, vals[0])
                lo, hi = base.feat[1], base.feat[2]
                width = (hi - lo) / len(order)
                out[m] = replace(
                    base,
                    tokens=merged,
                    feat=(
                        base.feat[0] if base.feat[0] != "*" else heads,
                        lo + width * i,
                        lo + width * (i + 1),
                    ),
                )
        else:
            feat = feat_union([v.feat for v in vals]) or FULL
            for i, m in enumerate(order):
                base = ins.get(m, vals[0])
                out[m] = replace(base, feat=feat, tokens=chunk(base.tokens, i, len(order)))
        return out

    # ---- the output sink (S18) ------------------------------------------------------------
    def _eval_sink(self, node, items) -> None:
        _, phase, _step, mb = node
        world = self.world(phase)
        slots = self._inputs(items)
        held = frozenset().union(*(v.tokens for v, _, _ in slots.get("tokens", [])))
        for val, producer, _ in slots.get("tokens", []):
            if val.copies > 1:
                # S21: the sink takes every copy it is handed, but the gather moved them all
                blame = self._blame(producer, val)
                self.report(
                    blamed(
                        blame, DefectKind.OVERSIZED_GATHER, DefectKind.OVERSIZED_GATHER_UNBLAMED
                    ),
                    node,
                    blame,
                    Copies(val.copies),
                )
        busy = [d for d in range(world.topo.sizes["dp"]) if d not in world.idle]
        wanted = [(phase[0].upper(), d, mb) for d in busy]
        if not self._sink_covered(world, held, wanted):
            have = sorted({b[1] for b, _, _ in held})
            missing = sorted(set(busy) - set(have))
            self.report(DefectKind.SINK_MISSING, node, None, SinkMissing(Replicas(tuple(missing))))
        self.out[node] = {}

    @staticmethod
    def _sink_covered(world: PhaseWorld, held: frozenset, wanted: list) -> bool:
        """Prefill (and SP, S6) sample each sequence's last position; decode every sequence."""
        if world.name == "decode" and world.topo.sizes["sp"] == 1:
            return covers_blocks(held, wanted)
        ends = {b for b, _, hi in held if hi == 1}
        return set(wanted) <= ends

    # ---- blame ------------------------------------------------------------------------------
    def _blame(self, producer, val: Val | None = None) -> int | None:
        """The sync point whose collective produced the value (directly, or passed on by ops)."""
        if producer is not None and producer.kind == "coll":
            return self.g.nodes[producer].get("sync")
        return val.by if val is not None else None

    def _blame_partial(self, producer) -> int | None:
        return self._blame(producer)

    def _origin(self, producer) -> str | None:
        """The op whose output it is, looking through collectives to their anchor."""
        while producer is not None and producer.kind == "coll":
            sync = self.plan.syncs[self.g.nodes[producer]["sync"]]
            return sync.after
        if producer is not None and producer.kind == "op":
            return producer.op
        return None


def _leaves_a_gap(feats: set) -> bool:
    """Whether distinct feature shares of one dim leave a hole between their lowest and highest
    bound (overlapping copies of one share, as replicated KV heads give, leave none)."""
    if len({f[0] for f in feats}) != 1:
        return False
    spans = sorted((f[1], f[2]) for f in feats)
    reach = spans[0][1]
    for lo, hi in spans[1:]:
        if lo > reach:
            return True
        reach = max(reach, hi)
    return False


def _feat_text(feat: tuple) -> str:
    if feat == FULL or (feat[1] == 0 and feat[2] == 1):
        return "every feature"
    return f"{feat[0]} {feat[1]}-{feat[2]}"


def _real_feat_text(classes, phase: str, feat: tuple) -> str:
    """A feature share as the real plan has it (graph.quotient may keep fewer TP ranks)."""
    if classes is not None and feat != FULL:
        feat = classes.real_feature(phase, feat)
    return _feat_text(feat)


def analyse_placement(
    graph: nx.DiGraph, plan: Plan, worlds: dict[str, PhaseWorld], classes: Classes
) -> PlacementResult:
    return Placement(graph, plan, worlds, classes).run()


class OpDispatchError(Exception):
    """rules/ops.yaml and the `_op_<kind>` handlers of `Placement` disagree."""


def op_dispatch_problems(table: dict, handler_kinds: set[str], ops: tuple[str, ...]) -> list[str]:
    """What keeps `table` (op -> {sharding -> {kind, ...}}) from dispatching every op of `ops`
    to a handler: an op with no entry or no `default`, an unknown sharding, a kind with no
    handler, a handler no kind names (dead code that a renamed kind would leave behind)."""
    problems = [f"op {op!r} has no entry" for op in ops if op not in table]
    problems += [f"op {op!r} is not an op of plans (plan.ALL_OPS)" for op in table if op not in ops]
    named = set()
    for op, specs in table.items():
        if "default" not in specs:
            problems.append(f"op {op!r} has no `default` sharding")
        for sharding, spec in specs.items():
            if sharding not in SHARDINGS:
                problems.append(f"op {op!r}: unknown sharding {sharding!r}")
            named.add(spec.get("kind"))
            if spec.get("kind") not in handler_kinds:
                problems.append(f"op {op!r} ({sharding}): no handler _op_{spec.get('kind')}")
    problems += [f"handler _op_{k} names no kind of the table" for k in handler_kinds - named]
    return problems


def _check_op_dispatch() -> None:
    """Checked at import: a table edit that leaves an op without a handler fails at once, with
    the op named, not as an AttributeError deep in a plan's analysis."""
    handlers = {name.removeprefix("_op_") for name in vars(Placement) if name.startswith("_op_")}
    problems = op_dispatch_problems(catalog.op_table(), handlers, ALL_OPS)
    if problems:
        raise OpDispatchError(
            "rules/ops.yaml does not match the placement handlers: " + "; ".join(problems)
        )


_check_op_dispatch()
