"""Renderers: one module per output format, all over the same `Report`.

A format module exposes `render(report, stream, *, color, quiet)` and writes the whole report to
`stream`, and `PROBLEMS_ON_STDERR`: True for formats that are read by programs rather than
people (json), whose unusable-plan problems are then also written to stderr as
`file:line:column: message` lines, so that a person still sees why the exit code is 2. Adding a
format is one module plus one entry in `FORMATS`; the CLI's `--format` choices are read from it
(with `auto`, which stands for `github` inside GitHub Actions and `text` elsewhere). Nothing here
decides what a finding is: that is `syncverify.findings`; nothing in the finding model formats
for a terminal.
"""

from __future__ import annotations

import importlib
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TextIO

from syncverify.escape import MAX_MESSAGE
from syncverify.findings import SEVERITIES, Finding

# format name -> module that renders it (imported only when that format is asked for)
FORMATS = {
    "text": "syncverify.report.text",
    "concise": "syncverify.report.concise",
    "json": "syncverify.report.json",
    "sarif": "syncverify.report.sarif",
    "github": "syncverify.report.github",
}
AUTO = "auto"  # github inside GitHub Actions, text elsewhere (resolve_format)
DEFAULT_FORMAT = AUTO
COLOR_MODES = ("auto", "always", "never")


@dataclass
class Report:
    """The outcome of one `check` run: what was checked and everything it found.

    `findings` come from the rules; `problems` are the findings that made a plan unusable
    (load errors, SV0xx, and internal errors, SV900) and always mean exit code 2.
    """

    files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    # file -> text, for code frames (None: the file could not be read)
    sources: dict[str, str | None] = field(default_factory=dict)
    exit_code: int = 0
    baselined: int = 0  # findings hidden by --baseline (not in `findings`)

    def all_findings(self) -> list[Finding]:
        """Findings and problems together, in the deterministic output order."""
        return sorted(self.findings + self.problems, key=Finding.sort_key)

    def unusable_files(self) -> list[str]:
        return sorted({p.file for p in self.problems})

    def source(self, file: str) -> str | None:
        """The text of `file`, from the plan if it loaded, else read again (None if unreadable)."""
        if file not in self.sources:
            try:
                with open(file, encoding="utf-8", errors="replace") as handle:
                    self.sources[file] = handle.read()
            except OSError:
                self.sources[file] = None
        return self.sources[file]


def summary(report: Report) -> dict:
    """The counts every format ends with (the JSON `summary` object)."""
    found = report.all_findings()
    severities = Counter(f.severity for f in found)
    return {
        "files": len(report.files),
        "findings": len(found),
        "errors": severities["error"],
        "warnings": severities["warning"],
        "notes": severities["note"],
        "by_code": dict(sorted(Counter(f.code for f in found).items())),
        "by_category": dict(sorted(Counter(f.category for f in found).items())),
        "exit_code": report.exit_code,
    }


def exit_code(
    report: Report, fail_on: str | Mapping[str, str] = "error", exit_zero: bool = False
) -> int:
    """0: nothing at or above `fail_on`; 1: something is; 2: a plan was unusable.

    `fail_on` is a severity, or a severity per file (each plan's configuration may set its
    own; files missing from the mapping use "error"). `exit_zero` turns 1 into 0 but never
    hides an unusable plan.
    """
    if report.problems:
        return 2

    def threshold(file: str) -> int:  # SEVERITIES runs error, warning, note
        level = fail_on if isinstance(fail_on, str) else fail_on.get(file, "error")
        return SEVERITIES.index(level)

    failing = any(SEVERITIES.index(f.severity) <= threshold(f.file) for f in report.findings)
    return 1 if failing and not exit_zero else 0


def resolve_format(
    format: str, environ: Mapping[str, str] | None = None, to_file: bool = False
) -> str:
    """The format `auto` stands for: `github` when writing to the log of a GitHub Actions step
    (GITHUB_ACTIONS and GITHUB_WORKFLOW set, as yamllint checks), `text` otherwise."""
    if format != AUTO:
        return format
    environ = os.environ if environ is None else environ
    in_actions = bool(environ.get("GITHUB_ACTIONS")) and bool(environ.get("GITHUB_WORKFLOW"))
    return "github" if in_actions and not to_file else "text"


