"""Fixture markers and full-output goldens, shared by tests/rules and plans/bad.

A bad fixture says its intent on the line itself, with a marker comment at the end of the line:
`parallel: {tp: 6}   # 6 ranks [SV201, SV202]` (a finding of each listed code starts on that
line). Beside it, `<fixture>.out` pins the exact text a user sees for the fixture's own rule:

    syncverify check --isolated --select CODE --format text --color never <path>

run from the repository root (so paths in it are relative), that is every finding's line,
column, message, code frame with its carets, help, where and trace, and the summary line
(models: actionlint's testdata/err/*.out, ruff's snapshots). A rule that judges other rules'
results (SV901 judges the suppressions of the rules that ran) needs them enabled too: a line
`# golden-select: SV401, SV701` in the fixture adds them to the selection. The golden must show
a finding of CODE.

`SYNCVERIFY_UPDATE_GOLDENS=1 python -m pytest tests/rules tests/test_plans.py` rewrites the
goldens from today's output; review the diff before committing it. It refuses to run under CI
(the CI variable set), so CI only ever compares.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from tests.cli_plans import check

REPO = Path(__file__).resolve().parent.parent
ALSO_SELECT = re.compile(r"^#\s*golden-select:\s*(SV\d{3}(?:\s*,\s*SV\d{3})*)\s*$", re.M)
MARKER = re.compile(r"#.*\[\s*(SV\d{3}(?:\s*,\s*SV\d{3})*)\s*\]\s*$")
UPDATE = "SYNCVERIFY_UPDATE_GOLDENS"


def markers(path: Path) -> set[tuple[int, str]]:
    """(line, code) for every `# [SVxxx, ...]` marker, 1-based lines."""
    found = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = MARKER.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group(1).split(","))
    return found


def golden_command(plan: Path, code: str) -> list[str]:
    """The `syncverify check` arguments whose output the golden of `plan` records."""
    relative = plan.resolve().relative_to(REPO).as_posix()
    also = [c.strip() for m in ALSO_SELECT.findall(plan.read_text()) for c in m.split(",")]
    selected = ",".join([code, *also])
    return ["--isolated", "--select", selected, "--format", "text", "--color", "never", relative]


def output_of(plan: Path, code: str) -> str:
    """What `syncverify check` prints for `plan` with only rule `code` enabled, run from the
    repository root; a plan that does not load, or anything on stderr, is an error here."""
    with contextlib.chdir(REPO):
        result = check(*golden_command(plan, code))
    assert result.exit_code in (0, 1), f"{plan} did not check: {result.stdout}{result.stderr}"
    assert result.stderr == "", result.stderr
    return result.stdout


def golden_of(plan: Path) -> Path:
    return plan.with_suffix(".out")


def compare_with_golden(plan: Path, code: str) -> None:
    """Assert that today's output for `plan` is its golden byte for byte (or rewrite the golden
    when SYNCVERIFY_UPDATE_GOLDENS=1)."""
    golden = golden_of(plan)
    got = output_of(plan, code)
    assert f"[{code} " in got, f"{plan} gives no {code} finding with only {code} enabled"
    if os.environ.get(UPDATE) == "1":
        assert not os.environ.get("CI"), f"{UPDATE}=1 is for developers, never for CI"
        golden.write_text(got)
        return
    assert golden.is_file(), f"no golden {golden.name}: run with {UPDATE}=1 to write it"
    assert got == golden.read_text(), f"{golden} differs from today's output ({UPDATE}=1 rewrites)"
