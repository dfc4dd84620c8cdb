"""The plans shipped in plans/ keep their promises, checked with every rule registered now (so
the test keeps working as graph rules land):

- plans/*.yaml are correct plans for real models: no error or warning finding;
- plans/bad/svNNN-*.yaml mark their findings as tests/rules does, `# [SV201]` at the end of the
  line (tests/goldens.py): exactly the marked error and warning findings (a note is checked only
  when marked), and the output of rule SVNNN alone is the golden svNNN-*.out beside the plan;
- the acceptance plans in ../shared/acceptance/plans that the static rules can judge meet the
  first `# expect:` line's terms (the format of ../shared/acceptance/run), and the ones expected
  clean get no error and no finding of a negated category from the static rules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncverify.engine import check_plan
from syncverify.findings import PlanError
from syncverify.loader import load_plan
from syncverify.rules import STATIC_RULES
from tests.goldens import compare_with_golden, golden_of, markers

REPO = Path(__file__).resolve().parent.parent
PLANS = REPO / "plans"
ACCEPTANCE = REPO.parent / "shared" / "acceptance" / "plans"
STATICALLY_JUDGED = ("04", "08", "16", "17", "20", "27", "28", "29", "30")


def expect_line(path: Path) -> str | None:
    for line in path.read_text().splitlines():
        match = re.match(r"\s*#\s*expect:\s*(.*?)\s*$", line)
        if match:
            return match.group(1)
    return None


def reported(path: Path, rules=None) -> list:
    return check_plan(load_plan(str(path)), rules=rules)


@pytest.mark.parametrize("plan", sorted(PLANS.glob("*.yaml")), ids=lambda p: p.name)
def test_good_plan_has_no_error_or_warning(plan: Path):
    loud = [f"{f.code}@{f.line}: {f.message}" for f in reported(plan) if f.severity != "note"]
    assert loud == []


BAD_PLANS = sorted((PLANS / "bad").glob("*.yaml"))


def rule_of(bad_plan: Path) -> str:
    """sv301-unreduced-partial-sum.yaml -> SV301."""
    return bad_plan.name.split("-")[0].upper()


@pytest.mark.parametrize("plan", BAD_PLANS, ids=lambda p: p.name)
def test_bad_plan_gives_exactly_its_marked_findings(plan: Path):
    expected = {(code, line) for line, code in markers(plan)}
    assert any(code == rule_of(plan) for code, _ in expected), (
        f"{plan.name} marks no line with [{rule_of(plan)}]"
    )
    got = {
        (f.code, f.line)
        for f in reported(plan)
        if f.severity != "note" or (f.code, f.line) in expected
    }
    assert got == expected


@pytest.mark.parametrize("plan", BAD_PLANS, ids=lambda p: p.name)
def test_bad_plan_output_is_its_golden(plan: Path):
    compare_with_golden(plan, rule_of(plan))


def test_every_bad_golden_has_its_plan():
    assert set((PLANS / "bad").glob("*.out")) == {golden_of(plan) for plan in BAD_PLANS}


def test_every_static_rule_has_a_bad_plan():
    covered = {code for plan in BAD_PLANS for _, code in markers(plan)}
    assert {r.code for r in STATIC_RULES} <= covered


def holds(term: str, findings: list) -> bool:
    """One term of an acceptance `# expect:` line (see ../shared/acceptance/run)."""
    if term == "clean":
        return not any(f.severity == "error" for f in findings)
    if term.startswith("!"):
        return not any(f.category == term[1:] for f in findings)
    wanted, _, severity = term.partition(":")
    return any(
        f.category in wanted.split("|") and (not severity or f.severity == severity)
        for f in findings
    )


def acceptance(prefixes=None, clean=False) -> list[Path]:
    if not ACCEPTANCE.is_dir():
        return []
    plans = sorted(ACCEPTANCE.glob("*.yaml"))
    if prefixes:
        return [p for p in plans if p.name[:2] in prefixes]
    return [p for p in plans if clean and "clean" in (expect_line(p) or "").split(", ")]


def terms(path: Path) -> list[str]:
    return [t.strip() for t in (expect_line(path) or "").split(",") if t.strip()]


@pytest.mark.skipif(not ACCEPTANCE.is_dir(), reason="no ../shared/acceptance/plans beside the repo")
@pytest.mark.parametrize("plan", acceptance(STATICALLY_JUDGED), ids=lambda p: p.name[:2])
def test_acceptance_plan_meets_its_expectation(plan: Path):
    if terms(plan) == ["error-exit"]:
        with pytest.raises(PlanError) as raised:
            load_plan(str(plan))
        assert all(p.line >= 1 for p in raised.value.problems)
        return
    findings = reported(plan)
    assert [t for t in terms(plan) if not holds(t, findings)] == []


@pytest.mark.skipif(not ACCEPTANCE.is_dir(), reason="no ../shared/acceptance/plans beside the repo")
@pytest.mark.parametrize("plan", acceptance(clean=True), ids=lambda p: p.name[:2])
def test_clean_acceptance_plan_passes_the_static_rules(plan: Path):
    findings = reported(plan, rules=STATIC_RULES)
    assert [t for t in terms(plan) if not holds(t, findings)] == []
