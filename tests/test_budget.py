"""The size guard (syncverify.budget, SV014): refuses plans too large to check before building
anything, at the largest factor, and never under-estimates what the graph builder builds."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    problem = refusal(
        SMALL.replace("decode: {microbatches: 2,", "decode: {dp: 40000, microbatches: 2,")
    )
    assert (problem.line, problem.column) == (6, 16)
    assert problem.message.startswith("decode runs on 160,000 ranks")


def test_exhaustive_checks_of_too_many_layers_are_refused_with_a_way_out():
    text = SMALL.replace("layers: 4,", "layers: 20000,")
    problem = refusal(text, exhaustive=True)
    assert (problem.line, problem.column) == (2, 17)
    assert "DAG nodes" in problem.message and "drop --exhaustive" in problem.help
    check_size(load_text(text))  # the representative layers are few


def test_idle_replicas_named_by_selectors_multiply_the_graphs():
    text = (
        SMALL.replace("tp: 2, pp: 2", "tp: 8, pp: 2, dp: 512").replace(
            "decode: {microbatches: 2,", "decode: {dp_idle: skip, microbatches: 2,"
        )
        + "  - {after: sample, collective: gather, group: dp, ranks: {dp: [0, 1]}}\n"
    )
    problem = refusal(text, exhaustive=True)
    assert "idle-replica scenarios" in problem.message
    assert problem.line == 3  # dp: 512 is the largest factor
    check_size(load_text(text))  # by default the selector's classes keep 3 replicas, 3 scenarios


def test_layer_selectors_are_counted_before_they_are_expanded():
    text = SMALL.replace("layers: 4,", "layers: 100000,") + "".join(
        '  - {after: o_proj, collective: barrier, group: tp, layers: "0..99999"}\n'
        for _ in range(11)
    )
    with pytest.raises(PlanError) as caught:
        load_text(text)
    [problem] = caught.value.problems
    assert (problem.code, problem.line) == ("SV014", 23)
    assert "name 1,100,000 layer indices" in problem.message


def test_many_layers_times_many_sync_points_are_refused():
    text = (
        SMALL.replace("layers: 4,", "layers: 100000,")
        + "  - {after: attention, collective: barrier, group: tp}\n" * 20
    )
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


@pytest.mark.parametrize(
    "name", ["llama-3.1-8b-tp4-dp2", "mixtral-8x7b-dp8-ep8", "deepseek-v3-dp32-ep32-two-batch"]
)
def test_the_estimate_bounds_real_plans_too(name):
    from pathlib import Path

    plan = load_plan(Path(__file__).resolve().parent.parent / "plans" / f"{name}.yaml")
    bound = sum(e.nodes for e in estimate(plan))
    assert built_nodes(plan) <= bound <= 20 * built_nodes(plan)


# ----------------------------------------------------------------- the cost model (issue 11)


def spread_syncs(count: int) -> str:
    """`count` barriers over tp or pp after the anchors in turn: order-only candidates for the
    redundancy check everywhere in the schedule."""
    anchors = (
        "embed",
        "attn_norm",
        "qkv",
        "attention",
        "o_proj",
        "attn_residual",
        "mlp_norm",
        "gate_up",
        "down",
        "mlp_residual",
        "final_norm",
        "lm_head",
        "sample",
    )
    return SMALL + "".join(
        f"  - {{after: {anchors[i % len(anchors)]}, collective: barrier, "
        f"group: {'pp' if i % 3 == 0 else 'tp'}}}\n"
        for i in range(count)
    )


def rebuilt_redundant(analyses) -> list[tuple]:
    """The redundancy check as it was specified: per candidate sync, rebuild the order index
    without its nodes and compare the races (what `LeaveOneOut` must agree with)."""
    from syncverify.analysis.happens_before import OrderIndex, find_races
    from syncverify.analysis.redundancy import _instances, _reason

    graph, races = analyses.graph, analyses.races
    base = {(r.producer, r.consumer) for r in races}
    blamed = {d.sync for d in analyses.placement.defects if d.sync is not None} | {
        h.sync for h in analyses.hangs
    }
    out = []
    for sync, nodes in sorted(_instances(graph).items()):
        if (
            sync in blamed
            or _reason(analyses.plan, graph, analyses.placement.effects, nodes) is None
        ):
            continue
        without = OrderIndex(graph, removed=nodes)
        if {(r.producer, r.consumer) for r in find_races(graph, without, skip=nodes)} <= base:
            out.append(sync)
    return out


@pytest.mark.parametrize(
    "text",
    [
        spread_syncs(40),
        SMALL + "  - {after: sample, collective: barrier, group: tp}\n" * 12,
        SMALL + "  - {after: embed, collective: broadcast, group: tp}\n" * 12,
        SMALL.replace(
            "decode: {microbatches: 2,", "decode: {overlap: comm_compute, microbatches: 2,"
        )
        + "  - {after: o_proj, collective: barrier, group: tp, async: true, wait_before: down}\n"
        "  - {after: attention, collective: all_reduce, group: pp, ranks: {tp: [0]}}\n"
        "  - {after: sample, collective: all_gather, group: tp}\n",
        SMALL.replace("tp: 2, pp: 2", "tp: 2, pp: 2, dp: 3")
        + "  - {after: down, collective: barrier, group: dp}\n"
        "  - {after: sample, collective: gather, group: dp}\n"
        "  - {after: embed, collective: barrier, group: world}\n",
    ],
    ids=[
        "40-spread-barriers",
        "12-barriers-back-to-back",
        "12-broadcasts-back-to-back",
        "async-and-selectors",
        "dp-and-world",
    ],
)
def test_the_incremental_redundancy_check_finds_what_a_rebuild_per_candidate_finds(text):
    analyses = run_analyses(load_text(text))
    assert [r.sync for r in analyses.redundant if r.reason != "handover"] == rebuilt_redundant(
        analyses
    )


def test_many_spread_sync_points_are_checked_with_every_redundant_one_reported():
    findings = check_plan(load_text(spread_syncs(60)))
    assert sum(f.code == "SV404" for f in findings) >= 30


def test_sync_points_back_to_back_past_the_pair_budget_are_refused_at_the_first():
    from syncverify.budget import MAX_SYNC_PAIRS

    problem = refusal(SMALL + "  - {after: embed, collective: broadcast, group: tp}\n" * 400)
    assert (problem.line, problem.column) == (8, 5)  # the run starts with the plan's embed-ar
    assert "pairs of blocking sync points issued back to back" in problem.message
    assert "the longest run: 401 after embed" in problem.message
    assert f"more than the {MAX_SYNC_PAIRS:,}" in problem.message


def test_hundreds_of_barriers_back_to_back_are_checked_each_reported_redundant():
    findings = check_plan(
        load_text(SMALL + "  - {after: sample, collective: barrier, group: tp}\n" * 300)
    )
    assert sum(f.code == "SV404" for f in findings) == 300


def test_thousands_of_sync_points_are_refused_by_their_nodes_before_anything_is_built():
    problem = refusal(spread_syncs(2000))
    assert "DAG nodes, more than the" in problem.message


def test_many_ranks_times_many_sync_points_are_refused_at_the_degree():
    from syncverify.budget import MAX_RANK_WALKS

    text = SMALL.replace(
        "parallel: {tp: 2, pp: 2}", "parallel: {tp: 1, pp: 1, dp: 65536}"
    ) + "".join(
        f"  - {{after: sample, collective: gather, group: dp, ranks: {{dp: [{i}]}}}}\n"
        for i in range(400)
    )
    problem = refusal(text)
    assert (problem.line, problem.column) == (3, 30)
    assert "runs 65,536 ranks x 405 sync points" in problem.message
    assert f"more than the {MAX_RANK_WALKS:,}" in problem.message


def test_a_ten_line_plan_of_64_stages_is_refused_at_pp():
    problem = refusal(
        SMALL.replace("layers: 4,", "layers: 128,").replace("tp: 2, pp: 2", "tp: 2, pp: 64")
    )
    assert (problem.line, problem.column) == (3, 23)
    assert "31,760 DAG nodes, more than the 20,000" in problem.message


def test_decode_times_prefill_microbatches_count_as_edges():
    text = (
        SMALL.replace("layers: 4,", "layers: 1,")
        .replace("tp: 2, pp: 2", "tp: 2, pp: 1")
        .replace("microbatches: 2", "microbatches: 400")
    )
    problem = refusal(text, exhaustive=True)
    assert (problem.line, problem.column) == (6, 26)  # decode's microbatches
    assert "1,472,000 DAG edges, more than the 750,000" in problem.message


def test_llama_405b_with_ten_microbatches_is_checked_by_default_and_refused_exhaustively():
    import re

    shipped = ROOT / "plans" / "llama-3.1-405b-tp8-pp4.yaml"
    plan = load_plan(
        str(shipped), text=re.sub(r"microbatches: \d+", "microbatches: 10", shipped.read_text())
    )
    check_size(plan)
    with pytest.raises(PlanError) as caught:
        check_size(plan, exhaustive=True)
    [problem] = caught.value.problems
    assert problem.code == "SV014" and problem.line == 9  # phases: prefill microbatches
    assert "492,880 DAG nodes, more than the 250,000" in problem.message


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted(ROOT.glob("plans/*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_plan_fits_the_default_budget(path):
    check_size(load_plan(str(path)))


def test_init_refuses_a_layout_too_large_before_writing_it(tmp_path):
    from click.testing import CliRunner

    from syncverify.cli import cli

    out = tmp_path / "plan.yaml"
    hf = ROOT / "tests" / "data" / "models" / "Llama-3.1-8B.json"
    result = CliRunner().invoke(cli, ["init", "--hf", str(hf), "--pp", "10000000", "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "'--pp'" in result.output and "10,000,000 ranks, more than the 65,536" in result.output
    assert "[SV014]" in result.output


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.integers(3, 300), st.lists(st.frozensets(st.integers(0, 320), max_size=12), max_size=8))
def test_selector_classes_group_coordinates_by_the_selectors_naming_them(count, selected):
    from syncverify.graph.quotient import _selector_classes

    classes = _selector_classes(count, selected)
    assert classes[0] == (0,)
    assert sorted(c for real in classes.values() for c in real) == list(range(count))
    signature = lambda coord: tuple(coord in s for s in selected)  # noqa: E731
    for real in classes.values():
        assert len({signature(c) for c in real}) == 1
    assert len({signature(real[0]) for k, real in classes.items() if k}) == len(classes) - 1


def test_what_the_default_check_refuses_exhaustive_refuses_too_without_suggesting_the_default():
    text = SMALL.replace("layers: 4,", "layers: 128,").replace("tp: 2, pp: 2", "tp: 2, pp: 64")
    problem = refusal(text, exhaustive=True)
    assert "31,760 DAG nodes, more than the 20,000" in problem.message
    assert "drop --exhaustive" not in problem.help
