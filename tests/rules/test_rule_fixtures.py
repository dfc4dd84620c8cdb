"""Every rule's fixtures, from the user's side: tests/rules/<CODE>/bad*.yaml must give a finding
of <CODE> on exactly the lines marked `# [<CODE>]` (a marker may list several codes, and marked
codes other than <CODE> are checked the same way), its output with only <CODE> enabled must be
its golden bad*.out byte for byte (tests/goldens.py says how to rewrite them), and good.yaml must
give none of <CODE>.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncverify.engine import check_plan
from syncverify.loader import load_plan
from tests.goldens import compare_with_golden, golden_of, markers

HERE = Path(__file__).parent


def fixture_dirs() -> list[Path]:
    return sorted(p for p in HERE.iterdir() if p.is_dir() and re.fullmatch(r"SV\d{3}", p.name))


def bad_plans() -> list[Path]:
    return [plan for d in fixture_dirs() for plan in sorted(d.glob("bad*.yaml"))]


def findings(path: Path) -> set[tuple[int, str]]:
    return {(f.line, f.code) for f in check_plan(load_plan(str(path)))}


@pytest.mark.parametrize("plan", bad_plans(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bad_plan_gives_exactly_the_marked_findings(plan: Path):
    code = plan.parent.name
    expected = markers(plan)
    assert any(c == code for _, c in expected), f"{plan} marks no line with [{code}]"
    judged = {c for _, c in expected}
    got = {(line, c) for line, c in findings(plan) if c in judged}
    assert got == expected


@pytest.mark.parametrize("plan", bad_plans(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bad_plan_output_is_its_golden(plan: Path):
    compare_with_golden(plan, plan.parent.name)


def test_every_golden_has_its_fixture():
    goldens = {p for d in fixture_dirs() for p in d.glob("*.out")}
    assert goldens == {golden_of(plan) for plan in bad_plans()}


@pytest.mark.parametrize("directory", fixture_dirs(), ids=lambda p: p.name)
def test_good_plan_gives_no_finding_of_its_code(directory: Path):
    good = directory / "good.yaml"
    got = {(line, c) for line, c in findings(good) if c == directory.name}
    assert got == set()


def test_marker_syntax_reads_several_codes(tmp_path: Path):
    plan = tmp_path / "p.yaml"
    plan.write_text("a: 1\nparallel: {tp: 6}   # 6 ranks [SV201, SV202]\n")
    assert markers(plan) == {(2, "SV201"), (2, "SV202")}
