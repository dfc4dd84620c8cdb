"""The package's import structure (issue 12 item 2): no import cycle, top-level or inside a
function; nothing below the command line imports it; the commands take an arguments dataclass
instead of long keyword lists and return exit codes instead of exiting."""

from __future__ import annotations

import ast

import pytest

from tests.import_graph import (
    CLI_MODULES,
    cycles,
    import_graph,
    package_files,
    upward_imports,
)

MAX_COMMAND_PARAMETERS = 8


@pytest.fixture(scope="module")
def files():
    return package_files()


@pytest.fixture(scope="module")
def graph(files):
    return import_graph(files, top_level_only=False)


def test_no_import_cycle_at_all(graph):
    assert cycles(graph) == []


def test_no_top_level_import_cycle(files):
    assert cycles(import_graph(files, top_level_only=True)) == []


def test_nothing_below_the_command_line_imports_it(graph):
    assert upward_imports(graph) == []


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    """The walker reads imports inside functions too (where this package defers most)."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def later():\n    from pkg import b\n")
    (package / "b.py").write_text("from .a import later\n")
    (package / "c.py").write_text("import pkg.b\n")
    graph = import_graph(package_files(package), top_level_only=False)
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    assert cycles(import_graph(package_files(package), top_level_only=True)) == []


def test_an_import_into_the_command_line_is_found(tmp_path):
    package = tmp_path / "syncverify"
    (package / "commands").mkdir(parents=True)
    for name in ("__init__.py", "cli.py", "commands/__init__.py", "commands/check.py"):
        (package / name).write_text("")
    (package / "api.py").write_text("def check():\n    from syncverify.commands import check\n")
    graph = import_graph(package_files(package), top_level_only=False)
    assert upward_imports(graph) == [("syncverify.api", "syncverify.commands.check")]


def functions(files, where):
    for name, path in files.items():
        if where(name):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield name, node


def test_commands_take_an_arguments_dataclass_not_long_keyword_lists(files):
    long = [
        f"{name}.{node.name}: {count}"
        for name, node in functions(files, lambda name: name.startswith(CLI_MODULES))
        if (count := len(node.args.posonlyargs + node.args.args + node.args.kwonlyargs))
        > MAX_COMMAND_PARAMETERS
    ]
    assert long == []


def test_only_the_command_line_exits(files):
    """Commands and the library return exit codes; `sys.exit` is the console script's."""
    exits = [
        f"{name}:{node.lineno}"
        for name, path in files.items()
        if name != "syncverify.__main__"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "exit"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "sys"
    ]
    assert exits == []
