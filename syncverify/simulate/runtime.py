"""The machine: runs every rank's process (`syncverify.simulate.process`) on numpy buffers.

Each rank runs its process one instruction at a time; an instruction runs when the plan format
lets the rank go on, and the machine rules are S1-S23 read operationally:
- A call reads its input when the rank issues it (S22) and completes when every member of its
  group has issued it (S3, S23), whatever else is pending. Members pair their calls on one
  communicator (a set of ranks; a send/recv pair per direction) by position in issue order: a
  pair that differs is a hang (S23).
- Blocking (S11): the issuer's next op starts after completion; a blocking call other than a
  send/recv also completes before the rank issues anything else, while send/recvs posted with
  no op between them form one group and do not wait for each other (S3).
- Async (S11): the call's `Await` is armed at issue; the result lands on the rank at the first
  op it runs that matches (the op named by `wait_before`, in the same stream, within the layers
  allowed), which waits for completion. That is the adversary's choice: every async result
  arrives as late as the plan allows, so any read before the wait is a stale read (S22),
  reported whatever the numbers happen to be (each slot tracks the calls still due to write it).
  Several calls at one anchor write its slot in list order (S7): a later one supersedes an
  earlier one still in flight.
- The host hands a token to step t+1 once every rank that samples has sampled step t (S4); under
  `across_steps` it does not wait (S15), and the adversary makes that read stale.
Given those choices no read depends on the order in which ranks advance, so the machine simply
advances each rank as far as it can, round-robin, until all finish or none can move: the latter
is a hang, and so is a call some member never issues (S23).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from syncverify.plan import Plan
from syncverify.simulate.buffers import Buf, Stop
from syncverify.simulate.collectives import Unusable, transfer
from syncverify.simulate.model import Dims, Weights
from syncverify.simulate.ops import Misplaced, MissingKV, Ops
from syncverify.simulate.outcome import (
    DIVERGENCE,
    HANG,
    MATCH,
    MISPLACED,
    MISSING,
    STALE,
    VALUE,
    Outcome,
)
from syncverify.simulate.process import CACHE, GATHER_LIKE, Cluster, Compute, Post, RankProcess
from syncverify.simulate.reference import Reference
from syncverify.simulate.workload import Workload

TOLERANCE = 1e-6  # relative to the reference value's magnitude (float64 everywhere)
# Where a rank's values are held against the reference: the residual stream after each add,
# the final norm, and the logits at `sample`. A wrong value anywhere in a layer reaches the
# residual of the same layer, so a divergence is located to the layer and the add that shows it.
COMPARED = {
    "attn_residual": "attn_residual",
    "mlp_residual": "mlp_residual",
    "final_norm": "final_norm",
}


class Slot:
    __slots__ = ("buf", "pending", "writer")

    def __init__(self):
        self.buf: Buf | None = None
        self.pending: set = set()  # calls still due to write this slot on this rank
        self.writer: tuple | None = None  # the last call issued to write it (S7)


class Call:
    """One collective call: every member's part, paired by the machine (S23)."""

    def __init__(self, item: Post):
        self.key = item.call
        self.sync = item.sync
        self.members = item.members
        self.issues: dict[int, Post] = {}
        self.inputs: dict[int, dict] = {}
        self.outputs: dict[int, dict] = {}
        self.done = False
        self.delivered: set = set()


class RankState:
    """A rank as the machine sees it: its process, the instruction it runs next, its values."""

    def __init__(self, rank: int, process: Iterator[Compute | Post]):
        self.rank = rank
        self.process = process
        self.next: Compute | Post | None = next(process, None)  # None: the rank has finished
        self.slots: dict[tuple, Slot] = defaultdict(Slot)
        self.cache: dict = {}
        self.cache_pending: set = set()
        self.blocking: list = []  # blocking calls issued since the last op
        self.chain: tuple | None = None  # the last blocking non-p2p call since then
        self.armed: list = []  # (Await, call key): async calls awaited later
        self.blocked_on: Call | str | None = None  # a Call, or the text of what else it waits for

    @property
    def finished(self) -> bool:
        return self.next is None

    def advance(self) -> None:
        self.next = next(self.process, None)
        self.blocked_on = None


