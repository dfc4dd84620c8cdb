"""CI formats from the user's side: SARIF (validated against the OASIS schema), GitHub workflow
commands, `--format auto`, `--output FILE` and `--statistics`, on small real plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from syncverify.findings import Finding
from syncverify.report import Report, github, sarif
from tests.cli_plans import check, plan_text, write

DATA = Path(__file__).parent / "data"
SHARED_SCHEMA = (
    Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
)


@pytest.fixture
def plans(tmp_path, monkeypatch):
    """A folder with a clean plan, one with an error and one with a warning and a note;
    the current directory is its parent, as in a repository checkout."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "plans/clean.yaml", plan_text())
    write(tmp_path, "plans/error.yaml", plan_text(layers=5))
    write(tmp_path, "plans/slow.yaml", plan_text(mb=1, kv=1))
    return tmp_path


def validate_sarif(log: dict, schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


# ----------------------------------------------------------------------------- sarif


def sarif_of(*args, **kwargs) -> tuple[dict, object]:
    result = check("--format", "sarif", "--isolated", *args, **kwargs)
    return json.loads(result.stdout), result


def test_sarif_validates_against_the_copied_schema(plans):
    log, result = sarif_of("plans")
    assert result.exit_code == 1
    validate_sarif(log, DATA / "sarif-schema-2.1.0.json")


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason="../shared/schemas is not there")
def test_sarif_validates_against_the_shared_schema(plans):
    log, _ = sarif_of("plans")
    validate_sarif(log, SHARED_SCHEMA)


def test_sarif_copied_schema_is_the_shared_one():
    if not SHARED_SCHEMA.is_file():
        pytest.skip("../shared/schemas is not there")
    assert (DATA / "sarif-schema-2.1.0.json").read_bytes() == SHARED_SCHEMA.read_bytes()


def test_sarif_run_tool_and_rules(plans):
    log, _ = sarif_of("plans")
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == plans.resolve().as_uri() + "/"
    driver = run["tool"]["driver"]
    assert driver["name"] == "syncverify" and driver["version"]
    assert [r["id"] for r in driver["rules"]] == ["SV103", "SV702", "SV709"]
    rule = driver["rules"][1]
    assert rule["name"] == "pipeline-bubble"
    assert rule["shortDescription"]["text"] == "fewer microbatches than pipeline stages"
    assert rule["fullDescription"]["text"] and "\n" not in rule["fullDescription"]["text"]
    assert rule["help"]["markdown"].startswith("# SV702 pipeline-bubble")
    assert "## Fix" in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "warning"
    assert rule["properties"]["tags"] == ["performance"]


