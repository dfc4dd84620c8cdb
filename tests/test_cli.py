"""The `check` command in-process (click's CliRunner), over deterministic findings.

The loader and the rules are replaced by fakes driven by comments in the plan text, so these
tests pin the CLI's own behaviour (exit codes, formats, options) whatever rules exist:

    # fake-finding: SV201 error 6:18 64 heads do not split over tp = 6
    # fake-problem: SV002 4:8 unknown key 'pipline'
"""

import json
import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from syncverify import checking, engine
from syncverify.cli import cli
from syncverify.commands.check import CheckArguments, check
from syncverify.findings import Finding, PlanError, Where

MARK = re.compile(
    r"#\s*fake-(finding|problem):\s*(SV\d+)\s+(?:(error|warning|note)\s+)?"
    r"(\d+):(\d+)\s+(.*)$"
)
CATEGORY = {
    "0": "config",
    "1": "config",
    "9": "config",
    "2": "shape",
    "3": "missing-sync",
    "4": "redundant-sync",
    "5": "phase-illegal",
    "6": "ordering",
    "7": "performance",
}


def marks(text: str, kind: str, file: str) -> list[Finding]:
    found = []
    for line in text.splitlines():
        m = MARK.search(line)
        if m and m.group(1) == kind:
            code = m.group(2)
            found.append(
                Finding(
                    code=code,
                    slug=f"fake-{code.lower()}",
                    category=CATEGORY[code[2]],
                    severity=m.group(3) or "error",
                    message=m.group(6),
                    file=file,
                    line=int(m.group(4)),
                    column=int(m.group(5)),
                    help="add it:\n- {after: o_proj, collective: all_reduce, group: tp}",
                    where=Where(phase="decode", ranks="0-7", layers="0-39", op="o_proj"),
                    trace=("decode step 1 rank 0 layer 0 o_proj", "rank 0 layer 0 attn_residual"),
                )
            )
    return found


def fake_load(path, *, text=None, display_path=None):
    shown = display_path or path
    if text is None:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    problems = marks(text, "problem", shown)
    if problems:
        raise PlanError(problems)
    if "# fake-crash" in text:
        raise RuntimeError("boom")
    return SimpleNamespace(path=shown, text=text)


@pytest.fixture(autouse=True)
def fakes(monkeypatch):
    monkeypatch.setattr(checking, "default_loader", lambda: fake_load)
    monkeypatch.setattr(
        engine,
        "check_plan",
        lambda plan, rules=None, **_options: sorted(
            marks(plan.text, "finding", plan.path), key=Finding.sort_key
        ),
    )
    monkeypatch.delenv("SYNCVERIFY_OUTPUT_FORMAT", raising=False)
    monkeypatch.delenv("SYNCVERIFY_RAISE", raising=False)
    for name in ("GITHUB_ACTIONS", "GITHUB_WORKFLOW"):  # `--format auto` would pick github
        monkeypatch.delenv(name, raising=False)


CLEAN = "syncverify: 1\nname: clean\n"
ERROR = (
    "syncverify: 1\nname: tp6\nparallel: {tp: 6, pp: 2}\n"
    "# fake-finding: SV201 error 3:16 64 heads do not split over tp = 6\n"
)
WARNING = (
    "syncverify: 1\nname: slow\nparallel: {tp: 16}\n"
    "# fake-finding: SV701 warning 3:16 the tp group spans 2 nodes\n"
)
UNUSABLE = (
    "syncverify: 1\nname: typo\nparallel: {tp: 8, pipline: 2}\n"
    "# fake-problem: SV002 3:19 unknown key 'pipline' in parallel\n"
)


@pytest.fixture
def plan(tmp_path):
    def write(text, name="plan.yaml"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)

    return write


def run(*args, **kwargs):
    return CliRunner().invoke(cli, ["check", *args], **kwargs)


# ------------------------------------------------------------------------------ exit codes


def test_clean_plan_exits_0(plan):
    result = run(plan(CLEAN))
    assert result.exit_code == 0, result.output
    assert "no findings in 1 file" in result.output


def test_error_finding_exits_1(plan):
    assert run(plan(ERROR)).exit_code == 1


def test_warning_alone_exits_0_by_default(plan):
    assert run(plan(WARNING)).exit_code == 0


def test_fail_on_warning_makes_a_warning_exit_1(plan):
    assert run("--fail-on", "warning", plan(WARNING)).exit_code == 1


def test_exit_zero_forces_0_on_findings(plan):
    assert run("--exit-zero", plan(ERROR)).exit_code == 0


