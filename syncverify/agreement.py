"""Holding the checker's verdicts against execution (the agreement test and bench/agreement.py).

The claim: the checker reports no missing-sync, ordering or value-corrupting (SV402/SV403)
finding  <=>  the simulation matches the single-device reference and does not hang. Outside the
claim: plans the executor refuses (config or shape findings, SP in decode), and plans on which
the checker does not build its graph (a finding of a rule that blocks the graph: besides config
and shape, SV503, a sync that crosses decode steps), so it has no verdict on their syncs.

Plans come from `syncverify.synthesis` (correct by construction) and single mutations of them:
remove a sync, make one async without a wait, duplicate a reduction, change a group, restrict
the ranks that issue one, add a sync point that changes no value.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

from syncverify.plan import GROUPS

if TYPE_CHECKING:  # numpy and the executor load only when a plan is simulated
    from syncverify.simulate.outcome import Outcome

BAD_CATEGORIES = ("missing-sync", "ordering")
VALUE_CORRUPTING = ("SV402", "SV403")
REDUCTIONS = ("all_reduce", "reduce_scatter")
OVERLAP_WITH_ASYNC = ("comm_compute", "two_batch")


@dataclass
class Verdicts:
    label: str
    refused: list = field(default_factory=list)  # codes that keep the executor out
    unjudged: list = field(default_factory=list)  # codes that keep the checker's graph out
    checker_codes: list = field(default_factory=list)  # missing-sync/ordering/SV402/SV403 codes
    redundant_only: bool = False  # redundant-sync warnings, no bad finding
    outcome: Outcome | None = None
    check_seconds: float = 0.0  # CPU time of each side (bench figures)
    simulate_seconds: float = 0.0

    @property
    def checker_bad(self) -> bool:
        return bool(self.checker_codes)

    @property
    def simulation_bad(self) -> bool:
        return self.outcome is not None and not self.outcome.matches

    @property
    def outside_claim(self) -> bool:
        return bool(self.refused or self.unjudged)

    @property
    def agree(self) -> bool:
        return self.outside_claim or self.checker_bad == self.simulation_bad


def verdicts(plan_dict: dict, label: str = "", steps: int = 3, name: str = "plan.yaml") -> Verdicts:
    """Load, check and (unless refused) simulate one plan given as a dict."""
    from syncverify.loader import load_plan

    plan = load_plan(name, text=yaml.safe_dump(plan_dict, sort_keys=False))
    return verdicts_of(plan, label, steps)


def verdicts_of(plan, label: str = "", steps: int = 3) -> Verdicts:
    from syncverify.engine import check_plan
    from syncverify.rules import ALL_RULES
    from syncverify.runnable import refusals
    from syncverify.simulate import simulate

    out = Verdicts(label)
    refused = refusals(plan)
    if refused:
        out.refused = sorted({f.code for f in refused})
        return out
    started = time.process_time()
    found = check_plan(plan)
    out.check_seconds = time.process_time() - started
    blocking = {r.code for r in ALL_RULES if r.blocks_graph}
    out.unjudged = sorted({f.code for f in found if f.code in blocking})
    out.checker_codes = sorted(
        {f.code for f in found if f.category in BAD_CATEGORIES or f.code in VALUE_CORRUPTING}
    )
    # redundant syncs (SV401, SV404) and nothing that changes a value or misses a sync
    out.redundant_only = not out.checker_codes and any(
        f.category == "redundant-sync" for f in found
    )
    started = time.process_time()
    out.outcome = simulate(plan, steps).outcome
    out.simulate_seconds = time.process_time() - started
    return out


# ---- single mutations -----------------------------------------------------------------------

KINDS = (
    "remove a sync",
    "make one async without a wait",
    "duplicate a reduction",
    "change a group",
    "restrict the ranks",
    "add a sync point",
)

# Sync points meant to change no value: where the checker finds them only redundant the
# simulation must match (the claim's second half). Appended after an async sync on the same
# anchor one reads that output before it completes: a race both must report.
REDUNDANT_EXTRAS = (
    (
        "a barrier after attention over tp",
        {"after": "attention", "collective": "barrier", "group": "tp"},
    ),
    (
        "a broadcast of the replicated residual over tp",
        {"after": "attn_residual", "collective": "broadcast", "group": "tp"},
    ),
    (
        "an all_reduce over a group of one",
        {"after": "o_proj", "collective": "all_reduce", "group": "sp", "phases": ["decode"]},
    ),
    (
        "an all_gather of the logits over a group of one",
        {"after": "lm_head", "collective": "all_gather", "group": "sp", "phases": ["decode"]},
    ),
    (
        "a second stage transfer",
        {"after": "stage_boundary", "collective": "send_recv", "group": "pp"},
    ),
)


def mutations(plan: dict) -> list[tuple[str, dict]]:
    """Every single mutation of `plan` of the six kinds, labelled."""
    return [m for kind in KINDS for m in mutations_by_kind(plan)[kind]]


def mutations_by_kind(plan: dict) -> dict[str, list[tuple[str, dict]]]:
    out: dict[str, list] = {kind: [] for kind in KINDS}
    for i, sync in enumerate(plan.get("sync", [])):
        name = sync.get("id", f"#{i + 1}")
        out["remove a sync"].append((f"remove {name}", _edit(plan, i, None)))
        if _can_be_async(plan, sync):
            changed = {k: v for k, v in sync.items() if k != "wait_before"} | {"async": True}
            out["make one async without a wait"].append(
                (f"make {name} async without a wait", _edit(plan, i, changed))
            )
        if sync["collective"] in REDUCTIONS:
            mutant = copy.deepcopy(plan)
            mutant["sync"].insert(i + 1, dict(sync, id=f"{name}-again"))
            out["duplicate a reduction"].append((f"duplicate {name}", mutant))
        for group in GROUPS:
            if group != sync["group"]:
                out["change a group"].append(
                    (f"{name} over {group}", _edit(plan, i, dict(sync, group=group)))
                )
        for axis, size in _axes(plan).items():
            if size > 1 and "ranks" not in sync:
                out["restrict the ranks"].append(
                    (f"{name} only on {axis} 0", _edit(plan, i, dict(sync, ranks={axis: 0})))
                )
    for label, extra in REDUNDANT_EXTRAS:
        if extra["after"] == "stage_boundary" and _axes(plan)["pp"] == 1:
            continue  # no stage boundary to anchor on
        mutant = copy.deepcopy(plan)
        mutant["sync"].append(dict(extra, id="extra"))
        out["add a sync point"].append((f"add {label}", mutant))
    return out


def _edit(plan: dict, index: int, sync: dict | None) -> dict:
    mutant = copy.deepcopy(plan)
    if sync is None:
        del mutant["sync"][index]
    else:
        mutant["sync"][index] = sync
    return mutant


def _can_be_async(plan: dict, sync: dict) -> bool:
    """S11: async only where every phase it runs in allows overlap (else a config error)."""
    phases = sync.get("phases", list(plan["phases"]))
    return all(
        plan["phases"].get(p, {}).get("overlap", "none") in OVERLAP_WITH_ASYNC
        for p in phases
        if p in plan["phases"]
    )


def _axes(plan: dict) -> dict:
    sizes = {axis: plan["parallel"].get(axis, 1) for axis in ("tp", "dp", "pp", "ep")}
    for phase in plan["phases"].values():
        for axis in ("tp", "dp", "pp", "sp", "ep"):
            sizes[axis] = max(sizes.get(axis, 1), phase.get(axis, 1))
    return sizes


# ---- random small layouts (tests/strategies.py `layouts()` without hypothesis) ---------------

TINY_DENSE = {"layers": 2, "hidden": 256, "heads": 8, "kv_heads": 4, "ffn": 512, "vocab": 1000}
TINY_MOE = {
    "layers": 2,
    "hidden": 256,
    "heads": 8,
    "kv_heads": 8,
    "ffn": 512,
    "vocab": 1000,
    "moe": {"experts": 8, "top_k": 2, "layers": "1..1", "shared_experts": 1, "ffn": 128},
}
TINY_MOE_ALL = {
    "layers": 2,
    "hidden": 256,
    "heads": 8,
    "kv_heads": 2,
    "vocab": 1000,
    "moe": {"experts": 8, "top_k": 2, "layers": "all", "ffn": 128},
}
MODELS = (TINY_DENSE, TINY_MOE, TINY_MOE_ALL)


def random_layout(rng: random.Random, max_tp: int = 2) -> dict:
    """Keyword arguments for `synthesize_plan`, drawn as tests/strategies.py draws them."""
    model = rng.choice(MODELS)
    tp = rng.choice([t for t in (1, 2, 4) if t <= max_tp])
    pp, dp = rng.choice([1, 2]), rng.choice([1, 2])
    ep = rng.choice(sorted({1, tp, tp * dp})) if "moe" in model else 1
    overlap = rng.choice(["none", "comm_compute", "two_batch"])
    mb = 2 if overlap == "two_batch" else rng.choice([1, 2, 3])
    sp = 1
    if ep == 1 and rng.random() < 0.25:
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
        "token_return": rng.choice(["host", "device"]),
        "tokens": 64,
        "batch": 8,
    }


def random_plan(rng: random.Random, max_tp: int = 2) -> tuple[str, dict]:
    """A synthesized plan, or (three times in four) one single mutation of it: a kind drawn
    uniformly among those the plan allows, then one mutation of that kind."""
    from syncverify.synthesis import synthesize_plan

    layout = random_layout(rng, max_tp)
    plan = synthesize_plan(**layout)
    label = layout_label(layout)
    by_kind = {kind: found for kind, found in mutations_by_kind(plan).items() if found}
    if rng.random() < 0.25 or not by_kind:
        return f"{label}: as synthesized", plan
    mutant_label, mutant = rng.choice(by_kind[rng.choice(sorted(by_kind))])
    return f"{label}: {mutant_label}", mutant


def layout_label(layout: dict) -> str:
    model = (
        "moe-all"
        if layout["model"] is TINY_MOE_ALL
        else ("moe" if "moe" in layout["model"] else "dense")
    )
    parts = [model] + [f"{k}{layout[k]}" for k in ("tp", "pp", "dp", "ep") if layout[k] > 1]
    if layout["prefill_sp"] > 1:
        parts.append(f"sp{layout['prefill_sp']}")
    parts += [layout["overlap"], f"mb{layout['prefill_microbatches']}", layout["token_return"]]
    return " ".join(parts)
