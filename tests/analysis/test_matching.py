"""Collective matching on hand-built DAGs: missing ranks, order and size mismatches."""

import networkx as nx

from syncverify.analysis.matching import missing_ranks, order_mismatches
from syncverify.graph.nodes import coll_node


def add_coll(g, index, members, issuers, layer=0, collective="all_reduce"):
    node = coll_node("prefill", 0, 0, index, layer, members)
    g.add_node(
        node,
        kind="coll",
        sync=index,
        members=tuple(members),
        issuers=dict(issuers),
        collective=collective,
        role="",
    )
    return node


def test_every_member_issuing_every_call_in_order_matches():
    g = nx.DiGraph()
    add_coll(g, 0, (0, 1), {0: 0, 1: 0})
    add_coll(g, 1, (0, 1), {0: 1, 1: 1})
    assert missing_ranks(g, lambda n, r: "never-reaches") == []
    assert order_mismatches(g) == []


def test_a_member_that_never_issues_is_a_missing_rank():
    g = nx.DiGraph()
    node = add_coll(g, 0, (0, 1, 2, 3), {0: 0, 1: 0})
    hangs = missing_ranks(g, lambda n, r: "selector")
    assert [(h.node, h.missing, h.issuers, h.reason) for h in hangs] == [
        (node, (2, 3), (0, 1), "selector")
    ]


def test_idle_wins_over_other_reasons():
    g = nx.DiGraph()
    add_coll(g, 0, (0, 1, 2), {0: 0})
    hangs = missing_ranks(g, lambda n, r: "idle" if r == 2 else "selector")
    assert hangs[0].reason == "idle"


def test_members_issuing_complete_calls_in_different_orders_mismatch():
    g = nx.DiGraph()
    a = add_coll(g, 0, (0, 1), {0: 0, 1: 1})
    b = add_coll(g, 1, (0, 1), {0: 1, 1: 0})
    hangs = order_mismatches(g)
    assert len(hangs) == 1
    assert {hangs[0].node, hangs[0].other} == {a, b} and hangs[0].ranks == (0, 1)


def test_groups_with_the_same_ranks_are_one_communicator():
    """S1: EP4 inside TP4 is the TP group: their calls interleave on one communicator."""
    g = nx.DiGraph()
    add_coll(g, 0, (0, 1), {0: 0, 1: 0})  # over tp
    add_coll(g, 1, (0, 1), {0: 1, 1: 2})  # over ep (same ranks)
    add_coll(g, 2, (0, 1), {0: 2, 1: 1})
    assert len(order_mismatches(g)) == 1


def test_point_to_point_calls_match_per_direction():
    g = nx.DiGraph()
    forward = coll_node("decode", 0, 0, 0, -1, (0, 1))
    back = coll_node("decode", 0, 0, 1, 4, (1, 0))
    for node, index, issuers in ((forward, 0, {0: 0, 1: 1}), (back, 1, {1: 0, 0: 1})):
        g.add_node(
            node,
            kind="coll",
            sync=index,
            members=(0, 1),
            issuers=issuers,
            collective="send_recv",
            role="stage",
        )
    assert order_mismatches(g) == []