class Runtime:
    def __init__(
        self,
        plan: Plan,
        dims: Dims,
        weights: Weights,
        work: Workload,
        reference: Reference,
        scenario_label: str,
    ):
        self.plan = plan
        self.dims = dims
        self.work = work
        self.ref = reference
        self.label = scenario_label
        self.ops = Ops(dims, weights, work.prompt_len)
        self.cluster = Cluster(plan, work, dims, work.steps)
        world = max(p.topology.world for p in plan.phases)
        self.ranks = [RankState(r, RankProcess(self.cluster, r).run()) for r in range(world)]
        self.calls: dict[tuple, Call] = {}
        self.comms: dict = defaultdict(lambda: defaultdict(list))
        self.samples_done: set = set()
        self.host_tokens: dict[tuple, int] = {}
        self.holders = {p.name: self._expert_holders(p) for p in plan.phases}
        self.tail = plan.model.layers
        self.phases = {p.name: p for p in plan.phases}
        self._rows_memo: dict = {}
        if plan.phase("prefill") is None and plan.phase("decode") is not None:
            self._prefilled_elsewhere()

    # ---- driver -----------------------------------------------------------------------------
    def run(self) -> Outcome:
        try:
            self._advance_all()
            self._check_finished()
            self._check_sinks()
        except Stop as stop:
            stop.outcome.scenario = self.label
            return stop.outcome
        return Outcome(MATCH, "matches the single-device reference", scenario=self.label)

    def _advance_all(self) -> None:
        moved = True
        while moved:
            moved = False
            for st in self.ranks:
                while not st.finished and self._step(st):
                    moved = True

    def _step(self, st: RankState) -> bool:
        """Run the rank's next instruction if it may go on; False if it must wait."""
        item = st.next
        if item is None:  # the rank has finished
            return False
        if isinstance(item, Post):
            # blocking (S11): a call other than a send/recv completes before the rank issues
            # anything else; send/recvs posted one after another form one group (S3)
            if st.chain is not None and not self.calls[st.chain].done:
                st.blocked_on = self.calls[st.chain]
                return False
            self._issue(st, item)
        else:
            awaited = [key for wait, key in st.armed if wait.matches(item)] if st.armed else []
            reason = self._op_blocked(st, item, awaited)
            if reason:
                st.blocked_on = reason
                return False
            if awaited:
                # S11: an async call is awaited once, at the first matching op after its issue
                st.armed = [(wait, key) for wait, key in st.armed if key not in awaited]
                for key in awaited:
                    self._deliver(self.calls[key], st.rank)
            self._run_op(st, item)
            st.blocking, st.chain = [], None
        st.advance()
        return True

    def _op_blocked(self, st: RankState, item: Compute, awaited: list):
        """What keeps the op from running (a Call, or a text), or None: the blocking calls
        issued since the previous op, the async calls awaited here, the host's token (S4)."""
        for key in st.blocking + awaited:
            if not self.calls[key].done:
                return self.calls[key]
        if item.op == "embed" and _source(item)[0] == "host" and not self._host_stale(item):
            _, step, mb = _source(item)
            if not self._host_ready(step, mb):
                return f"the host's token for decode step {step} mb {mb}"
        return None

    # ---- calls ------------------------------------------------------------------------------
    def _issue(self, st: RankState, item: Post) -> None:
        inputs = {t: self._read_for_call(st, slot, item) for t, slot in item.reads.items()}
        call = self.calls.get(item.call)
        if call is None:
            call = self.calls[item.call] = Call(item)
        call.issues[st.rank] = item
        call.inputs[st.rank] = inputs
        self._pair(st.rank, item)
        for slot in item.writes.values():
            if slot == CACHE:
                st.cache_pending.add(item.call)
                continue
            # S7: syncs at one anchor run in list order and consumers read the last one's
            # output, so an earlier call still in flight no longer writes what they read
            target = st.slots[slot]
            target.pending, target.writer = {item.call}, item.call
        if item.blocking:
            st.blocking.append(item.call)
            if not item.p2p:
                st.chain = item.call
        elif item.wait:
            st.armed.append((item.wait, item.call))
        if len(call.issues) == len(call.members):
            self._complete(call)

    def _pair(self, rank: int, item: Post) -> None:
        """S23: members pair calls on a communicator by position in issue order."""
        queues = self.comms[item.comm]
        position = len(queues[rank])
        queues[rank].append(item.call)
        for other, queue in queues.items():
            if other != rank and len(queue) > position and queue[position] != item.call:
                mine, theirs = self.calls[item.call], self.calls[queue[position]]
                raise Stop(
                    Outcome(
                        HANG,
                        f"ranks {min(rank, other)} and {max(rank, other)} pair "
                        f"{self._describe(theirs if other < rank else mine)} with "
                        f"{self._describe(mine if other < rank else theirs)} "
                        f"(their calls on ranks {_ranks(item.members)} are in "
                        f"different orders)",
                        kind="ordering",
                        rank=rank,
                        sync=item.sync.label,
                        waiting=[
                            {"rank": rank, "waits_for": self._describe(mine)},
                            {"rank": other, "waits_for": self._describe(theirs)},
                        ],
                    )
                )

    def _complete(self, call: Call) -> None:
        if call.sync.collective != "barrier":
            self._check_sizes(call)
            try:
                self._compute(call)
            except Unusable as exc:
                item = next(iter(call.issues.values()))
                raise Stop(
                    self._call_outcome(
                        item, MISPLACED, f"{self._describe(call)} cannot work: {exc}"
                    )
                ) from exc
        call.done = True
        for rank, item in call.issues.items():
            if item.blocking:
                self._deliver(call, rank)

    def _compute(self, call: Call) -> None:
        first = next(iter(call.issues.values()))
        if first.handover:
            self._handover(call)
            return
        tensors = {t for item in call.issues.values() for t in list(item.reads) + list(item.writes)}
        phase = self.phases.get(call.key[0])
        holders = self.holders.get(phase.name if phase else "decode", {})
        for tensor in tensors:
            ins = {m: call.inputs.get(m, {}).get(tensor) for m in call.members}
            outs = transfer(
                call.sync.collective,
                call.sync.role,
                call.members,
                ins,
                lambda e: holders.get(e, ()),
            )
            for m, buf in outs.items():
                call.outputs.setdefault(m, {})[tensor] = buf

    def _check_sizes(self, call: Call) -> None:
        """Members of one call passing buffers of different sizes hang it (Flight Recorder)."""
        if call.sync.collective in ("send_recv", "broadcast") or (
            call.sync.collective == "all_to_all" and call.sync.role is not None
        ):
            return  # a copy of one member's value; a dispatch or combine moves any count
        for tensor in {t for ins in call.inputs.values() for t in ins}:
            shapes = {
                m: ins[tensor].data.shape
                for m, ins in call.inputs.items()
                if isinstance(ins.get(tensor), Buf) and ins[tensor].order == "token"
            }
            if len(set(shapes.values())) > 1:
                text = ", ".join(f"rank {m}: {s[0]}x{s[1]}" for m, s in sorted(shapes.items()))
                item = next(iter(call.issues.values()))
                raise Stop(
                    self._call_outcome(
                        item,
                        "ordering",
                        f"{self._describe(call)} hangs: its members pass "
                        f"buffers of different sizes ({text})",
                        status=HANG,
                    )
                )

    def _deliver(self, call: Call, rank: int) -> None:
        if rank in call.delivered:
            return
        call.delivered.add(rank)
        st, item = self.ranks[rank], call.issues[rank]
        for tensor, slot in item.writes.items():
            out = call.outputs.get(rank, {}).get(tensor)
            if slot == CACHE:
                st.cache_pending.discard(call.key)
                if isinstance(out, SummedCache):
                    st.cache = out  # the reduction overwrote the cache in place
                elif out is not None:
                    _merge_cache(st.cache, out)
                continue
            target = st.slots[slot]
            if target.writer != call.key:
                continue  # superseded by a later-listed sync at the anchor (S7)
            target.pending.discard(call.key)
            if out is not None:
                target.buf = out

    # ---- the prefill -> decode hand-over (S5) ----------------------------------------------
    def _handover(self, call: Call) -> None:
        """An all_gather gives every member the union of their K/V; an all_to_all the part each
        owns in decode (its stage's layers, its KV heads); a reduction sums the members' caches
        in place (S22: an all_reduce is in place), so each rank's K/V is no longer the prompt's;
        any other collective delivers none (S5)."""
        kind = call.sync.collective
        if kind in ("all_reduce", "reduce_scatter"):
            for m in call.members:
                call.outputs[m] = {
                    "kv": _summed_in_place(
                        call.inputs[m]["kv"], [call.inputs[o]["kv"] for o in call.members]
                    )
                }
            return
        union: dict = {}
        for m in call.members:
            _merge_cache(union, call.inputs[m]["kv"])
        for m in call.members:
            if kind == "all_gather":
                call.outputs[m] = {"kv": union}
            elif kind == "all_to_all":
                view = self.cluster.view(self.phases["decode"], m)
                heads = {-1} if self.dims.mla else set(view.kv_heads)
                call.outputs[m] = {
                    "kv": {
                        layer: {k: e for k, e in union.get(layer, {}).items() if k[1] in heads}
                        for layer in view.layers
                    }
                }

    # ---- reads ------------------------------------------------------------------------------
    def _read_for_call(self, st: RankState, slot: tuple, item: Post):
        if slot == CACHE:
            if st.cache_pending:
                raise Stop(self._stale(st, item, "its K/V cache", st.cache_pending))
            return _copy_cache(st.cache)
        held = st.slots.get(slot)
        if held is not None and held.pending:
            raise Stop(self._stale(st, item, self._slot_text(slot), held.pending))
        return held.buf if held is not None else None

    def _read(self, st: RankState, slot: tuple, item: Compute, role: str) -> Buf:
        held = st.slots.get(slot)
        if held is not None and held.pending:
            raise Stop(self._stale(st, item, self._slot_text(slot), held.pending))
        if held is None or held.buf is None:
            raise Stop(
                self._op_outcome(
                    st,
                    item,
                    MISSING,
                    f"{item.op} reads {self._slot_text(slot)} ({role}), which never "
                    f"reached rank {st.rank}",
                )
            )
        return held.buf

    def _stale(self, st: RankState, item, what: str, pending: set) -> Outcome:
        call = self.calls[sorted(pending)[0]]
        reader = item.op if isinstance(item, Compute) else self._describe(item)
        text = (
            f"stale read of {what}: {reader} reads it before {self._describe(call)} "
            f"completes on rank {st.rank}"
        )
        if isinstance(item, Compute):
            return self._op_outcome(st, item, STALE, text, sync=call.sync.label)
        return self._call_outcome(item, STALE, text, rank=st.rank)

    # ---- ops --------------------------------------------------------------------------------
    def _run_op(self, st: RankState, item: Compute) -> None:
        view = self.cluster.view(self.phases[item.phase], st.rank)
        try:
            outputs = self._compute_op(st, item, view)
        except Misplaced as exc:
            raise Stop(self._op_outcome(st, item, MISPLACED, f"{exc}")) from exc
        except MissingKV as exc:
            raise Stop(self._op_outcome(st, item, MISSING, f"{exc}")) from exc
        for role, buf in outputs.items():
            st.slots[item.writes[role]].buf = buf
        if item.op in COMPARED:
            self._compare(st, item, COMPARED[item.op], outputs["x"])

    def _compute_op(self, st: RankState, item: Compute, view) -> dict:
        op, layer, ops = item.op, item.layer, self.ops
        read = lambda role: self._read(st, item.reads[role], item, role)  # noqa: E731
        if op == "embed":
            rows, tokens = self._embed_tokens(st, item, view)
            return {"x": ops.embed(view, rows, tokens)}
        if op in ("attn_norm", "mlp_norm", "final_norm"):
            return {"x": ops.norm(layer, op, read("x"))}
        if op == "qkv":
            q, kv = ops.qkv(view, layer, read("x"))
            return {"q": q, "kv": kv}
        if op == "attention":
            return {"x": self._attention(st, item, read("q"), read("kv"))}
        if op == "o_proj":
            return {"x": ops.o_proj(view, layer, read("x"))}
        if op in ("attn_residual", "mlp_residual"):
            return {"x": ops.add(op, {role: read(role) for role in item.reads})}
        if op == "gate_up":
            return {"x": ops.gate_up(view, layer, read("x"))}
        if op == "down":
            return {"x": ops.down(view, layer, read("x"))}
        if op == "router":
            return {"x": ops.router(layer, read("x"))}
        if op == "experts":
            return {"x": ops.experts(view, layer, read("x"))}
        if op == "shared_experts":
            routed = read("routed") if "routed" in item.reads else None
            return {"x": ops.shared_experts(view, layer, read("x"), routed)}
        if op == "lm_head":
            return {"x": ops.lm_head(view, read("x"))}
        if op == "sample":
            return self._sample(st, item, read("x"))
        raise ValueError(f"unknown op {op}")

    def _attention(self, st: RankState, item: Compute, q: Buf, kv: Buf) -> Buf:
        if st.cache_pending:
            raise Stop(self._stale(st, item, "the prompt's K/V (hand-over)", st.cache_pending))
        load = self.work.load(item.phase)
        prompt = self.work.prompt_len

        def needed(seq: int, pos: int) -> list:
            # the whole prompt in prefill (docs/semantics.md), everything so far in decode
            return list(range(prompt)) if item.phase == "prefill" else list(range(pos + 1))

        return self.ops.attention(
            item.layer, q, kv, st.cache, needed, lambda row: load.seq_of[row[:3]]
        )

    def _sample(self, st: RankState, item: Compute, logits: Buf) -> dict:
        sampled_logits, tokens = self.ops.sample(item.phase, logits)
        self._compare(st, item, "lm_head", sampled_logits)
        load = self.work.load(item.phase)
        index = 0 if item.phase == "prefill" else item.step + 1
        for row, token in zip(tokens.rows, tokens.data[:, 0]):
            seq = load.seq_of[row[:3]]
            self.host_tokens.setdefault((seq, index), int(token))
            if seq >= 0 and int(token) != self.ref.sampled[seq][index]:
                raise Stop(
                    self._op_outcome(
                        st,
                        item,
                        VALUE,
                        f"sampled token {int(token)} for sequence {seq}, the "
                        f"reference samples {self.ref.sampled[seq][index]}",
                    )
                )
        self.samples_done.add((item.phase, item.step, item.mb, st.rank))
        return {"tokens": tokens, "chain": tokens}

    def _compare(self, st: RankState, item: Compute, name: str, buf: Buf) -> None:
        if buf.order != "token" or not buf.rows:
            return
        found, rows = self._reference_rows(item.phase, buf.rows)
        if not found:
            return
        _, lo, hi = buf.cols
        expected = self.ref.vectors(item.layer, name, rows)[:, lo:hi]
        worst = float(np.max(np.abs(buf.data[found] - expected)))
        scale = max(1.0, float(np.max(np.abs(expected))))
        if worst > TOLERANCE * scale:
            what = "logits" if name == "lm_head" else f"{name} output"
            raise Stop(
                self._op_outcome(
                    st,
                    item,
                    VALUE,
                    f"{what} differs from the single-device reference by {worst:.3g}",
                    max_abs_error=worst,
                )
            )

    def _reference_rows(self, phase: str, rows: tuple) -> tuple[list, np.ndarray]:
        """The buffer rows of real sequences (not an idle replica's dummies) and their rows in
        the reference; remembered per row set, which repeats from op to op."""
        key = (phase, rows)
        if key not in self._rows_memo:
            seq_of = self.work.load(phase).seq_of
            keys = [(seq_of[row[:3]], row[3]) for row in rows]
            real = [i for i, k in enumerate(keys) if k[0] >= 0]
            found, ref_rows = self.ref.rows_of([keys[i] for i in real])
            self._rows_memo[key] = ([real[i] for i in found], ref_rows)
        return self._rows_memo[key]

    # ---- tokens: prompt, host, device (S4, S5) ----------------------------------------------
    def _embed_tokens(self, st: RankState, item: Compute, view) -> tuple:
        rows = self._rows(item, view)
        load = self.work.load(item.phase)
        source = _source(item)
        if source[0] == "prompt":
            tokens = [self.work.prompts[load.seq_of[r[:3]]][r[3]] for r in rows]
        elif source[0] == "host":
            if self._host_stale(item):
                raise Stop(
                    self._op_outcome(
                        st,
                        item,
                        STALE,
                        f"stale read of the host's token: under across_steps the "
                        f"host prepares decode step {item.step} before step "
                        f"{item.step - 1}'s token exists (S15)",
                    )
                )
            tokens = [self._host_token(st, item, load.seq_of[r[:3]]) for r in rows]
        else:
            held = self._read(st, source[1], item, "tokens")
            by_seq = {row[:3]: int(t) for row, t in zip(held.rows, held.data[:, 0])}
            missing = [r for r in rows if r[:3] not in by_seq]
            if missing:
                raise Stop(
                    self._op_outcome(
                        st, item, MISSING, f"embed has no token for {len(missing)} of its sequences"
                    )
                )
            tokens = [by_seq[r[:3]] for r in rows]
        return rows, np.array(tokens, dtype=int)

    def _rows(self, item: Compute, view) -> tuple:
        load = self.work.load(item.phase)
        d = view.coords["dp"]
        if item.phase == "decode":
            pos = self.work.prompt_len + item.step
            return tuple((d, item.mb, b, pos) for b in range(load.batch))
        sp, c = view.phase.degrees.sp, view.coords["sp"]
        per = self.work.prompt_len // sp
        # in buffer row order (buffers.row_key): position before sequence
        return tuple(
            (d, item.mb, b, p) for p in range(c * per, (c + 1) * per) for b in range(load.batch)
        )

    def _host_stale(self, item: Compute) -> bool:
        phase = self.phases[item.phase]
        return _source(item)[0] == "host" and item.step >= 1 and phase.overlap == "across_steps"

    def _host_ready(self, step: int, mb: int) -> bool:
        """S4: the host reads step t's token after every rank that samples it has sampled."""
        if step == 0:
            prefill = self.phases.get("prefill")
            if prefill is None:
                return True
            return all(
                (prefill.name, 0, m, r) in self.samples_done
                for r in self.cluster.samplers(prefill)
                for m in range(prefill.microbatches)
            )
        decode = self.phases["decode"]  # step >= 1: a decode step
        return all(
            ("decode", step - 1, mb, r) in self.samples_done for r in self.cluster.samplers(decode)
        )

    def _host_token(self, st: RankState, item: Compute, seq: int) -> int:
        token = self.host_tokens.get((seq, item.step))
        if token is None:
            if seq < 0:
                return 0
            raise Stop(
                self._op_outcome(
                    st,
                    item,
                    MISSING,
                    f"the host has no token of sequence {seq} for decode step {item.step}",
                )
            )
        return token

    # ---- the end: pending calls and the output sink (S18, S23) -------------------------------
    def _check_finished(self) -> None:
        stuck = [st for st in self.ranks if not st.finished]
        if stuck:
            waiting = [
                {
                    "rank": st.rank,
                    "waits_for": self._waiting_text(st.blocked_on)
                    if isinstance(st.blocked_on, Call)
                    else st.blocked_on,
                }
                for st in stuck
            ]
            first = stuck[0]
            many = f"{len(stuck)} ranks wait" if len(stuck) > 1 else f"rank {first.rank} waits"
            raise Stop(
                Outcome(
                    HANG,
                    f"hang: {many} for calls that can never complete (S23)",
                    kind="ordering",
                    rank=first.rank,
                    waiting=waiting,
                )
            )
        for call in self.calls.values():
            if not call.done:
                raise Stop(
                    Outcome(
                        HANG,
                        f"hang: {self._waiting_text(call)} is still pending when "
                        f"every rank has finished",
                        kind="ordering",
                        sync=call.sync.label,
                        waiting=[
                            {"rank": r, "waits_for": self._describe(call)}
                            for r in sorted(call.issues)
                        ],
                    )
                )

    def _check_sinks(self) -> None:
        for phase in self.plan.phases:
            steps = self.work.steps if phase.name == "decode" else 1
            for step in range(steps):
                for mb in range(phase.microbatches):
                    self._check_sink(phase, step, mb)

    def _check_sink(self, phase, step: int, mb: int) -> None:
        """S18: the sink reads the lowest active sampling rank: directly with dp = 1, else only
        through the first gather (or all_gather) after sample whose group covers its replicas."""
        readers = self.cluster.samplers(phase)
        if not readers:
            return
        reader = readers[0]
        where = (
            f"the output sink of {phase.name}"
            + (f" step {step}" if phase.name == "decode" else "")
            + f" mb {mb}"
        )
        held = self._sink_input(phase, step, mb, reader)
        if held is None:
            raise Stop(
                Outcome(
                    DIVERGENCE,
                    f"{where} receives no tokens: with dp > 1 only a gather "
                    f"over dp after sample feeds it (S18)",
                    kind=MISSING,
                    phase=phase.name,
                    step=step if phase.name == "decode" else None,
                    microbatch=mb,
                    rank=reader,
                    op="sample",
                )
            )
        tokens = {row: int(t) for row, t in zip(held.rows, held.data[:, 0])}
        load = self.work.load(phase.name)
        pos = self.work.prompt_len - 1 if phase.name == "prefill" else self.work.prompt_len + step
        index = 0 if phase.name == "prefill" else step + 1
        for d in load.busy():
            for b in range(load.batch):
                row = (d, mb, b, pos)
                seq = load.seq_of[row[:3]]
                if row not in tokens:
                    raise Stop(
                        Outcome(
                            DIVERGENCE,
                            f"{where} lacks the tokens of replica {d} (S18)",
                            kind=MISSING,
                            phase=phase.name,
                            step=step if phase.name == "decode" else None,
                            microbatch=mb,
                            rank=reader,
                            op="sample",
                        )
                    )
                if seq >= 0 and tokens[row] != self.ref.sampled[seq][index]:
                    raise Stop(
                        Outcome(
                            DIVERGENCE,
                            f"{where} receives token {tokens[row]} for "
                            f"sequence {seq}, the reference samples "
                            f"{self.ref.sampled[seq][index]}",
                            kind=VALUE,
                            phase=phase.name,
                            step=step if phase.name == "decode" else None,
                            microbatch=mb,
                            rank=reader,
                            op="sample",
                        )
                    )

    def _sink_input(self, phase, step: int, mb: int, reader: int) -> Buf | None:
        """What the sink reads on `reader`: the sampled tokens after every sync at `sample`
        (S7: consumers read the last one's output; the sink waits for them, S18), and with
        dp > 1 only if one of them gathered over the replicas."""
        held = self.ranks[reader].slots.get((phase.name, step, mb, self.tail, "sampled"))
        if held is None:
            return None
        if phase.degrees.dp > 1 and not self._gathered_for_sink(phase, step, mb, reader):
            return None
        if held.writer is None:
            return held.buf
        call = self.calls[held.writer]
        return call.outputs.get(reader, {}).get(None) if call.done else None

    def _gathered_for_sink(self, phase, step: int, mb: int, reader: int) -> bool:
        """S18: a gather (or all_gather) after sample whose group covers the reader's replicas
        completed."""
        topo = phase.topology
        replicas = set(topo.group("dp", reader))
        for sync in self.plan.syncs_after("sample", phase.name):
            if sync.collective in GATHER_LIKE and replicas <= set(topo.group(sync.group, reader)):
                call = self.calls.get(
                    (phase.name, step, mb, sync.index, self.tail, topo.group(sync.group, reader))
                )
                return call is not None and call.done
        return False

    # ---- decode without a prefill phase ------------------------------------------------------
    def _prefilled_elsewhere(self) -> None:
        """A decode-only plan: every rank starts with the prompt's K/V it owns, and the host
        with every first token, as if a correct prefill had run."""
        decode = self.phases["decode"]
        load = self.work.load("decode")
        for rank in range(decode.topology.world):
            view = self.cluster.view(decode, rank)
            d = view.coords["dp"]
            seqs = {
                load.seq_of[(d, m, b)]
                for m in range(decode.microbatches)
                for b in range(load.batch)
            }
            for layer in view.layers:
                for seq in seqs:
                    self._fill_prompt_kv(self.ranks[rank].cache, view, layer, seq)
        for seq, tokens in self.ref.sampled.items():
            self.host_tokens[(seq, 0)] = tokens[0]

    def _fill_prompt_kv(self, cache: dict, view, layer: int, seq: int) -> None:
        if seq < 0:
            return
        name = "latent" if self.dims.mla else "kv"
        span = 2 * self.dims.head_dim
        heads = [-1] if self.dims.mla else list(view.kv_heads)
        for pos in range(self.work.prompt_len):
            full = self.ref.value(layer, name, seq, pos)
            for g in heads:
                part = full if g < 0 else full[g * span : (g + 1) * span]
                cache.setdefault(layer, {}).setdefault((seq, g), {})[pos] = part

    def _expert_holders(self, phase) -> dict:
        holders = defaultdict(list)
        if not self.dims.experts:
            return {}
        for rank in range(phase.topology.world):
            for e in self.cluster.view(phase, rank).experts:
                holders[e].append(rank)
        return {e: tuple(r) for e, r in holders.items()}

    # ---- messages ---------------------------------------------------------------------------
    def _slot_text(self, slot: tuple) -> str:
        _phase, _step, _mb, layer, name = slot
        where = f" of layer {layer}" if 0 <= layer < self.tail else ""
        labels = {
            "stage_in": "the previous stage's activations",
            "token_in": "the device token",
            "sampled": "the sampled tokens",
            "tokens": "the sampled tokens",
        }
        return f"{labels.get(name, name + ' output')}{where}"

    def _describe(self, call) -> str:
        """A call (or an issue item, before its call exists) as messages name it."""
        phase, step, mb, _, layer, members = call.key if isinstance(call, Call) else call.call
        sync = call.sync
        when = (
            "prefill_end hand-over"
            if phase == "handover"
            else (f"decode step {step}" if phase == "decode" else phase)
        )
        if mb >= 0 and phase != "handover":
            when += f" mb {mb}"
        if 0 <= layer < self.tail:
            when += f" layer {layer}"
        return f"{sync.label} ({sync.collective} over {sync.group} ranks {_ranks(members)}, {when})"

    def _waiting_text(self, call: Call) -> str:
        missing = [m for m in call.members if m not in call.issues]
        text = self._describe(call)
        if missing:
            ranks = f"rank{'s' if len(missing) > 1 else ''} {_ranks(missing)}"
            text += f", which {ranks} never issue{'s' if len(missing) == 1 else ''}"
        return text

    def _op_outcome(
        self, st: RankState, item: Compute, kind: str, message: str, **extra
    ) -> Outcome:
        return Outcome(
            DIVERGENCE,
            message,
            kind=kind,
            rank=st.rank,
            phase=item.phase,
            step=item.step if item.phase == "decode" else None,
            microbatch=item.mb,
            layer=item.layer if 0 <= item.layer < self.tail else None,
            op=item.op,
            **extra,
        )

    def _call_outcome(
        self,
        item: Post,
        kind: str,
        message: str,
        status: str = DIVERGENCE,
        rank: int | None = None,
    ) -> Outcome:
        """An outcome located at the issue point of `item` (the call's anchor)."""
        phase, step, mb, _, layer, members = item.call
        return Outcome(
            status,
            message,
            kind=kind,
            rank=rank if rank is not None else members[0],
            phase=phase,
            step=step if phase == "decode" else None,
            microbatch=mb if mb >= 0 else None,
            layer=layer if 0 <= layer < self.tail else None,
            op=item.sync.after,
            sync=item.sync.label,
        )


