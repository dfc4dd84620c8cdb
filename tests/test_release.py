"""The release routine (.ci/release, docs/releasing.md), run in a scratch clone of this repo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A repository holding this checkout's release files, committed, with no tags."""
    repo = tmp_path / "repo"
    (repo / "syncverify").mkdir(parents=True)
    (repo / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "release", repo / ".ci" / "release")
    # the repository's own CHANGELOG may have nothing unreleased (just after a release): the
    # routine is tried on one that has, in the same layout
    (repo / "CHANGELOG.md").write_text(
        "# Changelog\n\n## Unreleased\n\n### Added\n- something\n\n## 0.0.1 - 2026-01-01\n\n- x\n"
    )
    shutil.copy(ROOT / "syncverify" / "__init__.py", repo / "syncverify" / "__init__.py")
    for args in (
        ("git", "init", "-q"),
        ("git", "config", "user.email", "t@example.com"),
        ("git", "config", "user.name", "t"),
        ("git", "add", "."),
        ("git", "commit", "-qm", "start"),
    ):
        assert run(repo, *args).returncode == 0
    return repo


def release(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run(repo, sys.executable, ".ci/release", *args, "--date", "2026-12-08")


def test_a_release_writes_the_version_moves_the_entries_and_tags(clone: Path):
    done = release(clone, "7.8.9")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "released v7.8.9; publish with: git push origin HEAD v7.8.9"
    assert '__version__ = "7.8.9"' in (clone / "syncverify" / "__init__.py").read_text()
    changelog = (clone / "CHANGELOG.md").read_text()
    unreleased, released = changelog.split("## Unreleased\n")[1].split("## 7.8.9 - 2026-12-08\n")
    assert unreleased.strip() == ""  # an empty section for what comes next
    assert "### Added" in released
    assert run(clone, "git", "tag", "--list").stdout.split() == ["v7.8.9"]
    assert run(clone, "git", "log", "-1", "--format=%s").stdout.strip() == "Release 7.8.9"
    assert run(clone, "git", "status", "--porcelain").stdout == ""


@pytest.mark.parametrize(
    ("edit", "version", "reason"),
    [
        ("dirty", "1.0.0", "uncommitted changes"),
        (None, "1.0", "is not a version"),
        ("tagged", "1.0.0", "v1.0.0 is already released"),
        ("tagged", "0.9.9", "v1.0.0 is already released"),
        ("empty", "1.0.0", "section is empty"),
    ],
)
def test_a_refused_release_says_why_and_writes_nothing(clone, edit, version, reason):
    if edit == "dirty":
        (clone / "CHANGELOG.md").write_text("edited\n")
    elif edit == "tagged":
        assert run(clone, "git", "tag", "-a", "v1.0.0", "-m", "x").returncode == 0
    elif edit == "empty":
        (clone / "CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n\n## 0.0.1 - x\n")
        run(clone, "git", "commit", "-qam", "empty")
    before = {
        p.name: p.read_bytes()
        for p in (clone / "CHANGELOG.md", clone / "syncverify" / "__init__.py")
    }
    head = run(clone, "git", "rev-parse", "HEAD").stdout
    done = release(clone, version)
    assert done.returncode == 2
    assert reason in done.stderr and "Traceback" not in done.stderr
    after = {
        p.name: p.read_bytes()
        for p in (clone / "CHANGELOG.md", clone / "syncverify" / "__init__.py")
    }
    assert after == before and run(clone, "git", "rev-parse", "HEAD").stdout == head


def test_the_docs_name_a_release_that_the_changelog_can_cut():
    """docs/ci.md's `rev:` names the version in syncverify/__init__.py, the next or last release."""
    import syncverify

    assert f"rev: v{syncverify.__version__}" in (ROOT / "docs" / "ci.md").read_text()
