"""`syncverify simulate PLAN`: run the plan on simulated devices (syncverify.simulate) and
compare with one device: 0 matches, 1 a divergence or a hang, 2 an unusable plan."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from syncverify import progress
from syncverify.commands.output import problems_to
from syncverify.crash import internal_error, should_raise
from syncverify.discovery import STDIN
from syncverify.findings import PlanError

# Every decode step after the third sees what step 2 sees (the checker unrolls three); more than
# a few dozen test nothing new and only cost time (cost grows with steps x ranks x layers).
MAX_SIMULATED_STEPS = 64


@dataclass(frozen=True)
class SimulateArguments:
    path: str  # a plan file, or `-` for standard input
    steps: int = 3
    format: str = "text"  # text or json
    loader: Callable | None = None  # replaces the plan loader (tests)
    stdin: TextIO | None = None  # the plan `-` names (default: the process's standard input)


def simulate(args: SimulateArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Simulate the plan and write the outcome; the exit code (0, 1 or 2)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        import numpy  # noqa: F401 (the `simulate` extra)
    except ImportError:
        err.write("syncverify: error: simulate needs numpy: pip install 'syncverify[simulate]'\n")
        return 2
    from syncverify.simulate.render import render_json, render_text

    steps = args.steps
    if not 1 <= steps <= MAX_SIMULATED_STEPS:
        err.write(f"syncverify: error: --steps: expected 1 to {MAX_SIMULATED_STEPS}, got {steps}\n")
        return 2
    display = "<stdin>" if args.path == STDIN else args.path
    progress.stage(f"loading {display}")
    try:
        sim = _simulated(args, display, err)
    except PlanError as exc:
        problems_to(err, exc.problems)
        return 2
    except Exception as exc:  # the boundary: a bug in the executor must not become a traceback
        if should_raise():
            raise
        problems_to(err, [internal_error(display, exc, "simulating")])
        return 2
    if sim is None:
        return 2
    (render_json if args.format == "json" else render_text)(display, steps, sim, out)
    return 0 if sim.outcome.matches else 1


def _simulated(args: SimulateArguments, display: str, err: TextIO):
    """The simulation of the plan, or None after saying why it cannot run (the caller exits 2).
    Raises PlanError for an unusable plan."""
    from syncverify.budget import check_size
    from syncverify.checking import PlanSource, default_loader
    from syncverify.runnable import refusals
    from syncverify.simulate import simulate as run

    load = args.loader or default_loader()
    text = PlanSource(args.path, stdin=args.stdin).read_text()
    plan = load(args.path) if text is None else load(STDIN, text=text, display_path=display)
    check_size(plan, exhaustive=True)  # SV014: the executor runs every rank, layer, microbatch
    too_long = _steps_too_long(plan, args.steps)
    if too_long:
        err.write(f"syncverify: error: --steps {args.steps}: {too_long}\n")
        return None
    refused = refusals(plan)
    if refused:
        err.write(
            f"syncverify: error: {display}: the executor needs a well-formed layout; "
            f"fix these first (`syncverify check` shows them):\n"
        )
        problems_to(err, refused)
        return None
    return run(plan, args.steps)


def _steps_too_long(plan, steps: int) -> str | None:
    """Why `steps` decode steps of `plan` are too many to simulate (the size guard counts 3)."""
    from syncverify.budget import MAX_DAG_NODES, estimate

    nodes = sum(
        e.nodes * steps // e.steps if e.phase.name == "decode" else e.nodes
        for e in estimate(plan, exhaustive=True)
    )
    if nodes <= MAX_DAG_NODES:
        return None
    return (
        f"the plan would run about {nodes:,} op and collective instances, more than the "
        f"{MAX_DAG_NODES:,} syncverify unrolls; simulate fewer steps"
    )
