"""`syncverify graph`: the plan's DAG collapsed by symmetry, as Mermaid or DOT."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from syncverify.commands.drawn_plan import load_to_draw
from syncverify.commands.output import emit, fail, refused
from syncverify.commands.overwrite import refusal


@dataclass(frozen=True)
class GraphArguments:
    path: str  # the plan file
    format: str = "mermaid"  # mermaid or dot
    phase: str | None = None  # None: decode, or the plan's only phase
    steps: int = 1  # decode steps to draw
    microbatches: int = 1
    finding: str | None = None  # highlight this rule's findings (code or slug)
    output: str | None = None  # a file to write (atomically); None or `-`: standard output


def graph(args: GraphArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the drawing; the exit code (0, or 2 when the plan cannot be drawn)."""
    from syncverify import pictures
    from syncverify.findings import PlanError

    out, err = out or sys.stdout, err or sys.stderr
    from syncverify.loader import referenced_hf_config

    refused_output = refusal(
        args.output,
        [(args.path, "the plan being drawn")]
        + (
            [(referenced_hf_config(args.path), "the hf_config of the plan being drawn")]
            if args.output and args.path != "-"
            else []
        ),
    )
    if refused_output:
        return fail(err, refused_output)
    plan = load_to_draw(args.path, args.phase, err)
    if plan is None:
        return 2
    try:
        found = _findings_named(plan, args.finding) if args.finding else []
        if isinstance(found, str):
            return fail(err, found)
        text = pictures.draw(
            plan,
            format=args.format,
            phase=args.phase,
            steps=args.steps,
            microbatches=args.microbatches,
            findings=found,
        )
    except PlanError as exc:  # too large to check or draw (SV014): located, as check says
        return refused(err, exc)
    return emit(text, args.output, out, err)


def _findings_named(plan, name: str):
    """The plan's findings of rule `name` (code or slug), or why there are none (a str)."""
    from syncverify.engine import check_plan
    from syncverify.rules import find_rule

    rule = find_rule(name)
    if rule is None:
        return f"unknown rule '{name}'; `syncverify rules` lists them"
    found = check_plan(plan)
    mine = [f for f in found if f.code == rule.code]
    if not mine:
        codes = ", ".join(sorted({f.code for f in found})) or "none"
        return f"{plan.path} has no {rule.code} finding (its findings: {codes})"
    return mine
