"""Plan generators for the property tests and the benchmarks.

`layouts()`: small layouts whose synthesized plans are correct by construction (tp 1/2/4, pp 1/2,
dp 1/2, the default layout); the agreement test's first sample.

`wide_plans()` and `reducible_plans()` (issue 10, "property tests that reach where bugs live")
draw from the space a user's plans live in, then apply up to three edits:

- pp 1-4 with explicit, often uneven `stages`; any `layout` permutation of tp, sp, dp, pp;
- per-phase degrees: sp prefill -> dp decode, and a different tp / dp / ep in decode than in
  prefill at the same world size (S5: the K/V then moves at `prefill_end`, an all_to_all of
  `tensor: kv` over world, which the generator adds); a per-phase overlap mode and `dp_idle`;
- decode microbatches 1 .. 3 x pp (even under two_batch), prefill 1-4; token_return host/device;
- dense, GQA (kv_heads 2 or 4: KV heads replicated under tp 4/8), MoE on some layers with a
  shared expert, MoE on every layer; EP inside a TP group, equal to it, or spanning replicas;
- the edits of a correct synthesized plan: remove a sync, duplicate one, retarget one (another
  group or anchor), make one async (with its first consumer as `wait_before`, or none), restrict
  one with a rank selector (single or multi coordinate, one or two axes, on groups of one too),
  add any collective over any group after any anchor (`sample`, `prefill_end`, `step_end`,
  `stage_boundary` included; `all_to_all` outside MoE, `tensor: kv` on qkv / prefill_end), or
  add an all_to_all over tp, dp, sp or world after o_proj, attn_residual, down or mlp_residual
  (state that alternates from layer to layer: a wrong layer period shows), or change one degree
  of one phase.

`reducible_plans()` draws worlds of 16-64 ranks (tp 4-8, dp 4-8, pp 1-2) with 8-layer models and
up to 3 x pp decode microbatches, where the default check's reduction (graph.quotient,
graph.reduction) cuts ranks, microbatches and layers; `reduction_cut(plan)` says what it cut.

What they still never draw (so no property test covers it):
- `across_steps` overlap (always phase-illegal), `ops:` sharding overrides, `cluster:` blocks,
  hf-config models, Megatron sequence parallelism inside TP (reduce_scatter/all_gather pairs);
- sp in decode, sp together with MoE, sp > 2, pp > 2 together with tp 8 or dp 8 (world <= 64);
- `layers:` selections other than the synthesized dense / moe, `phases:` on an added sync other
  than one phase or both, more than one `tensor:` value per anchor, `role:` on an added
  all_to_all (it is inferred);
- more than three edits, and edits of the edits (a selector on a duplicated sync is drawn; a
  selector on the added sync is not);
- models with more than 8 layers or a period longer than one layer in the sync pattern other
  than the dense/MoE alternation the MoE models give (layers "1..3" / "1..5").

Draws go through a `Draws` object (`HypothesisDraws` for `@given`, `RandomDraws(seed)` for
bench/, which needs plain reproducible draws in worker processes), so both run the same code.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from hypothesis import strategies as st

from syncverify.plan import ANCHORS, COLLECTIVES, GROUPS, LAYER_OPS
from syncverify.synthesis import FIRST_CONSUMER, synthesize_syncs
from tests.support import TINY_DENSE, TINY_MOE

TINY_MOE_ALL = {
    "layers": 4,
    "hidden": 256,
    "heads": 8,
    "kv_heads": 2,
    "vocab": 1000,
    "moe": {"experts": 8, "top_k": 2, "layers": "all", "ffn": 128},
}
MODELS = [TINY_DENSE, TINY_MOE, TINY_MOE_ALL]
SMALL_WORLD = 8  # wide_plans: ranks of a phase, so that the full unroll stays cheap
SMALL_LAYERS = 4  # and layers (pp up to 4 takes uneven splits of them)


@st.composite
def layouts(draw, max_tp: int = 4):
    """Keyword arguments for `synthesize_plan`: every axis, overlap mode and MoE layout."""
    model = draw(st.sampled_from(MODELS))
    tp = draw(st.sampled_from([t for t in (1, 2, 4) if t <= max_tp]))
    pp = draw(st.sampled_from([1, 2]))
    dp = draw(st.sampled_from([1, 2]))
    ep = draw(st.sampled_from(sorted({1, tp, tp * dp}))) if "moe" in model else 1
    overlap = draw(st.sampled_from(["none", "comm_compute", "two_batch"]))
    mb = draw(st.sampled_from([2] if overlap == "two_batch" else [1, 2, 3]))
    sp = 1
    if ep == 1 and draw(st.booleans()) and draw(st.booleans()):
        sp, dp = 2, 1
    return {
        "model": model,
        "tp": tp,
        "pp": pp,
        "dp": dp,
        "ep": ep,
        "overlap": overlap,
        "prefill_sp": sp,
        "decode_dp": sp if sp > 1 else None,
        "prefill_microbatches": mb,
        "decode_microbatches": mb,
        "token_return": draw(st.sampled_from(["host", "device"])),
        "tokens": 64,
        "batch": 8,
    }


# ---- draws: one interface over hypothesis and random.Random ----------------------------------


class HypothesisDraws:
    """Draws through hypothesis (shrinks to the simplest choice: the first of each list)."""

    def __init__(self, draw):
        self._draw = draw

    def choice(self, options: Sequence):
        return self._draw(st.sampled_from(list(options)))

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def chance(self, one_in: int) -> bool:
        return self._draw(st.integers(0, one_in - 1)) == 0


class RandomDraws:
    """The same draws from a seeded random.Random (bench/: reproducible per seed, any process)."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)

    def choice(self, options: Sequence):
        return self._rng.choice(list(options))

    def integer(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def chance(self, one_in: int) -> bool:
        return self._rng.randrange(one_in) == 0


# ---- models ----------------------------------------------------------------------------------


def _model(d, layers: int, moe_layers: str | None) -> dict:
    heads = 8
    model = {
        "layers": layers,
        "hidden": 256,
        "heads": heads,
        "kv_heads": d.choice([8, 4, 2]),
        "ffn": 512,
        "vocab": 1000,
    }
    if moe_layers:
        model["moe"] = {"experts": 64, "top_k": 2, "layers": moe_layers, "ffn": 128}
        if moe_layers != "all":
            model["moe"]["shared_experts"] = 1
        else:
            del model["ffn"]
    return model


def _draw_model(d, layers: int, moe: bool) -> dict:
    if not moe:
        return _model(d, layers, None)
    return _model(d, layers, d.choice(["all", f"1..{layers - 1}"]))


# ---- degrees ---------------------------------------------------------------------------------


def _ep_options(tp: int, dp: int) -> list[int]:
    """S1/S12 EP degrees the synthesis handles: none, inside the TP group, or spanning replicas."""
    return sorted({1, tp} | {tp * k for k in (2, 4, 8) if dp % k == 0})


def _stages(d, layers: int, pp: int) -> list[int]:
    """Layers per stage, each >= 1: an even split or a random composition of `layers`."""
    if pp == 1:
        return [layers]
    if d.chance(3):
        return [layers // pp + (1 if s < layers % pp else 0) for s in range(pp)]
    cuts = set()
    while len(cuts) < pp - 1:
        cuts.add(d.integer(1, layers - 1))
    bounds = [0] + sorted(cuts) + [layers]
    return [b - a for a, b in itertools.pairwise(bounds)]


def _dp_idle(d) -> str:
    """`skip` one time in four: a skipping replica hangs every gather over dp (S17, S18)."""
    return "skip" if d.chance(4) else "dummy_batch"


def _microbatches(d, overlap: str, most: int) -> int:
    if overlap == "two_batch":
        return 2 * d.integer(1, max(1, most // 2))
    return d.integer(1, most)


def _phase_degrees(d, big: int, pp: int) -> tuple[dict, dict]:
    """Prefill and decode degrees (tp, sp, dp, ep) over the same ranks per stage; `big`: the
    largest world of a reducible plan (0: a wide plan of up to SMALL_WORLD ranks)."""
    if big:
        tp, dp = d.choice([(t, n) for t in (4, 8) for n in (4, 8) if t * n * pp <= big])
        return {"tp": tp, "sp": 1, "dp": dp}, {"tp": tp, "sp": 1, "dp": dp}
    per_stage = SMALL_WORLD // pp
    tp = d.choice([t for t in (1, 2, 4) if t <= per_stage])
    dp = d.choice([n for n in (1, 2, 3) if tp * n <= per_stage])
    sp = 1
    if 2 * tp * dp <= per_stage and d.chance(3):
        sp = 2  # sp prefill -> dp decode
    prefill = {"tp": tp, "sp": sp, "dp": dp}
    decode = {"tp": tp, "sp": 1, "dp": dp * sp}
    if d.chance(3):  # a different tp / dp split in decode
        per_stage = tp * sp * dp
        decode_tp = d.choice([t for t in (1, 2, 4, 8) if per_stage % t == 0])
        decode = {"tp": decode_tp, "sp": 1, "dp": per_stage // decode_tp}
    return prefill, decode


# ---- synthesis per phase, merged -------------------------------------------------------------


def _runs_in(sync: dict, phase: str) -> bool:
    return phase in sync.get("phases", ["prefill", "decode"])


def _phase_syncs(
    model: dict, phase: str, degrees: dict, pp: int, overlap: str, device_token: bool
) -> list[dict]:
    """The synthesized syncs one phase needs, each marked as running in that phase."""
    syncs = synthesize_syncs(
        model,
        tp=degrees["tp"],
        pp=pp,
        dp=degrees["dp"],
        ep=degrees["ep"],
        prefill_sp=degrees["sp"],
        decode_dp=degrees["dp"],
        pp_device_token=device_token,
        overlap=overlap,
    )
    return [dict(s, phases=[phase]) for s in syncs if _runs_in(s, phase)]


def _merge(prefill: list[dict], decode: list[dict]) -> list[dict]:
    """One sync for what both phases synthesized alike; phase-only ones keep `phases`."""

    def key(sync):
        return repr(sorted((k, v) for k, v in sync.items() if k not in ("phases", "id")))

    decode_keys = {key(s): s for s in decode}
    out, taken = [], set()
    for sync in prefill:
        twin = decode_keys.get(key(sync))
        if twin is not None and key(sync) not in taken:
            taken.add(key(sync))
            out.append({k: v for k, v in sync.items() if k != "phases"})
        else:
            out.append(dict(sync, id=f"{sync['id']}-prefill"))
    out += [dict(s, id=f"{s['id']}-decode") for s in decode if key(s) not in taken]
    return out


def _needs_handover(prefill: dict, decode: dict) -> bool:
    """S5: K/V must move at prefill_end when a decode rank owns heads or sequences that no rank
    of its position prefilled (tp changes, or sequences spread over other prefill replicas)."""
    if prefill == decode:
        return False
    return prefill["tp"] != decode["tp"] or prefill["dp"] > 1


def _base_plan(d, big: int) -> tuple[dict, list[str]]:
    """A synthesized plan over drawn degrees, layout, stages and phases, and its label."""
    pp = d.choice([1, 2] if big >= 32 else [1]) if big else d.choice([1, 2, 3, 4])
    layers = 8 if big else SMALL_LAYERS
    prefill, decode = _phase_degrees(d, big, pp)
    moe = prefill["sp"] == 1 and d.chance(3)
    model = _draw_model(d, layers, moe)
    if big:
        model["kv_heads"] = 8  # tp divides the KV heads: tp is cut (S20)
    for degrees in (prefill, decode):
        degrees["ep"] = d.choice(_ep_options(degrees["tp"], degrees["dp"])) if moe else 1
    overlaps = {p: d.choice(["none", "comm_compute", "two_batch"]) for p in ("prefill", "decode")}
    token_return = d.choice(["host", "device"])
    parallel = {"tp": prefill["tp"], "pp": pp, "dp": prefill["dp"], "ep": prefill["ep"]}
    layout = list(d.choice(_LAYOUTS)) if d.chance(2) or not big else None
    if layout:
        parallel["layout"] = layout
    if pp > 1:
        parallel["stages"] = _stages(d, layers, pp)
    phases = {
        "prefill": {
            "microbatches": _microbatches(d, overlaps["prefill"], 4),
            "tokens": 64,
            "overlap": overlaps["prefill"],
            "dp_idle": _dp_idle(d),
        },
        "decode": {
            "microbatches": _microbatches(d, overlaps["decode"], 3 * pp),
            "batch": 8,
            "overlap": overlaps["decode"],
            "dp_idle": _dp_idle(d),
            "token_return": token_return,
        },
    }
    if prefill["sp"] > 1:
        phases["prefill"]["sp"] = prefill["sp"]
    for axis in ("tp", "dp", "ep"):
        if decode[axis] != prefill[axis]:
            phases["decode"][axis] = decode[axis]
    device = token_return == "device"
    syncs = _merge(
        _phase_syncs(model, "prefill", prefill, pp, overlaps["prefill"], device),
        _phase_syncs(model, "decode", decode, pp, overlaps["decode"], device),
    )
    if _needs_handover(prefill, decode):
        syncs.append(
            {
                "id": "kv-handover",
                "after": "prefill_end",
                "collective": "all_to_all",
                "group": "world",
                "tensor": "kv",
            }
        )
    label = [
        _degrees_label("prefill", prefill, pp),
        _degrees_label("decode", decode, pp),
        f"layout {layout or 'default'}",
        f"stages {parallel.get('stages', [layers])}",
        f"{'moe ' + model['moe']['layers'] if moe else 'dense'} kv{model['kv_heads']}",
        f"overlap {overlaps['prefill']}/{overlaps['decode']}",
        f"mb {phases['prefill']['microbatches']}/{phases['decode']['microbatches']}",
        f"token {token_return}",
    ]
    plan = {
        "syncverify": 1,
        "name": "generated",
        "model": model,
        "parallel": parallel,
        "phases": phases,
        "sync": syncs,
    }
    return plan, label


_LAYOUTS = [
    ("tp", "sp", "dp", "pp"),
    ("dp", "tp", "sp", "pp"),
    ("sp", "tp", "dp", "pp"),
    ("tp", "dp", "sp", "pp"),
    ("pp", "tp", "sp", "dp"),
    ("tp", "pp", "dp", "sp"),
    ("dp", "sp", "pp", "tp"),
    ("sp", "dp", "tp", "pp"),
    ("pp", "dp", "sp", "tp"),
]


def _degrees_label(phase: str, degrees: dict, pp: int) -> str:
    parts = [f"{axis}{n}" for axis, n in degrees.items() if n > 1]
    return f"{phase} {' '.join(parts + ([f'pp{pp}'] if pp > 1 else [])) or 'single'}"


# ---- edits -----------------------------------------------------------------------------------


def _sizes(plan: dict) -> dict[str, list[int]]:
    """Every degree an axis takes in some phase (selectors name coordinates below them)."""
    out = {axis: {plan["parallel"].get(axis, 1)} for axis in ("tp", "sp", "dp", "pp", "ep")}
    for phase in plan["phases"].values():
        for axis in out:
            if axis in phase:
                out[axis].add(phase[axis])
    return {axis: sorted(sizes) for axis, sizes in out.items()}


def _selector(d, plan: dict) -> dict:
    """S9 ranks: one or two axes, one or several coordinates, groups of one included."""
    sizes = _sizes(plan)
    axes = [d.choice(sorted(sizes))]
    if d.chance(3):
        axes.append(d.choice([a for a in sorted(sizes) if a != axes[0]]))
    out = {}
    for axis in axes:
        size = min(sizes[axis])  # in range in every phase
        coords = sorted({d.integer(0, size - 1) for _ in range(d.integer(1, 3))})
        out[axis] = coords[0] if len(coords) == 1 and d.chance(2) else coords
    return out


def _anchors(plan: dict) -> list[str]:
    """The anchors the plan's model has (S116 rejects the others)."""
    moe = plan["model"].get("moe")
    absent = set()
    if not moe:
        absent |= {"router", "experts", "shared_experts"}
    elif not moe.get("shared_experts"):
        absent.add("shared_experts")
    if moe and moe["layers"] == "all":
        absent |= {"gate_up", "down"}
    return [a for a in ANCHORS if a not in absent]


def _new_sync(d, plan: dict, index: int) -> dict:
    """Any collective over any group after any anchor; half of them after a per-layer op, where
    an all_to_all (one in three) leaves state that alternates from layer to layer."""
    anchors = ANCHORS if d.chance(8) else _anchors(plan)
    if d.chance(2):
        anchors = [a for a in anchors if a in LAYER_OPS]
    after = d.choice(anchors)
    collective = "all_to_all" if d.chance(3) else d.choice(COLLECTIVES)
    sync = {
        "id": f"added-{index}",
        "after": after,
        "collective": collective,
        "group": d.choice(GROUPS),
    }
    if after in ("qkv", "prefill_end") and d.chance(2):
        sync["tensor"] = "kv" if after == "prefill_end" else d.choice(["q", "kv"])
    if after != "prefill_end" and d.chance(3):
        sync["phases"] = [d.choice(["prefill", "decode"])]
    return sync


def _async(d, plan: dict, sync: dict) -> dict:
    out = {k: v for k, v in sync.items() if k != "wait_before"}
    out["async"] = True
    consumer = FIRST_CONSUMER.get(sync["after"])
    if consumer and d.chance(2):
        out["wait_before"] = consumer
    return out


def _change_degree(d, plan: dict) -> str:
    phase = d.choice(["prefill", "decode"])
    axis = d.choice(["tp", "dp", "ep"])
    degree = d.choice([1, 2])
    plan["phases"][phase][axis] = degree
    return f"{phase} {axis} -> {degree}"


EDITS = ("remove", "duplicate", "retarget", "async", "select", "add", "alternate", "degree")
# all_to_all after these permutes what a layer leaves for the next: state alternating by layer
ALTERNATING_ANCHORS = ("o_proj", "attn_residual", "down", "mlp_residual")


def _edit(d, plan: dict, number: int) -> str:
    """Apply one drawn edit in place; a label saying what changed."""
    kind = d.choice(EDITS)
    syncs = plan["sync"]
    if kind == "add" or not syncs:
        sync = _new_sync(d, plan, number)
        syncs.insert(d.integer(0, len(syncs)), sync)
        return (
            f"add {sync['collective']} over {sync['group']} after {sync['after']}"
            f"{' (' + sync['tensor'] + ')' if 'tensor' in sync else ''}"
        )
    if kind == "alternate":
        sync = {
            "id": f"alternate-{number}",
            "after": d.choice(ALTERNATING_ANCHORS),
            "collective": "all_to_all",
            "group": d.choice(["tp", "dp", "sp", "world"]),
        }
        syncs.insert(d.integer(0, len(syncs)), sync)
        return f"add all_to_all over {sync['group']} after {sync['after']}"
    if kind == "degree":
        return _change_degree(d, plan)
    i = d.integer(0, len(syncs) - 1)
    sync = syncs[i]
    name = sync.get("id", f"#{i}")
    if kind == "remove":
        del syncs[i]
        return f"remove {name}"
    if kind == "duplicate":
        syncs.insert(i + 1, dict(sync, id=f"{name}-again-{number}"))
        return f"duplicate {name}"
    if kind == "retarget":
        if d.chance(2):
            syncs[i] = dict(sync, group=d.choice([g for g in GROUPS if g != sync["group"]]))
            return f"{name} over {syncs[i]['group']}"
        syncs[i] = {k: v for k, v in sync.items() if k not in ("wait_before", "tensor", "layers")}
        syncs[i]["after"] = d.choice([a for a in _anchors(plan) if a != sync["after"]])
        if syncs[i]["after"] == "prefill_end":
            syncs[i].pop("phases", None)
        return f"{name} after {syncs[i]['after']}"
    if kind == "async":
        syncs[i] = _async(d, plan, sync)
        until = f" until {syncs[i]['wait_before']}" if "wait_before" in syncs[i] else ""
        return f"{name} async{until}"
    syncs[i] = dict(sync, ranks=_selector(d, plan))
    return f"{name} only on {syncs[i]['ranks']}"


def build_plan(d, big: int = 0, max_edits: int = 3) -> dict:
    """A drawn plan: synthesized, then 0..max_edits edits. Its `name` says how it was drawn.
    `big`: a reducible plan of up to that many ranks (16-64); 0: a wide plan."""
    plan, label = _base_plan(d, big)
    edits = [_edit(d, plan, n) for n in range(d.integer(0, max_edits))]
    plan["name"] = "; ".join(label + (edits or ["as synthesized"]))
    return plan


@st.composite
def wide_plans(draw, max_edits: int = 3) -> dict:
    """Plans from the widened space (module docstring), up to SMALL_WORLD ranks."""
    return build_plan(HypothesisDraws(draw), big=0, max_edits=max_edits)


@st.composite
def reducible_plans(draw, max_world: int = 64, max_edits: int = 3) -> dict:
    """Worlds of 16 to `max_world` ranks that the default check reduces (tp 4-8, dp 4-8,
    8 layers)."""
    return build_plan(HypothesisDraws(draw), big=max_world, max_edits=max_edits)


def random_plan(seed: int, big: int = 0, max_edits: int = 3) -> dict:
    """The same generator from a seed (bench/)."""
    return build_plan(RandomDraws(seed), big=big, max_edits=max_edits)


# ---- what the default check's reduction cut --------------------------------------------------


def reduction_cut(loaded) -> dict[str, tuple[int, int]]:
    """For a loaded plan: each quantity the default check reduced, as (kept, real):
    ranks and microbatches per phase (graph.quotient), layers (graph.reduction)."""
    from syncverify.graph.quotient import quotient
    from syncverify.graph.reduction import layer_classes

    kept, _ = quotient(loaded)
    out = {}
    for real, small in zip(loaded.phases, kept.phases):
        if small.topology.world < real.topology.world:
            out[f"{real.name} ranks"] = (small.topology.world, real.topology.world)
        if small.microbatches < real.microbatches:
            out[f"{real.name} microbatches"] = (small.microbatches, real.microbatches)
    layers = layer_classes(kept)
    if len(layers) < loaded.model.layers:
        out["layers"] = (len(layers), loaded.model.layers)
    return out
