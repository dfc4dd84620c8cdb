"""What named fields on DAG node keys cost (issue 12): plain tuples read by index against
NamedTuple keys read by attribute, on as many op nodes as the largest DAG the checker builds.

    python bench/node_keys.py [--nodes 250000] [--repeat 5]

Compares plain tuples with `syncverify.graph.nodes.op_node` (the keys the graph uses). For each
it prints the CPU time (best of --repeat) to create the keys, to insert
them in a networkx DiGraph (hashing dominates), to look each one up again, and to read two fields
of every key. The keys of both representations are equal and hash alike, so a graph built with
one answers lookups made with the other.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import networkx as nx

from syncverify.graph.nodes import op_node

OP_LAYER, OP_NAME = 5, 6


def tuple_key(phase: str, step: int, mb: int, rank: int, layer: int, op: str) -> tuple:
    return ("op", phase, step, mb, rank, layer, op)


def cpu(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def coordinates(nodes: int) -> list[tuple]:
    ops = ("qkv", "attention", "o_proj", "up", "down")
    return [("decode", i % 3, i % 4, i % 1024, i % 61, ops[i % 5]) for i in range(nodes)]


def measure(name: str, make: Callable, coords: list[tuple], repeat: int) -> dict[str, float]:
    keys = [make(*c) for c in coords]
    graph = nx.DiGraph()
    graph.add_nodes_from(keys)
    if name == "tuple":

        def read() -> object:
            return [(k[OP_LAYER], k[OP_NAME]) for k in keys]
    else:

        def read() -> object:
            return [(k.layer, k.op) for k in keys]

    return {
        "create": cpu(lambda: [make(*c) for c in coords], repeat),
        "insert": cpu(lambda: nx.DiGraph().add_nodes_from(keys), repeat),
        "lookup": cpu(lambda: [k in graph for k in keys], repeat),
        "read 2 fields": cpu(read, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    coords = coordinates(args.nodes)
    assert op_node(*coords[0]) == tuple_key(*coords[0])
    assert hash(op_node(*coords[0])) == hash(tuple_key(*coords[0]))
    rows = {
        "tuple": measure("tuple", tuple_key, coords, args.repeat),
        "NamedTuple": measure("NamedTuple", op_node, coords, args.repeat),
    }
    print(f"{args.nodes:,} op node keys, CPU seconds (best of {args.repeat})")
    print(f"{'':16}{'tuple':>10}{'NamedTuple':>12}{'ratio':>8}")
    for step in rows["tuple"]:
        plain, named = rows["tuple"][step], rows["NamedTuple"][step]
        print(f"{step:16}{plain:10.3f}{named:12.3f}{named / plain:8.2f}")


if __name__ == "__main__":
    main()
