"""The pre-commit hook as users run it: the real `pre-commit try-repo` on a consumer repository.

pre-commit builds a virtualenv and pip-installs syncverify from the hook repository, so this
needs the package index and takes about a minute: one test, marked `slow` so that
`-m "not slow"` leaves it out. try-repo builds that environment again on every call (it keeps
its store in a temporary folder), so one run shows both outcomes: the broken plan fails the
hook, the clean plan beside it is checked and gives nothing, a Kubernetes manifest in a plan
folder is skipped, and a YAML file outside the plan folders is not passed to the hook at all.

The hook repository is a snapshot of this working tree (tracked and new files, as
`pip install .` would see them) committed into a temporary git repository, so work in
progress elsewhere in the tree cannot leave the installed package half-updated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "tests" / "data" / "cli"
GIT = [
    "git",
    "-c",
    "user.name=syncverify tests",
    "-c",
    "user.email=tests@localhost",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
]
NETWORK_TROUBLE = (
    "Could not find a version",
    "NewConnectionError",
    "Temporary failure in name",
    "Network is unreachable",
    "No matching distribution",
)


def git(cwd: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True)


def snapshot_of_this_repo(into: Path) -> Path:
    """This working tree's tracked and untracked-but-not-ignored files, committed."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # deleted but still tracked: skip
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    git(into, "init", "-q")
    git(into, "add", "-A")
    git(into, "commit", "-q", "-m", "snapshot")
    return into


def consumer_repo(into: Path) -> Path:
    """A repository with a clean plan, a broken plan, a Kubernetes manifest in deploy/ (a plan
    folder for the hook's `files:`, so it is passed: --force-exclude skips it, as it has no
    `syncverify:` key) and a YAML file outside the plan folders."""
    (into / "plans").mkdir(parents=True)
    (into / "deploy").mkdir()
    (into / "deploy" / "web.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    shutil.copy(PLANS / "small.yaml", into / "plans" / "good.yaml")
    shutil.copy(PLANS / "uneven.yaml", into / "plans" / "bad.yaml")
    (into / "workflow.yaml").write_text("name: not a plan\non: push\n")
    git(into, "init", "-q")
    git(into, "add", "-A")
    return into


@pytest.mark.slow
def test_pre_commit_try_repo_passes_good_plans_and_fails_bad_ones(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    hook = snapshot_of_this_repo(tmp_path / "hook")
    consumer = consumer_repo(tmp_path / "consumer")
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "GITHUB_ACTIONS",
            "GITHUB_WORKFLOW",
            "SYNCVERIFY_OUTPUT_FORMAT",
            "PYTEST_CURRENT_TEST",
            "FORCE_COLOR",
        )
    }
    env["PRE_COMMIT_HOME"] = str(tmp_path / "cache")

    def try_repo(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pre_commit",
                "try-repo",
                str(hook),
                "syncverify",
                "--color",
                "never",
                *args,
            ],
            cwd=consumer,
            env=env,
            capture_output=True,
            text=True,
        )
        output = proc.stdout + proc.stderr
        if "error has occurred" in output and any(s in output for s in NETWORK_TROUBLE):
            pytest.skip("pre-commit could not install the hook: no access to the package index")
        return proc

    proc = try_repo("--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "syncverify (parallel plan verifier)" in proc.stdout and "Failed" in proc.stdout
    assert "- exit code: 1" in proc.stdout
    assert "plans/bad.yaml:6:23: error:" in proc.stdout and "SV103" in proc.stdout
    assert "1 error in 1 of 2 files" in proc.stdout  # good.yaml was checked: no finding
    assert "plans/good.yaml" not in proc.stdout
    assert "workflow.yaml" not in proc.stdout  # `files:` keeps to plan folders
    assert "deploy/web.yaml" not in proc.stdout  # passed, and skipped: not a plan