def test_sarif_results_point_at_relative_uris_and_1_based_regions(plans):
    log, _ = sarif_of("plans")
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("SV103", "error"),
        ("SV709", "note"),
        ("SV702", "warning"),
    ]
    first = results[0]
    assert first["ruleIndex"] == 0
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "plans/error.yaml", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 23, "endLine": 4, "endColumn": 24}
    assert first["message"]["text"].startswith("5 layers do not split evenly over pp = 2")
    assert first["properties"]["where"] == {"phase": "prefill, decode"}
    assert first["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "prefill, decode"}]
    assert "stages:" in first["properties"]["help"]


def test_sarif_fingerprint_survives_lines_added_above(plans):
    before, _ = sarif_of("plans/error.yaml")
    write(plans, "plans/error.yaml", "# a comment\n\n" + plan_text(layers=5))
    after, _ = sarif_of("plans/error.yaml")
    prints = [
        r["partialFingerprints"]["syncverify/v1"]
        for log in (before, after)
        for r in log["runs"][0]["results"]
    ]
    assert prints[0] == prints[1] and prints[0].endswith(":1")
    lines = [
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for log in (before, after)
        for r in log["runs"][0]["results"]
    ]
    assert lines == [4, 6]


def test_sarif_fingerprints_differ_by_rule_and_file(plans):
    write(plans, "plans/error2.yaml", plan_text(layers=5))
    log, _ = sarif_of("plans")
    prints = [r["partialFingerprints"]["syncverify/v1"] for r in log["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)


def test_sarif_counts_identical_findings_in_the_fingerprint():
    same = {
        "code": "SV301",
        "slug": "s",
        "category": "missing-sync",
        "severity": "error",
        "message": "m at line 3",
        "file": "p.yaml",
        "column": 1,
    }
    report = Report(files=["p.yaml"], findings=[Finding(line=3, **same), Finding(line=9, **same)])
    results = sarif.document(report)["runs"][0]["results"]
    prints = [r["partialFingerprints"]["syncverify/v1"] for r in results]
    assert prints[0].split(":")[0] == prints[1].split(":")[0]
    assert [p.split(":")[1] for p in prints] == ["1", "2"]


def test_sarif_of_an_unusable_plan_is_a_result_and_an_unsuccessful_run(plans):
    write(plans, "plans/broken.yaml", "syncverify: 1\nname: [unclosed\n")
    log, result = sarif_of("plans/broken.yaml")
    assert result.exit_code == 2
    run = log["runs"][0]
    assert run["invocations"] == [{"executionSuccessful": False, "exitCode": 2}]
    assert run["results"][0]["ruleId"].startswith("SV0")
    assert "plans/broken.yaml" in result.stderr  # the reason is on stderr too
    validate_sarif(log, DATA / "sarif-schema-2.1.0.json")


def test_sarif_plan_outside_the_working_directory_gets_an_absolute_uri(plans, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    path = write(elsewhere, "far.yaml", plan_text(layers=5))
    log, _ = sarif_of(path)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": Path(path).resolve().as_uri()}


def test_sarif_clean_run_has_no_results_and_still_validates(plans):
    log, result = sarif_of("plans/clean.yaml")
    assert result.exit_code == 0
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
    validate_sarif(log, DATA / "sarif-schema-2.1.0.json")


# ----------------------------------------------------------------------------- github


def test_github_escaping_of_data_and_properties():
    assert github.escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_annotations_grouped_per_file(plans):
    result = check("--format", "github", "--isolated", "plans")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "::group::plans/error.yaml"
    assert lines[1].startswith(
        "::error file=plans/error.yaml,line=4,endLine=4,col=23,endColumn=23,"
        "title=SV103 uneven-stages-unstated::plans/error.yaml:4:23: SV103 5 layers do not split"
    )
    assert "%0Ahelp: state the split you deploy" in lines[1]
    assert lines[2] == "::endgroup::"
    assert lines[3] == "::group::plans/slow.yaml"
    assert lines[4].startswith("::notice file=plans/slow.yaml,line=4,")
    assert lines[5].startswith("::warning file=plans/slow.yaml,line=6,")
    assert lines[-1] == "1 error, 1 warning, 1 note in 2 of 3 files (1 SV103, 1 SV702, 1 SV709)"


def test_github_annotates_10_per_severity_and_says_how_many_were_not(plans):
    for n in range(12):
        write(plans, f"many/p{n:02}.yaml", plan_text(layers=5, mb=1))
    result = check("--format", "github", "--isolated", "many")
    out = result.stdout.splitlines()
    # 12 errors and 12 warnings: 10 of each annotated, 2 + 2 as plain lines, then one notice
    assert sum(line.startswith("::error ") for line in out) == 10
    assert sum(line.startswith("::warning ") for line in out) == 10
    plain = [line for line in out if line.startswith("many/")]
    assert len(plain) == 4 and plain[0].startswith("many/p10.yaml:4:23: error SV103 ")
    assert out[-2] == (
        "::notice title=syncverify::4 more findings were not annotated: GitHub "
        "shows 10 annotations per severity and step. They are listed in the log "
        "above; a SARIF report (docs/ci.md) holds all of them"
    )


def test_github_keeps_one_notice_for_itself(plans):
    for n in range(10):
        write(plans, f"notes/p{n}.yaml", plan_text(kv=1))
    out = check("--format", "github", "--isolated", "notes").stdout.splitlines()
    assert sum(line.startswith("::notice file=") for line in out) == 9
    assert out[-2].startswith("::notice title=syncverify::1 more finding was not annotated")


def test_github_escapes_file_names_in_properties(plans):
    path = write(plans, "odd,name:1.yaml", plan_text(layers=5))
    out = check("--format", "github", "--isolated", path).stdout
    assert "::error file=odd%2Cname%3A1.yaml,line=4," in out


def test_github_unusable_plan_is_annotated_too(plans):
    write(plans, "plans/broken.yaml", "syncverify: 1\nname: [unclosed\n")
    result = check("--format", "github", "--isolated", "plans/broken.yaml")
    assert result.exit_code == 2
    assert "::error file=plans/broken.yaml," in result.stdout
    assert result.stderr == ""


# ----------------------------------------------------------------------------- auto

ACTIONS = {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "ci"}


def test_auto_is_the_default_and_picks_github_inside_actions(plans):
    assert check("--isolated", "plans/error.yaml", env=ACTIONS).stdout.startswith("::group::")


def test_auto_needs_both_variables(plans):
    out = check("--isolated", "plans/error.yaml", env={"GITHUB_ACTIONS": "true"}).stdout
    assert out.startswith("plans/error.yaml:4:23: error:")


def test_auto_writes_text_to_a_file_even_inside_actions(plans):
    check("--isolated", "-o", "report.txt", "plans/error.yaml", env=ACTIONS)
    assert (plans / "report.txt").read_text().startswith("plans/error.yaml:4:23: error:")


def test_explicit_format_and_environment_win_over_auto(plans):
    assert check("--isolated", "-f", "concise", "plans/error.yaml", env=ACTIONS).stdout.startswith(
        "plans/error.yaml:4:23: error SV103"
    )
    env = dict(ACTIONS, SYNCVERIFY_OUTPUT_FORMAT="json")
    assert json.loads(check("--isolated", "plans/error.yaml", env=env).stdout)["version"] == 1


# ----------------------------------------------------------------------------- --output


def test_output_writes_the_report_to_a_file_and_nothing_to_stdout(plans):
    (plans / "out").mkdir()
    result = check("--isolated", "-f", "json", "--output", "out/report.json", "plans")
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads((plans / "out" / "report.json").read_text())["summary"]["findings"] == 3
    assert sorted(os.listdir(plans / "out")) == ["report.json"]  # no temporary left


def test_output_replaces_an_existing_file(plans):
    (plans / "report.txt").write_text("old content that is longer than the new report\n" * 50)
    check("--isolated", "-f", "concise", "-o", "report.txt", "plans/error.yaml")
    assert (plans / "report.txt").read_text().startswith("plans/error.yaml:4:23: error SV103")
    assert "old content" not in (plans / "report.txt").read_text()


def test_output_text_has_no_colour_even_when_forced(plans):
    check("--isolated", "-o", "report.txt", "plans/error.yaml", env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in (plans / "report.txt").read_text()


def test_output_in_a_missing_folder_exits_2_before_checking(plans):
    result = check("--isolated", "-o", "nope/report.json", "plans")
    assert result.exit_code == 2
    assert "--output: cannot write 'nope/report.json': no such directory" in result.stderr


def test_output_names_unusable_plans_on_stderr(plans):
    write(plans, "plans/broken.yaml", "syncverify: 1\nname: [unclosed\n")
    result = check("--isolated", "-f", "concise", "-o", "r.txt", "plans/broken.yaml")
    assert result.exit_code == 2 and "plans/broken.yaml:" in result.stderr


# ----------------------------------------------------------------------------- --statistics


def test_statistics_counts_per_rule_most_frequent_first(plans):
    write(plans, "plans/error2.yaml", plan_text(layers=5))
    result = check("--isolated", "--statistics", "plans")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "2  SV103  uneven-stages-unstated",
        "1  SV702  pipeline-bubble",
        "1  SV709  kv-heads-replicated",
    ]


def test_statistics_as_json(plans):
    result = check("--isolated", "--statistics", "-f", "json", "plans/error.yaml")
    assert json.loads(result.stdout) == [
        {"category": "config", "code": "SV103", "count": 1, "slug": "uneven-stages-unstated"}
    ]


def test_statistics_of_a_clean_run_is_empty_and_exits_0(plans):
    result = check("--isolated", "--statistics", "plans/clean.yaml")
    assert result.exit_code == 0 and result.stdout == ""


def test_statistics_with_sarif_is_a_usage_error(plans):
    result = check("--isolated", "--statistics", "-f", "sarif", "plans")
    assert result.exit_code == 2 and "--statistics" in result.stderr


# ----------------------------------------------------------------------------- subprocess


def syncverify(*args, cwd, env=None):
    environ = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SYNCVERIFY_OUTPUT_FORMAT",
            "GITHUB_ACTIONS",
            "GITHUB_WORKFLOW",
            "FORCE_COLOR",
            "PYTEST_CURRENT_TEST",
        )
    }
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "syncverify", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
    )


def test_subprocess_inside_github_actions_annotates_and_writes_sarif(plans):
    proc = syncverify("check", "--isolated", "plans", cwd=plans, env=ACTIONS)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::group::plans/error.yaml\n::error file=plans/error.yaml,")
    proc = syncverify(
        "check", "--isolated", "--format", "sarif", "--output", "out.sarif", "plans", cwd=plans
    )
    assert proc.returncode == 1 and proc.stdout == ""
    validate_sarif(json.loads((plans / "out.sarif").read_text()), DATA / "sarif-schema-2.1.0.json")
