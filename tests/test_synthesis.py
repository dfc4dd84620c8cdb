"""Synthesized plans are correct: the checker finds no error on any layout it covers."""

from hypothesis import given, settings

from syncverify.synthesis import synthesize_plan
from tests.strategies import layouts
from tests.support import errors


@settings(max_examples=60, deadline=None, derandomize=True)
@given(layouts())
def test_a_synthesized_plan_has_no_error(layout):
    assert errors(synthesize_plan(**layout)) == []
