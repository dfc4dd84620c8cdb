"""The size guard (syncverify.budget, SV014): refuses plans too large to check before building
anything, at the largest factor, and never under-estimates what the graph builder builds."""
import pytest
from hypothesis import given, settings

from syncverify.analysis import run_analyses
from syncverify.budget import MAX_DAG_NODES, MAX_RANKS, check_size, estimate
from syncverify.engine import check_plan
from syncverify.findings import PlanError
from syncverify.loader import load_plan
from tests.hostile_inputs import SMALL
from tests.strategies import layouts
from tests.support import load_dict, load_text, synth


def refusal(text: str, exhaustive: bool = False):
    plan = load_text(text)
    with pytest.raises(PlanError) as caught:
        check_plan(plan, exhaustive=exhaustive)
    [problem] = caught.value.problems
    assert problem.code == "SV014"
    return problem


def test_a_world_past_the_rank_cap_is_refused_at_the_largest_degree():
    problem = refusal(SMALL.replace("tp: 2, pp: 2", "tp: 8, pp: 2, dp: 65536"))
    assert (problem.line, problem.column) == (3, 30)
    assert "prefill and decode run on 1,048,576 ranks" in problem.message
    assert f"more than the {MAX_RANKS:,}" in problem.message


def test_a_phase_override_is_blamed_where_it_is_written():
    problem = refusal(SMALL.replace("decode: {microbatches: 2,", "decode: {dp: 40000, microbatches: 2,"))
    assert (problem.line, problem.column) == (6, 16)
    assert problem.message.startswith("decode runs on 160,000 ranks")


def test_exhaustive_checks_of_too_many_layers_are_refused_with_a_way_out():
    text = SMALL.replace("layers: 4,", "layers: 20000,")
    problem = refusal(text, exhaustive=True)
    assert (problem.line, problem.column) == (2, 17)
    assert "DAG nodes" in problem.message and "drop --exhaustive" in problem.help
    check_size(load_text(text))           # the representative layers are few


def test_idle_replicas_named_by_selectors_multiply_the_graphs():
    text = SMALL.replace("tp: 2, pp: 2", "tp: 8, pp: 2, dp: 512").replace(
        "decode: {microbatches: 2,", "decode: {dp_idle: skip, microbatches: 2,") + \
        "  - {after: sample, collective: gather, group: dp, ranks: {dp: [0, 1]}}\n"
    problem = refusal(text, exhaustive=True)
    assert "idle-replica scenarios" in problem.message
    assert problem.line == 3                     # dp: 512 is the largest factor
    check_size(load_text(text))    # by default the selector's classes keep 3 replicas, 3 scenarios


def test_layer_selectors_are_counted_before_they_are_expanded():
    text = SMALL.replace("layers: 4,", "layers: 100000,") + "".join(
        f'  - {{after: o_proj, collective: barrier, group: tp, layers: "0..99999"}}\n' for _ in range(11))
    with pytest.raises(PlanError) as caught:
        load_text(text)
    [problem] = caught.value.problems
    assert (problem.code, problem.line) == ("SV014", 23)
    assert "name 1,100,000 layer indices" in problem.message


def test_many_layers_times_many_sync_points_are_refused():
    text = SMALL.replace("layers: 4,", "layers: 100000,") + \
        "  - {after: attention, collective: barrier, group: tp}\n" * 20
    problem = refusal(text)
    assert problem.message.startswith("model.layers x sync points is 100,000 x 25")


def built_nodes(plan, reduce=True) -> int:
    return run_analyses(plan, reduce=reduce).graph.number_of_nodes()


@settings(max_examples=12, deadline=None, derandomize=True)
@given(layouts(max_tp=2))
def test_the_estimate_is_an_upper_bound_of_the_graph_built(layout):
    plan = load_dict(synth(**layout))
    for reduce in (True, False):
        bound = sum(e.nodes for e in estimate(plan, exhaustive=not reduce))
        assert built_nodes(plan, reduce) <= bound <= MAX_DAG_NODES


@pytest.mark.parametrize("name", ["llama-3.1-8b-tp4-dp2", "mixtral-8x7b-dp8-ep8",
                                  "deepseek-v3-dp32-ep32-two-batch"])
def test_the_estimate_bounds_real_plans_too(name):
    from pathlib import Path
    plan = load_plan(Path(__file__).resolve().parent.parent / "plans" / f"{name}.yaml")
    bound = sum(e.nodes for e in estimate(plan))
    assert built_nodes(plan) <= bound <= 20 * built_nodes(plan)
