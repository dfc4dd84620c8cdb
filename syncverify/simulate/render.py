"""How `syncverify simulate` prints a simulation: text for people, JSON for programs."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from syncverify.simulate.outcome import HANG, MATCH

JSON_VERSION = 1


def render_text(file: str, steps: int, sim, out: TextIO) -> None:
    outcome = sim.outcome
    run = f"{_phases_run(sim.phases, steps)}; " + ", ".join(sim.scenarios)
    if outcome.status == MATCH:
        out.write(f"{file}: matches the single-device reference ({run})\n")
        return
    if outcome.status == HANG:
        out.write(f"{file}: hang ({outcome.scenario})\n")
        out.write(f"  {outcome.message}\n")
        for wait in outcome.waiting:
            out.write(f"  rank {wait['rank']} waits for {wait['waits_for']}\n")
        return
    out.write(f"{file}: diverges at {outcome.where()} ({outcome.scenario})\n")
    out.write(f"  {outcome.message}\n")
    if outcome.sync:
        out.write(f"  sync point: {outcome.sync}\n")


def render_json(file: str, steps: int, sim, out: TextIO) -> None:
    data = {
        "version": JSON_VERSION,
        "file": file,
        "phases": list(sim.phases),
        "steps": steps if "decode" in sim.phases else 0,
        "status": sim.outcome.status,
        "matches": sim.outcome.matches,
        "scenarios": sim.scenarios,
        "outcome": sim.outcome.as_dict(),
        "model": _dims(sim.dims),
    }
    json.dump(data, out, indent=2)
    out.write("\n")


def _phases_run(phases: tuple, steps: int) -> str:
    decode = f"{steps} decode step{'s' if steps != 1 else ''}"
    if "prefill" in phases and "decode" in phases:
        return f"prefill + {decode}"
    return decode if "decode" in phases else "prefill"


def _dims(dims) -> dict:
    if dims is None:
        return {}
    data = asdict(dims)
    data["moe_layers"] = sorted(data["moe_layers"])
    return data
