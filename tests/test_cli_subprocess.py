"""`python -m syncverify` as a user runs it: real loader, real rules, real exit codes."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "cli"
HAVE_LOADER = importlib.util.find_spec("syncverify.loader") is not None
needs_loader = pytest.mark.skipif(not HAVE_LOADER, reason="syncverify.loader has not landed")


def syncverify(*args, env=None):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SYNCVERIFY_OUTPUT_FORMAT", "SYNCVERIFY_RAISE", "FORCE_COLOR",
                            "PYTEST_CURRENT_TEST")}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "syncverify", *args], capture_output=True,
                          text=True, env=environ, cwd=DATA)


def assert_no_traceback(proc):
    assert "Traceback" not in proc.stdout + proc.stderr


@needs_loader
def test_clean_plan_exits_0():
    proc = syncverify("check", "clean.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("in 1 file")


@needs_loader
@pytest.mark.parametrize("plan, line", [("malformed.yaml", None), ("unknown-key.yaml", 5)])
def test_unusable_plan_exits_2_naming_file_line_column(plan, line):
    proc = syncverify("check", "--format", "concise", plan)
    assert proc.returncode == 2
    assert_no_traceback(proc)
    first = proc.stdout.splitlines()[0]
    name, found_line, column, rest = first.split(":", 3)
    assert name == plan and found_line.isdigit() and column.isdigit()
    assert rest.startswith(" error SV0")
    if line:
        assert int(found_line) == line


@needs_loader
def test_unusable_plan_in_json_is_a_finding_and_exit_2():
    proc = syncverify("check", "--format", "json", "unknown-key.yaml", "clean.yaml")
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["summary"]["exit_code"] == 2 and report["summary"]["files"] == 2
    assert any(f["file"] == "unknown-key.yaml" and f["code"].startswith("SV0")
               and f["severity"] == "error" for f in report["findings"])


@needs_loader
def test_findings_exit_1_and_exit_zero_exit_0():
    proc = syncverify("check", "--format", "json", "tp6.yaml")
    report = json.loads(proc.stdout)
    if not report["findings"]:
        pytest.skip("no rule flags tp 6 yet")
    assert proc.returncode == 1
    assert {"shape", "config"} <= {f["category"] for f in report["findings"]}
    assert syncverify("check", "--exit-zero", "tp6.yaml").returncode == 0


@needs_loader
def test_text_output_has_a_caret_frame_for_real_findings():
    proc = syncverify("check", "tp6.yaml")
    if proc.returncode == 0:
        pytest.skip("no rule flags tp 6 yet")
    assert_no_traceback(proc)
    assert " | parallel: {tp: 6, pp: 2}" in proc.stdout
    assert "^" in proc.stdout and "help:" in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_missing_file_exits_2_with_a_message():
    proc = syncverify("check", "no-such-plan.yaml")
    assert proc.returncode == 2
    assert "no-such-plan.yaml': no such file or directory" in proc.stderr
    assert_no_traceback(proc)


def test_bad_option_exits_2():
    proc = syncverify("check", "--format", "xml", "clean.yaml")
    assert proc.returncode == 2
    assert "Invalid value for '--format'" in proc.stderr


def test_rules_and_explain_run():
    assert syncverify("rules").returncode == 0
    proc = syncverify("explain", "SV900")
    assert proc.returncode == 0 and proc.stdout.startswith("# SV900 internal-error")
    assert syncverify("explain", "SV999").returncode == 2


def test_importing_the_cli_pulls_in_no_heavy_dependency():
    code = ("import sys, syncverify.cli; "
            "print(sorted(m for m in ('rich', 'networkx', 'jsonschema') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stderr


@needs_loader
def test_machine_formats_do_not_import_rich():
    code = ("import sys\nfrom syncverify import commands\n"
            "commands.check(['clean.yaml', 'unknown-key.yaml'], format='json', out=open('/dev/null', 'w'))\n"
            "print('rich' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=DATA)
    assert proc.stdout.strip() == "False", proc.stderr
