"""Mutation operators over correct plans, for mutation testing of the checker's verdicts.

Shared by bench/mutation.py (every correct plan in plans/, every mutant) and
tests/test_mutation_sample.py (small plans, in CI). `mutants(plan_dict, plan)` yields one
`Mutant` per single mutation: the mutated plan, the finding categories (or codes) that kill it,
and, for mutants that are not defects under S1-S23, `equivalent`: why. Equivalence is decided
here from the contract (S1, S3, S6, S9, S18) and, for layout changes, by plan synthesis (the
minimal correct sync set of the new layout, `syncverify.synthesis`), never from the checker's
own verdict.

Operators: remove a sync point; make it async with no wait; move its wait past its consumer;
change its group; restrict it to some ranks; duplicate a reducing collective; add SP to decode;
overlap decode steps; skip idle DP replicas; perturb a degree (alone, or keeping the world
size); perturb the stage split.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field

from syncverify.plan import DENSE_LAYER_OPS, GROUPS, MODEL_TAIL_OPS, MOE_LAYER_OPS, Plan
from syncverify.synthesis import synthesize_syncs

MISSING = frozenset({"missing-sync", "ordering"})
ANY_ERROR = frozenset(
    {"config", "shape", "missing-sync", "redundant-sync", "phase-illegal", "ordering"}
)
REDUCTIONS = ("all_reduce", "reduce_scatter")
OVERLAP = ("comm_compute", "two_batch")
AXES = ("tp", "sp", "dp", "pp", "ep")
MODEL_ORDER = ("embed", "*layers*", "final_norm", "lm_head", "sample")


@dataclass
class Mutant:
    operator: str
    label: str
    plan: dict
    kills: frozenset = MISSING  # finding categories (or codes) that catch it
    equivalent: str | None = None  # why it is no defect under S1-S23 (not counted)
    changed: list = field(default_factory=list)

    def killed_by(self, findings) -> list:
        """The error findings that catch this mutant."""
        return [
            f
            for f in findings
            if f.severity == "error" and (f.category in self.kills or f.code in self.kills)
        ]


def mutants(data: dict, plan: Plan) -> Iterator[Mutant]:
    """Every single mutation of the correct plan `data` (loaded as `plan`)."""
    for index, sync in enumerate(data.get("sync", [])):
        label = _label(sync, index)
        yield from _remove(data, index, label)
        yield from _async_without_wait(data, plan, index, sync, label)
        yield from _wait_late(data, plan, index, sync, label)
        yield from _regroup(data, plan, index, sync, label)
        yield from _restrict(data, plan, index, sync, label)
        yield from _duplicate(data, index, sync, label)
    yield from _sp_in_decode(data, plan)
    yield from _across_steps(data, plan)
    yield from _skip_idle(data, plan)
    yield from _degrees(data, plan)
    yield from _stages(data, plan)


def _label(sync: dict, index: int) -> str:
    return (
        f"'{sync['id']}'"
        if sync.get("id")
        else f"sync #{index + 1} ({sync['collective']} after {sync['after']})"
    )


def _copy(data: dict) -> dict:
    return copy.deepcopy(data)


# ---------------------------------------------------------------------------------- per sync


def _remove(data, index, label):
    mutant = _copy(data)
    del mutant["sync"][index]
    yield Mutant("remove", f"remove {label}", mutant)


def _with_overlap(mutant: dict, plan: Plan, sync: dict) -> None:
    """S11: async exists only under comm_compute and two_batch; switch the sync's phases that
    have neither to comm_compute (which alone changes no verdict of a correct plan)."""
    for phase in plan.phases:
        if (
            phase.name in sync.get("phases", [p.name for p in plan.phases])
            and phase.overlap not in OVERLAP
        ):
            mutant["phases"][phase.name]["overlap"] = "comm_compute"


def _is_output_gather(sync: dict) -> bool:
    return (
        sync["after"] == "sample"
        and sync["collective"] in ("gather", "all_gather")
        and sync["group"] == "dp"
    )


def _async_without_wait(data, plan, index, sync, label):
    if sync.get("async") and not sync.get("wait_before"):
        return  # already so: no mutant
    mutant = _copy(data)
    target = mutant["sync"][index]
    target["async"] = True
    target.pop("wait_before", None)
    _with_overlap(mutant, plan, sync)
    why = (
        "S18: the DP output gather may be async with no wait_before; the output sink waits for it"
        if _is_output_gather(sync)
        else None
    )
    yield Mutant("async-no-wait", f"make {label} async with no wait", mutant, equivalent=why)


def _op_sequence(moe: bool) -> tuple:
    layer = MOE_LAYER_OPS if moe else DENSE_LAYER_OPS
    return ("embed",) + layer + layer + MODEL_TAIL_OPS  # two layers: "else the next" (S11)


def consumer(after: str, moe: bool) -> str | None:
    """The first op that reads what a sync anchored on `after` delivers (its S11 wait target)."""
    if after == "stage_boundary":
        return "attn_norm"
    if after == "experts":
        return "mlp_residual"  # shared experts run beside them (S13)
    ops = _op_sequence(moe)
    if after not in ops:
        return None
    position = ops.index(after)
    return ops[position + 1] if position + 1 < len(ops) else None


def _wait_late(data, plan, index, sync, label):
    """Await it one op after its first consumer: the consumer reads it unfinished (S11, S22)."""
    after = sync["after"]
    if after in ("sample", "step_end", "prefill_end"):
        return  # the output gather needs no wait (S18); the token carrier's target is embed
    moe = after in ("router", "experts", "shared_experts") or "moe" in str(sync.get("layers", ""))
    first = consumer(after, moe)
    ops = _op_sequence(moe)
    if first is None:
        return
    late_index = ops.index(first, ops.index(after) + 1 if after in ops else 0) + 1
    if late_index >= len(ops):
        return
    mutant = _copy(data)
    target = mutant["sync"][index]
    target["async"] = True
    target["wait_before"] = ops[late_index]
    _with_overlap(mutant, plan, sync)
    yield Mutant(
        "wait-late",
        f"await {label} before {ops[late_index]}, after its consumer {first}",
        mutant,
        kills=MISSING | {"SV109"},
    )


def _rank_sets(plan: Plan, group: str, phases) -> list:
    out = []
    for phase in plan.phases:
        if phase.name in phases:
            topo = phase.topology
            out.append(frozenset(topo.group(group, r) for r in range(topo.world)))
    return out


def _sync_phases(plan: Plan, sync: dict) -> list[str]:
    if sync["after"] == "prefill_end":
        return ["decode"]
    return [
        p.name for p in plan.phases if p.name in sync.get("phases", [p.name for p in plan.phases])
    ]


def _regroup(data, plan, index, sync, label):
    phases = _sync_phases(plan, sync)
    before = _rank_sets(plan, sync["group"], phases)
    for group in GROUPS:
        if group == sync["group"]:
            continue
        mutant = _copy(data)
        mutant["sync"][index]["group"] = group
        same = _rank_sets(plan, group, phases) == before
        why = (
            f"S1: {group} and {sync['group']} are the same rank sets here"
            if same
            else _wider_output_gather(plan, sync, group, phases) or _p2p_over_world(sync, group)
        )
        yield Mutant(
            "group",
            f"run {label} over {group}",
            mutant,
            kills=MISSING | {"redundant-sync"},
            equivalent=why,
        )


def _wider_output_gather(plan: Plan, sync: dict, group: str, phases) -> str | None:
    """An output gather over a group holding each DP group still feeds the sink (S18): it only
    moves more than the sink needs, a performance advisory (S21), not a defect."""
    if not _is_output_gather(sync) or sync["collective"] != "gather":
        return None
    for phase in plan.phases:
        if phase.name not in phases:
            continue
        topo = phase.topology
        if not all(
            set(topo.group("dp", r)) <= set(topo.group(group, r)) for r in range(topo.world)
        ):
            return None
    return (
        f"S18/S21: a gather over {group} holds every DP group, so the sink still gets each "
        "replica's tokens; it moves more than needed (a performance warning)"
    )


def _p2p_over_world(sync: dict, group: str) -> str | None:
    """A send_recv pairs each sender with one receiver (S3: the next stage's rank of equal
    non-pp coordinates); world holds every such pair as pp does, as S4 accepts `world` for the
    token carrier. Over world the same pairs transfer: no defect."""
    if sync["collective"] == "send_recv" and sync["group"] == "pp" and group == "world":
        return "S3/S4: a send_recv over world pairs the same sender and receiver as over pp"
    return None


def issuers(plan: Plan, phase, sync: dict) -> set[int]:
    """The ranks that issue `sync` in `phase` under the contract (S3, S4, S6; S9 by sender)."""
    topo = phase.topology
    ranks = range(topo.world)
    last = topo.sizes["pp"] - 1

    def coords(rank):
        return topo.coords(rank)

    after = sync["after"]
    if after == "embed":
        return {r for r in ranks if coords(r)["pp"] == 0}
    if after in MODEL_TAIL_OPS:
        tail = {r for r in ranks if coords(r)["pp"] == last}
        if phase.name == "prefill" and topo.sizes["sp"] > 1:
            tail = {r for r in tail if coords(r)["sp"] == topo.sizes["sp"] - 1}
        return tail
    if after == "stage_boundary":
        return {r for r in ranks if coords(r)["pp"] < last}  # senders (S9)
    return set(ranks)


def _restrict(data, plan, index, sync, label):
    phases = [p for p in plan.phases if p.name in _sync_phases(plan, sync)]
    for axis in AXES:
        size = max((p.degrees.of(axis) for p in phases), default=1)
        if size == 1:
            continue
        for coordinate in sorted({0, size - 1}):
            mutant = _copy(data)
            mutant["sync"][index]["ranks"] = {axis: coordinate}
            whole = all(
                all(p.topology.coords(r)[axis] == coordinate for r in issuers(plan, p, sync))
                for p in phases
            )
            why = (
                f"S6/S9: only {axis} {coordinate} issues it anyway"
                if whole
                else _sink_group_kept(plan, sync, axis, coordinate, phases)
            )
            yield Mutant(
                "ranks", f"restrict {label} to {axis} {coordinate}", mutant, equivalent=why
            )


def _sink_group_kept(plan: Plan, sync: dict, axis: str, coordinate: int, phases) -> str | None:
    """S18: the sink reads the output gather of the lowest sampling rank's DP group only; a
    selector that keeps that group whole leaves out gathers nobody reads (as engines gather
    outputs from one TP rank)."""
    if not _is_output_gather(sync):
        return None
    for phase in phases:
        topo = phase.topology
        read = topo.group("dp", min(issuers(plan, phase, sync)))  # the DP group the sink reads
        if any(topo.coords(r)[axis] != coordinate for r in read):
            return None
    return (
        f"S18: the sink reads the gather of the lowest sampling rank's DP group, and {axis} "
        f"{coordinate} keeps it; the other groups' gathers feed nothing"
    )


def _duplicate(data, index, sync, label):
    if sync["collective"] not in REDUCTIONS:
        return
    mutant = _copy(data)
    again = dict(sync, id=f"{sync.get('id', index)}-again")
    mutant["sync"].insert(index + 1, again)
    yield Mutant(
        "duplicate-reduction", f"repeat {label}", mutant, kills=frozenset({"redundant-sync"})
    )


# ---------------------------------------------------------------------------------- phases


def _sp_in_decode(data, plan):
    if plan.phase("decode") is None:
        return
    mutant = _copy(data)
    mutant["phases"]["decode"]["sp"] = 2
    yield Mutant("sp-in-decode", "decode with sp = 2", mutant, kills=frozenset({"phase-illegal"}))


def _across_steps(data, plan):
    if plan.phase("decode") is None:
        return
    mutant = _copy(data)
    mutant["phases"]["decode"]["overlap"] = "across_steps"
    yield Mutant(
        "across-steps",
        "decode steps overlap (across_steps)",
        mutant,
        kills=frozenset({"phase-illegal"}),
    )


def _skip_idle(data, plan):
    for phase in plan.phases:
        if phase.degrees.dp == 1 or phase.dp_idle == "skip":
            continue
        mutant = _copy(data)
        mutant["phases"][phase.name]["dp_idle"] = "skip"
        ep = " under EP" if phase.degrees.ep > 1 else ""
        yield Mutant(
            "skip-idle",
            f"{phase.name}: idle DP replicas skip{ep}",
            mutant,
            kills=frozenset({"ordering"}),
        )


# ---------------------------------------------------------------------------------- layout


def _degree_of(data: dict, phase: str, axis: str) -> tuple[tuple, int]:
    """(where the phase's degree is written, its value): the override, else parallel."""
    override = data["phases"].get(phase, {})
    if axis in override:
        return ("phases", phase, axis), override[axis]
    return ("parallel", axis), data.get("parallel", {}).get(axis, 1)


def _set(data: dict, path: tuple, value) -> None:
    block = data
    for key in path[:-1]:
        block = block.setdefault(key, {})
    block[path[-1]] = value


def _degrees(data, plan):
    """Each degree doubled or halved alone (the world no longer matches the cluster: SV101),
    and pairs changed together keeping the world (tp x2 with dp /2, ...)."""
    paths = sorted({_degree_of(data, p.name, axis)[0] for p in plan.phases for axis in AXES})
    for path in paths:
        value = _get(data, path, 1)
        for new in sorted({value * 2, value // 2} - {0, value}):
            mutant = _copy(data)
            _set(mutant, path, new)
            yield _layout_mutant(plan, mutant, f"{'.'.join(path)}: {value} -> {new}", data)
    overridden = {axis for block in data["phases"].values() for axis in AXES if axis in block}
    for up in ("tp", "dp", "pp", "ep"):
        for down in ("tp", "dp", "pp", "ep"):
            if up == down or ("ep" in (up, down) and not plan.model.moe) or {up, down} & overridden:
                continue
            up_path, down_path = ("parallel", up), ("parallel", down)
            a, b = _get(data, up_path, 1), _get(data, down_path, 1)
            if b < 2:
                continue
            mutant = _copy(data)
            _set(mutant, up_path, a * 2)
            _set(mutant, down_path, b // 2)
            yield _layout_mutant(
                plan, mutant, f"{up} {a} -> {a * 2} and {down} {b} -> {b // 2}", data
            )


def _get(data, path, default):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _layout_mutant(plan: Plan, mutant: dict, label: str, original: dict) -> Mutant:
    why = _correct_by_synthesis(plan, mutant)
    return Mutant("degree", label, mutant, kills=ANY_ERROR, equivalent=why)


def model_dict(plan: Plan) -> dict:
    """The loaded model as plan-format `model` keys (what synthesis reads)."""
    m = plan.model
    out = {
        "layers": m.layers,
        "hidden": m.hidden,
        "heads": m.heads,
        "kv_heads": m.kv_heads,
        "ffn": m.ffn,
        "vocab": m.vocab,
    }
    if m.moe:
        layers = "all" if m.moe.layers == frozenset(range(m.layers)) else sorted(m.moe.layers)
        out["moe"] = {
            "experts": m.moe.experts,
            "top_k": m.moe.top_k,
            "layers": layers,
            "shared_experts": m.moe.shared_experts,
            "ffn": m.moe.ffn,
        }
    return out


def _normalized(syncs: list) -> set:
    return {
        (
            s["after"],
            s["collective"],
            s["group"],
            s.get("tensor"),
            s.get("role"),
            tuple(sorted(s.get("phases", ["decode", "prefill"]))),
            str(s.get("layers", "all")),
        )
        for s in syncs
    }


def _correct_by_synthesis(plan: Plan, mutant: dict) -> str | None:
    """Why the mutated layout is served correctly by the plan's sync points, when synthesis
    of each phase's layout (no SP, no cluster mismatch, phases differing in EP at most) gives
    the same set."""
    parallel = mutant.get("parallel", {})
    phases = mutant["phases"]
    cluster = mutant.get("cluster")
    model = model_dict(plan)
    token_device = any(p.get("token_return") == "device" for p in phases.values())
    layouts, reasons = {}, []
    for name, block in phases.items():
        # each phase's degrees: its overrides over `parallel`. Synthesis serves one layout at a
        # time; phases that differ only in EP keep every rank's attention shards and KV cache
        # (no hand-over, S5) and share one sync set when synthesis gives each the same
        degrees = {axis: block.get(axis, parallel.get(axis, 1)) for axis in AXES}
        if degrees["sp"] > 1:
            return None  # SP layouts: synthesis serves them through other paths
        world = degrees["tp"] * degrees["dp"] * degrees["pp"]
        if cluster and cluster["nodes"] * cluster["gpus_per_node"] != world:
            return None
        tp, pp, dp, ep = (degrees[a] for a in ("tp", "pp", "dp", "ep"))
        if "stages" in parallel and len(parallel["stages"]) != pp:
            return None
        if "stages" not in parallel and model["layers"] % pp:
            return None  # an uneven split nobody wrote (SV103)
        if not _shapes_fit(model, tp, dp, ep):
            return None
        wanted = synthesize_syncs(model, tp=tp, pp=pp, dp=dp, ep=ep, pp_device_token=token_device)
        useless = {
            s for s in _normalized(mutant.get("sync", [])) if _group_size(s[2], tp, pp, dp, ep) == 1
        }
        if _normalized(mutant.get("sync", [])) - useless != _normalized(wanted):
            return None
        layouts[name] = (tp, pp, dp, ep)
        if useless:
            reasons.append(f"{len(useless)} over a group of one in {name}")
    if len({layout[:3] for layout in layouts.values()}) > 1:
        return None  # attention layouts differ: a KV hand-over is needed (S5)
    extra = f" (plus {', '.join(reasons)}: S2, a redundant-sync warning)" if reasons else ""
    texts = {name: "tp {} pp {} dp {} ep {}".format(*layout) for name, layout in layouts.items()}
    shown = (
        next(iter(texts.values()))
        if len(set(texts.values())) == 1
        else " and ".join(f"{name} {text}" for name, text in texts.items())
    )
    return f"S1-S23 (by synthesis): these sync points are the correct set for {shown}{extra}"


def _shapes_fit(model: dict, tp: int, dp: int, ep: int) -> bool:
    """S1 and S20: the layouts synthesis serves (EP of 1, the TP group or every replica) with
    every shape splitting evenly."""
    kv = model["kv_heads"]
    if model["heads"] % tp or (kv % tp and tp % kv):
        return False
    moe = model.get("moe")
    dense = not moe or moe["layers"] != "all"
    if dense and model["ffn"] % tp:
        return False
    if not moe:
        return ep == 1  # EP on a dense model is a config error
    spans_tp_groups = ep >= tp and ep % tp == 0 and (tp * dp) % ep == 0
    if (
        moe["experts"] % ep
        or not (ep == 1 or spans_tp_groups)
        or moe["ffn"] % (tp if ep == 1 else 1)
    ):
        return False
    return True


def _group_size(group: str, tp, pp, dp, ep) -> int:
    return {"tp": tp, "pp": pp, "dp": dp, "ep": ep, "sp": 1, "world": tp * pp * dp}[group]


def _stages(data, plan):
    """Move one layer between neighbouring stages (still a split of every layer: S3), or give
    one stage a layer too many (the split no longer adds up: a config error)."""
    pp = plan.parallel.pp
    if pp < 2 or any(p.degrees.pp != pp for p in plan.phases):
        return
    split = list(data.get("parallel", {}).get("stages") or plan.phases[0].topology.stages)
    by_stage = any(s.get("ranks", {}).get("pp") is not None for s in data.get("sync", []))
    for stage in range(pp - 1):
        if split[stage] < 2:
            continue
        moved = split[:stage] + [split[stage] - 1, split[stage + 1] + 1] + split[stage + 2 :]
        mutant = _copy(data)
        mutant["parallel"]["stages"] = moved
        why = (
            None
            if by_stage
            else "S3: every layer still runs on one stage, and no sync point selects ranks by stage"
        )
        yield Mutant(
            "stages", f"stages {split} -> {moved}", mutant, kills=ANY_ERROR, equivalent=why
        )
    mutant = _copy(data)
    mutant["parallel"]["stages"] = split[:-1] + [split[-1] + 1]
    yield Mutant(
        "stages",
        f"stages {split} -> {mutant['parallel']['stages']} (one layer too many)",
        mutant,
        kills=ANY_ERROR,
    )


__all__ = ["Mutant", "consumer", "issuers", "model_dict", "mutants"]
