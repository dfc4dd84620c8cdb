"""The package's import graph, read from the source (AST; top-level and function-level imports):
its cycles and the imports from below the command line into it. Used by
tests/test_import_structure.py and bench/structure.py."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "syncverify"
# the command line: the click layer, its subcommands and `python -m syncverify`
CLI_MODULES = ("syncverify.cli", "syncverify.commands", "syncverify.__main__")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Module name -> source file, for every module of `package`."""
    return {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}


def imported(node: ast.AST, here: str, is_package: bool) -> list[str]:
    """The modules (or module.name) an import statement in module `here` names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parent = here.split(".")
        parent = parent[: len(parent) - node.level + (1 if is_package else 0)]
        base = ".".join(parent + ([base] if base else []))
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph(files: dict[str, Path], top_level_only: bool) -> nx.DiGraph:
    """An edge a -> b for each import of module b in module a (both in `files`)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if top_level_only else ast.walk(tree)
        for node in nodes:
            # `from pkg import module` depends on the module; `from pkg import name`, on pkg
            targets = [t for t in imported(node, name, path.name == "__init__.py") if t in files]
            for target in targets[:1] if isinstance(node, ast.ImportFrom) else targets:
                if target != name:
                    graph.add_edge(name, target)
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """The modules of each import cycle (a strongly connected component), sorted."""
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def upward_imports(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """(importer, imported) for each import of a CLI module by a module below the CLI."""
    below = [n for n in graph if not n.startswith(CLI_MODULES)]
    return [(a, b) for a in below for b in graph.successors(a) if b.startswith(CLI_MODULES)]
