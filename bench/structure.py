"""Print figures about the package's structure (issue 12): what the loader imports, import
cycles, upward imports into the CLI, the longest parameter list, long lines.

    python bench/structure.py

Every figure is counted, not timed, so it is the same on any machine for one commit.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "syncverify"
CLI_MODULES = ("syncverify.cli", "syncverify.commands", "syncverify.__main__")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_files() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(node: ast.AST, here: str, is_package: bool) -> list[str]:
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


def loaded_by(module: str) -> int:
    code = f"import sys, {module}; print(sum(m.startswith('syncverify') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


def longest_parameter_lists(files: dict[str, Path], top: int = 3) -> list[tuple[int, str]]:
    found = []
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                found.append((count, f"{name}.{node.name}"))
    return sorted(found, reverse=True)[:top]


def long_lines(files: dict[str, Path], limit: int = 100) -> int:
    return sum(
        len(line) > limit
        for path in files.values()
        for line in path.read_text(encoding="utf-8").splitlines()
    )


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def upward_imports(graph: nx.DiGraph) -> list[tuple[str, str]]:
    below = [n for n in graph if not n.startswith(CLI_MODULES)]
    return [(a, b) for a in below for b in graph.successors(a) if b.startswith(CLI_MODULES)]


def main() -> None:
    files = package_files()
    print(f"modules in the package: {len(files)}")
    for module in ("syncverify.loader", "syncverify.yamlnodes", "syncverify"):
        print(f"syncverify modules loaded by `import {module}`: {loaded_by(module)}")
    for label, top_only in (("top-level imports", True), ("all imports", False)):
        found = cycles(import_graph(files, top_only))
        sizes = ", ".join(str(len(c)) for c in found) or "none"
        print(f"import cycles ({label}): {len(found)} (sizes: {sizes})")
        for c in found:
            print("   ", " -> ".join(c[:8]) + (" ..." if len(c) > 8 else ""))
    upward = upward_imports(import_graph(files, False))
    print(f"imports from below the CLI into it: {len(upward)}")
    for a, b in upward:
        print(f"    {a} -> {b}")
    for count, where in longest_parameter_lists(files):
        print(f"parameters: {count:3d}  {where}")
    print(f"lines over 100 characters: {long_lines(files)}")


if __name__ == "__main__":
    main()
