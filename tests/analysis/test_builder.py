"""The graph builder: nodes, program order, completions, waits, two_batch, rendezvous."""

from syncverify.graph.builder import Scenario, build_graph, unroll
from syncverify.graph.program import interleave, segments
from syncverify.graph.streams import Issue
from syncverify.plan import SyncPoint
from tests.support import TINY_DENSE, load_dict, synth


def ops_of(graph, rank, phase="decode", step=0):
    nodes = [
        n
        for n, a in graph.nodes(data=True)
        if a.get("kind") == "op" and a["rank"] == rank and n[1] == phase and n[2] == step
    ]
    return sorted(nodes, key=lambda n: graph.nodes[n]["position"])


def test_every_rank_runs_its_stage_and_the_tail_runs_on_the_last_stage():
    graph = build_graph(load_dict(synth(tp=2, pp=2)), Scenario(reduce=False))
    first = [n[6] for n in ops_of(graph, 0)]
    last = [n[6] for n in ops_of(graph, 2)]
    assert first[0] == "embed" and "sample" not in first
    assert last[-1] == "sample" and "embed" not in last
    assert {n[5] for n in ops_of(graph, 0) if n[5] >= 0} == {0, 1}
    assert {n[5] for n in ops_of(graph, 2) if 0 <= n[5] < 4} == {2, 3}


def test_program_order_links_consecutive_ops_across_steps():
    graph = build_graph(load_dict(synth()), Scenario(reduce=False))
    step0, step1 = ops_of(graph, 0, step=0), ops_of(graph, 0, step=1)
    assert graph.edges[step0[-1], step1[0]]["order"]


def test_blocking_collective_completes_before_the_issuers_next_op():
    graph = build_graph(load_dict(synth(tp=2)), Scenario(reduce=False))
    coll = next(
        n
        for n, a in graph.nodes(data=True)
        if a.get("kind") == "coll"
        and a["collective"] == "all_reduce"
        and n[5] == 0
        and n[1] == "decode"
    )
    assert set(graph.nodes[coll]["issuers"]) == {0, 1}
    successors = {v[6] for v in graph.successors(coll) if graph.edges[coll, v]["order"]}
    assert successors == {"attn_residual"} or successors == {"attn_norm"}


def test_async_collective_completes_at_its_wait_before():
    plan = synth(tp=2, overlap="comm_compute")
    graph = build_graph(load_dict(plan), Scenario(reduce=False))
    attn = next(s["id"] for s in plan["sync"] if s["after"] == "o_proj")
    index = next(i for i, s in enumerate(plan["sync"]) if s["id"] == attn)
    coll = next(n for n in graph if n[0] == "coll" and n[4] == index and n[1] == "decode")
    waits = {v[6] for v in graph.successors(coll) if graph.edges[coll, v]["order"]}
    assert waits == {"attn_residual"}


def test_two_batch_interleaves_the_pair_at_each_sync_point():
    graph = build_graph(
        load_dict(synth(tp=2, overlap="two_batch", decode_microbatches=2, prefill_microbatches=2)),
        Scenario(reduce=False),
    )
    order = [(n[3], n[6]) for n in ops_of(graph, 0)]
    # a's embed then its issue; b's embed; a's attn_norm ...
    assert order[:4] == [(0, "embed"), (1, "embed"), (0, "attn_norm"), (0, "qkv")]


def test_segments_end_after_a_run_of_issues():
    sync = SyncPoint(index=0, after="o_proj", collective="all_reduce", group="tp")
    issue = Issue(("coll",), sync, True, False)
    stream = ["a", issue, issue, "b", "c", issue, "d"]
    assert segments(stream) == [["a", issue, issue], ["b", "c", issue], ["d"]]
    assert interleave(["a", issue, "b"], ["x", issue, "y"]) == ["a", issue, "x", issue, "b", "y"]


def test_send_recv_is_a_rendezvous_between_stages():
    graph = build_graph(load_dict(synth(pp=2)), Scenario(reduce=False))
    coll = next(
        n
        for n, a in graph.nodes(data=True)
        if a.get("kind") == "coll" and a["role"] == "stage" and n[1] == "decode" and n[2] == 1
    )
    assert coll[6] == (0, 1) and set(graph.nodes[coll]["issuers"]) == {0, 1}
    order_in = {u[4] for u in graph.predecessors(coll) if graph.edges[u, coll]["order"]}
    assert order_in == {0, 1}


def test_host_carries_the_token_between_decode_steps():
    graph = build_graph(load_dict(synth(pp=2)), Scenario(reduce=False))
    host = ("host", 1, 0)
    assert {u[6] for u in graph.predecessors(host)} == {"sample"}
    assert {v[6] for v in graph.successors(host)} == {"embed"}


def test_across_steps_removes_the_hosts_order_edge():
    plan = synth(pp=2)
    plan["phases"]["decode"]["overlap"] = "across_steps"
    graph = build_graph(load_dict(plan), Scenario(reduce=False))
    host = ("host", 1, 0)
    assert not any(graph.edges[u, host]["order"] for u in graph.predecessors(host))


def test_an_idle_replica_issues_nothing_under_skip():
    plan = synth(dp=2)
    plan["phases"]["decode"]["dp_idle"] = "skip"
    graph = build_graph(load_dict(plan), Scenario(idle=(("decode", 0),), reduce=False))
    assert ops_of(graph, 0) == [] and ops_of(graph, 1)


def test_reduction_keeps_the_ends_of_each_run():
    model = dict(TINY_DENSE, layers=12)
    unrolled = unroll(load_dict(synth(model, tp=2)))
    reduced = unrolled.graph
    assert unrolled.layer_classes == {0: (0,), 1: tuple(range(1, 10)), 10: (10,), 11: (11,)}
    assert {n[5] for n in ops_of(reduced, 0) if 0 <= n[5] < 12} == {0, 1, 10, 11}
