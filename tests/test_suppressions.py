"""Inline suppressions from the user's side: `# syncverify: ...` comments in real plans."""

from __future__ import annotations

import pytest

from syncverify.suppressions import comments_and_content_lines
from tests.cli_plans import check, plan_text, write

PLAN = plan_text(mb=1, kv=1)  # SV709 note at 4:16, SV702 warning at 6:27
LINES = PLAN.splitlines(keepends=True)


def comment_column(line: int, text: str = PLAN) -> int:
    """The column `with_comment` puts its `#` at."""
    return len(text.splitlines()[line - 1]) + 4


def with_comment(line: int, comment: str, text: str = PLAN) -> str:
    """`text` with `comment` after line `line` (1-based)."""
    lines = text.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + "   " + comment + "\n"
    return "".join(lines)


def inserted(line: int, comment: str, text: str = PLAN) -> str:
    """`text` with `comment` on a line of its own before line `line`."""
    lines = text.splitlines(keepends=True)
    lines.insert(line - 1, comment + "\n")
    return "".join(lines)


def found(text: str, *args: str, tmp_path) -> list[tuple[int, str]]:
    path = write(tmp_path, "plan.yaml", text)
    result = check("-f", "concise", "--isolated", *args, path)
    assert result.exit_code in (0, 1), result.output
    return [(int(line.split(":")[1]), line.split()[2]) for line in result.stdout.splitlines()]


def test_without_comments_both_findings_are_reported(tmp_path):
    assert found(PLAN, tmp_path=tmp_path) == [(4, "SV709"), (6, "SV702")]


def test_disable_line_by_code_and_by_slug(tmp_path):
    text = with_comment(6, "# syncverify: disable-line SV702 -- one microbatch on purpose")
    assert found(text, tmp_path=tmp_path) == [(4, "SV709")]
    text = with_comment(4, "# syncverify: disable-line kv-heads-replicated")
    assert found(text, tmp_path=tmp_path) == [(6, "SV702")]


def test_disable_line_lists_several_codes(tmp_path):
    text = with_comment(4, "# syncverify: disable-line SV709, SV701")  # SV701 ran: unused
    assert found(text, tmp_path=tmp_path) == [(4, "SV901"), (6, "SV702")]


def test_disable_line_silences_its_own_line_only(tmp_path):
    text = with_comment(5, "# syncverify: disable-line SV702")
    assert found(text, tmp_path=tmp_path) == [(4, "SV709"), (5, "SV901"), (6, "SV702")]


def test_disable_next_line_silences_the_next_line_with_content(tmp_path):
    text = inserted(6, "# syncverify: disable-next-line SV702\n# a comment in between")
    assert found(text, tmp_path=tmp_path) == [(4, "SV709")]


def test_disable_enable_block(tmp_path):
    # after the first insertion the findings are on lines 5 and 7
    text = inserted(
        8, "# syncverify: enable SV709, SV702", inserted(4, "# syncverify: disable SV709, SV702")
    )
    assert found(text, tmp_path=tmp_path) == []
    text = inserted(6, "# syncverify: enable SV702", inserted(4, "# syncverify: disable SV702"))
    assert found(text, tmp_path=tmp_path) == [(4, "SV901"), (5, "SV709"), (8, "SV702")]


def test_enabling_one_code_of_a_block_keeps_the_others_disabled(tmp_path):
    text = inserted(
        6, "# syncverify: enable SV709", inserted(4, "# syncverify: disable SV709, SV702")
    )
    assert found(text, tmp_path=tmp_path) == []


def test_disable_without_enable_lasts_to_the_end(tmp_path):
    text = inserted(2, "# syncverify: disable SV702")
    assert found(text, tmp_path=tmp_path) == [(5, "SV709")]


def test_disable_file_in_the_leading_comments(tmp_path):
    text = "# plan header\n# syncverify: disable-file SV709, SV702\n" + PLAN
    assert found(text, tmp_path=tmp_path) == []


def test_disable_file_below_the_first_key_is_rejected(tmp_path):
    text = inserted(3, "# syncverify: disable-file SV709")
    assert found(text, tmp_path=tmp_path) == [(3, "SV902"), (5, "SV709"), (7, "SV702")]


def test_a_suppression_without_a_code_is_rejected_and_silences_nothing(tmp_path):
    text = with_comment(6, "# syncverify: disable-line")
    path = write(tmp_path, "plan.yaml", text)
    result = check("-f", "concise", "--isolated", path)
    assert (
        result.stdout.splitlines()[-1]
        == f"{path}:6:{comment_column(6)}: error SV902 `disable-line` without a rule code: "
        "suppressions silence named rules only"
    )
    assert (6, "SV702") in found(text, tmp_path=tmp_path)
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "comment, message",
    [
        ("# syncverify: disable-line SV7020", "suppression names no rule: SV7020"),
        ("# syncverify: disable-line SV702 SV999", "suppression names no rule: SV999"),
        ("# syncverify: disabel-line SV702", "unknown suppression directive 'disabel-line'"),
        ("# syncverify: ignore[SV702]", "unknown suppression directive 'ignore'"),
        ("# syncverify: disable-line SV002", "SV002 cannot be suppressed"),
        (
            "# syncverify: disable-line SV103",
            "SV103 cannot be suppressed: its finding stops the graph rules",
        ),
        ("# syncverify: enable SV702", "`enable SV702` without an earlier `disable SV702`"),
    ],
)
def test_rejected_suppressions(tmp_path, comment, message):
    path = write(tmp_path, "plan.yaml", with_comment(6, comment))
    out = check("-f", "concise", "--isolated", path).stdout
    assert f"error SV902 {message}" in out


