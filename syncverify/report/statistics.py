"""`--statistics`: how many findings each rule reported, instead of the findings (as ruff's).

    12  SV301  unreduced-partial-sum
     3  SV702  pipeline-bubble

Most frequent first, then by code. `--format json` gives the same as a JSON array of
{"code", "slug", "category", "count"}; a clean run prints nothing (json: `[]`).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TextIO

from syncverify.report import Report


def rows(report: Report) -> list[dict]:
    found = report.all_findings()
    counts = Counter(f.code for f in found)
    about = {f.code: f for f in found}
    return [
        {"code": code, "slug": about[code].slug, "category": about[code].category, "count": count}
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def render(report: Report, stream: TextIO, *, as_json: bool = False) -> None:
    table = rows(report)
    if as_json:
        stream.write(json.dumps(table, indent=2, sort_keys=True) + "\n")
        return
    width = max((len(str(row["count"])) for row in table), default=1)
    for row in table:
        stream.write(f"{row['count']:>{width}}  {row['code']}  {row['slug']}\n")
