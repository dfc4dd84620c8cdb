"""Mutation tests of the checker's verdicts (issue: the DAG and its analyses).

From every correct plan (the real-model plans in plans/ and synthesized small plans), each
single mutation must be caught: removing any sync point gives a missing-sync (or ordering)
error; duplicating any reducing collective gives a value-corrupting duplicate (SV402); making a
blocking collective async without a wait gives a race (SV310). The originals give no error.
"""

import copy
import functools
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings

from syncverify.synthesis import synthesize_plan
from tests.profiles import examples
from tests.strategies import layouts
from tests.support import errors

ROOT = Path(__file__).resolve().parent.parent
GOOD_PLANS = sorted(p for p in (ROOT / "plans").glob("*.yaml"))
REDUCTIONS = ("all_reduce", "reduce_scatter")


def removals(plan: dict):
    for i, sync in enumerate(plan["sync"]):
        mutant = copy.deepcopy(plan)
        del mutant["sync"][i]
        yield sync, mutant


def duplicates(plan: dict):
    for i, sync in enumerate(plan["sync"]):
        if sync["collective"] in REDUCTIONS:
            mutant = copy.deepcopy(plan)
            mutant["sync"].insert(i + 1, dict(sync, id=f"{sync.get('id', i)}-again"))
            yield sync, mutant


def made_async(plan: dict):
    for i, sync in enumerate(plan["sync"]):
        # S18: the DP output gather may be async with no wait: the sink waits for it
        if sync.get("async") or (
            sync["after"] == "sample" and sync["collective"] in ("gather", "all_gather")
        ):
            continue
        mutant = copy.deepcopy(plan)
        mutant["sync"][i] = {k: v for k, v in sync.items() if k != "wait_before"} | {"async": True}
        yield sync, mutant


def assert_killed(plan: dict, mutants, accept) -> None:
    """Every mutant of `plan` (checked clean by the caller, once) has a finding `accept` takes."""
    for sync, mutant in mutants(plan):
        got = errors(mutant)
        assert any(accept(f) for f in got), (
            f"{mutants.__name__} of {sync} not caught: {[f.code for f in got]}"
        )


def missing(f) -> bool:
    return f.category in ("missing-sync", "ordering")


def anchored(sync):
    """The finding must name the place: its message, help or where mentions the anchor op."""

    def accept(f) -> bool:
        text = f"{f.message} {f.help} {f.where.describe()}"
        return missing(f) and (sync["after"] in text or sync["collective"] in text)

    return accept


@functools.cache
def original_errors(path: Path) -> tuple:
    """The errors of a shipped plan as written: both real-plan tests start from it (a check of
    the 405B plan takes seconds)."""
    return tuple(errors(load_yaml(path)))


def load_yaml(path: Path) -> dict:
    plan = yaml.safe_load(path.read_text())
    if isinstance(plan.get("model"), dict) and "hf_config" in plan["model"]:
        plan["model"]["hf_config"] = str((path.parent / plan["model"]["hf_config"]).resolve())
    return plan


@pytest.mark.parametrize("path", GOOD_PLANS, ids=lambda p: p.stem)
def test_every_sync_of_a_real_plan_is_needed(path):
    plan = load_yaml(path)
    assert original_errors(path) == (), "the original must be clean"
    for sync, mutant in removals(plan):
        got = errors(mutant)
        assert any(anchored(sync)(f) for f in got), (
            f"removing {sync} not caught: {[f.message for f in got]}"
        )


def first(mutants):
    """Only the first mutant of a kind: real plans are large, synthesized ones cover the rest."""

    def one(plan):
        yield from list(mutants(plan))[:1]

    one.__name__ = mutants.__name__
    return one


@pytest.mark.parametrize("path", GOOD_PLANS, ids=lambda p: p.stem)
def test_real_plans_catch_duplicates_and_unawaited_collectives(path):
    plan = load_yaml(path)
    assert original_errors(path) == (), "the original must be clean"
    assert_killed(plan, first(duplicates), lambda f: f.code == "SV402")
    assert_killed(plan, first(made_async), lambda f: f.code == "SV310")


@settings(max_examples=examples(0.15))
@given(layouts(max_tp=2))
def test_mutants_of_synthesized_plans_are_caught(layout):
    plan = synthesize_plan(**layout)
    assert errors(plan) == [], "the original must be clean"
    assert_killed(plan, removals, missing)
    assert_killed(plan, duplicates, lambda f: f.code == "SV402")
    assert_killed(plan, made_async, lambda f: f.code == "SV310")
