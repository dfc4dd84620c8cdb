"""Fuzzing `syncverify check` (tests/fuzzing.py): random YAML, mutated plans and schema-valid
plans never crash it, exit 0/1/2, and every finding sits inside the file and names ranks and
layers the plan has. 2,000 seeded examples (derandomized: the same every run); bench/fuzz.py
runs 100,000+."""

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzzing import (
    PAST_CRASHES,
    check_text,
    mutated_plans,
    small_graphs,
    valid_plans,
    yaml_documents,
)

SEEDED = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture(autouse=True, scope="module")
def tiny_graphs():
    with small_graphs():
        yield


@settings(SEEDED, max_examples=1000)
@given(yaml_documents())
def test_random_yaml_documents(text):
    check_text(text)


@settings(SEEDED, max_examples=700)
@given(mutated_plans())
def test_mutated_plans(text):
    check_text(text)


@settings(SEEDED, max_examples=300)
@given(valid_plans())
def test_schema_valid_plans(text):
    check_text(text)


@pytest.mark.parametrize("crash", sorted(PAST_CRASHES))
def test_past_crashes_stay_fixed(crash):
    check_text(PAST_CRASHES[crash])