class SummedCache(dict):
    """A K/V cache a reduction wrote over (it replaces the rank's cache, not merged into it)."""


def _summed_in_place(mine: dict, caches: list) -> SummedCache:
    """What an in-place reduction leaves in one member's cache: at each place of its buffer
    the sum of what every member holds at the same place (entries in buffer order: layer,
    sequence and head, position). Members holding the same K/V give group size times it;
    members holding different heads, layers or sequences give sums of unrelated values."""

    def flat(cache: dict) -> list:
        return [
            (layer, key, pos)
            for layer in sorted(cache)
            for key in sorted(cache[layer])
            for pos in sorted(cache[layer][key])
        ]

    others = [(c, flat(c)) for c in caches]
    out = SummedCache()
    for i, (layer, key, pos) in enumerate(flat(mine)):
        total = sum(
            c[at][k][p] for c, places in others if i < len(places) for at, k, p in [places[i]]
        )
        out.setdefault(layer, {}).setdefault(key, {})[pos] = total
    return out


def _merge_cache(into: dict, other: dict) -> None:
    for layer, entries in other.items():
        mine = into.setdefault(layer, {})
        for key, positions in entries.items():
            target = mine.setdefault(key, {})
            for pos, value in positions.items():
                target.setdefault(pos, value)


def _copy_cache(cache: dict) -> dict:
    return {
        layer: {key: dict(pos) for key, pos in entries.items()} for layer, entries in cache.items()
    }


def _ranks(ranks) -> str:
    from syncverify.ranges import compact

    return compact(tuple(ranks))


def _source(embed: Compute) -> tuple:
    """Where an embed's tokens come from (process.Stream gives every embed one)."""
    if embed.source is None:
        raise ValueError(f"{embed.op} at {embed.instance} has no token source")
    return embed.source
