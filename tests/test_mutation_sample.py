"""Mutation testing in CI, on small plans (bench/mutation.py runs it on every plan in plans/):
every single mutation of a dense TP x PP plan and of an MoE plan with EP over DP replicas under
comm_compute is caught with an error of the category it breaks, unless it is an equivalent
mutant (no defect under S1-S23, decided by tests/mutants.py from the contract), on which the
checker must report no error either. The originals give no finding."""

import pytest
import yaml

from syncverify.engine import check_plan
from syncverify.findings import PlanError
from syncverify.loader import load_plan
from tests.hostile_inputs import SMALL
from tests.mutants import mutants
from tests.support import TINY_MOE, synth

DENSE = SMALL.replace("layers: 4,", "layers: 2,")
MOE = yaml.safe_dump(
    synth(
        dict(TINY_MOE, layers=2, moe=dict(TINY_MOE["moe"], layers=[1])),
        tp=1,
        dp=2,
        ep=2,
        overlap="comm_compute",
    ),
    sort_keys=False,
)
PLANS = {"dense-tp2-pp2": DENSE, "moe-dp2-ep2-async": MOE}


def verdict(data: dict) -> list:
    try:
        return check_plan(load_plan("mutant.yaml", text=yaml.safe_dump(data, sort_keys=False)))
    except PlanError as error:
        return error.problems


def cases() -> list:
    # a list, not a generator: pytest 9 deprecates parametrizing over a bare iterator
    return [
        pytest.param(mutant, id=f"{name}: {mutant.operator}: {mutant.label}")
        for name, text in PLANS.items()
        for mutant in mutants(yaml.safe_load(text), load_plan(f"{name}.yaml", text=text))
    ]


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_originals_are_clean(name):
    assert verdict(yaml.safe_load(PLANS[name])) == []


@pytest.mark.parametrize("mutant", cases())
def test_every_mutant_is_caught_or_equivalent(mutant):
    found = verdict(mutant.plan)
    errors = [f"{f.code} {f.category}: {f.message}" for f in found if f.severity == "error"]
    if mutant.equivalent:
        assert errors == [], f"equivalent ({mutant.equivalent}) but flagged"
    else:
        assert mutant.killed_by(found), f"survived; errors: {errors or 'none'}"
