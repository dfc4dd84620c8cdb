"""Running one attack case (tests/attack_inputs.py) as a user does: `python -m syncverify` in
its own folder, its own process. Shared by tests/test_attack.py and bench/attack.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.attack_inputs import Attack, Result, Run

DROPPED_ENV = (
    "SYNCVERIFY_OUTPUT_FORMAT",
    "SYNCVERIFY_RAISE",
    "PYTEST_CURRENT_TEST",
    "GITHUB_ACTIONS",
    "GITHUB_WORKFLOW",
    "FORCE_COLOR",
    "NO_COLOR",
    "COLUMNS",
)


def environment(run: Run) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(run.env)
    return env


def digest(path: Path) -> str | None:
    """The file's content hash (None when it is gone), following no link."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def command(run: Run) -> list[str]:
    return [sys.executable, "-m", "syncverify", *run.args]


def start(run: Run, folder: Path, limits: Callable | None = None) -> subprocess.Popen:
    """The process of `run` (stdin: its bytes, closed, or nothing to read)."""

    def prepare():
        if limits:
            limits()
        if run.close_stdin:
            os.close(0)

    return subprocess.Popen(
        command(run),
        cwd=folder,
        env=environment(run),
        stdin=subprocess.PIPE if run.stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=prepare,
    )


def attack(case: Attack, folder: Path, timeout: float = 300, limits=None):
    """(Run, Result, the inputs that changed) of one case run in `folder`."""
    run = case.setup(folder)
    before = {path: digest(path) for path in run.inputs}
    proc = start(run, folder, limits)
    out, err = proc.communicate(run.stdin, timeout=timeout)
    result = Result(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    changed = [str(path) for path, was in before.items() if digest(path) != was]
    return run, result, changed
