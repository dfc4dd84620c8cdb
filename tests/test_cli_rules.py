"""`syncverify rules` and `syncverify explain`, and the generated rule catalog."""

import json
from pathlib import Path

from click.testing import CliRunner

from syncverify.cli import cli
from syncverify.report.rule_docs import rules_markdown
from syncverify.rules import ALL_RULES

CATALOG = Path(__file__).resolve().parents[1] / "rules" / "catalog.md"


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_rules_table_lists_every_rule():
    result = invoke("rules")
    assert result.exit_code == 0
    for rule in ALL_RULES:
        assert rule.code in result.output and rule.slug in result.output


def test_rules_table_in_a_pipe_is_one_line_per_rule():
    # grep and wc read it: no summary wrapped word by word at 80 columns
    lines = invoke("rules").output.splitlines()
    assert len(lines) == 1 + len(ALL_RULES)
    assert lines[0].split() == ["code", "slug", "category", "severity", "summary"]
    for line, rule in zip(lines[1:], ALL_RULES):
        assert line.split(None, 4) == [
            rule.code,
            rule.slug,
            rule.category,
            rule.severity,
            rule.summary,
        ]


def test_rules_json_has_every_field_of_every_rule():
    rows = json.loads(invoke("rules", "--format", "json").output)
    assert [r["code"] for r in rows] == [r.code for r in ALL_RULES]
    assert all(set(r) == {"code", "slug", "category", "severity", "summary"} for r in rows)


def test_rules_markdown_is_a_table_row_per_rule():
    out = invoke("rules", "--format", "markdown").output
    assert out == rules_markdown(ALL_RULES)
    for rule in ALL_RULES:
        assert f"| {rule.code} | {rule.slug} | {rule.category} | {rule.severity} |" in out


def test_catalog_is_up_to_date():
    assert CATALOG.read_text() == rules_markdown(ALL_RULES), (
        "rules/catalog.md is out of date with the rule registry; regenerate it with:\n"
        "    syncverify rules --format markdown > rules/catalog.md"
    )


def test_explain_by_code_and_by_slug_prints_the_page():
    for name in ("SV900", "sv900", "internal-error"):
        result = invoke("explain", name)
        assert result.exit_code == 0
        assert result.output.startswith("# SV900 internal-error\n")
        for section in ("## What it checks", "## Why it matters", "## Bad plan", "## Fix"):
            assert section in result.output


def test_explain_unknown_rule_exits_2_with_did_you_mean():
    result = invoke("explain", "SV9000")
    assert result.exit_code == 2
    assert "unknown rule 'SV9000'; did you mean " in result.output
    assert "SV900" in result.output
    result = invoke("explain", "internal-eror")
    assert "did you mean internal-error?" in result.output


def test_explain_without_a_close_match_points_to_the_list():
    result = invoke("explain", "nothing-like-it")
    assert result.exit_code == 2
    assert "`syncverify rules` lists them" in result.output


def test_version_and_short_help():
    assert invoke("--version").output.startswith("syncverify, version ")
    assert invoke("-h").exit_code == 0
    assert "Usage:" in invoke("check", "-h").output


def test_explain_renders_markdown_on_a_terminal():
    result = invoke("explain", "SV900", "--color", "always")
    assert result.exit_code == 0
    assert "\x1b[" in result.output and "## Why it matters" not in result.output
    assert "Why it matters" in result.output


def test_rule_is_explain_under_ruffs_name():
    assert (
        invoke("rule", "SV301", "--color", "never").output
        == invoke("explain", "SV301", "--color", "never").output
    )
    assert "rule " not in invoke("--help").output  # one entry in the command list


def test_output_format_is_an_alias_of_format():
    bad = Path(__file__).resolve().parents[1] / "plans" / "bad" / "sv301-unreduced-partial-sum.yaml"
    assert (
        invoke("check", "--output-format", "concise", str(bad)).output
        == invoke("check", "-f", "concise", str(bad)).output
    )
