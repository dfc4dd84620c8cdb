"""The reference executor: runs a plan on simulated devices and compares with one device.

`simulate(plan, steps=3)` builds the tiny model of the plan's shape family
(`syncverify.simulate.model`), runs prefill and `steps` decode steps on every rank of the plan
(`syncverify.simulate.runtime`), once with every DP replica busy and, when a phase has dp > 1,
once with replica 0 idle (S17), and returns the first `Outcome` that is not a match (or the
match). It shares the Plan model and the rank topology with the checker, nothing of the
checker's graph, analyses or rules (tests/simulate/test_independence.py): the two are held
against each other by the agreement test (tests/simulate/test_agreement.py). Which plans it
runs at all is decided outside this package (`syncverify.runnable.refusals`).

numpy is needed here only (the `simulate` extra); the checker does not import this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syncverify.plan import Plan

if TYPE_CHECKING:
    from syncverify.simulate.outcome import Outcome

DEFAULT_STEPS = 3


@dataclass
class Simulation:
    outcome: Outcome
    scenarios: list[str] = field(default_factory=list)
    dims: object | None = None
    phases: tuple[str, ...] = ()


def simulate(plan: Plan, steps: int = DEFAULT_STEPS) -> Simulation:
    """Run `plan` (free of `syncverify.runnable.refusals`) and compare with one device."""
    from syncverify.simulate.model import Weights, scaled_dims
    from syncverify.simulate.outcome import MATCH, Outcome
    from syncverify.simulate.reference import Reference
    from syncverify.simulate.runtime import Runtime
    from syncverify.simulate.workload import Scenario, build_workload

    dims = scaled_dims(plan)
    weights = Weights(dims)
    scenarios = [Scenario()]
    if any(p.degrees.dp > 1 for p in plan.phases):
        scenarios.append(Scenario(idle_replica=0))
    ran = []
    phases = tuple(p.name for p in plan.phases)
    reference = Reference(dims, weights)
    for scenario in scenarios:
        work = build_workload(plan, dims.vocab, scenario, steps)
        reference.run({s: p for s, p in work.prompts.items() if s >= 0}, work.decoded, steps)
        ran.append(scenario.label)
        outcome = Runtime(plan, dims, weights, work, reference, scenario.label).run()
        if outcome.status != MATCH:
            return Simulation(outcome, ran, dims, phases)
    return Simulation(
        Outcome(MATCH, "matches the single-device reference", scenario="; ".join(ran)),
        ran,
        dims,
        phases,
    )
