"""Baseline files from the user's side: adopt syncverify on a fleet of plans that already have
findings, then see only the new ones."""

from __future__ import annotations

import json

import pytest

from tests.cli_plans import check, plan_text, write

TWO = plan_text(mb=1, kv=1)  # SV709 note 4:16, SV702 warning 6:27
ERROR = plan_text().replace(  # SV301 error 8:1: the MLP's partial sum is never reduced
    "  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}\n", ""
)
BLOCKING = plan_text(layers=5)  # SV103 error 4:23, which stops the graph rules


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "plans/a.yaml", TWO)
    write(tmp_path, "plans/b.yaml", ERROR)
    return tmp_path


def baseline(path) -> dict:
    return json.loads(path.read_text())


def test_write_baseline_records_counts_per_plan_and_rule_and_exits_0(fleet):
    result = check("--isolated", "--write-baseline", "syncverify-baseline.json", "plans")
    assert result.exit_code == 0
    assert baseline(fleet / "syncverify-baseline.json") == {
        "plans/a.yaml": {"SV702": {"count": 1}, "SV709": {"count": 1}},
        "plans/b.yaml": {"SV301": {"count": 1}},
    }
    assert "wrote syncverify-baseline.json: 3 findings in 2 plans" in result.stderr
    assert result.stdout.splitlines()[-1] == "no findings in 2 files; 3 hidden by the baseline"


