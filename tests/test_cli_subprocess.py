"""`python -m syncverify` as a user runs it: real loader, real rules, real exit codes.

Each run is a fresh interpreter, so the plans are small: `small.yaml` is clean, `uneven.yaml`
has a config error that stops the graph analyses early.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "cli"


def syncverify(*args, env=None):
    environ = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SYNCVERIFY_OUTPUT_FORMAT",
            "SYNCVERIFY_RAISE",
            "FORCE_COLOR",
            "PYTEST_CURRENT_TEST",
            "GITHUB_ACTIONS",
            "GITHUB_WORKFLOW",
        )
    }
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "syncverify", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=DATA,
    )


def assert_no_traceback(proc):
    assert "Traceback" not in proc.stdout + proc.stderr


def test_clean_plan_exits_0():
    proc = syncverify("check", "small.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == "no findings in 1 file\n"


@pytest.mark.parametrize("plan, line", [("malformed.yaml", None), ("unknown-key.yaml", 5)])
def test_unusable_plan_exits_2_naming_file_line_column(plan, line):
    proc = syncverify("check", "--format", "concise", plan)
    assert proc.returncode == 2
    assert_no_traceback(proc)
    name, found_line, column, rest = proc.stdout.splitlines()[0].split(":", 3)
    assert name == plan and found_line.isdigit() and column.isdigit()
    assert rest.startswith(" error SV0")
    if line:
        assert int(found_line) == line


def test_unusable_plans_in_json_are_findings_and_exit_2():
    proc = syncverify("check", "--format", "json", "unknown-key.yaml", "malformed.yaml")
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["summary"]["exit_code"] == 2 and report["summary"]["files"] == 2
    assert {f["file"] for f in report["findings"]} == {"unknown-key.yaml", "malformed.yaml"}
    assert all(f["code"].startswith("SV0") and f["severity"] == "error" for f in report["findings"])
    assert "unknown-key.yaml:5:19: unknown key 'pipline'" in proc.stderr


def test_findings_exit_1_in_json():
    proc = syncverify("check", "--format", "json", "uneven.yaml")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [(f["code"], f["line"]) for f in report["findings"]] == [("SV103", 6)]
    assert report["summary"]["exit_code"] == 1


def test_exit_zero_and_fail_on_warning_with_real_rules():
    assert syncverify("check", "--exit-zero", "--fail-on", "warning", "uneven.yaml").returncode == 0


def test_ignoring_the_rule_that_blocks_the_graph_neither_crashes_nor_hides_it():
    # a finding that stops the graph rules is reported even when ignored, as long as graph
    # rules are selected: hiding it would pass a plan nothing checked (docs/suppressions.md)
    proc = syncverify("check", "--ignore", "SV103", "--format", "concise", "uneven.yaml")
    assert proc.returncode == 1
    assert [line.split()[2] for line in proc.stdout.splitlines()] == ["SV103"]


def test_text_output_has_a_caret_frame_and_help():
    proc = syncverify("check", "uneven.yaml")
    assert proc.returncode == 1
    assert_no_traceback(proc)
    assert "  > 6 | parallel: {tp: 2, pp: 2}\n" in proc.stdout
    assert "    |                       ^\n" in proc.stdout
    assert "  help: " in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_concise_lines_of_real_findings():
    proc = syncverify("check", "--format", "concise", "uneven.yaml")
    assert re.fullmatch(r"uneven\.yaml:6:\d+: error SV103 \S.*\n", proc.stdout)


def test_missing_file_exits_2_with_a_message():
    proc = syncverify("check", "no-such-plan.yaml")
    assert proc.returncode == 2
    assert "cannot read 'no-such-plan.yaml': no such file or directory  [SV001" in proc.stdout
    assert_no_traceback(proc)


def test_bad_option_exits_2():
    proc = syncverify("check", "--format", "xml", "small.yaml")
    assert proc.returncode == 2
    assert "Invalid value for '--format'" in proc.stderr


def test_rules_and_explain_run():
    assert syncverify("rules").returncode == 0
    proc = syncverify("explain", "SV900")
    assert proc.returncode == 0 and proc.stdout.startswith("# SV900 internal-error")
    assert syncverify("explain", "SV999").returncode == 2


def test_importing_the_cli_pulls_in_no_heavy_dependency():
    code = (
        "import sys, syncverify.cli; "
        "print(sorted(m for m in ('rich', 'networkx', 'jsonschema') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_machine_formats_do_not_import_rich():
    code = (
        "import os, sys\nfrom syncverify.commands.check import CheckArguments, check\n"
        "with open(os.devnull, 'w') as sink:\n"
        "    check(CheckArguments(('uneven.yaml', 'unknown-key.yaml'), format='json'), sink,"
        " sink)\n"
        "print('rich' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=DATA)
    assert proc.stdout.strip() == "False", proc.stderr
