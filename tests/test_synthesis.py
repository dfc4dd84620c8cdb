"""Synthesized plans are correct: the checker finds no error on any layout it covers.

Fresh layouts each run, as many as the hypothesis profile gives (tests/profiles.py: 30 under
"ci", 600 under "deep"); tests/test_mutations.py checks 15 more originals (tp up to 2) before
mutating them."""

from hypothesis import given, settings

from syncverify.synthesis import synthesize_plan
from tests.profiles import examples
from tests.strategies import layouts
from tests.support import errors


@settings(max_examples=examples(0.3))
@given(layouts())
def test_a_synthesized_plan_has_no_error(layout):
    assert errors(synthesize_plan(**layout)) == []