def test_baseline_hides_recorded_findings(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    result = check("--isolated", "-f", "concise", "--baseline", "base.json", "plans")
    assert result.exit_code == 0 and result.stdout == ""


def test_a_finding_that_stops_the_graph_rules_is_never_baselined(fleet):
    # the graph rules did not run on that plan: a baseline must not make it "no findings"
    write(fleet, "plans/b.yaml", BLOCKING)
    result = check("--isolated", "-f", "concise", "--write-baseline", "base.json", "plans")
    assert result.exit_code == 1
    assert result.stdout.startswith("plans/b.yaml:4:23: error SV103 ")
    assert "wrote base.json: 2 findings in 1 plan" in result.stderr
    assert list(baseline(fleet / "base.json")) == ["plans/a.yaml"]
    write(fleet, "base.json", '{"plans/b.yaml": {"SV103": {"count": 1}}}')  # an older file
    result = check("--isolated", "-f", "concise", "--baseline", "base.json", "plans/b.yaml")
    assert result.exit_code == 1 and "SV103" in result.stdout


def test_findings_beyond_the_recorded_count_are_reported(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    write(fleet, "plans/b.yaml", "# moved down by an edit\n" + ERROR)  # still 1 SV301
    write(fleet, "plans/c.yaml", ERROR)  # a new plan with a finding
    result = check("--isolated", "-f", "concise", "--baseline", "base.json", "plans")
    assert result.exit_code == 1
    assert (
        result.stdout == "plans/c.yaml:8:1: error SV301 down output reaches mlp_residual as "
        "a partial sum over tp: it is never reduced\n"
    )


def test_a_second_finding_of_a_recorded_rule_is_reported(fleet):
    write(fleet, "plans/a.yaml", plan_text(mb=1))  # SV702 on line 6
    check("--isolated", "--write-baseline", "base.json", "plans/a.yaml")
    slower = plan_text(mb=1).replace("decode: {microbatches: 2", "decode: {microbatches: 1")
    write(fleet, "plans/a.yaml", slower)  # and on line 7
    result = check("--isolated", "-f", "concise", "--baseline", "base.json", "plans/a.yaml")
    assert result.stdout.splitlines() == [
        "plans/a.yaml:7:26: warning SV702 decode runs 1 microbatch over 2 stages: each stage "
        "idles 50% of the time (bubble (pp-1)/(m+pp-1) = 1/2)"
    ]


def test_stale_entries_are_reported_on_stderr(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    write(fleet, "plans/b.yaml", plan_text())  # fixed
    result = check("--isolated", "-f", "concise", "--baseline", "base.json", "plans")
    assert result.exit_code == 0
    assert (
        "base.json: plans/b.yaml records 1 SV301, 0 found now: run --write-baseline "
        "base.json to prune" in result.stderr
    )


def test_write_baseline_prunes_stale_entries(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    write(fleet, "plans/b.yaml", plan_text())
    result = check("--isolated", "--write-baseline", "base.json", "plans")
    assert "1 stale entry pruned" in result.stderr
    assert list(baseline(fleet / "base.json")) == ["plans/a.yaml"]


def test_write_baseline_on_part_of_the_fleet_keeps_the_other_plans(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    write(fleet, "plans/a.yaml", plan_text(kv=1))  # SV702 fixed
    check("--isolated", "--write-baseline", "base.json", "plans/a.yaml")
    assert baseline(fleet / "base.json") == {
        "plans/a.yaml": {"SV709": {"count": 1}},
        "plans/b.yaml": {"SV301": {"count": 1}},
    }


def test_plan_keys_are_relative_to_the_baseline_folder(fleet, monkeypatch):
    (fleet / "ci").mkdir()
    check("--isolated", "--write-baseline", "ci/base.json", "plans/b.yaml")
    assert list(baseline(fleet / "ci" / "base.json")) == ["../plans/b.yaml"]
    monkeypatch.chdir(fleet / "plans")  # run from elsewhere
    result = check("--isolated", "-f", "concise", "--baseline", "../ci/base.json", "b.yaml")
    assert result.exit_code == 0 and result.stdout == ""


def test_baseline_for_stdin_uses_the_stdin_filename(fleet):
    check(
        "--isolated",
        "--write-baseline",
        "base.json",
        "--stdin-filename",
        "plans/b.yaml",
        "-",
        input=ERROR,
    )
    assert list(baseline(fleet / "base.json")) == ["plans/b.yaml"]
    result = check("--isolated", "-f", "concise", "--baseline", "base.json", "plans/b.yaml")
    assert result.stdout == ""


def test_unusable_plans_are_not_baselined_and_still_exit_2(fleet):
    write(fleet, "plans/broken.yaml", "syncverify: 1\nname: [unclosed\n")
    result = check("--isolated", "--write-baseline", "base.json", "plans")
    assert result.exit_code == 2
    assert "plans/broken.yaml" not in baseline(fleet / "base.json")


def test_json_report_is_unchanged_by_a_baseline(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    report = json.loads(
        check("--isolated", "-f", "json", "--baseline", "base.json", "plans").stdout
    )
    assert report["findings"] == [] and set(report) == {"version", "tool", "findings", "summary"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "is not JSON"),
        ("[1, 2]", 'expected {"plan.yaml": {"SV301": {"count": 2}}}'),
        ('{"a.yaml": {"SV301": 2}}', 'a.yaml: SV301: expected {"count": N} with N >= 0'),
        ('{"a.yaml": {"SV301": {"count": -1}}}', "with N >= 0"),
    ],
)
def test_bad_baseline_file_exits_2(fleet, text, message):
    write(fleet, "base.json", text)
    result = check("--isolated", "--baseline", "base.json", "plans")
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_baseline_and_write_baseline_exclude_each_other(fleet):
    write(fleet, "base.json", "{}")
    result = check(
        "--isolated", "--baseline", "base.json", "--write-baseline", "base.json", "plans"
    )
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_missing_baseline_file_exits_2(fleet):
    assert check("--isolated", "--baseline", "nope.json", "plans").exit_code == 2


def test_rules_left_out_by_select_are_not_judged_stale(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    result = check(
        "--isolated", "-f", "concise", "--select", "SV7", "--baseline", "base.json", "plans"
    )
    assert "SV301" not in result.stderr  # SV301 was not judged: it is not "0 found now"
    assert result.exit_code == 0


def test_write_baseline_with_ignore_keeps_the_entries_of_rules_that_did_not_run(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    result = check(
        "--isolated", "--ignore", "SV301,SV709", "--write-baseline", "base.json", "plans"
    )
    assert "pruned" not in result.stderr
    assert baseline(fleet / "base.json") == {
        "plans/a.yaml": {"SV702": {"count": 1}, "SV709": {"count": 1}},
        "plans/b.yaml": {"SV301": {"count": 1}},
    }
    full = check("--isolated", "--baseline", "base.json", "plans")
    assert full.exit_code == 0
    assert full.stdout.splitlines()[-1] == "no findings in 2 files; 3 hidden by the baseline"


def test_a_selected_rule_that_no_longer_fires_is_still_pruned(fleet):
    check("--isolated", "--write-baseline", "base.json", "plans")
    write(fleet, "plans/a.yaml", plan_text(kv=1))  # SV702 fixed
    result = check("--isolated", "--select", "SV702", "--write-baseline", "base.json", "plans")
    assert "1 stale entry pruned" in result.stderr
    assert baseline(fleet / "base.json") == {
        "plans/a.yaml": {"SV709": {"count": 1}},
        "plans/b.yaml": {"SV301": {"count": 1}},
    }
