"""Configuration files from the user's side: discovery (nearest wins), --config, --isolated,
select / extend-select / ignore, severity overrides, fail-on, and the command line on top."""

from __future__ import annotations

import pytest

from tests.cli_plans import check, plan_text, write

WARNING_AND_NOTE = plan_text(mb=1, kv=1)  # SV702 warning 6:27, SV709 note 4:16


def codes(result) -> list[str]:
    return [line.split()[2] for line in result.stdout.splitlines()]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository: plans at the root and in a sub-project; cwd is the root."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "plans/a.yaml", WARNING_AND_NOTE)
    write(tmp_path, "team/plans/b.yaml", WARNING_AND_NOTE)
    return tmp_path


def test_pyproject_tool_table_applies(repo):
    write(
        repo, "pyproject.toml", '[project]\nname = "x"\n\n[tool.syncverify]\nignore = ["SV709"]\n'
    )
    assert codes(check("-f", "concise", "plans/a.yaml")) == ["SV702"]


def test_syncverify_yaml_applies(repo):
    write(repo, ".syncverify.yaml", "select: [SV709]\n")
    assert codes(check("-f", "concise", "plans/a.yaml")) == ["SV709"]


def test_nearest_configuration_wins_per_plan(repo):
    write(repo, ".syncverify.yaml", "ignore: [SV709]\n")
    write(repo, "team/pyproject.toml", "[tool.syncverify]\nignore = ['SV702']\n")
    result = check("-f", "concise", "plans/a.yaml", "team/plans/b.yaml")
    assert [(line.split(":")[0], line.split()[2]) for line in result.stdout.splitlines()] == [
        ("plans/a.yaml", "SV702"),
        ("team/plans/b.yaml", "SV709"),
    ]


def test_pyproject_without_the_table_does_not_count(repo):
    write(repo, ".syncverify.yml", "ignore: [SV709]\n")
    write(repo, "team/pyproject.toml", '[project]\nname = "team"\n')
    assert codes(check("-f", "concise", "team/plans/b.yaml")) == ["SV702"]


def test_dotfile_wins_over_pyproject_in_the_same_folder(repo):
    write(repo, "pyproject.toml", "[tool.syncverify]\nignore = ['SV702']\n")
    write(repo, ".syncverify.yaml", "ignore: [SV709]\n")
    assert codes(check("-f", "concise", "plans/a.yaml")) == ["SV702"]


def test_plan_outside_any_configured_folder_uses_the_one_from_cwd(repo, tmp_path_factory):
    write(repo, ".syncverify.yaml", "ignore: [SV709]\n")
    elsewhere = write(tmp_path_factory.mktemp("elsewhere"), "c.yaml", WARNING_AND_NOTE)
    assert codes(check("-f", "concise", elsewhere)) == ["SV702"]


def test_config_option_uses_one_file_for_every_plan(repo):
    write(repo, "team/pyproject.toml", "[tool.syncverify]\nignore = ['SV702']\n")
    write(repo, "ci/strict.yaml", "select: [SV7]\nfail-on: warning\n")
    result = check(
        "-f", "concise", "--config", "ci/strict.yaml", "plans/a.yaml", "team/plans/b.yaml"
    )
    assert codes(result) == ["SV709", "SV702", "SV709", "SV702"]
    assert result.exit_code == 1


def test_config_option_takes_a_pyproject(repo):
    write(repo, "other/pyproject.toml", "[tool.syncverify]\nselect = 'SV709'\n")
    assert codes(check("-f", "concise", "--config", "other/pyproject.toml", "plans")) == ["SV709"]


def test_isolated_ignores_configuration_files(repo):
    write(repo, ".syncverify.yaml", "ignore: [SV709, SV702]\n")
    assert codes(check("-f", "concise", "--isolated", "plans/a.yaml")) == ["SV709", "SV702"]


def test_config_and_isolated_exclude_each_other(repo):
    write(repo, "c.yaml", "ignore: [SV709]\n")
    result = check("--config", "c.yaml", "--isolated", "plans")
    assert result.exit_code == 2 and "exclude each other" in result.stderr


# ------------------------------------------------------------------------- layering


