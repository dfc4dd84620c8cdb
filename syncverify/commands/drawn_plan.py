"""The plan `graph` and `timeline` draw: loaded, with the phase asked for, or why not."""

from __future__ import annotations

from typing import TextIO

from syncverify.commands.output import fail, refused


def load_to_draw(path: str, phase: str | None, err: TextIO):
    """The plan at `path`, or None after saying why it cannot be drawn (the caller exits 2):
    its load problems, or a `phase` it does not have."""
    from syncverify.findings import PlanError
    from syncverify.loader import load_plan

    try:
        plan = load_plan(path)
        problem = _phase_problem(plan, phase)
        if problem:
            fail(err, problem)
            return None
        return plan
    except PlanError as exc:
        refused(err, exc)
    except OSError as exc:
        err.write(f"syncverify: error: cannot read '{path}': {exc.strerror or exc}\n")
    return None


def _phase_problem(plan, phase: str | None) -> str | None:
    names = [p.name for p in plan.phases]
    if phase and phase not in names:
        return f"the plan has no {phase} phase (it has {', '.join(names)})"
    return None
