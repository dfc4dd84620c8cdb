"""`github`: GitHub Actions workflow commands, shown as annotations on the plan's lines.

    ::group::plans/llama.yaml
    ::error file=plans/llama.yaml,line=6,endLine=6,col=18,endColumn=18,
      title=SV201 heads-not-divisible-by-tp::
      plans/llama.yaml:6:18: SV201 64 heads do not split over tp = 6%0Ahelp: ...
    ::endgroup::
    1 error in 1 file (1 SV201)

(the `::error` command is one line, wrapped here at its `,title=` and `::`.)

GitHub turns at most 10 errors, 10 warnings and 10 notices of a step into annotations and drops
the rest silently. So the first 10 errors, 10 warnings and 9 notes are annotations; the others
are printed as plain `path:line:col: severity CODE message` lines in the same group, and a
last notice (the tenth) says how many were not annotated. Data is escaped as the Actions
toolkit does (`%`, CR, LF), property values also escape `:` and `,`.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import TextIO

from syncverify.findings import Finding
from syncverify.report import Report, relative_path
from syncverify.report.concise import line_of

PROBLEMS_ON_STDERR = False  # annotated like the findings
COMMAND = {"error": "error", "warning": "warning", "note": "notice"}
ANNOTATIONS_PER_STEP = {"error": 10, "warning": 10, "notice": 9}  # one notice left for ours


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, stream: TextIO, *, color: str = "auto", quiet: bool = False) -> None:
    from syncverify.report.text import summary_line

    annotated: Counter = Counter()
    plain = 0
    for file, findings in groupby(report.all_findings(), key=lambda f: f.file):
        stream.write(f"::group::{escape_data(relative_path(file))}\n")
        for finding in findings:
            command = COMMAND[finding.severity]
            if annotated[command] < ANNOTATIONS_PER_STEP[command]:
                annotated[command] += 1
                stream.write(annotation(finding) + "\n")
            else:
                plain += 1
                stream.write(line_of(finding) + "\n")
        stream.write("::endgroup::\n")
    if plain:
        stream.write(
            f"::notice title=syncverify::{plain} more "
            f"{'finding was' if plain == 1 else 'findings were'} not annotated: "
            "GitHub shows 10 annotations per severity and step. They are listed in "
            "the log above; a SARIF report (docs/ci.md) holds all of them\n"
        )
    stream.write(summary_line(report) + "\n")


def annotation(finding: Finding) -> str:
    """One `::error file=...,line=...::message` command for a finding."""
    file = relative_path(finding.file)
    end_line = max(finding.end_line or finding.line, finding.line)
    # GitHub's endColumn is the last column of the span; ours is one past it
    end_column = (
        max((finding.end_column or finding.column) - 1, finding.column)
        if end_line == finding.line
        else max(finding.end_column - 1, 1)
    )
    properties = {
        "file": file,
        "line": finding.line,
        "endLine": end_line,
        "col": finding.column,
        "endColumn": end_column,
        "title": f"{finding.code} {finding.slug}",
    }
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    text = f"{file}:{finding.line}:{finding.column}: {finding.code} {finding.message}"
    if finding.help:
        text += "\nhelp: " + finding.help.rstrip("\n")
    return f"::{COMMAND[finding.severity]} {props}::{escape_data(text)}"
