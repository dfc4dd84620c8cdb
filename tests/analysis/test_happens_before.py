"""Happens-before on hand-built DAGs, where the answer is obvious by reading."""

import networkx as nx

from syncverify.analysis.happens_before import OrderIndex, analyse_order, find_races
from syncverify.graph.nodes import coll_node, op_node


def op(rank, position, name="x"):
    return op_node("decode", 0, 0, rank, position, name)


def coll(index, members, issuers, is_async=False):
    return coll_node("decode", 0, 0, index, 0, tuple(members)), {
        "kind": "coll",
        "sync": index,
        "members": tuple(members),
        "issuers": dict.fromkeys(issuers, 0),
        "is_async": is_async,
        "collective": "all_reduce",
    }


def program(graph, rank, length, name="x"):
    """`length` ops on `rank`, chained by program order."""
    nodes = [op(rank, i, f"{name}{i}") for i in range(length)]
    for i, n in enumerate(nodes):
        graph.add_node(n, kind="op", rank=rank, position=i)
        if i:
            graph.add_edge(nodes[i - 1], n, order=True, data=[])
    return nodes


def edge(graph, u, v, order=False, data=()):
    if graph.has_edge(u, v):
        graph.edges[u, v]["order"] |= order
        graph.edges[u, v]["data"].extend(data)
    else:
        graph.add_edge(u, v, order=order, data=list(data))


def two_ranks_with_allreduce(blocking=True, wait_at=None):
    """Ranks 0 and 1 run a, b, c; a collective joins both after a; c reads its output."""
    g = nx.DiGraph()
    r0, r1 = program(g, 0, 3), program(g, 1, 3)
    node, attrs = coll(0, (0, 1), (0, 1), is_async=not blocking)
    g.add_node(node, **attrs)
    for ops in (r0, r1):
        edge(g, ops[0], node, order=True, data=[("in", None, None)])
        if blocking:
            edge(g, node, ops[1], order=True)
        elif wait_at is not None:
            edge(g, node, ops[wait_at], order=True)
        edge(g, node, ops[2], data=[("x", None, ops[2][4])])
    return g, r0, r1, node


def test_program_order_is_happens_before():
    g = nx.DiGraph()
    r0 = program(g, 0, 4)
    index = OrderIndex(g)
    assert index.ordered(r0[0], r0[3])
    assert not index.ordered(r0[3], r0[0])


def test_ranks_without_a_collective_are_unordered():
    g = nx.DiGraph()
    r0, r1 = program(g, 0, 2), program(g, 1, 2)
    index = OrderIndex(g)
    assert not index.ordered(r0[0], r1[1])


def test_blocking_collective_orders_its_consumers_on_every_member():
    g, r0, r1, _node = two_ranks_with_allreduce(blocking=True)
    index, races = analyse_order(g)
    assert races == []
    assert index.ordered(r0[0], r1[2])  # through the collective: rank 0's a before rank 1's c


def test_async_collective_never_awaited_is_a_race_on_each_reader():
    g, r0, r1, _node = two_ranks_with_allreduce(blocking=False)
    _, races = analyse_order(g)
    assert {(r.consumer, r.reason) for r in races} == {(r0[2], "unawaited"), (r1[2], "unawaited")}


def test_async_collective_awaited_before_its_reader_is_ordered():
    g, *_ = two_ranks_with_allreduce(blocking=False, wait_at=2)
    _, races = analyse_order(g)
    assert races == []


def test_wait_after_the_reader_is_awaited_late():
    g = nx.DiGraph()
    r0 = program(g, 0, 4)
    node, attrs = coll(0, (0,), (0,), is_async=True)
    g.add_node(node, **attrs)
    edge(g, r0[0], node, order=True, data=[("in", None, None)])
    edge(g, node, r0[3], order=True)  # waits before op 3 ...
    edge(g, node, r0[1], data=[("x", None, 0)])  # ... but op 1 reads it
    _, races = analyse_order(g)
    assert [(r.consumer, r.reason, r.wait) for r in races] == [(r0[1], "awaited-late", r0[3])]


def test_cycle_of_waits_is_detected_with_a_witness():
    g = nx.DiGraph()
    r0, r1 = program(g, 0, 2), program(g, 1, 2)
    a, attrs_a = coll(0, (0, 1), (0, 1))
    b, attrs_b = coll(1, (0, 1), (0, 1))
    g.add_node(a, **attrs_a)
    g.add_node(b, **attrs_b)
    # rank 0 waits in a before b; rank 1 waits in b before a
    edge(g, r0[0], a, order=True)
    edge(g, a, b, order=True)
    edge(g, r1[0], b, order=True)
    edge(g, b, a, order=True)
    index = OrderIndex(g)
    assert not index.acyclic
    cycle = index.cycle()
    assert set(cycle) == {a, b} and cycle[0] == min(cycle)


def test_a_deadlock_hides_no_race_among_the_ops_it_does_not_block():
    g = nx.DiGraph()
    r0, r1, r2 = program(g, 0, 2), program(g, 1, 2), program(g, 2, 2)
    a, attrs_a = coll(0, (0, 1), (0, 1))
    b, attrs_b = coll(1, (0, 1), (0, 1))
    g.add_node(a, **attrs_a)
    g.add_node(b, **attrs_b)
    edge(g, r0[0], a, order=True)  # ranks 0 and 1 wait on each other
    edge(g, a, b, order=True)
    edge(g, r1[0], b, order=True)
    edge(g, b, a, order=True)
    edge(g, a, r0[1], order=True)
    edge(g, b, r1[1], order=True)
    edge(g, r2[0], r1[1], data=[("x", None, None)])  # read after the cycle
    edge(g, r0[0], r2[1], data=[("x", None, None)])  # nothing orders it
    index, races = analyse_order(g)
    assert not index.acyclic
    # rank 2 is not blocked: its unordered read of rank 0's first op is a race; the read on
    # rank 1, behind the cycle, never runs
    assert [(r.producer, r.consumer, r.reason) for r in races] == [(r0[0], r2[1], "unordered")]


def test_removing_a_node_recomputes_order():
    g, r0, r1, node = two_ranks_with_allreduce(blocking=True)
    without = OrderIndex(g, removed=[node])
    assert not without.ordered(r0[0], r1[2])
    assert find_races(g, without, skip=[node]) == []


def test_data_edges_of_a_collective_that_never_completes_are_left_to_matching():
    g = nx.DiGraph()
    r0, _r1 = program(g, 0, 3), program(g, 1, 3)
    node, attrs = coll(0, (0, 1), (0,), is_async=True)  # rank 1 never issues it
    g.add_node(node, **attrs)
    edge(g, r0[0], node, order=True, data=[("in", None, None)])
    edge(g, node, r0[2], data=[("x", None, 0)])
    _, races = analyse_order(g)
    assert races == []
