"""`.ci/run` runs exactly the README's test command (the brief's contract): every step of the
README's `pip install -e ".[test]" && ...` line is a line of `.ci/run`, in the same order."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(
        line
        for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
        for line in block.splitlines()
        if line.startswith('pip install -e ".[test]"')
    )
    return [step.strip() for step in line.split("&&")]


def ci_steps() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", " "))]


def test_ci_runs_the_readme_test_command_step_by_step():
    steps = readme_test_command()
    assert steps[0] == 'pip install -e ".[test]"' and "python -m pytest" in steps[-1]
    ci = ci_steps()
    positions = [next(i for i, line in enumerate(ci) if step in line) for step in steps]
    assert positions == sorted(positions)


def test_lint_and_types_run_before_the_tests():
    assert readme_test_command()[1:4] == ["ruff check", "ruff format --check", "mypy"]
