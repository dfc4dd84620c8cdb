"""`json`: the stable machine-readable report (contract: docs/output.md).

    {"version": 1, "tool": {"name", "version"}, "findings": [...], "summary": {...}}

Findings are `Finding.as_dict()` in output order; the problems that made a plan unusable are
findings too (their SV0xx or SV900 code, severity error). Plain `json.dumps`, never rich.
"""

from __future__ import annotations

import json
from typing import TextIO

from syncverify import __version__
from syncverify.report import Report, summary

SCHEMA_VERSION = 1
PROBLEMS_ON_STDERR = True  # stdout is for programs: say why exit 2 on stderr


def document(report: Report) -> dict:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "syncverify", "version": __version__},
        "findings": [f.as_dict() for f in report.all_findings()],
        "summary": summary(report),
    }


def render(report: Report, stream: TextIO, *, color: str = "auto", quiet: bool = False) -> None:
    stream.write(json.dumps(document(report), sort_keys=True, indent=2) + "\n")
