"""syncverify.schema_check validates plans exactly as the `jsonschema` package's Draft7Validator.

The loader validates with its own small draft-07 validator (importing jsonschema costs as much as
the rest of a check). This test holds it to the reference: the same errors, in the same order,
with the same keyword, path, instance and schema object, and the same best match for anyOf
failures, on every shipped and acceptance plan and on every single-key mutation of the shipped
plans (a key deleted, retyped, added); and the schema uses no keyword it does not support.
"""

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match as reference_best_match

from syncverify.schema import plan_schema
from syncverify.schema_check import KEYWORDS, UNCHECKED, Validator, best_match
from tests.test_schema_command import GOOD_PLANS, mutations

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE = ROOT.parent / "shared" / "acceptance" / "plans"
DOCUMENTS = (
    sorted((ROOT / "plans").rglob("*.yaml"))
    + sorted((ROOT / "tests" / "rules").rglob("*.yaml"))
    + (sorted(ACCEPTANCE.glob("*.yaml")) if ACCEPTANCE.is_dir() else [])
)
SCHEMA = plan_schema()
REFERENCE, OURS = (
    Draft7Validator(SCHEMA),
    Validator(SCHEMA),
)  # one schema: its objects compare by id
MUTANTS = [
    (path, what, mutant)
    for path in GOOD_PLANS
    for what, mutant in mutations(yaml.safe_load(path.read_text()))
]


def summary(error) -> tuple:
    return (
        error.validator,
        tuple(error.absolute_path),
        repr(error.instance),
        id(error.schema),
        repr(error.validator_value),
        len(error.context),
    )


def agree(document) -> None:
    reference = list(REFERENCE.iter_errors(document))
    ours = list(OURS.iter_errors(document))
    assert [summary(e) for e in ours] == [summary(e) for e in reference]
    for mine, theirs in zip(ours, reference):
        if mine.context:
            assert summary(best_match([mine])) == summary(reference_best_match([theirs]))


def load(path: Path):
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        pytest.skip("not YAML: the loader refuses it before the schema")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_plan_gets_the_reference_errors(path):
    agree(load(path))


def test_every_mutation_of_the_shipped_plans_gets_the_reference_errors():
    assert len(MUTANTS) > 1000
    for path, what, mutant in MUTANTS:
        try:
            agree(mutant)
        except AssertionError as exc:
            raise AssertionError(f"{path.name}: {what}") from exc


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 300)
    | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from(["", "all", "moe", "dense", "1..3", " 2 .. 5 ", "x", "tp", "pp", "ep", "dp"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["tp", "layers", "ranks", "after", "bogus", "experts", "top_k", "x-a"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(MUTANTS), st.data())
def test_random_values_anywhere_get_the_reference_errors(mutant, data):
    """A random JSON value put in place of any value of a mutant (sync selectors and layer
    ranges included, where the anyOf branches are)."""
    _, _, document = mutant
    paths = list(_paths(document))
    path = data.draw(st.sampled_from(paths))
    agree(_replace(document, path, data.draw(JSON_VALUES)))


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, path + (index,))


def _replace(document, path, value):
    if not path:
        return value
    out = copy.deepcopy(document)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return out


def test_the_schema_uses_only_supported_keywords():
    def keywords(node, under_names=False):
        if isinstance(node, dict):
            for key, value in node.items():
                if not under_names:
                    yield key
                yield from keywords(
                    value, under_names=key in ("properties", "patternProperties", "definitions")
                )
        elif isinstance(node, list):
            for value in node:
                yield from keywords(value)

    assert set(keywords(plan_schema())) <= KEYWORDS | UNCHECKED | {"$ref"}
