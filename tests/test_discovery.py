"""Repository scope (issue 13 item 6): which YAML files a run checks, seen from the user's side.

A repository holds plans next to Kubernetes manifests and CI workflows. A folder walk (and the
pre-commit hook, which passes file names with --force-exclude) checks only files with a top-level
`syncverify:` key and skips the others, saying so under --verbose; a file named on the command
line is checked whatever it holds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncverify.cli import cli
from syncverify.discovery import SCAN_BYTES, may_be_plan, plan_files

PLANS = Path(__file__).parent / "data" / "cli"
MANIFEST = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
NOTE = "syncverify: note: skipped deploy/web.yaml: no top-level `syncverify:` key, not a plan"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository: a clean plan, a Kubernetes manifest, a workflow; the current directory."""
    (tmp_path / "plans").mkdir()
    (tmp_path / "deploy").mkdir()
    shutil.copy(PLANS / "small.yaml", tmp_path / "plans" / "small.yaml")
    (tmp_path / "deploy" / "web.yaml").write_text(MANIFEST)
    (tmp_path / "ci.yml").write_text("name: ci\non: push\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*args: str):
    return CliRunner().invoke(cli, ["check", "--format", "concise", *args])


def test_a_folder_walk_checks_the_plans_and_skips_a_manifest(repo):
    result = check(".")
    assert result.exit_code == 0, result.output
    assert "web.yaml" not in result.output and "ci.yml" not in result.output


def test_verbose_says_which_files_were_skipped_and_why(repo):
    result = check("--verbose", ".")
    assert result.exit_code == 0, result.output
    assert NOTE in result.stderr
    assert "plans/small.yaml" not in result.stderr


def test_a_manifest_named_on_the_command_line_is_still_an_error(repo):
    result = check("deploy/web.yaml")
    assert result.exit_code == 2
    assert "deploy/web.yaml:1:1: error SV003" in result.stdout


def test_the_hooks_force_exclude_skips_a_manifest_it_is_passed(repo):
    result = check("--force-exclude", "-v", "deploy/web.yaml", "plans/small.yaml")
    assert result.exit_code == 0, result.output
    assert NOTE in result.stderr


def test_the_hook_passed_only_a_manifest_does_not_fail(repo):
    assert check("--force-exclude", "deploy/web.yaml").exit_code == 0


def test_a_broken_plan_is_still_checked_by_the_hook(repo):
    shutil.copy(PLANS / "unknown-key.yaml", repo / "plans" / "typo.yaml")
    result = check("--force-exclude", "plans/typo.yaml")
    assert result.exit_code == 2 and "plans/typo.yaml:" in result.stdout


def test_a_folder_with_only_manifests_is_reported_as_without_plans(repo):
    result = check("deploy")
    assert result.exit_code == 2
    assert "deploy:1:1: error SV001 'deploy' is a directory, not a plan file" in result.stdout


def test_an_unreadable_file_named_explicitly_is_reported(repo):
    result = check("--force-exclude", "plans/missing.yaml")
    assert result.exit_code == 2 and "plans/missing.yaml:1:1: error SV001" in result.stdout


@pytest.mark.parametrize(
    "text",
    [
        "syncverify: 1\nname: x\n",
        "# a plan\n\n'syncverify': 1\n",
        '"syncverify" : 1\n',
        "\ufeffsyncverify: 1\n",
        "name: x\nsyncverify: 1\n",
        "{syncverify: 1, name: x}\n",  # a flow mapping: the loader decides
        '# a plan as JSON\n---\n{\n  "name": "x",\n  "syncverify": 1\n}\n',
        "%YAML 1.2\n--- {name: x, syncverify: 1}\n",
        "---\nsyncverify: 1\n",
    ],
)
def test_what_counts_as_a_plan(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    assert may_be_plan(path)


@pytest.mark.parametrize(
    "text",
    [
        MANIFEST,
        "name: x\n  syncverify: 1\n",
        "# syncverify: 1\nkind: Pod\n",
        "syncverify_x: 1\n",
        '{"apiVersion": "v1", "kind": "Pod"}\n',  # a manifest written as JSON
        'data:\n  config.json: |\n    {"a": 1}\n',  # JSON inside a block scalar
    ],
)
def test_what_is_no_plan(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert not may_be_plan(path)


def test_a_huge_file_is_read_only_so_far_and_then_checked(tmp_path):
    """Past the scanned head the key could still come: the file is checked (fail closed)."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (SCAN_BYTES // 10 + 1))
    assert may_be_plan(path)


def test_walk_skips_hidden_folders_and_keeps_the_order(tmp_path):
    for name in ("b.yml", "a.yaml", "sub/c.yaml", ".hidden/d.yaml", ".e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("syncverify: 1\n")
    found = plan_files([str(tmp_path)]).files
    assert [Path(f).relative_to(tmp_path).as_posix() for f in found] == [
        "a.yaml",
        "b.yml",
        "sub/c.yaml",
    ]


def test_check_with_no_path_checks_the_repository(repo):
    result = CliRunner().invoke(cli, ["check", "--verbose"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "no findings in 1 file\n"
    assert NOTE in result.stderr


def test_check_with_no_path_in_a_repository_without_plans_says_so(repo):
    shutil.rmtree(repo / "plans")
    result = check()
    assert result.exit_code == 2
    assert ".:1:1: error SV001 '.' is a directory, not a plan file" in result.stdout


# ---------------------------------------------------------------- exclude / extend-exclude


def broken_plan(repo: Path, where: str) -> None:
    (repo / where).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLANS / "uneven.yaml", repo / where)


def test_default_excludes_skip_vendored_folders_in_a_walk(repo):
    broken_plan(repo, "node_modules/pkg/plan.yaml")
    broken_plan(repo, "venv/lib/plan.yaml")
    result = check("-v", ".")
    assert result.exit_code == 0, result.output
    assert "syncverify: note: skipped node_modules: matches exclude / extend-exclude" in (
        result.stderr
    )


def test_extend_exclude_in_the_configuration_is_relative_to_it(repo):
    broken_plan(repo, "plans/legacy/old.yaml")
    broken_plan(repo, "other/legacy/old.yaml")
    (repo / ".syncverify.yaml").write_text('extend-exclude: ["plans/legacy/"]\n')
    result = check(".")
    assert result.exit_code == 1
    assert "other/legacy/old.yaml:6:23: error SV103" in result.stdout
    assert "plans/legacy" not in result.stdout


def test_a_name_pattern_matches_at_any_depth(repo):
    broken_plan(repo, "a/b/drafts/x.yaml")
    (repo / "pyproject.toml").write_text('[tool.syncverify]\nextend-exclude = ["drafts"]\n')
    assert check(".").exit_code == 0


def test_exclude_replaces_the_defaults(repo):
    broken_plan(repo, "node_modules/pkg/plan.yaml")
    (repo / ".syncverify.yaml").write_text("exclude: []\n")
    result = check(".")
    assert result.exit_code == 1
    assert "node_modules/pkg/plan.yaml:6:23" in result.stdout


def test_the_command_line_twins(repo):
    broken_plan(repo, "plans/legacy/old.yaml")
    assert check("--extend-exclude", "legacy", ".").exit_code == 0
    broken_plan(repo, "node_modules/pkg/plan.yaml")
    assert check("--exclude", "legacy", ".").exit_code == 1  # node_modules no longer skipped


def test_a_file_named_is_checked_even_when_excluded(repo):
    broken_plan(repo, "plans/legacy/old.yaml")
    result = check("--extend-exclude", "legacy", "plans/legacy/old.yaml")
    assert result.exit_code == 1


def test_the_hook_applies_exclude_to_the_files_it_passes(repo):
    broken_plan(repo, "plans/legacy/old.yaml")
    (repo / ".syncverify.yaml").write_text("extend-exclude: [legacy]\n")
    result = check("--force-exclude", "-v", "plans/legacy/old.yaml", "plans/small.yaml")
    assert result.exit_code == 0, result.output
    assert "skipped plans/legacy/old.yaml: matches exclude / extend-exclude" in result.stderr


def test_a_folder_named_is_walked_even_when_its_name_is_excluded(repo):
    broken_plan(repo, "dist/plan.yaml")
    assert check("dist").exit_code == 1


@pytest.mark.parametrize(
    "config, message",
    [
        ("exclude: k8s\nextend-exclud: [x]\n", "unknown option 'extend-exclud'; did you mean"),
        ("extend-exclude: {a: 1}\n", "extend-exclude: expected a list of file patterns"),
        ("exclude: [1]\n", "exclude: expected a list of file patterns"),
    ],
)
def test_configuration_mistakes_are_usage_errors(repo, config, message):
    (repo / ".syncverify.yaml").write_text(config)
    result = check(".")
    assert result.exit_code == 2
    assert message in result.stderr and ".syncverify.yaml" in result.stderr


def test_walk_orders_the_paths_as_text(tmp_path):
    """As before the walk had exclusions: `a-b/c.yaml` before `a/b.yaml` ('-' < '/')."""
    for name in ("a/b.yaml", "a-b/c.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("syncverify: 1\n")
    found = plan_files([str(tmp_path)]).files
    assert [Path(f).relative_to(tmp_path).as_posix() for f in found] == ["a-b/c.yaml", "a/b.yaml"]
