"""The CLI's library for `schema`, `init`, `graph` and `timeline` (as `syncverify.commands` is
for `check`, `rules` and `explain`): plain functions that write their output and return the exit
code. Each imports what it needs when it runs, so `syncverify --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO


def fail(err: TextIO, message: str) -> int:
    from syncverify.escape import clean_line

    err.write(f"syncverify: error: {clean_line(message)}\n")  # may quote a config.json's values
    return 2


def emit(text: str, output: str | None, out: TextIO, err: TextIO) -> int:
    """Write `text` to `output` atomically, or to `out` when no file is named."""
    if not output or output == "-":
        out.write(text)
        return 0
    from syncverify.atomic import write_text_atomically

    try:
        write_text_atomically(output, text)
    except OSError as exc:
        return fail(err, f"cannot write '{output}': {exc.strerror or exc}")
    return 0


def refusal(output: str | None, inputs: list) -> str | None:
    """Why `output` must not be written (an input of the run: (path, what it is); not a
    regular file nor a new path), or None."""
    from syncverify.commands import UsageProblem, refuse_writing_over

    try:
        refuse_writing_over([("--output", output)], [(p, what) for p, what in inputs if p])
    except UsageProblem as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------------------- schema


def schema(
    *, output: str | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`syncverify schema`: the plan format's JSON Schema (draft-07), the file the loader uses."""
    from syncverify.schema import schema_text

    return emit(schema_text(), output, out or sys.stdout, err or sys.stderr)


# ---------------------------------------------------------------------------------- init


def init(
    hf: str,
    layout,
    *,
    output: str | None = None,
    force: bool = False,
    check: bool = True,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`syncverify init`: write the commented minimal plan for `hf` on `layout`.

    0: written (warnings, if any, on stderr); 1: the layout gives error findings, nothing
    written; 2: the config cannot be read, or the output file exists (without `force`).
    """
    from syncverify import scaffold

    out, err = out or sys.stdout, err or sys.stderr
    to_file = bool(output) and output != "-"
    refused = refusal(output, [(hf, "the --hf config being read")])
    if refused:
        return fail(err, refused)
    if to_file and os.path.exists(output) and not force:
        return fail(err, f"'{output}' exists; --force replaces it")
    try:
        model = scaffold.model_keys(hf)
    except scaffold.InitProblem as exc:
        return fail(err, str(exc))
    hf_ref = scaffold.hf_reference(hf, output if to_file else None)
    plan = scaffold.build_plan(model, layout, scaffold.plan_name(hf, layout))
    text = scaffold.render(plan, model, hf_ref, layout, layout.command(hf))
    if check:
        verdict = _check_new_plan(text, output if to_file else "plan.yaml", err)
        if verdict:
            return verdict
    return emit(text, output, out, err)


def _check_new_plan(text: str, name: str, err: TextIO) -> int:
    """Check the plan before it is written: 1 (and the findings) when it has errors."""
    from syncverify.api import check

    report = check(text, name=name)
    for finding in report.all_findings():
        err.write(
            f"{finding.file}:{finding.line}:{finding.column}: {finding.severity} "
            f"{finding.code} {finding.message}\n"
        )
    if report.errors:
        if any(f.category == "ordering" for f in report.errors):
            # a deadlock of the minimal sync set itself (a device token carrier's rendezvous
            # with more microbatches than the pipeline can hold, S3, S4): init never writes it
            err.write(
                "syncverify: error: this layout's schedule hangs (the findings above); "
                "nothing written. With --token-return device and pp > 1, use "
                "--overlap comm_compute (the token carrier becomes async), fewer "
                "--microbatches, or --token-return host\n"
            )
        else:
            err.write(
                "syncverify: error: this layout does not fit the model (the findings "
                "above); nothing written\n"
            )
        return 1
    return 0


# ---------------------------------------------------------------------------------- graph


def _load(path: str, phase: str | None, err: TextIO):
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
        _refused(err, exc)
    except OSError as exc:
        err.write(f"syncverify: error: cannot read '{path}': {exc.strerror or exc}\n")
    return None


def _phase_problem(plan, phase: str | None) -> str | None:
    names = [p.name for p in plan.phases]
    if phase and phase not in names:
        return f"the plan has no {phase} phase (it has {', '.join(names)})"
    return None


def graph(
    path: str,
    *,
    format: str = "mermaid",
    phase: str | None = None,
    steps: int = 1,
    microbatches: int = 1,
    finding: str | None = None,
    output: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`syncverify graph`: the plan's DAG collapsed by symmetry, as Mermaid or DOT."""
    from syncverify import pictures
    from syncverify.findings import PlanError

    out, err = out or sys.stdout, err or sys.stderr
    from syncverify.loader import referenced_hf_config

    refused = refusal(
        output,
        [(path, "the plan being drawn")]
        + (
            [(referenced_hf_config(path), "the hf_config of the plan being drawn")]
            if output and path != "-"
            else []
        ),
    )
    if refused:
        return fail(err, refused)
    plan = _load(path, phase, err)
    if plan is None:
        return 2
    try:
        found = _findings_named(plan, finding) if finding else []
        if isinstance(found, str):
            return fail(err, found)
        text = pictures.draw(
            plan, format=format, phase=phase, steps=steps, microbatches=microbatches, findings=found
        )
    except PlanError as exc:  # too large to check or draw (SV014): located, as check says
        return _refused(err, exc)
    return emit(text, output, out, err)


def _refused(err: TextIO, exc) -> int:
    from syncverify.commands import _problems_to

    _problems_to(err, exc.problems)
    return 2


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


# ---------------------------------------------------------------------------------- timeline


def timeline(
    path: str,
    *,
    phase: str | None = None,
    step: int = 0,
    color: str = "auto",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`syncverify timeline`: per-device lanes of one step, styled on a terminal."""
    from syncverify import pictures
    from syncverify.findings import PlanError
    from syncverify.pictures import timeline as lanes
    from syncverify.report import make_console

    out, err = out or sys.stdout, err or sys.stderr
    plan = _load(path, phase, err)
    if plan is None:
        return 2
    phase = phase or pictures.default_phase(plan)
    try:
        reduced, _, dag = pictures.reduced_graph(plan, step + 2 if phase == "decode" else 1)
    except PlanError as exc:
        return _refused(err, exc)
    drawn = lanes.build(reduced, dag, phase, step if phase == "decode" else 0)
    console = make_console(out, color)
    if console.is_terminal:
        lanes.render_rich(drawn, console)
    else:
        lanes.render_plain(drawn, out)
    return 0
