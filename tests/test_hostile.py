"""Hostile inputs through the real CLI: each exits 2 with a problem at file:line:column, the
code and message expected, and no traceback (tests/hostile_inputs.py lists them; bench/hostile.py
measures their time and memory, one process each)."""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.hostile_inputs import CASES, SMALL

ROOT = Path(__file__).resolve().parent.parent
LOCATED = re.compile(
    r"(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning|note) "
    r"(?P<code>SV\d{3}) (?P<message>.+)"
)


def clean_env() -> dict:
    drop = (
        "SYNCVERIFY_OUTPUT_FORMAT",
        "SYNCVERIFY_RAISE",
        "PYTEST_CURRENT_TEST",
        "GITHUB_ACTIONS",
        "GITHUB_WORKFLOW",
        "FORCE_COLOR",
    )
    return {k: v for k, v in os.environ.items() if k not in drop}


def syncverify(plans: list, folder: Path, args=(), stdin=None):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "syncverify",
            "check",
            "--format",
            "concise",
            "--isolated",
            *args,
            *plans,
        ],
        input=stdin,
        capture_output=True,
        env=clean_env(),
        cwd=folder,
        timeout=300,
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Case name -> (plan argument, the process that checked it). Plain file cases share one
    process (each file's problems are its own lines; any of them makes the exit code 2 on its
    own, as the bench shows one by one); cases with options or stdin get their own."""
    base = tmp_path_factory.mktemp("hostile")
    plans = {
        case.name: case.make(base / case.name)
        for case in CASES
        if (base / case.name).mkdir() is None
    }
    shared = [c for c in CASES if not c.args and not c.stdin]
    alone = [c for c in CASES if c.args or c.stdin]
    with ThreadPoolExecutor(max_workers=2) as pool:
        batch = pool.submit(syncverify, [plans[c.name] for c in shared], base)
        single = {
            c.name: pool.submit(
                syncverify, [plans[c.name]], base, c.args, c.stdin() if c.stdin else None
            )
            for c in alone
        }
        out = {c.name: (plans[c.name], batch.result()) for c in shared}
        out.update({name: (plans[name], future.result()) for name, future in single.items()})
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_input_is_refused_at_a_location(case, outcomes):
    plan, proc = outcomes[case.name]
    stdout, stderr = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stdout + stderr
    assert proc.returncode == 2, stdout + stderr
    for line in stdout.splitlines():
        assert LOCATED.fullmatch(line), line
    name = "<stdin>" if plan == "-" else plan
    lines = [line for line in stdout.splitlines() if LOCATED.fullmatch(line)["file"] == name]
    assert lines, stdout + stderr
    first = LOCATED.fullmatch(lines[0])
    assert (first["severity"], first["code"]) == ("error", case.code), lines[0]
    if case.line is not None:
        assert int(first["line"]) == case.line, lines[0]
    if case.column is not None:
        assert int(first["column"]) == case.column, lines[0]
    assert case.says in first["message"]


DEEP = "[" * 100_000 + "]" * 100_000
SIDE_FILES = {  # name -> (files to write beside the plan, extra options)
    "baseline-dev-zero": ({}, ("--baseline", "/dev/zero")),
    "baseline-nested-json": ({"base.json": DEEP}, ("--baseline", "base.json")),
    "config-nested-yaml": ({".syncverify.yaml": f"select: {DEEP}\n"}, ()),
    "pyproject-nested-toml": ({"pyproject.toml": f"[tool.syncverify]\nselect = {DEEP}\n"}, ()),
}


@pytest.mark.parametrize("name", sorted(SIDE_FILES))
def test_hostile_side_files_are_refused_with_a_message(name, tmp_path):
    """Baselines and configuration files are input too: refused cleanly, never an internal
    error or a hang."""
    files, options = SIDE_FILES[name]
    if "/dev/zero" in options and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    for file, text in files.items():
        (tmp_path / file).write_text(text)
    (tmp_path / "plan.yaml").write_text(SMALL)
    proc = subprocess.run(
        [sys.executable, "-m", "syncverify", "check", *options, "plan.yaml"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("syncverify: error: ") and "internal error" not in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
