"""The snippets in docs/ci.md, docs/config.md and docs/suppressions.md, and the hook manifest,
do what the pages say: users copy them."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from syncverify.config import load_settings, resolve
from syncverify.suppressions import directives_of
from tests.cli_plans import check, plan_text, write

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def blocks(page: str, language: str) -> list[str]:
    text = (DOCS / page).read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def pre_commit(*args: str) -> subprocess.CompletedProcess:
    pytest.importorskip("pre_commit")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], capture_output=True, text=True, cwd=ROOT
    )


# ------------------------------------------------------------------------- pre-commit


def manifest() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == ["syncverify"]
    return hooks[0]


def test_hook_manifest_is_valid_for_pre_commit():
    proc = pre_commit("validate-manifest", ".pre-commit-hooks.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hook_runs_check_serially_on_yaml_files():
    hook = manifest()
    assert hook["entry"] == "syncverify check --force-exclude" and hook["language"] == "python"
    assert hook["require_serial"] is True and hook["types"] == ["yaml"]


@pytest.mark.parametrize(
    "path, matched",
    [
        ("plans/llama.yaml", True),
        ("plan/a.yml", True),
        ("infra/deploy/x/y.yaml", True),
        ("deployments/z.yaml", True),
        (".github/workflows/ci.yaml", False),
        ("plans.yaml", False),
        ("myplans/a.yaml", False),
        ("plans/readme.md", False),
    ],
)
def test_hook_files_pattern_keeps_to_plan_folders(path, matched):
    assert bool(re.search(manifest()["files"], path)) is matched


def test_pre_commit_configurations_in_the_docs_are_valid(tmp_path):
    configs = [b for b in blocks("ci.md", "yaml") if b.startswith("repos:")]
    assert len(configs) == 2
    for n, config in enumerate(configs):
        path = tmp_path / f"config{n}.yaml"
        path.write_text(config)
        proc = pre_commit("validate-config", str(path))
        assert proc.returncode == 0, proc.stdout + proc.stderr


# ------------------------------------------------------------------------- GitHub Actions


def workflow() -> dict:
    found = [b for b in blocks("ci.md", "yaml") if b.startswith("name: plans")]
    assert len(found) == 1
    return yaml.safe_load(found[0])


def test_workflow_can_upload_sarif():
    job = workflow()["jobs"]["syncverify"]
    assert job["permissions"]["security-events"] == "write"
    upload = [
        s
        for s in job["steps"]
        if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    ]
    assert upload and upload[0]["uses"].endswith("@v4")
    assert upload[0]["if"] == "always()"
    assert upload[0]["with"]["sarif_file"] == "syncverify.sarif"


def test_workflow_commands_work_on_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "plans/ok.yaml", plan_text())
    write(tmp_path, "plans/bad.yaml", plan_text(layers=5))
    runs = [
        s["run"]
        for s in workflow()["jobs"]["syncverify"]["steps"]
        if s.get("run", "").startswith("syncverify ")
    ]
    gate, sarif = (shlex.split(run)[1:] for run in runs)
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "plans"}
    result = check(*gate[1:], env=actions)
    assert result.exit_code == 1 and result.stdout.startswith("::group::plans/bad.yaml")
    result = check(*sarif[1:], env=actions)
    assert result.exit_code == 0 and (tmp_path / "syncverify.sarif").is_file()


# ------------------------------------------------------------------------- config, suppressions


def test_both_configuration_examples_mean_the_same(tmp_path):
    (toml,) = blocks("config.md", "toml")
    (yaml_text,) = [b for b in blocks("config.md", "yaml") if b.startswith("# .syncverify")]
    write(tmp_path, "pyproject.toml", toml)
    write(tmp_path, ".syncverify.yaml", yaml_text)
    from_toml = resolve([load_settings(tmp_path / "pyproject.toml")])
    from_yaml = resolve([load_settings(tmp_path / ".syncverify.yaml")])
    assert from_toml == from_yaml
    assert "SV702" in from_toml.reported and "SV404" not in from_toml.reported
    assert from_toml.severity == {"SV702": "error", "SV709": "note"}
    assert from_toml.fail_on == "warning"


def test_suppression_example_is_well_formed():
    (example,) = [b for b in blocks("suppressions.md", "yaml") if "syncverify:" in b]
    parsed = directives_of(example)
    assert parsed.invalid == []
    assert [d.kind for d in parsed.directives] == [
        "disable-file",
        "disable-line",
        "disable-next-line",
        "disable",
        "enable",
    ]
