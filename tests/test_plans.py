"""The plans shipped in plans/ keep their promises, checked with every rule registered now (so
the test keeps working as graph rules land):

- plans/*.yaml are correct plans for real models: no error or warning finding;
- plans/bad/*.yaml each carry `# expect: SV201@7, SV101@5` (code@line): exactly those error and
  warning findings (a note is checked only when listed);
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


def pinned(path: Path) -> set[tuple[str, int]]:
    """`SV201@7, SV101@5` -> {("SV201", 7), ("SV101", 5)}."""
    text = expect_line(path) or ""
    return {(code, int(line)) for code, line in re.findall(r"(SV\d{3})@(\d+)", text)}


def reported(path: Path, rules=None) -> list:
    return check_plan(load_plan(str(path)), rules=rules)


@pytest.mark.parametrize("plan", sorted(PLANS.glob("*.yaml")), ids=lambda p: p.name)
def test_good_plan_has_no_error_or_warning(plan: Path):
    loud = [f"{f.code}@{f.line}: {f.message}" for f in reported(plan) if f.severity != "note"]
    assert loud == []


@pytest.mark.parametrize("plan", sorted((PLANS / "bad").glob("*.yaml")), ids=lambda p: p.name)
def test_bad_plan_gives_exactly_its_expected_findings(plan: Path):
    expected = pinned(plan)
    assert expected, f"{plan.name} has no `# expect: CODE@LINE` header"
    got = {
        (f.code, f.line)
        for f in reported(plan)
        if f.severity != "note" or (f.code, f.line) in expected
    }
    assert got == expected


def test_every_static_rule_has_a_bad_plan():
    covered = {code for plan in (PLANS / "bad").glob("*.yaml") for code, _ in pinned(plan)}
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