def test_comment_that_is_not_a_directive_is_left_alone(tmp_path):
    text = inserted(1, "# syncverify: this plan was written by hand")
    assert found(text, tmp_path=tmp_path) == [(5, "SV709"), (7, "SV702")]


def test_hash_inside_quoted_and_block_scalars_is_no_comment(tmp_path):
    text = PLAN.replace("name: small", 'name: "small # syncverify: disable-file SV709"')
    text += "notes: |\n  # syncverify: disable-file SV702\n"
    # `notes` is no plan key: the plan is unusable, so read the comments directly
    comments, _ = comments_and_content_lines(text)
    assert [c.text for c in comments] == []
    text = PLAN.replace("name: small", "name: 'small # syncverify: disable-file SV709'")
    assert found(text, tmp_path=tmp_path) == [(4, "SV709"), (6, "SV702")]


def test_comments_inside_flow_collections_are_found():
    text = "a: {b: 1,   # syncverify: disable-line SV709\n    c: 2}\n"
    comments, content = comments_and_content_lines(text)
    assert [(c.line, c.column) for c in comments] == [(1, 13)]
    assert content == {1, 2}


# ------------------------------------------------------------------------- unused: only when ran


def test_unused_is_not_reported_for_a_rule_that_did_not_run(tmp_path):
    # SV103 blocks the graph rules, so an SV301 suppression was never tested
    text = with_comment(9, "# syncverify: disable-line SV301", plan_text(layers=5))
    assert found(text, tmp_path=tmp_path) == [(4, "SV103")]


# ------------------------------------------------------------------------- no masking (issue 10)


def test_a_finding_that_stops_the_graph_rules_cannot_be_silenced_by_a_comment(tmp_path):
    text = with_comment(4, "# syncverify: disable-line SV103", plan_text(layers=5))
    assert found(text, tmp_path=tmp_path) == [(4, "SV103"), (4, "SV902")]
    text = "# syncverify: disable-file SV103\n" + plan_text(layers=5)
    assert found(text, tmp_path=tmp_path) == [(1, "SV902"), (5, "SV103")]


def test_deselecting_a_finding_that_stops_selected_graph_rules_still_reports_it(tmp_path):
    text = plan_text(layers=5)
    assert found(text, "--ignore", "SV103", tmp_path=tmp_path) == [(4, "SV103")]
    assert found(text, "--select", "SV3", tmp_path=tmp_path) == [(4, "SV103")]
    # no graph rule selected: nothing was left unchecked, so the finding hides as asked
    assert found(text, "--select", "SV7", "--ignore", "SV704,SV705", tmp_path=tmp_path) == []


def test_the_docs_name_every_code_that_stops_the_graph_rules():
    from pathlib import Path

    from syncverify.engine import BLOCKING_CODES
    from syncverify.rules import invalid_suppression

    docs = (Path(__file__).parent.parent / "docs" / "suppressions.md").read_text()
    for code in BLOCKING_CODES:
        assert code in docs and code in invalid_suppression.RULE.page, code


def test_unused_is_not_reported_for_a_deselected_rule(tmp_path):
    text = with_comment(4, "# syncverify: disable-line SV701")
    assert found(text, "--select", "SV7", tmp_path=tmp_path) == [(4, "SV709"), (6, "SV702")]


def test_unused_suppression_is_a_warning_that_can_be_ignored(tmp_path):
    text = with_comment(4, "# syncverify: disable-line SV709, SV701")
    path = write(tmp_path, "plan.yaml", text)
    out = check("-f", "concise", "--isolated", path).stdout
    assert (
        f"{path}:4:{comment_column(4)}: warning SV901 unused suppression: "
        "no SV701 finding on line 4" in out
    )
    assert found(text, "--ignore", "SV901", tmp_path=tmp_path) == [(6, "SV702")]


def test_unused_suppression_can_be_silenced_by_a_directive(tmp_path):
    text = "# syncverify: disable-file SV901\n" + with_comment(
        4, "# syncverify: disable-line SV701"
    )
    assert found(text, tmp_path=tmp_path) == [(5, "SV709"), (7, "SV702")]


def test_suppressions_work_on_stdin_with_every_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = with_comment(6, "# syncverify: disable-line SV702")
    for format in ("concise", "json", "sarif", "github", "text"):
        result = check("-f", format, "--isolated", "--stdin-filename", "p.yaml", "-", input=text)
        assert "SV709" in result.stdout and "SV702" not in result.stdout, format
