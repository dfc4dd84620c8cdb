"""`syncverify timeline`: per-device lanes of one step, styled on a terminal."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from syncverify.commands.drawn_plan import load_to_draw
from syncverify.commands.output import refused


@dataclass(frozen=True)
class TimelineArguments:
    path: str  # the plan file
    phase: str | None = None  # None: decode, or the plan's only phase
    step: int = 0  # the decode step (steps after 2 run like step 2)
    color: str = "auto"


def timeline(args: TimelineArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the lanes; the exit code (0, or 2 when the plan cannot be drawn)."""
    from syncverify import pictures
    from syncverify.findings import PlanError
    from syncverify.pictures import timeline as lanes
    from syncverify.report import make_console

    out, err = out or sys.stdout, err or sys.stderr
    plan = load_to_draw(args.path, args.phase, err)
    if plan is None:
        return 2
    phase = args.phase or pictures.default_phase(plan)
    step = args.step
    try:
        reduced, _, dag = pictures.reduced_graph(plan, step + 2 if phase == "decode" else 1)
    except PlanError as exc:
        return refused(err, exc)
    drawn = lanes.build(reduced, dag, phase, step if phase == "decode" else 0)
    console = make_console(out, args.color)
    if console.is_terminal:
        lanes.render_rich(drawn, console)
    else:
        lanes.render_plain(drawn, out)
    return 0
