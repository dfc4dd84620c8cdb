"""The executor is an independent reading of the plan format: it shares the plan model and the
rank topology with the checker, and no scheduling or analysis code (issue 10).

Every module of syncverify/simulate is parsed (not imported) and its imports followed, module
by module within syncverify, function-level and TYPE_CHECKING imports included; none may reach
the checker's graph, analyses or rules.
"""

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("syncverify.graph", "syncverify.analysis", "syncverify.rules")
EXECUTOR = sorted((PACKAGE_ROOT / "syncverify" / "simulate").glob("*.py"))


def source_of(module: str):
    """The file of a syncverify module or package, or None (a name inside a module)."""
    base = PACKAGE_ROOT.joinpath(*module.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set:
    """Every module name `path` imports, relative imports resolved; `from m import x` names
    both `m` and `m.x` (x may be a submodule)."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def import_chain(start: Path) -> dict:
    """syncverify module -> the module that first imported it, walking from `start`."""
    parent = {module_name(start): None}
    todo = [module_name(start)]
    while todo:
        current = todo.pop()
        path = source_of(current)
        if path is None:
            continue
        for name in imported_names(path):
            if (
                name.startswith("syncverify")
                and name not in parent
                and (source_of(name) is not None or name.startswith(FORBIDDEN))
            ):
                parent[name] = current
                todo.append(name)
    return parent


def path_to(parent: dict, name: str) -> str:
    chain = [name]
    while parent[chain[-1]] is not None:
        chain.append(parent[chain[-1]])
    return " <- ".join(chain)


def test_the_walk_sees_the_executor_modules():
    """The walk is not vacuous: it finds the executor's modules and what they share."""
    names = {module_name(p) for p in EXECUTOR}
    assert {"syncverify.simulate", "syncverify.simulate.runtime"} <= names
    reached = import_chain(PACKAGE_ROOT / "syncverify" / "simulate" / "runtime.py")
    assert "syncverify.plan" in reached and "syncverify.topology" in reached


def test_the_walk_finds_a_forbidden_import():
    """The test can fail: the agreement harness, which runs both sides, reaches the checker's
    rules through a function-level import, and the walk sees it."""
    parent = import_chain(PACKAGE_ROOT / "syncverify" / "agreement.py")
    assert "syncverify.rules" in parent


@pytest.mark.parametrize("path", EXECUTOR, ids=lambda p: p.stem)
def test_no_executor_module_reaches_the_checker(path):
    parent = import_chain(path)
    reached = sorted(name for name in parent if name.startswith(FORBIDDEN))
    assert not reached, "\n".join(path_to(parent, name) for name in reached)
