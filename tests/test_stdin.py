"""`syncverify check - --stdin-filename NAME` from the user's side: a generator pipes a plan in,
and the report, the configuration, the suppressions and every format use NAME."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli_plans import check, plan_text, write

TWO = plan_text(mb=1, kv=1)  # SV709 note 4:16, SV702 warning 6:27


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stdin_check(*args, name="plans/gen.yaml", text=TWO, **kwargs):
    extra = ("--stdin-filename", name) if name else ()
    return check(*args, *extra, "-", input=text, **kwargs)


@pytest.mark.parametrize(
    "format, expected",
    [
        ("concise", "plans/gen.yaml:4:16: note SV709 "),
        ("text", "plans/gen.yaml:4:16: note: "),
        ("github", "::group::plans/gen.yaml\n::notice file=plans/gen.yaml,line=4,"),
    ],
)
def test_every_text_format_names_the_stdin_filename(cwd, format, expected):
    result = stdin_check("--isolated", "-f", format)
    assert result.exit_code == 0
    assert result.stdout.startswith(expected)


def test_json_names_the_stdin_filename(cwd):
    report = json.loads(stdin_check("--isolated", "-f", "json").stdout)
    assert {f["file"] for f in report["findings"]} == {"plans/gen.yaml"}
    assert report["summary"]["files"] == 1


def test_sarif_gives_the_stdin_filename_as_a_relative_uri(cwd):
    log = json.loads(stdin_check("--isolated", "-f", "sarif").stdout)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"plans/gen.yaml"}


def test_statistics_and_output_file_from_stdin(cwd):
    assert stdin_check("--isolated", "--statistics").stdout.splitlines() == [
        "1  SV702  pipeline-bubble",
        "1  SV709  kv-heads-replicated",
    ]
    stdin_check("--isolated", "-f", "concise", "-o", "report.txt")
    assert (cwd / "report.txt").read_text().startswith("plans/gen.yaml:4:16:")


def test_configuration_is_found_from_the_stdin_filename(cwd):
    write(cwd, "plans/.syncverify.yaml", "ignore: [SV709]\n")
    write(cwd, ".syncverify.yaml", "ignore: [SV702]\n")
    out = stdin_check("-f", "concise").stdout
    assert out.startswith("plans/gen.yaml:6:27: warning SV702")  # plans/ config, not root's
    out = stdin_check("-f", "concise", name="elsewhere/gen.yaml").stdout
    assert out.startswith("elsewhere/gen.yaml:4:16: note SV709")  # the root's


def test_configuration_from_cwd_without_a_stdin_filename(cwd):
    write(cwd, "pyproject.toml", "[tool.syncverify]\nselect = ['SV702']\nfail-on = 'warning'\n")
    result = stdin_check("-f", "concise", name=None)
    assert result.stdout.startswith("<stdin>:6:27: warning SV702")
    assert result.exit_code == 1


def test_isolated_and_config_option_with_stdin(cwd):
    write(cwd, ".syncverify.yaml", "ignore: [SV7]\n")
    assert stdin_check("-f", "concise").stdout == ""
    assert stdin_check("-f", "concise", "--isolated").stdout.count("\n") == 2
    write(cwd, "ci.yaml", "select: [SV709]\n")
    assert stdin_check("-f", "concise", "--config", "ci.yaml").stdout.count("\n") == 1


def test_suppressions_in_a_plan_from_stdin(cwd):
    text = TWO.replace("tp: 2, pp: 2}", "tp: 2, pp: 2}  # syncverify: disable-line SV709")
    out = stdin_check("--isolated", "-f", "concise", text=text).stdout
    assert out.startswith("plans/gen.yaml:6:27: warning SV702") and "SV709" not in out


def test_unusable_plan_from_stdin_is_framed_from_the_text_read(cwd):
    result = stdin_check("--isolated", text=TWO.replace("pp: 2}", "pipline: 2}"))
    assert result.exit_code == 2
    assert result.stdout.startswith("plans/gen.yaml:4:19: error: unknown key 'pipline'")
    assert "> 4 | parallel: {tp: 2, pipline: 2}" in result.stdout


def test_stdin_and_files_together(cwd):
    write(cwd, "plans/a.yaml", plan_text(layers=5))
    result = check(
        "--isolated",
        "-f",
        "concise",
        "--stdin-filename",
        "gen.yaml",
        "plans/a.yaml",
        "-",
        input=TWO,
    )
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "gen.yaml",
        "gen.yaml",
        "plans/a.yaml",
    ]
    assert result.exit_code == 1


def test_subprocess_pipe_with_configuration_and_sarif(cwd):
    write(cwd, ".syncverify.yaml", "severity: {SV709: error}\n")
    environ = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SYNCVERIFY_OUTPUT_FORMAT",
            "GITHUB_ACTIONS",
            "GITHUB_WORKFLOW",
            "PYTEST_CURRENT_TEST",
        )
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncverify",
            "check",
            "-f",
            "sarif",
            "--stdin-filename",
            "gen.yaml",
            "-",
        ],
        input=TWO,
        text=True,
        capture_output=True,
        cwd=cwd,
        env=environ,
    )
    assert proc.returncode == 1, proc.stderr
    results = json.loads(proc.stdout)["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("SV709", "error"),
        ("SV702", "warning"),
    ]
