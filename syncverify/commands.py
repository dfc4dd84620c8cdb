"""The CLI's library: each subcommand is a plain function that writes its output and returns
the exit code (0, 1 or 2). `syncverify.cli` only parses arguments and calls these; tests may
call them directly.

Heavy imports (the loader, the rules, rich) happen inside the functions that need them.
"""
from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Optional, TextIO

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

    Raises UsageProblem for a path that does not exist or a folder without plans.
    """
    files: list[str] = []
    for given in paths:
        if given == STDIN:
            files.append(STDIN)
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*")
                           if p.suffix in PLAN_SUFFIXES and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                raise UsageProblem(f"no plan files (*.yaml, *.yml) under '{given}'")
            files.extend(found)
        elif path.exists():
            files.append(given)
        else:
            raise UsageProblem(f"'{given}': no such file or directory")
    return list(dict.fromkeys(files))       # a plan named twice is checked once


def internal_error(file: str, exc: BaseException) -> Finding:
    """A crash of syncverify itself on `file`, reported as a problem instead of a traceback."""
    from syncverify.rules.internal_error import RULE

    return Finding(code=RULE.code, slug=RULE.slug, category=RULE.category, severity="error",
                   message=f"internal error while checking this plan: "
                           f"{exc.__class__.__name__}: {exc} "
                           f"(SYNCVERIFY_RAISE=1 shows the traceback)",
                   file=file, line=1, column=1,
                   help="please report this bug with the plan attached")


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


def rule_selection(select: Optional[str], ignore: Optional[str]):
    """(rules to run, codes to report) for `--select` and `--ignore`, or None when neither is
    given. Rules that decide whether the graph can be built always run, so ignoring one never
    sends a broken plan to the graph rules; their findings are just not reported.
    """
    from syncverify.rules import ALL_RULES

    if not select and not ignore:
        return None
    reported = codes_named("--select", select, ALL_RULES) if select else \
        {r.code for r in ALL_RULES}
    reported -= codes_named("--ignore", ignore or "", ALL_RULES)
    run = tuple(r for r in ALL_RULES if r.code in reported or r.blocks_graph)
    return run, frozenset(reported)


def default_loader() -> Callable:
    from syncverify.loader import load_plan
    return load_plan


def check_one(report, file: str, *, stdin_filename: Optional[str] = None,
              loader: Optional[Callable] = None, stdin: Optional[TextIO] = None,
              selection=None, exhaustive: bool = False) -> None:
    """Load and check one plan, adding its findings (or its problems) to `report`."""
    from syncverify.engine import check_plan

    display = (stdin_filename or "<stdin>") if file == STDIN else file
    report.files.append(display)
    try:
        load = loader or default_loader()
        if file == STDIN:
            # kept for code frames: a problem's frame cannot be read back from the disk
            text = report.sources[display] = (stdin or sys.stdin).read()
            plan = load(stdin_filename or STDIN, text=text, display_path=display)
        else:
            plan = load(file)
        report.sources[display] = plan.text
        found = check_plan(plan, rules=None if selection is None else selection[0],
                           exhaustive=exhaustive)
        for finding in found:
            # a crashed rule (SV900) left the plan partly unchecked: exit 2 like any crash
            crashed = finding.code == INTERNAL_ERROR_CODE
            if selection is not None and not crashed and finding.code not in selection[1]:
                continue
            (report.problems if crashed else report.findings).append(finding)
    except PlanError as exc:
        report.problems.extend(exc.problems)
    except Exception as exc:     # the boundary: a bug in syncverify must not become a traceback
        if should_raise():
            raise
        report.problems.append(internal_error(display, exc))


def check(paths: Iterable[str], *, format: str = "text", fail_on: str = "error",
          exit_zero: bool = False, color: str = "auto", quiet: bool = False,
          stdin_filename: Optional[str] = None, select: Optional[str] = None,
          ignore: Optional[str] = None, loader: Optional[Callable] = None,
          out: Optional[TextIO] = None, err: Optional[TextIO] = None,
          stdin: Optional[TextIO] = None, exhaustive: bool = False) -> int:
    """`syncverify check`: check every plan, render the report, return the exit code."""
    from syncverify.report import Report, exit_code, problems_on_stderr, render

    out, err = out or sys.stdout, err or sys.stderr
    try:
        files = plan_files(paths)
        selection = rule_selection(select, ignore)
    except UsageProblem as exc:
        err.write(f"syncverify: error: {exc}\n")
        return 2
    report = Report()
    for file in files:
        check_one(report, file, stdin_filename=stdin_filename, loader=loader, stdin=stdin,
                  selection=selection, exhaustive=exhaustive)
    report.exit_code = exit_code(report, fail_on, exit_zero)
    render(report, format, out, color=color, quiet=quiet)
    if problems_on_stderr(format):
        for problem in report.problems:
            err.write(f"syncverify: error: {problem.file}:{problem.line}:{problem.column}: "
                      f"{problem.message} [{problem.code}]\n")
    return report.exit_code


# ---------------------------------------------------------------------------------- rules

def rules(*, format: str = "table", color: str = "auto", out: Optional[TextIO] = None) -> int:
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


def explain(name: str, *, color: str = "auto", out: Optional[TextIO] = None,
            err: Optional[TextIO] = None) -> int:
    """`syncverify explain CODE_OR_SLUG`: the rule's page; exit 2 for an unknown rule."""
    from syncverify.report import catalog
    from syncverify.rules import ALL_RULES, find_rule

    out, err = out or sys.stdout, err or sys.stderr
    rule = find_rule(name)
    if rule is None:
        close = suggestions(name, [r.code for r in ALL_RULES] + [r.slug for r in ALL_RULES])
        hint = f"; did you mean {' or '.join(close)}?" if close else \
            "; `syncverify rules` lists them"
        err.write(f"syncverify: error: unknown rule '{name}'{hint}\n")
        return 2
    catalog.explain(rule, out, color=color)
    return 0
