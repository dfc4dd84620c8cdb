"""The CLI's library: each subcommand is a plain function that writes its output and returns
the exit code (0, 1 or 2). `syncverify.cli` only parses arguments and calls these; tests may
call them directly.

Heavy imports (the loader, the rules, rich) happen inside the functions that need them.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from syncverify import progress
from syncverify.findings import Finding, PlanError

PLAN_SUFFIXES = (".yaml", ".yml")
INTERNAL_ERROR_CODE = "SV900"
STDIN = "-"


class UsageProblem(Exception):
    """The invocation cannot be carried out (exit code 2); the message says why."""


def should_raise() -> bool:
    """SYNCVERIFY_RAISE=1 lets unexpected exceptions through with their traceback."""
    return os.environ.get("SYNCVERIFY_RAISE") == "1"


# ---------------------------------------------------------------------------------- check


def plan_files(paths: Iterable[str]) -> list[str]:
    """The plan files named by `paths`: files as given, directories expanded to every
    *.yaml / *.yml below them (recursively, sorted, hidden folders skipped), `-` for stdin.

    A missing path, or a folder without plans, is kept: loading it reports why (SV001).
    """
    files: list[str] = []
    for given in paths:
        if given == STDIN:
            files.append(STDIN)
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.suffix in PLAN_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            # a folder without plans is left to the loader, which reports it at DIR:1:1 (SV001)
            files.extend(found or [given])
        else:
            files.append(given)  # a missing file too: SV001 at FILE:1:1, in every format
    return list(dict.fromkeys(files))  # a plan named twice is checked once


def internal_error(file: str, exc: BaseException, doing: str = "checking") -> Finding:
    """A crash of syncverify itself on `file`, reported as a problem instead of a traceback."""
    from syncverify.rules.internal_error import RULE

    return Finding(
        code=RULE.code,
        slug=RULE.slug,
        category=RULE.category,
        severity="error",
        message=f"internal error while {doing} this plan: "
        f"{exc.__class__.__name__}: {exc} "
        f"(SYNCVERIFY_RAISE=1 shows the traceback)",
        file=file,
        line=1,
        column=1,
        help="please report this bug with the plan attached",
    )


def rules_matching(token: str, rules) -> list:
    """The rules a `--select`/`--ignore` token names: `ALL`, a code or code prefix (`SV3`,
    `SV301`, any case) or a slug."""
    token = token.strip()
    if token.upper() == "ALL":
        return list(rules)
    return [r for r in rules if r.code.startswith(token.upper()) or r.slug == token.lower()]


def codes_named(option: str, value: str, rules) -> set[str]:
    """The codes of the rules a comma-separated option value names (UsageProblem if a token
    names none)."""
    chosen = set()
    for token in filter(None, (t.strip() for t in value.split(","))):
        found = rules_matching(token, rules)
        if not found:
            close = suggestions(token, [r.code for r in rules] + [r.slug for r in rules])
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise UsageProblem(f"{option}: no rule matches '{token}'{hint}")
        chosen.update(r.code for r in found)
    return chosen


def default_loader() -> Callable:
    from syncverify.loader import load_plan

    return load_plan


def check_one(
    report,
    file: str,
    *,
    stdin_filename: str | None = None,
    loader: Callable | None = None,
    stdin: TextIO | None = None,
    selection=None,
    exhaustive: bool = False,
) -> None:
    """Load and check one plan, adding its findings (or its problems) to `report`."""
    from syncverify.engine import check_plan, stops_selected_graph_rules
    from syncverify.yamlnodes import MAX_BYTES  # stdin is read no further than the loader reads

    display = (stdin_filename or "<stdin>") if file == STDIN else file
    report.files.append(display)
    progress.stage(f"loading {display}")
    try:
        load = loader or default_loader()
        if file == STDIN:
            # kept for code frames: a problem's frame cannot be read back from the disk
            text = report.sources[display] = standard_input(stdin, display).read(MAX_BYTES + 1)
            plan = load(stdin_filename or STDIN, text=text, display_path=display)
        else:
            plan = load(file)
        report.sources[display] = plan.text
        progress.stage(f"checking {display}")
        found = check_plan(
            plan, rules=None if selection is None else selection[0], exhaustive=exhaustive
        )
        for finding in found:
            # a crashed rule (SV900) left the plan partly unchecked: exit 2 like any crash
            crashed = finding.code == INTERNAL_ERROR_CODE
            if (
                selection is not None
                and not crashed
                and finding.code not in selection[1]
                and not stops_selected_graph_rules(finding, selection[1])
            ):
                continue
            (report.problems if crashed else report.findings).append(finding)
    except PlanError as exc:
        report.problems.extend(exc.problems)
    except Exception as exc:  # the boundary: a bug in syncverify must not become a traceback
        if should_raise():
            raise
        report.problems.append(internal_error(display, exc))


def standard_input(stdin: TextIO | None, display: str) -> TextIO:
    """`stdin`, or the process's standard input; PlanError (SV001, at the plan) when it is closed
    (`syncverify check - <&-`)."""
    stream = stdin or sys.stdin
    if stream is None:
        from syncverify.load_codes import UNREADABLE_FILE
        from syncverify.problems import Problems
        from syncverify.span import Span

        problems = Problems(display)
        problems.add(
            UNREADABLE_FILE,
            Span(1, 1),
            "cannot read standard input: it is closed",
            help="pipe the plan in (`syncverify check - < plan.yaml`) or name the file",
        )
        raise problems.error()
    return stream


def check(
    paths: Iterable[str],
    *,
    format: str = "auto",
    fail_on: str | None = None,
    exit_zero: bool = False,
    color: str = "auto",
    quiet: bool = False,
    stdin_filename: str | None = None,
    select: str | None = None,
    ignore: str | None = None,
    extend_select: str | None = None,
    per_file_ignores: Iterable[str] = (),
    config: str | None = None,
    isolated: bool = False,
    baseline: str | None = None,
    write_baseline: str | None = None,
    output: str | None = None,
    statistics: bool = False,
    loader: Callable | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
    exhaustive: bool = False,
    jobs: int = 1,
    fix: bool = False,
    write: bool = False,
) -> int:
    """`syncverify check`: check every plan, render the report, return the exit code.

    Each plan's configuration file (syncverify.config) is the first layer of options, the
    command line the second; `baseline`/`write_baseline` name a baseline file
    (syncverify.baseline); `output` writes the report to a file instead of `out`.
    """
    from syncverify.report import Report, exit_code, problems_on_stderr, resolve_format

    out, err = out or sys.stdout, err or sys.stderr
    output = None if output == STDIN else output  # `-o -`: standard output
    try:
        files = plan_files(paths)
        configurations = []
        policies = plan_policies(
            files,
            stdin_filename,
            config=config,
            isolated=isolated,
            select=select,
            ignore=ignore,
            extend_select=extend_select,
            fail_on=fail_on,
            per_file_ignores=per_file_ignores,
            read=configurations,
        )
        outputs = [("--output", output), ("--write-baseline", write_baseline)]
        refuse_writing_over(
            outputs,
            files_read(files, configurations, baseline) if any(path for _, path in outputs) else [],
        )
        format = resolve_format(format, to_file=output is not None)
        check_invocation(format, output, statistics, baseline, write_baseline)
        recorded = read_baseline(baseline)
        baseline_to_update(write_baseline)
    except UsageProblem as exc:
        from syncverify.escape import clean_line

        err.write(f"syncverify: error: {clean_line(str(exc))}\n")  # may quote a config's keys
        return 2
    if stdin_filename is not None and STDIN not in files:
        err.write(
            "syncverify: warning: --stdin-filename names the plan read from standard "
            "input ('-'), and no '-' was given: ignored\n"
        )
    if write and STDIN in files:
        err.write("syncverify: error: --write cannot change standard input; name the plan file\n")
        return 2
    options = {
        "jobs": jobs,
        "stdin_filename": stdin_filename,
        "loader": loader,
        "stdin": stdin,
        "exhaustive": exhaustive,
    }
    report = Report()
    with progress.bar(err, len(files), enabled=False if quiet else None):
        check_files(report, files, policies, **options)
    policy_of = {display_name(f, stdin_filename): p for f, p in zip(files, policies)}
    recheck = rechecker(policy_of, stdin_filename, exhaustive)
    if write:
        from syncverify import fixes

        if fixes.write(report, recheck, err):  # then report on the plans as they are now
            report = Report()
            check_files(report, files, policies, **options)
    try:
        use_baseline(
            report,
            recorded,
            baseline,
            write_baseline,
            {name: p.reported for name, p in policy_of.items()},
            err,
        )
    except OSError as exc:
        err.write(f"syncverify: error: cannot write '{write_baseline}': {exc.strerror}\n")
        return 2
    report.exit_code = exit_code(
        report, {name: p.fail_on for name, p in policy_of.items()}, exit_zero
    )
    if fix and not write:
        from syncverify import fixes

        fixes.show(report, recheck, out, err)
        return report.exit_code
    if not emit_report(
        report,
        format,
        output=output,
        statistics=statistics,
        out=out,
        err=err,
        color=color,
        quiet=quiet,
    ):
        return 2
    if problems_on_stderr(format) or output:
        _problems_to(err, report.problems)
    return report.exit_code


def check_files(report, files: list[str], policies: list, *, jobs: int = 1, **options) -> None:
    """Check each plan with its policy into `report`, in `files` order whatever `jobs` is:
    with jobs > 1 the plans are checked on that many processes (syncverify.jobs)."""
    if jobs != 1 and len(files) > 1 and STDIN not in files and options.get("loader") is None:
        from syncverify.jobs import jobs_wanted, map_in_processes

        parts = map_in_processes(
            check_part, files, policies, jobs=jobs_wanted(jobs), lost=lost_part, **options
        )
    else:
        parts = (check_part(file, policy, **options) for file, policy in zip(files, policies))
    for part in parts:
        progress.advance()
        report.files += part.files
        report.findings += part.findings
        report.problems += part.problems
        report.sources.update(part.sources)


def lost_part(file: str, exc: BaseException):
    """The Report of a plan whose worker process died: an internal error at the plan."""
    from syncverify.report import Report

    return Report(files=[file], problems=[internal_error(file, exc)])


def rechecker(policy_of: dict, stdin_filename: str | None, exhaustive: bool) -> Callable:
    """recheck(name, text) -> the findings of an edited plan, with that plan's policy
    (`policy_of`: display name -> Policy)."""
    import io

    def recheck(name: str, text: str) -> list[Finding]:
        part = check_part(
            STDIN,
            policy_of[name],
            stdin_filename=name,
            stdin=io.StringIO(text),
            exhaustive=exhaustive,
        )
        return part.findings + part.problems

    return recheck


def check_part(file: str, policy, **options):
    """One plan's Report: its findings with the policy's selection and severities."""
    from syncverify.report import Report

    part = Report()
    check_one(part, file, selection=policy.selection, **options)
    part.findings = with_severities(part.findings, policy.severity)
    return part


def display_name(file: str, stdin_filename: str | None) -> str:
    """The name a plan is reported under (its path, or the stdin name)."""
    return (stdin_filename or "<stdin>") if file == STDIN else file


def plan_policies(
    files: list[str],
    stdin_filename: str | None,
    *,
    config,
    isolated,
    select,
    ignore,
    extend_select,
    fail_on,
    per_file_ignores=(),
    read=None,
) -> list:
    """Each plan's Policy: its nearest configuration file, then the command-line options.
    The configuration files read are added to the list `read` when one is given."""
    from syncverify.config import Configurations, Settings, names_list

    def names(value: str | None, option: str):
        return names_list(value, option) if value else ()

    cli = Settings(
        select=names_list(select, "--select") if select else None,
        extend_select=names(extend_select, "--extend-select"),
        ignore=names(ignore, "--ignore"),
        fail_on=fail_on,
        per_file_ignores=tuple(per_file_option(value) for value in per_file_ignores),
    )
    configurations = Configurations(cli, config=config, isolated=isolated)
    policies = [
        configurations.policy_for(stdin_filename if file == STDIN else file) for file in files
    ]
    if read is not None:
        read.extend(configurations.files_read)
    return policies


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


def with_severities(findings: list[Finding], severity) -> list[Finding]:
    """Findings with the configured severity overrides (code -> severity) applied."""
    from dataclasses import replace

    if not severity:
        return findings
    return [replace(f, severity=severity[f.code]) if f.code in severity else f for f in findings]


def files_read(plans: list[str], configurations: list, baseline: str | None) -> list:
    """(path, what it is) of every file a check run reads: the plans, their `hf_config`, the
    configuration files, the baseline."""
    from syncverify.loader import referenced_hf_config

    read = [(plan, "a plan being read") for plan in plans if plan != STDIN]
    read += [
        (hf, "the hf_config of a plan being read")
        for hf in filter(None, (referenced_hf_config(plan) for plan in plans if plan != STDIN))
    ]
    read += [(str(path), "the configuration file being read") for path in configurations]
    return read + ([(baseline, "the baseline being read")] if baseline else [])


def refuse_writing_over(outputs: list, inputs: list) -> None:
    """UsageProblem when an output path (option, path) cannot take what is written: it is a
    file the run reads (`inputs`: (path, what it is); only `--fix --write` edits plans, only
    `--write-baseline` a baseline), another output, or not a regular file nor a new path.
    `-` is standard output. Paths are compared as files (links and `..` resolved)."""
    from syncverify.atomic import replaced_file
    from syncverify.escape import shown

    named = [(option, path) for option, path in outputs if path and path != STDIN]
    for at, (option, path) in enumerate(named):
        try:  # what the atomic writer would refuse: a FIFO, a device, a folder, read-only
            replaced_file(Path(os.path.realpath(path)))
        except OSError as exc:  # or a symlink loop, a path through a file
            raise UsageProblem(
                f"{option}: cannot write '{shown(path)}': {exc.strerror}; name a "
                f"regular file or a new path"
            ) from None
        for read, what in inputs:
            if is_same_file(path, read) and not (
                option == "--write-baseline" and what == "the baseline being read"
            ):
                raise UsageProblem(f"{option}: '{shown(path)}' is {what}; name another file")
        for other, other_path in named[:at]:
            if path == other_path or is_same_file(path, other_path):
                raise UsageProblem(
                    f"{option}: '{shown(path)}' is also the {other} file; name two different files"
                )


def is_same_file(a: str, b: str) -> bool:
    try:
        return b != STDIN and os.path.samefile(a, b)
    except OSError:
        return False  # one of them does not exist: not the same file


def check_invocation(
    format: str,
    output: str | None,
    statistics: bool,
    baseline: str | None,
    write_baseline: str | None,
) -> None:
    """Option combinations and output paths that cannot work, before anything is checked."""
    if statistics and format == "sarif":
        raise UsageProblem("--statistics prints a table (or JSON with --format json), not SARIF")
    if baseline and write_baseline:
        raise UsageProblem(
            "--baseline and --write-baseline exclude each other: "
            "--write-baseline FILE also applies the baseline it writes"
        )
    for option, path in (("--output", output), ("--write-baseline", write_baseline)):
        if path:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise UsageProblem(f"{option}: cannot write '{path}': no such directory")


def baseline_to_update(path: str | None) -> None:
    """UsageProblem when `--write-baseline` names an existing file that is not a baseline: it
    would be replaced (read before anything is checked, so the run stops at once)."""
    from syncverify import baseline

    if path and os.path.isfile(path):
        try:
            baseline.read(path)
        except UsageProblem as exc:
            raise UsageProblem(
                f"--write-baseline: {str(exc).removeprefix('--baseline: ')}; "
                f"name a baseline to update or a new file"
            ) from None


def read_baseline(path: str | None):
    from syncverify import baseline

    return baseline.read(path) if path else None


def use_baseline(
    report,
    recorded,
    baseline_path: str | None,
    write_path: str | None,
    reported: dict,
    err: TextIO,
) -> None:
    """Write the baseline (--write-baseline) and hide what it records (both options).
    `reported`: display name -> the codes its policy reports (None: every code)."""
    from syncverify import baseline
    from syncverify.escape import clean_line

    path = write_path or baseline_path
    if path is None:
        return
    folder = Path(os.path.abspath(path)).parent
    unusable = set(report.unusable_files())
    checked = {
        baseline.plan_key(f, folder): reported.get(f) for f in report.files if f not in unusable
    }
    now = baseline.current_counts(report.findings, folder)
    if write_path:
        previous = baseline.read(write_path) if os.path.isfile(write_path) else None
        stale = baseline.stale_entries(previous or {}, now, checked)
        recorded = baseline.merged(previous, now, checked)
        from syncverify.atomic import write_text_atomically

        write_text_atomically(write_path, baseline.render(recorded))
        pruned = (
            f", {len(stale)} stale {'entry' if len(stale) == 1 else 'entries'} pruned"
            if stale
            else ""
        )
        written = sum(n for codes in now.values() for n in codes.values())
        err.write(
            f"syncverify: wrote {write_path}: {counted(written, 'finding')} "
            f"in {counted(len(now), 'plan')}{pruned}\n"
        )
    else:
        for entry in baseline.stale_entries(recorded, now, checked):
            err.write(
                f"syncverify: {baseline_path}: {clean_line(entry.plan)} records {entry.recorded} "
                f"{entry.code}, {entry.found} found now: run --write-baseline "
                f"{baseline_path} to prune\n"
            )
    report.findings, report.baselined = baseline.apply(report.findings, recorded, folder)


def counted(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def emit_report(
    report,
    format: str,
    *,
    output: str | None,
    statistics: bool,
    out: TextIO,
    err: TextIO,
    color: str,
    quiet: bool,
) -> bool:
    """Render the report (or its statistics) to `out`, or atomically to the file `output`.
    False when the file cannot be written (the caller exits 2)."""
    import io

    from syncverify.report import render

    target = io.StringIO() if output else out
    if output and color == "auto":
        color = "never"  # a file is not a terminal, whatever FORCE_COLOR says
    if statistics:
        from syncverify.report import statistics as stats

        stats.render(report, target, as_json=format == "json")
    else:
        render(report, format, target, color=color, quiet=quiet)
    if output:
        from syncverify.atomic import write_text_atomically

        try:
            write_text_atomically(output, target.getvalue())
        except OSError as exc:
            err.write(f"syncverify: error: cannot write '{output}': {exc.strerror}\n")
            return False
    return True


# ---------------------------------------------------------------------------------- rules


def rules(*, format: str = "table", color: str = "auto", out: TextIO | None = None) -> int:
    """`syncverify rules`: the rule list as a table, JSON or markdown (rules/catalog.md)."""
    from syncverify.report import catalog
    from syncverify.rules import ALL_RULES

    out = out or sys.stdout
    if format == "json":
        out.write(catalog.rules_json(ALL_RULES))
    elif format == "markdown":
        out.write(catalog.rules_markdown(ALL_RULES))
    else:
        catalog.rules_table(ALL_RULES, out, color=color)
    return 0


def suggestions(name: str, known: Iterable[str]) -> list[str]:
    """Close matches for a mistyped rule code or slug (codes compared case-insensitively)."""
    known = list(known)
    upper = {k.upper(): k for k in known}
    close = difflib.get_close_matches(name.upper(), list(upper), n=3, cutoff=0.6)
    return [upper[c] for c in close]


def explain(
    name: str, *, color: str = "auto", out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`syncverify explain CODE_OR_SLUG`: the rule's page; exit 2 for an unknown rule."""
    from syncverify.report import catalog
    from syncverify.rules import ALL_RULES, find_rule

    out, err = out or sys.stdout, err or sys.stderr
    rule = find_rule(name)
    if rule is None:
        close = suggestions(name, [r.code for r in ALL_RULES] + [r.slug for r in ALL_RULES])
        hint = (
            f"; did you mean {' or '.join(close)}?" if close else "; `syncverify rules` lists them"
        )
        err.write(f"syncverify: error: unknown rule '{name}'{hint}\n")
        return 2
    catalog.explain(rule, out, color=color)
    return 0


