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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.import_graph import (  # noqa: E402
    cycles,
    import_graph,
    package_files,
    upward_imports,
)


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
