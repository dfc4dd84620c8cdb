"""DAG node keys are read by field name (issue 12): `node.layer`, never `node[5]`.

What this covers, honestly: an AST walk over every module of the package for a subscript by an
integer literal (`x[6]`, `x[1:5]`, `x[-1]`) whose subject is a name that holds a DAG node in this
code base (`node`, `n`, `u`, `v`, ...) or an attribute that does (`d.node`, `race.producer`).
A node held under another name, or read through a computed index, is not seen; a name of that
list bound to something else is (rename it rather than index it). Only graph/nodes.py, which
defines the keys, is exempt. At run time, every key of a
built graph, as the graph hands it out (nodes and both ends of every edge), is a named key.
"""

from __future__ import annotations

import ast
from pathlib import Path

from syncverify.analysis import run_analyses
from syncverify.graph.nodes import CollNode, HostNode, OpNode, SinkNode, as_node, describe
from syncverify.graph.nodes import op_node as make_op
from syncverify.loader import load_plan

PACKAGE = Path(__file__).resolve().parent.parent / "syncverify"
PLANS = Path(__file__).resolve().parent.parent / "plans"
NODE_NAMES = {"node", "n", "u", "v", "nxt", "coll", "sink", "host", "later", "tail"}
NODE_ATTRIBUTES = {"node", "producer", "consumer"}


def _is_int(expr: ast.expr | None) -> bool:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        expr = expr.operand
    return isinstance(expr, ast.Constant) and type(expr.value) is int


def _by_position(sub: ast.Subscript) -> bool:
    index = sub.slice
    if isinstance(index, ast.Slice):
        return any(_is_int(part) for part in (index.lower, index.upper))
    return _is_int(index)


def _holds_a_node(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id in NODE_NAMES
    return isinstance(expr, ast.Attribute) and expr.attr in NODE_ATTRIBUTES


def positional_reads(source: str, name: str) -> list[str]:
    return [
        f"{name}:{sub.lineno}: {ast.unparse(sub)}"
        for sub in ast.walk(ast.parse(source))
        if isinstance(sub, ast.Subscript) and _holds_a_node(sub.value) and _by_position(sub)
    ]


def test_no_module_reads_a_node_by_position():
    found = [
        read
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() != "graph/nodes.py"
        for read in positional_reads(path.read_text(encoding="utf-8"), str(path))
    ]
    assert found == []


def test_the_walk_finds_a_positional_read():
    sample = "def f(node, d, key):\n    return node[6], d.node[1:5], n[-1], node.layer, key[0]\n"
    assert positional_reads(sample, "sample.py") == [
        "sample.py:2: node[6]",
        "sample.py:2: d.node[1:5]",
        "sample.py:2: n[-1]",
    ]


def test_every_key_the_graph_hands_out_has_its_field_names():
    analyses = run_analyses(load_plan(PLANS / "llama-3.1-70b-tp8-pp2.yaml"))
    graph = analyses.graph
    named = (OpNode, CollNode, HostNode, SinkNode)
    assert all(isinstance(n, named) for n in graph)
    assert all(isinstance(u, named) and isinstance(v, named) for u, v in graph.edges())
    assert {type(n) for n in graph} == set(named)


def test_keys_equal_hash_and_print_as_the_tuples_they_replace():
    key = make_op("decode", 1, 0, 3, 40, "o_proj")
    plain = ("op", "decode", 1, 0, 3, 40, "o_proj")
    assert key == plain and hash(key) == hash(plain) and repr(key) == repr(plain)
    assert (key.kind, key.layer, key.op) == ("op", 40, "o_proj")
    assert as_node(plain) == key and type(as_node(plain)) is OpNode
    assert (
        describe(plain, 80) == describe(key, 80) == "decode step 1 mb 0 rank 3: o_proj of layer 40"
    )


def test_analyses_carry_what_the_graph_was_unrolled_over():
    analyses = run_analyses(load_plan(PLANS / "llama-3.1-70b-tp8-pp2.yaml"))
    # ... in typed fields only: the graph's own attributes carry no untyped copy of them
    assert not {"worlds", "classes", "layer_classes"} & set(analyses.graph.graph)
    assert set(analyses.worlds) == {p.name for p in analyses.plan.phases}
    layers = sorted(layer for real in analyses.layer_classes.values() for layer in real)
    assert layers == list(range(analyses.plan.model.layers))
    assert set(analyses.worlds) <= set(analyses.classes.ranks)