def test_command_line_select_replaces_the_configured_one(repo):
    write(repo, ".syncverify.yaml", "select: [SV709]\n")
    assert codes(check("-f", "concise", "--select", "SV702", "plans/a.yaml")) == ["SV702"]


def test_command_line_select_brings_back_a_configured_ignore(repo):
    write(repo, ".syncverify.yaml", "ignore: [SV702]\n")
    assert codes(check("-f", "concise", "--select", "SV7", "plans/a.yaml")) == ["SV709", "SV702"]


def test_extend_select_adds_to_the_configured_select(repo):
    write(repo, ".syncverify.yaml", "select: [SV709]\n")
    assert codes(check("-f", "concise", "--extend-select", "pipeline-bubble", "plans/a.yaml")) == [
        "SV709",
        "SV702",
    ]
    write(repo, ".syncverify.yaml", "select: [SV1]\nextend-select: [SV709]\n")
    assert codes(check("-f", "concise", "plans/a.yaml")) == ["SV709"]


def test_command_line_ignore_adds_to_the_configured_one(repo):
    write(repo, ".syncverify.yaml", "ignore: [SV709]\n")
    assert codes(check("-f", "concise", "--ignore", "SV702", "plans/a.yaml")) == []


# ------------------------------------------------------------------------- severity, fail-on


def test_severity_override_changes_the_finding_and_the_exit_code(repo):
    write(repo, "pyproject.toml", "[tool.syncverify.severity]\nSV702 = 'error'\n")
    result = check("-f", "concise", "plans/a.yaml")
    assert "plans/a.yaml:6:27: error SV702 " in result.stdout
    assert result.exit_code == 1


def test_severity_override_by_prefix_and_the_more_specific_one_wins(repo):
    write(repo, ".syncverify.yaml", "severity: {SV7: error, kv-heads-replicated: note}\n")
    result = check("-f", "concise", "plans/a.yaml")
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["note", "error"]


def test_fail_on_from_the_configuration(repo):
    assert check("plans/a.yaml").exit_code == 0
    write(repo, ".syncverify.yaml", "fail-on: warning\n")
    assert check("plans/a.yaml").exit_code == 1


def test_command_line_fail_on_wins_over_the_configuration(repo):
    write(repo, ".syncverify.yaml", "fail-on: warning\n")
    assert check("--fail-on", "error", "plans/a.yaml").exit_code == 0


def test_fail_on_applies_per_plan(repo):
    write(repo, "team/.syncverify.yaml", "fail-on: warning\n")
    assert check("plans/a.yaml").exit_code == 0
    assert check("plans/a.yaml", "team/plans/b.yaml").exit_code == 1


def test_sarif_and_json_show_the_overridden_severity(repo):
    import json

    write(repo, ".syncverify.yaml", "severity: {SV709: warning}\n")
    report = json.loads(check("-f", "json", "plans/a.yaml").stdout)
    assert [f["severity"] for f in report["findings"]] == ["warning", "warning"]
    assert report["summary"]["warnings"] == 2


# ------------------------------------------------------------------------- bad configuration


@pytest.mark.parametrize(
    "name, text, message",
    [
        (".syncverify.yaml", "selct: [SV7]\n", "unknown option 'selct'; did you mean 'select'?"),
        (".syncverify.yaml", "fail-on: sometimes\n", "fail-on: expected 'error' or 'warning'"),
        (".syncverify.yaml", "severity: {SV702: fatal}\n", "SV702: expected one of error, warning"),
        (
            ".syncverify.yaml",
            "ignore: [SV7011]\n",
            "ignore: no rule matches 'SV7011'; did you mean",
        ),
        (".syncverify.yaml", "select: 3\n", "select: expected a list of rule codes"),
        (".syncverify.yaml", "- select\n", "expected a mapping of options"),
        (".syncverify.yaml", "select: [SV7\n", ".syncverify.yaml:2:1: not valid YAML"),
        ("pyproject.toml", "[tool.syncverify\n", "pyproject.toml: not valid TOML"),
        ("pyproject.toml", "[tool.syncverify]\nseverity = 'error'\n", "expected a table of rule"),
    ],
)
def test_bad_configuration_exits_2_naming_the_file(repo, name, text, message):
    write(repo, name, text)
    result = check("plans/a.yaml")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_config_option_file_exits_2(repo):
    assert check("--config", "nope.yaml", "plans").exit_code == 2


