"""The CLI's library for `schema`, `init`, `graph` and `timeline` (as `syncverify.commands` is
for `check`, `rules` and `explain`): plain functions that write their output and return the exit
code. Each imports what it needs when it runs, so `syncverify --help` stays fast.
"""
from __future__ import annotations

import os
import sys
from typing import Optional, TextIO


def fail(err: TextIO, message: str) -> int:
    err.write(f"syncverify: error: {message}\n")
    return 2


def emit(text: str, output: Optional[str], out: TextIO, err: TextIO) -> int:
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


# ---------------------------------------------------------------------------------- schema

def schema(*, output: Optional[str] = None, out: Optional[TextIO] = None,
           err: Optional[TextIO] = None) -> int:
    """`syncverify schema`: the plan format's JSON Schema (draft-07), the file the loader uses."""
    from syncverify.schema import schema_text

    return emit(schema_text(), output, out or sys.stdout, err or sys.stderr)


# ---------------------------------------------------------------------------------- init

def init(hf: str, layout, *, output: Optional[str] = None, force: bool = False,
         check: bool = True, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    """`syncverify init`: write the commented minimal plan for `hf` on `layout`.

    0: written (warnings, if any, on stderr); 1: the layout gives error findings, nothing
    written; 2: the config cannot be read, or the output file exists (without `force`).
    """
    from syncverify import scaffold

    out, err = out or sys.stdout, err or sys.stderr
    to_file = bool(output) and output != "-"
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
        err.write(f"{finding.file}:{finding.line}:{finding.column}: {finding.severity} "
                  f"{finding.code} {finding.message}\n")
    if report.errors:
        err.write("syncverify: error: this layout does not fit the model (the findings above); "
                  "nothing written\n")
        return 1
    return 0
