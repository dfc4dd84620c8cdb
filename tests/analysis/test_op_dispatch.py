"""The placement analysis dispatches every op of rules/ops.yaml to a handler (checked at import)."""

import pytest

from syncverify import catalog
from syncverify.analysis import placement
from syncverify.analysis.placement import OpDispatchError, op_dispatch_problems
from syncverify.plan import ALL_OPS

HANDLERS = {n.removeprefix("_op_") for n in vars(placement.Placement) if n.startswith("_op_")}


def test_the_shipped_table_matches_the_handlers():
    assert op_dispatch_problems(catalog.op_table(), HANDLERS, ALL_OPS) == []


def _table_with(op: str, specs: dict) -> dict:
    table = dict(catalog.op_table())
    table[op] = specs
    return table


@pytest.mark.parametrize(
    ("op", "specs", "problem"),
    [
        (
            "down",
            {"default": {"kind": "row_paralel"}},
            "op 'down' (default): no handler _op_row_paralel",
        ),
        ("down", {"replicated": {"kind": "linear"}}, "op 'down' has no `default` sharding"),
        (
            "down",
            {"default": {"kind": "linear"}, "sliced": {"kind": "linear"}},
            "unknown sharding 'sliced'",
        ),
        ("lm_tail", {"default": {"kind": "linear"}}, "op 'lm_tail' is not an op of plans"),
    ],
)
def test_a_table_edit_without_a_handler_is_named(op, specs, problem):
    problems = op_dispatch_problems(_table_with(op, specs), HANDLERS, ALL_OPS)
    assert any(problem in p for p in problems), problems


def test_an_op_missing_from_the_table_and_a_handler_no_kind_names_are_named():
    table = {op: specs for op, specs in catalog.op_table().items() if op != "sample"}
    problems = op_dispatch_problems(table, HANDLERS, ALL_OPS)
    assert "op 'sample' has no entry" in problems
    assert "handler _op_sample names no kind of the table" in problems


def test_a_mismatch_raises_at_import_with_the_problems(monkeypatch):
    broken = _table_with("down", {"default": {"kind": "x"}})
    monkeypatch.setattr(catalog, "op_table", lambda: broken)
    with pytest.raises(OpDispatchError, match=r"rules/ops.yaml .* no handler _op_x"):
        placement._check_op_dispatch()
