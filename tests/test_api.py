"""`syncverify.check`: the Python API a configuration search calls (docs/api.md)."""

import copy
import io
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import syncverify
from syncverify.report import render
from tests.support import synth

ROOT = Path(__file__).resolve().parent.parent
GOOD = synth(tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2)


def without(plan: dict, sync_id: str) -> dict:
    mutant = copy.deepcopy(plan)
    mutant["sync"] = [s for s in mutant["sync"] if s["id"] != sync_id]
    return mutant


def test_a_correct_plan_dict_is_ok():
    report = syncverify.check(GOOD)
    assert report.ok and report.exit_code == 0
    assert report.errors == [] and report.by_code() == {}
    assert report.files == ["<plan>"]


def test_a_missing_sync_is_an_error_finding_with_its_fix():
    report = syncverify.check(without(GOOD, "attn-ar"), name="cand.yaml")
    assert not report.ok and report.exit_code == 1
    assert set(report.by_code()) == {"SV301"}
    (finding,) = report.errors
    assert finding.file == "cand.yaml" and finding.category == "missing-sync"
    assert "after: o_proj, collective: all_reduce, group: tp" in finding.help


def test_a_plan_file_by_str_or_path(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(GOOD, sort_keys=False))
    for source in (path, str(path)):
        report = syncverify.check(source)
        assert report.ok and report.files == [str(path)]


def test_yaml_text_that_cannot_load_gives_problems_not_an_exception():
    report = syncverify.check("syncverify: 1\nparallel: {tp: 8, pipline: 2}\n")
    assert report.exit_code == 2 and not report.ok
    assert report.findings == [] and report.problems
    assert "SV003" in report.codes()  # the unknown key, located
    unknown = report.by_code()["SV003"][0]
    assert (unknown.line, unknown.column) == (2, 19)


def test_select_and_ignore_choose_what_is_reported():
    broken = without(GOOD, "attn-ar")
    assert syncverify.check(broken, select="SV4").codes() == set()
    assert syncverify.check(broken, ignore=["SV301"]).ok
    assert syncverify.check(broken, select=["SV3"]).codes() == {"SV301"}


def test_ignoring_a_finding_that_stops_the_graph_rules_does_not_pass_the_plan():
    # a wait_before on a blocking all-reduce (SV108) keeps every graph rule from running, and
    # the plan also lacks its attention all-reduce: ignoring SV108 must not make it "ok"
    broken = without(GOOD, "attn-ar")
    broken["sync"][0]["wait_before"] = "attn_norm"
    report = syncverify.check(broken, ignore=["SV108"])
    assert not report.ok and report.codes() == {"SV108"}
    assert syncverify.check(broken, select="SV2").ok  # no graph rule selected: none skipped


def test_fail_on_warning_fails_on_warnings():
    bubble = synth(tp=2, pp=2)  # one microbatch over two stages: SV702, a warning
    assert syncverify.check(bubble).ok
    report = syncverify.check(bubble, fail_on="warning")
    assert report.exit_code == 1 and {f.code for f in report.warnings} == {"SV702"}


def test_bad_arguments_raise():
    with pytest.raises(FileNotFoundError):
        syncverify.check("no/such/plan.yaml")
    with pytest.raises(ValueError, match="no rule matches 'SV9x9'"):
        syncverify.check(GOOD, select="SV9x9")
    with pytest.raises(TypeError):
        syncverify.check(42)


def test_a_report_renders_in_every_cli_format():
    report = syncverify.check(without(GOOD, "attn-ar"), name="cand.yaml")
    for format in ("text", "concise", "json"):
        out = io.StringIO()
        render(report, format, out, color="never")
        assert "SV301" in out.getvalue()


def test_import_syncverify_stays_light():
    code = (
        "import sys, syncverify; heavy = [m for m in ('networkx', 'yaml', 'jsonschema', "
        "'rich', 'click', 'syncverify.loader') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr
