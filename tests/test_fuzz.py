"""Fuzzing `syncverify check` (tests/fuzzing.py): random YAML, mutated plans and schema-valid
plans never crash it, exit 0/1/2, and every finding sits inside the file and names ranks and
layers the plan has. Fresh examples every run, as many as the hypothesis profile gives
(tests/profiles.py: 1,000 under "ci", 20,000 under "deep"; the run's seed is printed and a failure
is kept in the failure database); bench/fuzz.py runs 100,000+ seeded ones, and the inputs that
once crashed the checker are replayed below on every run."""

import pytest
from hypothesis import given, settings

from tests.fuzzing import (
    PAST_CRASHES,
    check_text,
    mutated_plans,
    small_graphs,
    valid_plans,
    yaml_documents,
)
from tests.profiles import examples


@pytest.fixture(autouse=True, scope="module")
def tiny_graphs():
    with small_graphs():
        yield


@settings(max_examples=examples(5.0))
@given(yaml_documents())
def test_random_yaml_documents(text):
    check_text(text)


@settings(max_examples=examples(3.5))
@given(mutated_plans())
def test_mutated_plans(text):
    check_text(text)


@settings(max_examples=examples(1.5))
@given(valid_plans())
def test_schema_valid_plans(text):
    check_text(text)


@pytest.mark.parametrize("crash", sorted(PAST_CRASHES))
def test_past_crashes_stay_fixed(crash):
    check_text(PAST_CRASHES[crash])