# ---------------------------------------------------------------------------------- simulate

# Every decode step after the third sees what step 2 sees (the checker unrolls three); more than
# a few dozen test nothing new and only cost time (cost grows with steps x ranks x layers).
MAX_SIMULATED_STEPS = 64


def simulate(
    path: str,
    *,
    steps: int = 3,
    format: str = "text",
    loader: Callable | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """`syncverify simulate PLAN`: run the plan on simulated devices (syncverify.simulate) and
    compare with one device: 0 matches, 1 a divergence or a hang, 2 an unusable plan."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        import numpy  # noqa: F401 (the `simulate` extra)
    except ImportError:
        err.write("syncverify: error: simulate needs numpy: pip install 'syncverify[simulate]'\n")
        return 2
    from syncverify.budget import check_size
    from syncverify.runnable import refusals
    from syncverify.simulate import simulate as run
    from syncverify.simulate.render import render_json, render_text
    from syncverify.yamlnodes import MAX_BYTES

    if not 1 <= steps <= MAX_SIMULATED_STEPS:
        err.write(f"syncverify: error: --steps: expected 1 to {MAX_SIMULATED_STEPS}, got {steps}\n")
        return 2
    display = "<stdin>" if path == STDIN else path
    progress.stage(f"loading {display}")
    try:
        load = loader or default_loader()
        plan = (
            load(
                STDIN, text=standard_input(stdin, display).read(MAX_BYTES + 1), display_path=display
            )
            if path == STDIN
            else load(path)
        )
        check_size(plan, exhaustive=True)  # SV014: the executor runs every rank, layer, microbatch
        too_long = _steps_too_long(plan, steps)
        if too_long:
            err.write(f"syncverify: error: --steps {steps}: {too_long}\n")
            return 2
        refused = refusals(plan)
        if refused:
            err.write(
                f"syncverify: error: {display}: the executor needs a well-formed layout; "
                f"fix these first (`syncverify check` shows them):\n"
            )
            _problems_to(err, refused)
            return 2
        sim = run(plan, steps)
    except PlanError as exc:
        _problems_to(err, exc.problems)
        return 2
    except Exception as exc:  # the boundary: a bug in the executor must not become a traceback
        if should_raise():
            raise
        _problems_to(err, [internal_error(display, exc, "simulating")])
        return 2
    (render_json if format == "json" else render_text)(display, steps, sim, out)
    return 0 if sim.outcome.matches else 1


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


def _problems_to(err: TextIO, problems) -> None:
    """One `syncverify: error: file:line:column: message [CODE]` line per problem."""
    from syncverify.escape import clean_line

    for problem in problems:
        err.write(
            f"syncverify: error: {clean_line(problem.file)}:{problem.line}:{problem.column}: "
            f"{clean_line(problem.message)} [{problem.code}]\n"
        )
