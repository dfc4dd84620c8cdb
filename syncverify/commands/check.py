"""`syncverify check`: check every plan with its policy (configuration files, then the
command line), apply the baseline, render the report, return the exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TextIO

from syncverify import progress
from syncverify.commands.baselines import baseline_to_update, read_baseline, use_baseline
from syncverify.commands.output import problems_to
from syncverify.commands.overwrite import files_read, refuse_writing_over
from syncverify.discovery import STDIN, display_name, plan_files
from syncverify.usage import UsageProblem


@dataclass(frozen=True)
class CheckArguments:
    """The options of `syncverify check` (`syncverify check --help` says what each does).

    `config` and the configuration files below the plans are the first layer of options, the
    command line the second; `baseline`/`write_baseline` name a baseline file
    (syncverify.baseline); `output` writes the report to a file instead of standard output;
    `loader` replaces the plan loader (tests)."""

    paths: tuple[str, ...]
    format: str = "auto"
    fail_on: str | None = None
    exit_zero: bool = False
    color: str = "auto"
    quiet: bool = False
    stdin_filename: str | None = None
    select: str | None = None
    ignore: str | None = None
    extend_select: str | None = None
    per_file_ignores: tuple[str, ...] = ()
    exclude: str | None = None
    extend_exclude: str | None = None
    config: str | None = None
    isolated: bool = False
    baseline: str | None = None
    write_baseline: str | None = None
    output: str | None = None
    statistics: bool = False
    exhaustive: bool = False
    jobs: int = 1
    fix: bool = False
    write: bool = False
    force_exclude: bool = False  # named files as found ones: excluded and non-plans skipped
    verbose: bool = False  # notes on standard error: the files discovery skipped, and why
    loader: Callable | None = None
    stdin: TextIO | None = None  # the plan `-` names (default: the process's standard input)


def check(args: CheckArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Check every plan, render the report, return the exit code (0, 1 or 2)."""
    from syncverify.report import exit_code, problems_on_stderr

    out, err = out or sys.stdout, err or sys.stderr
    try:
        args, files, policies, recorded = prepared(args, err)
    except UsageProblem as exc:
        from syncverify.escape import clean_line

        err.write(f"syncverify: error: {clean_line(str(exc))}\n")  # may quote a config's keys
        return 2
    if args.stdin_filename is not None and STDIN not in files:
        err.write(
            "syncverify: warning: --stdin-filename names the plan read from standard "
            "input ('-'), and no '-' was given: ignored\n"
        )
    if args.write and STDIN in files:
        err.write("syncverify: error: --write cannot change standard input; name the plan file\n")
        return 2
    report, recheck = checked(args, files, policies, err)
    policy_of = {display_name(f, args.stdin_filename): p for f, p in zip(files, policies)}
    try:
        reported = {name: p.reported for name, p in policy_of.items()}
        use_baseline(report, recorded, args.baseline, args.write_baseline, reported, err)
    except OSError as exc:
        err.write(f"syncverify: error: cannot write '{args.write_baseline}': {exc.strerror}\n")
        return 2
    report.exit_code = exit_code(
        report, {name: p.fail_on for name, p in policy_of.items()}, args.exit_zero
    )
    if args.fix and not args.write:
        from syncverify import fixes

        fixes.show(report, recheck, out, err)
        return report.exit_code
    if not emit_report(report, args, out, err):
        return 2
    if problems_on_stderr(args.format) or args.output:
        problems_to(err, report.problems)
    return report.exit_code


def checked(args: CheckArguments, files: list[str], policies: list, err: TextIO) -> tuple:
    """(the Report of every plan, with its policy; recheck(name, text) -> the findings of an
    edited plan). With `--fix --write` the plans are edited first, then reported as they are."""
    from syncverify.checking import CheckOptions, PlanSource, check_files, rechecker
    from syncverify.report import Report

    sources = [
        PlanSource(f, args.stdin_filename, stdin=args.stdin if f == STDIN else None) for f in files
    ]
    options = [
        CheckOptions(p.selection, p.severity, args.exhaustive, args.loader) for p in policies
    ]
    report = Report()
    with progress.bar(err, len(files), enabled=False if args.quiet else None):
        check_files(report, sources, options, args.jobs)
    # an edited plan is checked again with the real loader, as it is written to the disk
    recheck = rechecker({s.display: replace(o, loader=None) for s, o in zip(sources, options)})
    if args.write:
        from syncverify import fixes

        if fixes.write(report, recheck, err):  # then report on the plans as they are now
            report = Report()
            check_files(report, sources, options, args.jobs)
    return report, recheck