def test_exit_zero_does_not_hide_an_unusable_plan(plan):
    assert run("--exit-zero", plan(UNUSABLE)).exit_code == 2


def test_unusable_plan_exits_2_naming_file_line_column(plan):
    path = plan(UNUSABLE)
    result = run("--format", "concise", path)
    assert result.exit_code == 2
    assert f"{path}:3:19: error SV002 unknown key 'pipline' in parallel" in result.output


def test_unusable_plan_among_others_still_checks_the_others(plan):
    bad, good = plan(UNUSABLE, "a.yaml"), plan(ERROR, "b.yaml")
    result = run("--format", "concise", bad, good)
    assert result.exit_code == 2
    assert "SV002" in result.output and "SV201" in result.output


def real_loader(monkeypatch):
    """A missing file or a folder without plans is reported by the real loader (SV001)."""
    from syncverify.loader import load_plan

    monkeypatch.setattr(checking, "default_loader", lambda: load_plan)


def test_missing_file_exits_2_with_a_message(tmp_path, monkeypatch):
    real_loader(monkeypatch)
    result = run(str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "nope.yaml': no such file or directory" in result.output


def test_bad_option_value_exits_2(plan):
    assert run("--format", "xml", plan(CLEAN)).exit_code == 2
    assert run("--fail-on", "sometimes", plan(CLEAN)).exit_code == 2


def test_no_plan_argument_checks_the_current_directory(plan, tmp_path, monkeypatch):
    plan(ERROR, "plans/a.yaml")
    monkeypatch.chdir(tmp_path)
    result = run("--format", "concise")
    assert result.exit_code == 1
    assert result.output.startswith("plans/a.yaml:3:16: error SV201")


def test_no_plan_argument_in_a_folder_without_plans_exits_2(tmp_path, monkeypatch):
    real_loader(monkeypatch)
    monkeypatch.chdir(tmp_path)
    result = run("--format", "concise")
    assert result.exit_code == 2
    assert ".:1:1: error SV001 '.' is a directory, not a plan file" in result.output


def test_internal_error_becomes_sv900_and_exit_2(plan):
    path = plan(CLEAN + "# fake-crash\n")
    result = run("--format", "concise", path)
    assert result.exit_code == 2
    assert (
        f"{path}:1:1: error SV900 internal error while checking this plan: RuntimeError: boom"
        in result.output
    )
    assert "Traceback" not in result.output


def test_a_crashed_rule_sv900_exits_2_and_keeps_the_other_findings(plan):
    path = plan(ERROR + "# fake-finding: SV900 error 1:1 rule SV201 crashed: KeyError: 'x'\n")
    result = run("--format", "json", path)
    assert result.exit_code == 2
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["SV900", "SV201"]
    assert f"{path}:1:1: rule SV201 crashed: KeyError: 'x' [SV900]" in result.stderr


def test_internal_error_reraises_under_syncverify_raise(plan, monkeypatch):
    monkeypatch.setenv("SYNCVERIFY_RAISE", "1")
    result = run(plan(CLEAN + "# fake-crash\n"))
    assert isinstance(result.exception, RuntimeError)


# ------------------------------------------------------------------------------ inputs


def test_directory_checks_every_yaml_below_it_sorted(plan, tmp_path):
    plan(ERROR, "plans/b.yml")
    plan(ERROR, "plans/a.yaml")
    plan(ERROR, "plans/sub/c.yaml")
    plan(ERROR, "plans/.hidden/d.yaml")
    (tmp_path / "plans" / "notes.txt").write_text("not a plan")
    result = run("--format", "concise", str(tmp_path / "plans"))
    files = [line.split(":")[0] for line in result.output.splitlines()]
    assert [f.rsplit("plans", 1)[1] for f in files] == ["/a.yaml", "/b.yml", "/sub/c.yaml"]


def test_directory_without_plans_exits_2(tmp_path, monkeypatch):
    real_loader(monkeypatch)
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory, not a plan file" in result.output and "no plan files" in result.output


def test_plan_named_twice_is_checked_once(plan):
    path = plan(ERROR)
    result = run("--format", "concise", path, path)
    assert len(result.output.splitlines()) == 1


def test_stdin_with_display_name():
    result = run("--format", "concise", "--stdin-filename", "mine.yaml", "-", input=ERROR)
    assert result.exit_code == 1
    assert result.output.startswith("mine.yaml:3:16: error SV201 ")


def test_stdin_filename_without_stdin_is_ignored_with_a_warning(plan):
    path = plan(ERROR)
    result = run("--format", "concise", "--stdin-filename", "mine.yaml", path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:3:16: error SV201 ")
    assert result.stderr == (
        "syncverify: warning: --stdin-filename names the plan read from "
        "standard input ('-'), and no '-' was given: ignored\n"
    )


def test_stdin_problem_is_framed_from_the_text_read(plan, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan("syncverify: 1\nsomething else entirely\n", "mine.yaml")  # same name on disk
    result = run("--stdin-filename", "mine.yaml", "-", input=UNUSABLE)
    assert result.exit_code == 2
    assert "> 3 | parallel: {tp: 8, pipline: 2}" in result.output


# an error that leaves the graph rules running (SV201 stops them, so deselecting it hides nothing)
FFN_ERROR = (
    "syncverify: 1\nname: tp6\nparallel: {tp: 6, pp: 2}\n"
    "# fake-finding: SV203 error 3:16 28672 ffn features do not split over tp = 6\n"
)


def test_ignore_hides_a_rule_by_code_prefix_or_slug(plan):
    path = plan(FFN_ERROR + WARNING.splitlines()[-1] + "\n")
    for ignored in ("SV203", "sv2", "ffn-not-divisible-by-tp"):
        result = run("--format", "concise", "--ignore", ignored, path)
        assert result.exit_code == 0
        assert result.output == f"{path}:3:16: warning SV701 the tp group spans 2 nodes\n"


def test_select_reports_only_the_named_rules(plan):
    path = plan(FFN_ERROR + WARNING.splitlines()[-1] + "\n")
    result = run("--format", "concise", "--select", "SV7", path)
    assert result.exit_code == 0 and "SV203" not in result.output and "SV701" in result.output
    result = run("--format", "concise", "--select", "ALL", "--ignore", "SV7", path)
    assert result.exit_code == 1 and "SV701" not in result.output


def test_deselecting_a_finding_that_stops_selected_graph_rules_still_reports_it(plan):
    # SV201 keeps the graph rules from running: hiding it would pass a plan nobody checked
    path = plan(ERROR)
    result = run("--format", "concise", "--ignore", "SV201", path)
    assert result.exit_code == 1 and "SV201" in result.output
    result = run("--format", "concise", "--select", "SV2", path)  # no graph rule selected
    assert result.exit_code == 1 and "SV201" in result.output
    result = run("--format", "concise", "--select", "SV203", path)
    assert result.exit_code == 0 and result.output == ""


def test_select_of_an_unknown_code_exits_2_with_did_you_mean(plan):
    result = run("--select", "SV2011", plan(ERROR))
    assert result.exit_code == 2
    assert "--select: no rule matches 'SV2011'; did you mean SV201" in result.output


def test_ignore_never_hides_an_unusable_plan(plan):
    assert run("--ignore", "SV0", plan(UNUSABLE)).exit_code == 2


# ------------------------------------------------------------------------------ formats


def test_concise_is_one_flake8_line_per_finding(plan):
    path = plan(ERROR + WARNING.splitlines()[-1] + "\n")
    result = run("--format", "concise", path)
    assert result.output.splitlines() == [
        f"{path}:3:16: error SV201 64 heads do not split over tp = 6",
        f"{path}:3:16: warning SV701 the tp group spans 2 nodes",
    ]


def test_format_from_environment(plan, monkeypatch):
    monkeypatch.setenv("SYNCVERIFY_OUTPUT_FORMAT", "json")
    assert json.loads(run(plan(ERROR)).output)["summary"]["exit_code"] == 1


def test_format_option_wins_over_environment(plan, monkeypatch):
    monkeypatch.setenv("SYNCVERIFY_OUTPUT_FORMAT", "json")
    assert run("--format", "concise", plan(ERROR)).output.count("\n") == 1


def test_json_report_contract(plan):
    bad, good = plan(UNUSABLE, "a.yaml"), plan(ERROR + WARNING.splitlines()[-1] + "\n", "b.yaml")
    result = run("--format", "json", good, bad)
    report = json.loads(result.stdout)
    assert set(report) == {"version", "tool", "findings", "summary"}
    assert report["version"] == 1
    assert report["tool"]["name"] == "syncverify"
    assert [(f["file"], f["code"]) for f in report["findings"]] == [
        (bad, "SV002"),
        (good, "SV201"),
        (good, "SV701"),
    ]
    first = report["findings"][1]
    assert {
        "code",
        "slug",
        "category",
        "severity",
        "message",
        "help",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "where",
        "trace",
    } <= set(first)
    assert first["where"] == {"phase": "decode", "ranks": "0-7", "layers": "0-39", "op": "o_proj"}
    assert report["summary"] == {
        "files": 2,
        "findings": 3,
        "errors": 2,
        "warnings": 1,
        "notes": 0,
        "by_code": {"SV002": 1, "SV201": 1, "SV701": 1},
        "by_category": {"config": 1, "performance": 1, "shape": 1},
        "exit_code": 2,
    }
    assert result.exit_code == 2


def test_json_keeps_stdout_pure_and_names_unusable_plans_on_stderr(plan):
    path = plan(UNUSABLE)
    result = run("--format", "json", path)
    assert json.loads(result.stdout)["summary"]["exit_code"] == 2
    assert (
        result.stderr
        == f"syncverify: error: {path}:3:19: unknown key 'pipline' in parallel [SV002]\n"
    )


def test_text_shows_frame_with_caret_help_where_and_trace(plan):
    path = plan(ERROR)
    result = run("--format", "text", path)
    lines = result.output.splitlines()
    assert lines[0] == f"{path}:3:16: error: 64 heads do not split over tp = 6  [SV201 fake-sv201]"
    assert lines[1:4] == [
        "    2 | name: tp6",
        "  > 3 | parallel: {tp: 6, pp: 2}",
        "      |                ^",
    ]
    assert "  help: add it:" in lines
    assert "        - {after: o_proj, collective: all_reduce, group: tp}" in lines
    assert "  where: decode, ranks 0-7, layers 0-39, op o_proj" in lines
    assert "  trace: decode step 1 rank 0 layer 0 o_proj" in lines
    assert "         -> rank 0 layer 0 attn_residual" in lines
    assert lines[-1] == "1 error in 1 file (1 SV201)"
    assert "\x1b[" not in result.output  # not a terminal: plain text


def test_text_summary_counts_unusable_plans(plan):
    result = run(plan(UNUSABLE, "a.yaml"), plan(WARNING, "b.yaml"))
    assert (
        result.output.splitlines()[-1]
        == "1 error, 1 warning in 2 files (1 SV002, 1 SV701); 1 plan could not be checked"
    )


def test_quiet_prints_only_the_findings(plan):
    path = plan(ERROR)
    result = run("--quiet", path)
    assert result.output.splitlines() == [
        f"{path}:3:16: error: 64 heads do not split over tp = 6  [SV201 fake-sv201]",
    ]


def test_quiet_clean_plan_prints_nothing(plan):
    assert run("-q", plan(CLEAN)).output == ""


def test_color_always_styles_and_never_does_not(plan, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    path = plan(ERROR)
    assert "\x1b[" in run("--color", "always", path).output
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in run("--color", "never", path).output


def test_force_color_environment_styles_auto(plan, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in run(plan(ERROR)).output


def test_no_color_keeps_bold_and_dim_but_drops_colours(plan, monkeypatch):
    # https://no-color.org: NO_COLOR removes colour, not all styling (rich's reading, documented)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    output = run(plan(ERROR)).output
    codes = set(re.findall(r"\x1b\[([0-9;]*)m", output))
    assert codes, "styled on a forced terminal"
    colours = {c for c in codes for part in c.split(";") if part.startswith(("3", "4", "9"))}
    assert colours == set(), f"colour codes despite NO_COLOR: {sorted(colours)}"


def test_commands_check_is_callable_without_click(plan, capsys):
    assert check(CheckArguments((plan(ERROR),), format="concise")) == 1
    assert "SV201" in capsys.readouterr().out


@pytest.fixture
def restored_process_state():
    """main() sets the collector's threshold and the Ctrl-C handler: put them back."""
    import gc
    import signal

    threshold, handler = gc.get_threshold(), signal.getsignal(signal.SIGINT)
    yield
    gc.set_threshold(*threshold)
    signal.signal(signal.SIGINT, handler)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["explain", "SV201"], 0),
        (["explain", "no-such-rule"], 2),  # the command's own exit code
        (["check", "--no-such-option", "x.yaml"], 2),  # click's usage error
        (["--help"], 0),
        (["--version"], 0),
    ],
)
def test_main_returns_the_exit_code(argv, code, capsys, restored_process_state):
    from syncverify.cli import main

    assert main(argv) == code
    if code == 2:
        assert capsys.readouterr().err.startswith(("syncverify: error:", "Usage: syncverify"))


def test_main_returns_1_for_findings_and_the_console_script_exits_with_it(
    plan, capsys, restored_process_state
):
    import subprocess
    import sys

    from syncverify.cli import main

    assert main(["check", "--format", "concise", plan(ERROR)]) == 1
    assert "SV201" in capsys.readouterr().out
    proc = subprocess.run(
        [sys.executable, "-m", "syncverify", "explain", "no-such-rule"], capture_output=True
    )
    assert proc.returncode == 2
