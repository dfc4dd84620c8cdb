"""Where an async sync point's `wait_before` resolves (S11), shared by the rules
`unreachable-wait-before` (SV109) and `cross-step-sync` (SV503). Not a rule module.

S11: `wait_before: X` names the first instance of op X after the issue point in data-flow
order on the consuming rank, in the same layer, else the next; it never crosses a step. The
consuming rank is the issuing rank, except for send_recv (and anything at `stage_boundary`),
whose consumer is the receiver: the next stage, starting at its first layer. For a sync after
an op of the last layer of a stage, the next layer does not exist on that rank; after the
model's last layer the next ops are `final_norm`, `lm_head`, `sample` (the model's tail, on
the same rank). S4's token carrier is the one wait that resolves in step t+1, on stage 0
(`embed`, then layer 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncverify.plan import MODEL_TAIL_OPS, Model, Phase, Plan, SyncPoint
from syncverify.rule_support.for_static_rules import is_token_carrier, selected_layers, sync_phases
from syncverify.topology import Topology

OK, MISSING, CROSS_STEP = "ok", "missing", "cross-step"


@dataclass(frozen=True)
class Instance:
    """One place a sync is issued: its layer (None for model-level anchors) and consumer window."""

    layer: int | None
    window: tuple[str, ...]  # ops, in order, where the wait may land
    reach: frozenset[str]  # every op the consuming rank runs in a step


@dataclass(frozen=True)
class WaitProblem:
    phase: Phase
    kind: str  # MISSING | CROSS_STEP
    layers: tuple[int, ...]  # the failing instances' layers (empty: model-level anchor)
    window: tuple[str, ...]  # where the wait could land, for the help text


def _window_from(
    model: Model, topo: Topology, stage: int, layer: int, after: str | None
) -> tuple[str, ...]:
    """Ops after `after` in `layer` (all of them if None), then the next layer on the same stage,
    or the model's tail when `layer` is the model's last layer."""
    ops = model.layer_ops(layer)
    rest = ops[ops.index(after) + 1 :] if after else ops
    nxt = layer + 1
    if nxt >= model.layers:
        return rest + MODEL_TAIL_OPS
    if nxt in topo.stage_layers(stage):
        return rest + model.layer_ops(nxt)
    return rest


def _reach(model: Model, topo: Topology, stage: int) -> frozenset[str]:
    ops: set[str] = set()
    for layer in topo.stage_layers(stage):
        ops.update(model.layer_ops(layer))
    if stage == 0:
        ops.add("embed")
    if stage == len(topo.stages) - 1:
        ops.update(MODEL_TAIL_OPS)
    return frozenset(ops)


def _received(model: Model, topo: Topology, stage: int, layer: int | None) -> Instance | None:
    """The instance whose consumer is the next stage's first layer (None past the last stage)."""
    if stage + 1 >= len(topo.stages) or not topo.stage_layers(stage + 1):
        return None  # past the last stage, or an empty one (more stages than layers: SV103)
    first = topo.stage_layers(stage + 1)[0]
    return Instance(
        layer, _window_from(model, topo, stage + 1, first, None), _reach(model, topo, stage + 1)
    )


def _local(model: Model, topo: Topology, stage: int, layer: int, after: str) -> Instance:
    return Instance(
        layer, _window_from(model, topo, stage, layer, after), _reach(model, topo, stage)
    )


def _model_level(plan: Plan, phase: Phase, sync: SyncPoint) -> list[Instance]:
    model, topo = plan.model, phase.topology
    last = len(topo.stages) - 1
    if phase.name == "decode" and is_token_carrier(plan, sync):
        window = ("embed",) + _window_from(model, topo, 0, 0, None)
        return [Instance(None, window, _reach(model, topo, 0))]
    stage = 0 if sync.after == "embed" else last
    if sync.collective == "send_recv":
        found = _received(model, topo, stage, None)
        return [found] if found else []
    if sync.after == "embed":
        return [Instance(None, model.layer_ops(0), _reach(model, topo, 0))]
    tail = MODEL_TAIL_OPS[MODEL_TAIL_OPS.index(sync.after) + 1 :]
    return [Instance(None, tail, _reach(model, topo, last))]


def instances(plan: Plan, phase: Phase, sync: SyncPoint) -> list[Instance]:
    """Where `sync` is issued in `phase`, each with the ops its wait may name."""
    model, topo = plan.model, phase.topology
    if sync.after in ("step_end", "prefill_end"):
        return []
    if sync.after == "stage_boundary":
        return [i for s in range(len(topo.stages)) if (i := _received(model, topo, s, None))]
    if not sync.is_per_layer:
        return _model_level(plan, phase, sync)
    found = []
    for layer in selected_layers(plan, sync):
        stage = topo.layer_stage(layer)
        if sync.collective == "send_recv":
            received = _received(model, topo, stage, layer)
            if received:
                found.append(received)
        else:
            found.append(_local(model, topo, stage, layer, sync.after))
    return found


def _is_dp_gather(sync: SyncPoint) -> bool:
    """S18's output gather: the only collective that may complete in a later decode step."""
    return (
        sync.after == "sample"
        and sync.group == "dp"
        and sync.collective in ("gather", "all_gather")
    )


def _classify(phase: Phase, sync: SyncPoint, inst: Instance) -> str:
    target = sync.wait_before
    if target in inst.window:
        return OK
    if phase.name == "decode" and target in inst.reach and not _is_dp_gather(sync):
        return CROSS_STEP
    return MISSING


def wait_problems(plan: Plan, sync: SyncPoint) -> list[WaitProblem]:
    """Every (phase, kind) in which an async sync's `wait_before` does not resolve (S11)."""
    if not sync.is_async or not sync.wait_before:
        return []
    problems = []
    for phase in sync_phases(plan, sync):
        by_kind: dict[str, list[Instance]] = {}
        for inst in instances(plan, phase, sync):
            kind = _classify(phase, sync, inst)
            if kind != OK:
                by_kind.setdefault(kind, []).append(inst)
        for kind, bad in by_kind.items():
            layers = tuple(i.layer for i in bad if i.layer is not None)
            problems.append(WaitProblem(phase, kind, layers, bad[0].window))
    return problems