def prepared(args: CheckArguments, err: TextIO) -> tuple:
    """(the arguments with `format` resolved, the plan files, each plan's Policy, the baseline
    read), after refusing what cannot work (UsageProblem) before anything is checked."""
    from syncverify.report import resolve_format

    args = replace(args, output=None if args.output == STDIN else args.output)  # `-o -`: stdout
    layers = configurations_of(args)
    discovery = plan_files(args.paths, force_exclude=args.force_exclude, excluded=layers.excluded)
    files = discovery.files
    if args.verbose:
        for path, reason in discovery.skipped:
            err.write(f"syncverify: note: skipped {path}: {reason}\n")
    configurations: list = []
    policies = plan_policies(files, args, read=configurations, layers=layers)
    outputs = [("--output", args.output), ("--write-baseline", args.write_baseline)]
    refuse_writing_over(
        outputs,
        files_read(files, configurations, args.baseline)
        if any(path for _, path in outputs)
        else [],
    )
    args = replace(args, format=resolve_format(args.format, to_file=args.output is not None))
    check_invocation(args)
    recorded = read_baseline(args.baseline)
    baseline_to_update(args.write_baseline)
    return args, files, policies, recorded


def plan_policies(
    files: list[str], args: CheckArguments, read: list | None = None, layers=None
) -> list:
    """Each plan's Policy: its nearest configuration file, then the command-line options.
    The configuration files read are added to the list `read` when one is given."""
    configurations = layers or configurations_of(args)
    policies = [
        configurations.policy_for(args.stdin_filename if file == STDIN else file) for file in files
    ]
    if read is not None:
        read.extend(configurations.files_read)
    return policies


def configurations_of(args: CheckArguments):
    """The Configurations of a run: the configuration files, then the command-line options."""
    from syncverify.config import Configurations, Settings, names_list, patterns_list

    def names(value: str | None, option: str):
        return names_list(value, option) if value else ()

    cli = Settings(
        select=names_list(args.select, "--select") if args.select else None,
        extend_select=names(args.extend_select, "--extend-select"),
        ignore=names(args.ignore, "--ignore"),
        fail_on=args.fail_on,
        per_file_ignores=tuple(per_file_option(value) for value in args.per_file_ignores),
        exclude=None if args.exclude is None else patterns_list(args.exclude, "--exclude"),
        extend_exclude=patterns_list(args.extend_exclude or [], "--extend-exclude"),
    )
    return Configurations(cli, config=args.config, isolated=args.isolated)


def per_file_option(value: str) -> tuple[str, tuple[str, ...]]:
    """`--per-file-ignores PATTERN:CODES` as (pattern, names); the last colon splits them."""
    from syncverify.config import names_list

    pattern, _, codes = value.rpartition(":")
    names = names_list(codes, "--per-file-ignores") if pattern else ()
    if not names:
        raise UsageProblem(
            f"--per-file-ignores: expected PATTERN:CODES, e.g. "
            f"'plans/legacy/*.yaml:SV7,SV702', got {value!r}"
        )
    return pattern, names


def check_invocation(args: CheckArguments) -> None:
    """Option combinations and output paths that cannot work, before anything is checked."""
    if args.statistics and args.format == "sarif":
        raise UsageProblem("--statistics prints a table (or JSON with --format json), not SARIF")
    if args.baseline and args.write_baseline:
        raise UsageProblem(
            "--baseline and --write-baseline exclude each other: "
            "--write-baseline FILE also applies the baseline it writes"
        )
    for option, path in (("--output", args.output), ("--write-baseline", args.write_baseline)):
        if path:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise UsageProblem(f"{option}: cannot write '{path}': no such directory")


def emit_report(report, args: CheckArguments, out: TextIO, err: TextIO) -> bool:
    """Render the report (or its statistics) to `out`, or atomically to the file `args.output`.
    False when the file cannot be written (the caller exits 2)."""
    import io

    from syncverify.report import render

    buffer = io.StringIO()
    target = buffer if args.output else out
    color = args.color
    if args.output and color == "auto":
        color = "never"  # a file is not a terminal, whatever FORCE_COLOR says
    if args.statistics:
        from syncverify.report import statistics as stats

        stats.render(report, target, as_json=args.format == "json")
    else:
        render(report, args.format, target, color=color, quiet=args.quiet)
    if args.output:
        from syncverify.atomic import write_text_atomically

        try:
            write_text_atomically(args.output, buffer.getvalue())
        except OSError as exc:
            err.write(f"syncverify: error: cannot write '{args.output}': {exc.strerror}\n")
            return False
    return True