def test_explicit_pyproject_without_the_table_exits_2(repo):
    write(repo, "pyproject.toml", "[project]\nname = 'x'\n")
    result = check("--config", "pyproject.toml", "plans")
    assert result.exit_code == 2 and "no [tool.syncverify] table" in result.stderr


def test_empty_syncverify_yaml_is_the_defaults(repo):
    write(repo, ".syncverify.yaml", "")
    assert codes(check("-f", "concise", "plans/a.yaml")) == ["SV709", "SV702"]


# ------------------------------------------------------------------------- per-file-ignores


def test_per_file_ignores_in_yaml_apply_to_matching_plans_only(repo):
    write(repo, ".syncverify.yaml", "per-file-ignores:\n  'team/**/*.yaml': [SV709]\n")
    result = check("-f", "concise", "plans/a.yaml", "team/plans/b.yaml")
    assert [(line.split(":")[0], line.split()[2]) for line in result.stdout.splitlines()] == [
        ("plans/a.yaml", "SV709"),
        ("plans/a.yaml", "SV702"),
        ("team/plans/b.yaml", "SV702"),
    ]


def test_per_file_ignores_in_pyproject_are_relative_to_its_folder(repo, monkeypatch):
    write(
        repo,
        "pyproject.toml",
        '[tool.syncverify.per-file-ignores]\n"plans/*.yaml" = ["SV702", "SV709"]\n',
    )
    monkeypatch.chdir(repo / "plans")
    assert codes(check("-f", "concise", "a.yaml")) == []


def test_a_pattern_without_a_slash_matches_the_file_name(repo):
    write(repo, ".syncverify.yaml", "per-file-ignores: {'b.yaml': 'SV7'}\n")
    assert codes(check("-f", "concise", "team/plans/b.yaml")) == []
    assert codes(check("-f", "concise", "plans/a.yaml")) == ["SV709", "SV702"]


def test_per_file_ignores_survive_a_select_on_the_command_line(repo):
    # as in ruff: --select replaces the configuration's selection, the per-file ignores still hold
    write(repo, ".syncverify.yaml", "per-file-ignores: {'plans/a.yaml': [SV702]}\n")
    assert codes(check("-f", "concise", "--select", "SV7", "plans/a.yaml")) == ["SV709"]


def test_per_file_ignores_on_the_command_line(repo):
    result = check(
        "-f",
        "concise",
        "--isolated",
        "--per-file-ignores",
        "team/*:SV702",
        "--per-file-ignores",
        "*.yaml:SV709",
        "plans/a.yaml",
        "team/plans/b.yaml",
    )
    assert [(line.split(":")[0], line.split()[2]) for line in result.stdout.splitlines()] == [
        ("plans/a.yaml", "SV702")
    ]


def test_per_file_ignores_for_stdin_match_the_stdin_filename(repo):
    write(repo, ".syncverify.yaml", "per-file-ignores: {'team/**': [SV702, SV709]}\n")
    result = check(
        "-f", "concise", "--stdin-filename", "team/plans/new.yaml", "-", input=WARNING_AND_NOTE
    )
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "per-file-ignores: [SV702]\n",
            "per-file-ignores: expected a table of file pattern -> rule names",
        ),
        ("per-file-ignores: {'*.yaml': [SV7O2]}\n", "per-file-ignores: no rule matches 'SV7O2'"),
        (
            "per-file-ignores: {'*.yaml': 3}\n",
            "per-file-ignores: *.yaml: expected a list of rule codes",
        ),
    ],
)
def test_bad_per_file_ignores_exit_2(repo, text, message):
    write(repo, ".syncverify.yaml", text)
    result = check("plans/a.yaml")
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("value", ["SV702", ":SV702", "plans/a.yaml:"])
def test_bad_per_file_ignores_option_exits_2(repo, value):
    result = check("--per-file-ignores", value, "plans/a.yaml")
    assert result.exit_code == 2
    assert "--per-file-ignores: expected PATTERN:CODES" in result.stderr