def relative_path(file: str, root: str | None = None) -> str:
    """`file` relative to `root` (default: the current directory) with `/` separators when it
    lies below it, else as given: how CI systems expect a repository file to be named."""
    if file.startswith("<"):  # <stdin>
        return file
    root = os.path.abspath(root or os.getcwd())
    absolute = os.path.abspath(file)
    if absolute == root or not absolute.startswith(root.rstrip(os.sep) + os.sep):
        return file.replace(os.sep, "/")
    return os.path.relpath(absolute, root).replace(os.sep, "/")


def render(
    report: Report, format: str, stream: TextIO, *, color: str = "auto", quiet: bool = False
) -> None:
    """Write `report` to `stream` in `format` (a key of FORMATS)."""
    format = resolve_format(format)
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    module = importlib.import_module(FORMATS[format])
    module.render(
        printable(report, escape=format not in SELF_ESCAPING), stream, color=color, quiet=quiet
    )


# Formats written with json.dumps escape every control character themselves (\u001b); their
# strings are only shortened, so that a program reads the names as they are.
SELF_ESCAPING = ("json", "sarif")


def printable(report: Report, *, escape: bool = True) -> Report:
    """A copy of `report` whose user data (messages, help, file names, sync ids, traces) can be
    printed: long values shortened, and with `escape` control characters and line separators
    escaped (syncverify.escape). Code frames are escaped where they are drawn."""
    from dataclasses import replace

    from syncverify.escape import clean_line, escaped, shortened

    line = clean_line if escape else (lambda text: shortened(text, MAX_MESSAGE))

    def cleaned(finding: Finding) -> Finding:
        help = "\n".join(line(part) for part in finding.help.split("\n"))
        where = finding.where
        if escape and where.sync:
            where = replace(where, sync=escaped(where.sync))
        return replace(
            finding,
            message=line(finding.message),
            file=line(finding.file),
            help=help,
            where=where,
            trace=tuple(line(node) for node in finding.trace),
        )

    copy = replace(
        report,
        files=[line(f) for f in report.files],
        findings=[cleaned(f) for f in report.findings],
        problems=[cleaned(f) for f in report.problems],
        sources={line(name): text for name, text in report.sources.items()},
    )
    for name in report.files:  # frames of plans not loaded are read from the disk
        if line(name) != name and line(name) not in copy.sources:
            copy.sources[line(name)] = report.source(name)
    return copy


def problems_on_stderr(format: str) -> bool:
    format = resolve_format(format)
    return importlib.import_module(FORMATS[format]).PROBLEMS_ON_STDERR


def make_console(stream: TextIO, color: str = "auto"):
    """A rich Console on `stream` for human output.

    `auto` leaves the choice to rich (a terminal, FORCE_COLOR, NO_COLOR, TTY_COMPATIBLE);
    `never` writes no escape sequence at all; `always` forces terminal styling.
    """
    from rich.console import Console

    # rich's defaults unless a mode is forced
    force_terminal: bool | None = None
    color_system: Literal["auto"] | None = "auto"
    no_color: bool | None = None
    if color == "always":
        force_terminal = True
    elif color == "never":
        force_terminal, color_system, no_color = False, None, True
    console = Console(
        file=stream,
        highlight=False,
        soft_wrap=True,
        markup=False,
        emoji=False,
        force_terminal=force_terminal,
        color_system=color_system,
        no_color=no_color,
    )
    if console.width < MIN_WIDTH:
        console.width = FALLBACK_WIDTH  # COLUMNS=0 (or 3) made rich print nothing at all
    return console


MIN_WIDTH, FALLBACK_WIDTH = 10, 80


__all__ = [
    "AUTO",
    "COLOR_MODES",
    "DEFAULT_FORMAT",
    "FORMATS",
    "Report",
    "exit_code",
    "make_console",
    "problems_on_stderr",
    "relative_path",
    "render",
    "resolve_format",
    "summary",
]
