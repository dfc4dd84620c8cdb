"""The kind -> rule table (rule_support.record_owners) is total, and every record reaches its rule.

Like flake8's code table with its totality test: each kind or reason of the analyses' records is
owned by exactly one graph rule or dropped with a stated reason; each graph rule reads at least
one kind or is a listed exception; and on every plan the repository ships, each record the
analyses produce is handed to the rule the table names, which then reports its code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syncverify import engine
from syncverify.findings import PlanError
from syncverify.loader import load_plan
from syncverify.records import DEFECT_PAYLOADS, KIND_ENUMS, DefectKind
from syncverify.rule import Context
from syncverify.rule_support import record_owners
from syncverify.rule_support.record_owners import DROPPED, NO_RECORDS, OWNER, records
from syncverify.rules import ALL_RULES, GRAPH_RULES

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted(
    [*ROOT.glob("tests/rules/*/*.yaml"), *ROOT.glob("plans/*.yaml"), *ROOT.glob("plans/bad/*.yaml")]
    + [*ROOT.glob("tests/regressions/**/*.yaml")]
)


@pytest.mark.parametrize("enum", KIND_ENUMS, ids=lambda e: e.__name__)
def test_every_kind_has_exactly_one_owner_or_a_reason_to_drop_it(enum):
    for kind in enum:
        owned, dropped = kind in OWNER, kind in DROPPED
        assert owned != dropped, f"{enum.__name__}.{kind.name}: owned {owned}, dropped {dropped}"
        if dropped:
            assert DROPPED[kind].strip(), f"{kind.name} is dropped without a reason"


def test_the_table_names_only_kinds_and_graph_rules():
    kinds = {kind for enum in KIND_ENUMS for kind in enum}
    graph_codes = {r.code for r in GRAPH_RULES}
    assert set(OWNER) | set(DROPPED) <= kinds
    assert set(OWNER.values()) <= graph_codes, set(OWNER.values()) - graph_codes
    assert set(NO_RECORDS) <= graph_codes


def test_every_graph_rule_reads_a_kind_or_is_a_listed_exception():
    for rule in GRAPH_RULES:
        reads = rule.code in set(OWNER.values())
        excepted = rule.code in NO_RECORDS
        assert reads != excepted, f"{rule.code}: reads kinds {reads}, listed exception {excepted}"


def test_every_defect_kind_has_a_payload_type():
    assert set(DEFECT_PAYLOADS) == set(DefectKind)


def _load(path: Path):
    try:
        return load_plan(path)
    except PlanError:
        return None  # refused by the loader: no analysis runs


def _track(monkeypatch) -> dict:
    """Wraps `records_for` in every graph rule module; returns {code: records handed out},
    with the analyses they came from under the key None."""
    handed: dict = {}
    real = record_owners.records_for

    def tracking(analyses, code, *kinds):
        got = real(analyses, code, *kinds)
        handed[None] = analyses
        handed.setdefault(code, []).extend(got)
        return got

    for rule in GRAPH_RULES:
        module = sys.modules[rule.check.__module__]
        if hasattr(module, "records_for"):
            monkeypatch.setattr(module, "records_for", tracking)
    return handed


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_record_reaches_the_rule_that_owns_it(path, monkeypatch):
    plan = _load(path)
    if plan is None:
        pytest.skip("the loader refuses it")
    handed = _track(monkeypatch)
    ctx = Context(plan, compute_analyses=lambda: engine._graph_analyses(plan, False))
    for rule in ALL_RULES:
        if not rule.needs_graph:
            engine._run_rule(rule, ctx)
    if any(f.code in engine.BLOCKING_CODES for f in ctx.findings):
        pytest.skip("a blocking finding: graph rules do not run")
    try:
        for rule in GRAPH_RULES:
            engine._run_rule(rule, ctx)
    except PlanError:
        pytest.skip("too large to check (SV014)")
    reported = {f.code for f in ctx.findings}
    assert "SV900" not in reported, [f.message for f in ctx.findings if f.code == "SV900"]
    for kind, record in records(ctx.analyses):
        if kind in DROPPED:
            continue
        code = OWNER[kind]
        assert record in handed.get(code, ()), f"{kind} record never reached {code}: {record}"
        assert code in reported, f"{code} got {kind} records and reported nothing"
