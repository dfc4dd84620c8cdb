"""`syncverify schema`: the JSON Schema editors read is the one the loader enforces.

The command prints the shipped file byte for byte; every plan in plans/ validates against it;
and on mutations of real plans (a key deleted, retyped, added) the schema and the loader agree:
what the schema rejects the loader refuses (exit 2), and what the schema accepts the loader never
refuses for a reason the schema states (unknown key, wrong type, unknown name, missing key).
"""

import copy
import json
import random
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator

from syncverify.cli import cli
from syncverify.findings import PlanError
from syncverify.load_codes import MISSING_KEY, UNKNOWN_KEY, UNKNOWN_NAME, WRONG_TYPE
from syncverify.loader import load_plan
from syncverify.schema import plan_schema

ROOT = Path(__file__).resolve().parent.parent
PLANS = sorted((ROOT / "plans").rglob("*.yaml"))
GOOD_PLANS = sorted((ROOT / "plans").glob("*.yaml"))
SCHEMA_CODES = {rule.code for rule in (MISSING_KEY, UNKNOWN_KEY, UNKNOWN_NAME, WRONG_TYPE)}
WRONG_VALUES = ("eight", 3.5, -1, True, None, [], {"bogus": 1})


def printed_schema() -> dict:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_schema_prints_the_draft_07_schema_the_loader_uses():
    schema = printed_schema()
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema == plan_schema()


def test_schema_output_file_is_written_whole(tmp_path):
    target = tmp_path / "plan.schema.json"
    result = CliRunner().invoke(cli, ["schema", "-o", str(target)])
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(target.read_text()) == plan_schema()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.schema.json"]  # no temporary left


def test_schema_output_into_a_missing_folder_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["schema", "-o", str(tmp_path / "nope" / "s.json")])
    assert result.exit_code == 2
    assert "cannot write" in result.output


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(ROOT / "plans")))
def test_every_plan_in_plans_validates(path):
    errors = list(Draft7Validator(printed_schema()).iter_errors(yaml.safe_load(path.read_text())))
    assert errors == [], [e.message for e in errors]


def mutations(plan: dict):
    """(description, mutant) for every key deleted, every value retyped, a key added anywhere."""

    def walk(node, path):
        if isinstance(node, dict):
            yield path, node
            for key, value in node.items():
                yield from walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, path + (i,))
        else:
            yield path, node

    for path, value in list(walk(plan, ())):
        if not path:
            continue
        if isinstance(path[-1], str):
            yield f"delete {path}", _set(plan, path, None, delete=True)
        for wrong in WRONG_VALUES:
            if wrong != value:
                yield f"{path} = {wrong!r}", _set(plan, path, wrong)
        if isinstance(value, dict):
            yield f"add bogus key under {path}", _set(plan, path, dict(value, bogus=1))


def _set(plan: dict, path: tuple, value, delete: bool = False) -> dict:
    mutant = copy.deepcopy(plan)
    parent = mutant
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return mutant


def sample_of_mutants(count: int = 250):
    found = []
    for path in GOOD_PLANS:
        plan = yaml.safe_load(path.read_text())
        found += [(path, what, mutant) for what, mutant in mutations(plan)]
    return random.Random(6).sample(found, min(count, len(found)))


def test_loader_and_schema_agree_on_mutated_plans():
    validator = Draft7Validator(plan_schema())
    rejected = 0
    for path, what, mutant in sample_of_mutants():
        schema_ok = validator.is_valid(mutant)
        text = yaml.safe_dump(mutant, sort_keys=False)
        try:
            load_plan(path, text=text)
            codes = set()
        except PlanError as exc:
            codes = {p.code for p in exc.problems}
        if not schema_ok:
            rejected += 1
            assert codes, f"{path.name}: {what}: the schema rejects it, the loader loads it"
        else:
            assert not codes & SCHEMA_CODES, (
                f"{path.name}: {what}: schema accepts, loader says {codes}"
            )
    assert rejected > 80  # the sample exercises the schema, not just free-text keys
