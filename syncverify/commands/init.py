"""`syncverify init`: write the commented minimal plan for a model's config.json on a layout."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from syncverify.commands.output import emit, fail
from syncverify.commands.overwrite import refusal

if TYPE_CHECKING:
    from syncverify.scaffold import Layout


@dataclass(frozen=True)
class InitArguments:
    hf: str  # the model's Hugging Face config.json
    layout: Layout  # tp, pp, dp, ..., token_return
    output: str | None = None  # a file to write (atomically); None or `-`: standard output
    force: bool = False  # replace an existing output file
    check: bool = True  # check the plan first; refuse it when it has errors


def init(args: InitArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the plan. 0: written (warnings, if any, on stderr); 1: the layout gives error
    findings, nothing written; 2: the config cannot be read, or the output file exists (without
    `force`)."""
    from syncverify import scaffold

    out, err = out or sys.stdout, err or sys.stderr
    hf, layout, output = args.hf, args.layout, args.output
    to_file = output if output and output != "-" else None  # the file written, if any
    refused = refusal(output, [(hf, "the --hf config being read")])
    if refused:
        return fail(err, refused)
    if to_file and os.path.exists(to_file) and not args.force:
        return fail(err, f"'{output}' exists; --force replaces it")
    try:
        model = scaffold.model_keys(hf)
    except scaffold.InitProblem as exc:
        return fail(err, str(exc))
    hf_ref = scaffold.hf_reference(hf, to_file)
    plan = scaffold.build_plan(model, layout, scaffold.plan_name(hf, layout))
    text = scaffold.render(plan, model, hf_ref, layout, layout.command(hf))
    if args.check:
        verdict = _check_new_plan(text, to_file or "plan.yaml", err)
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
