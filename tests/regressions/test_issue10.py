"""Issue 10's checker-side regressions, from the user's side: each plan in issue10/ must give
exactly the findings its lines mark `# [SVxxx, ...]` (a plan with no marker must give none),
and the default (reduced) check must give the same findings as `--exhaustive`: codes, places,
messages and help.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.properties import findings_of_file
from tests.rules.test_rule_fixtures import markers

PLANS = sorted((Path(__file__).parent / "issue10").glob("*.yaml"))


def findings(path: Path, exhaustive: bool) -> list[tuple]:
    # once per session: tests/test_properties_broken_reduction.py holds the same plans to
    # --exhaustive
    return [
        (f.line, f.column, f.code, f.message, f.help)
        for f in findings_of_file(str(path), exhaustive=exhaustive)
    ]


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.stem)
def test_plan_gives_exactly_the_marked_findings_in_both_modes(plan: Path):
    reduced = findings(plan, exhaustive=False)
    assert {(line, code) for line, _, code, _, _ in reduced} == markers(plan)
    assert findings(plan, exhaustive=True) == reduced
