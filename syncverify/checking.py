"""The library entry under the command line and the Python API: check one plan, a file or
text, into a Report (`check_source`), and many plans, on several processes if asked
(`check_files`). Nothing here prints or exits: the callers render the Report.

Heavy imports (the loader, the rules) happen inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TextIO

from syncverify import progress
from syncverify.crash import INTERNAL_ERROR_CODE, internal_error, should_raise
from syncverify.discovery import STDIN, display_name
from syncverify.findings import Finding, PlanError
from syncverify.report import Report
from syncverify.selection import Selection


@dataclass(frozen=True)
class PlanSource:
    """A plan to check: a file, or (when `file` is `-`) `text`, else the standard input.

    `name` is the name a plan that is not a file is loaded and reported under."""

    file: str
    name: str | None = None
    text: str | None = None
    stdin: TextIO | None = field(default=None, compare=False)

    @classmethod
    def of_text(cls, text: str, name: str) -> PlanSource:
        return cls(STDIN, name=name, text=text)

    @property
    def display(self) -> str:
        return display_name(self.file, self.name)

    def read_text(self) -> str | None:
        """The text of a plan that is not a file (None for a file: the loader reads it)."""
        from syncverify.yamlnodes import MAX_BYTES  # stdin is read no further than the loader

        if self.file != STDIN:
            return None
        if self.text is not None:
            return self.text[: MAX_BYTES + 1]  # as much as a stream gives: the loader refuses it
        return standard_input(self.stdin, self.display).read(MAX_BYTES + 1)


@dataclass(frozen=True)
class CheckOptions:
    """How to check a plan: which rules run and are reported (None: all), severity overrides
    (code -> severity), every layer unrolled or one per class, and the loader (tests)."""

    selection: Selection | None = None
    severity: Mapping[str, str] = field(default_factory=dict)
    exhaustive: bool = False
    loader: Callable | None = None


def default_loader() -> Callable:
    from syncverify.loader import load_plan

    return load_plan


def check_source(source: PlanSource, options: CheckOptions = CheckOptions()) -> Report:
    """One plan's Report: its findings (with the severity overrides), or why it could not be
    checked (`problems`: load problems, internal errors). Never raises for a bad plan."""
    report = Report()
    _check_into(report, source, options)
    report.findings = with_severities(report.findings, options.severity)
    return report


def _check_into(report: Report, source: PlanSource, options: CheckOptions) -> None:
    """Load and check one plan, adding its findings (or its problems) to `report`."""
    from syncverify.engine import check_plan

    display = source.display
    report.files.append(display)
    progress.stage(f"loading {display}")
    try:
        load = options.loader or default_loader()
        text = source.read_text()
        if text is None:
            plan = load(source.file)
        else:
            # kept for code frames: a problem's frame cannot be read back from the disk
            report.sources[display] = text
            plan = load(source.name or STDIN, text=text, display_path=display)
        report.sources[display] = plan.text
        progress.stage(f"checking {display}")
        selection = options.selection
        found = check_plan(
            plan, rules=None if selection is None else selection.run, exhaustive=options.exhaustive
        )
        for finding in found:
            # a crashed rule (SV900) left the plan partly unchecked: exit 2 like any crash
            crashed = finding.code == INTERNAL_ERROR_CODE
            if not crashed and not _reported(finding, selection):
                continue
            (report.problems if crashed else report.findings).append(finding)
    except PlanError as exc:
        report.problems.extend(exc.problems)
    except Exception as exc:  # the boundary: a bug in syncverify must not become a traceback
        if should_raise():
            raise
        report.problems.append(internal_error(display, exc))


def _reported(finding: Finding, selection: Selection | None) -> bool:
    from syncverify.blocking import stops_selected_graph_rules

    return (
        selection is None
        or finding.code in selection.reported
        or stops_selected_graph_rules(finding, selection.reported)
    )


def standard_input(stdin: TextIO | None, display: str) -> TextIO:
    """`stdin`, or the process's standard input; PlanError (SV001, at the plan) when it is closed
    (`syncverify check - <&-`)."""
    import sys

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


def with_severities(findings: list[Finding], severity: Mapping[str, str]) -> list[Finding]:
    """Findings with the configured severity overrides (code -> severity) applied."""
    if not severity:
        return findings
    return [replace(f, severity=severity[f.code]) if f.code in severity else f for f in findings]


def check_files(report: Report, sources: list[PlanSource], options: list[CheckOptions], jobs=1):
    """Check each plan with its options into `report`, in `sources` order whatever `jobs` is:
    with jobs > 1 the plans are checked on that many processes (syncverify.jobs)."""
    on_processes = (
        jobs != 1
        and len(sources) > 1
        and all(s.file != STDIN for s in sources)
        and all(o.loader is None for o in options)
    )
    parts: Iterable[Report]
    if on_processes:
        from syncverify.jobs import jobs_wanted, map_in_processes

        parts = map_in_processes(
            check_source, sources, options, jobs=jobs_wanted(jobs), lost=lost_part
        )
    else:
        parts = (check_source(s, o) for s, o in zip(sources, options))
    for part in parts:
        progress.advance()
        report.files += part.files
        report.findings += part.findings
        report.problems += part.problems
        report.sources.update(part.sources)


def lost_part(source: PlanSource, exc: BaseException) -> Report:
    """The Report of a plan whose worker process died: an internal error at the plan."""
    return Report(files=[source.display], problems=[internal_error(source.display, exc)])


def rechecker(options_of: dict[str, CheckOptions]) -> Callable:
    """recheck(name, text) -> the findings of an edited plan, with that plan's options
    (`options_of`: display name -> CheckOptions)."""

    def recheck(name: str, text: str) -> list[Finding]:
        part = check_source(PlanSource.of_text(text, name), options_of[name])
        return part.findings + part.problems

    return recheck
