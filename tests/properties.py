"""What the property tests compare: findings as users read them, at a chosen number of steps."""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from unittest import mock

from hypothesis import assume

from syncverify.engine import check_plan
from syncverify.findings import PlanError
from syncverify.graph import builder
from syncverify.loader import load_plan
from tests.support import load_dict

# Open defects the widened property tests found and nobody has fixed yet: each masks exactly one
# class of difference (a pattern blanked out of messages) or excludes one class of draws (None),
# and is listed in the tests' docstrings and docs/semantics.md, so the properties still hold the
# rest. Delete an entry when its defect is fixed (and keep its plan in tests/regressions/
# properties). None is open. Fixed so far (/work/notes/disagreements.md): D1, a size-mismatch
# SV601 named the kept representative rank (masked until 0b221d7); D2/D2b, the default check
# refused (SV014) plans --exhaustive checked (excluded until 72bd11a and 0353eea); D3, the default
# check added SV118 where --exhaustive checked the plan (excluded until 451e7e6).
OPEN_DEFECTS: dict[str, re.Pattern | None] = {}


def _masks(masked: tuple[str, ...]) -> list:
    return [OPEN_DEFECTS[name] for name in masked if OPEN_DEFECTS.get(name) is not None]


def comparable(findings, masked: tuple[str, ...] = ()) -> list[tuple]:
    """Everything a finding shows: code, place, message, help, where and trace; the parts that
    the `masked` OPEN_DEFECTS entries describe are blanked out of messages."""
    return [
        (f.code, f.line, f.column, _mask(f.message, masked), f.help, f.where, f.trace)
        for f in findings
    ]


def _mask(message: str, masked: tuple[str, ...]) -> str:
    for pattern in _masks(masked):
        message = pattern.sub("<masked>", message)
    return message


def places(findings) -> list[tuple]:
    """Code and place only (what stays the same when more decode steps are unrolled)."""
    return sorted(
        {
            (
                f.code,
                f.line,
                f.column,
                f.where.phase if f.where else None,
                f.where.ranks if f.where else None,
                f.where.op if f.where else None,
            )
            for f in findings
        }
    )


def loaded_or_rejected(plan: dict):
    """The loaded plan; a plan the loader refuses (drawn config errors) is not an example."""
    try:
        return load_dict(plan)
    except PlanError:
        assume(False)


@functools.cache
def findings_of_file(path: str, exhaustive: bool = False) -> tuple:
    """The findings of the plan file at `path` in one mode, computed once per session: the
    regression plans are held to --exhaustive by several tests, and the check is a pure function
    of the file. Never call it while the checker is patched (tests/broken_reduction.py,
    `decode_steps`): the patched result would be served to later callers."""
    return tuple(check_plan(load_plan(path), exhaustive=exhaustive))


def checked(loaded, exhaustive: bool = False):
    """The check's findings; a plan too large for the full unroll (SV014) is not an example."""
    try:
        return check_plan(loaded, exhaustive=exhaustive)
    except PlanError:
        assume(False)


def checked_both(loaded) -> tuple[list, list]:
    """The default check's findings and --exhaustive's. A plan too large for the full unroll is
    not an example; one the full unroll checks but the default check refuses is a failure (the
    default mode must verify whatever --exhaustive can)."""
    full = checked(loaded, exhaustive=True)
    try:
        reduced = check_plan(loaded)
    except PlanError as error:
        raise AssertionError(
            f"the default check refuses what --exhaustive checks: {error}"
        ) from None
    return reduced, full


@contextmanager
def decode_steps(steps: int):
    """Unroll `steps` decode steps instead of graph.world.DECODE_STEPS (the graph builder makes
    every PhaseWorld with that count)."""
    real = builder.PhaseWorld

    def world(plan, phase, idle, _steps, *rest, **kwargs):
        return real(plan, phase, idle, steps, *rest, **kwargs)

    with mock.patch.object(builder, "PhaseWorld", world):
        yield
