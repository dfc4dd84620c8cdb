"""`concise`: one finding per line, `path:line:col: severity CODE message` (flake8-style).

Meant for editors, grep and problem matchers: no colour, no summary, nothing else on stdout.
"""

from __future__ import annotations

from typing import TextIO

from syncverify.findings import Finding

PROBLEMS_ON_STDERR = False  # the lines already name file:line:column


def line_of(finding: Finding) -> str:
    return (
        f"{finding.file}:{finding.line}:{finding.column}: "
        f"{finding.severity} {finding.code} {finding.message}"
    )


def render(report, stream: TextIO, *, color: str = "auto", quiet: bool = False) -> None:
    for finding in report.all_findings():
        stream.write(line_of(finding) + "\n")
