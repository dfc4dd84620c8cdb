"""The renderers over hand-made reports: frames, carets, summaries, exit codes, formats."""

import io
import json

import pytest

from syncverify.findings import Finding
from syncverify.report import FORMATS, Report, exit_code, render, summary
from syncverify.report import text as text_report

SOURCE = "syncverify: 1\nname: x\nparallel: {tp: 6, pp: 2}\nsync:\n  - {after: o_proj}\n"


def finding(code="SV201", severity="error", line=3, column=16, file="p.yaml", **extra):
    category = {"SV2": "shape", "SV7": "performance", "SV0": "config", "SV9": "config"}[code[:3]]
    return Finding(
        code=code,
        slug="some-rule",
        category=category,
        severity=severity,
        message="a message",
        file=file,
        line=line,
        column=column,
        **extra,
    )


def rendered(report, format="text", **options):
    stream = io.StringIO()
    render(report, format, stream, **options)
    return stream.getvalue()


@pytest.mark.parametrize(
    "severities, fail_on, exit_zero, expected",
    [
        ([], "error", False, 0),
        (["note"], "warning", False, 0),
        (["warning"], "error", False, 0),
        (["warning"], "warning", False, 1),
        (["error"], "error", False, 1),
        (["error", "warning"], "error", True, 0),
    ],
)
def test_exit_code_follows_the_fail_level(severities, fail_on, exit_zero, expected):
    report = Report(files=["p.yaml"], findings=[finding(severity=s) for s in severities])
    assert exit_code(report, fail_on, exit_zero) == expected


def test_problems_always_exit_2():
    report = Report(files=["p.yaml"], problems=[finding("SV002", line=1, column=1)])
    assert exit_code(report, "error", exit_zero=True) == 2


def test_summary_counts_findings_and_problems_together():
    report = Report(
        files=["a.yaml", "b.yaml"],
        findings=[finding(), finding(), finding("SV701", "warning")],
        problems=[finding("SV002", file="b.yaml")],
        exit_code=2,
    )
    assert summary(report) == {
        "files": 2,
        "findings": 4,
        "errors": 3,
        "warnings": 1,
        "notes": 0,
        "by_code": {"SV002": 1, "SV201": 2, "SV701": 1},
        "by_category": {"config": 1, "performance": 1, "shape": 2},
        "exit_code": 2,
    }


def test_all_findings_are_sorted_by_file_line_column_code():
    late, early = finding(line=5, column=1), finding(line=3, column=2)
    other = finding("SV002", file="a.yaml", line=9)
    report = Report(findings=[late, early], problems=[other])
    assert report.all_findings() == [other, early, late]


def test_json_document_is_sorted_and_stable():
    report = Report(files=["p.yaml"], findings=[finding()], exit_code=1)
    out = rendered(report, "json")
    doc = json.loads(out)
    assert out == json.dumps(doc, sort_keys=True, indent=2) + "\n"
    assert doc["findings"] == [finding().as_dict()]


def test_every_format_renders_an_empty_report():
    for name in FORMATS:
        rendered(Report(files=["p.yaml"]), name)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        rendered(Report(), "xml")


def test_frame_shows_one_line_before_and_the_line():
    assert text_report.frame_lines(SOURCE, finding()) == [
        (2, "name: x"),
        (3, "parallel: {tp: 6, pp: 2}"),
    ]


def test_frame_of_a_multi_line_span_is_capped():
    lines = text_report.frame_lines(SOURCE, finding(line=2, column=1, end_line=5, end_column=3))
    assert [number for number, _ in lines] == [1, 2, 3, 4]


def test_frame_of_a_line_outside_the_source_is_empty():
    assert text_report.frame_lines(SOURCE, finding(line=40)) == []


def test_caret_spans_the_columns_of_the_value():
    line = "parallel: {tp: 6, pp: 2}"
    assert (
        text_report.caret_line(line, finding(column=12, end_line=3, end_column=17))
        == "           ^^^^^"
    )
    assert text_report.caret_line(line, finding(column=16)) == " " * 15 + "^"


def test_caret_keeps_tabs_so_it_lines_up():
    assert text_report.caret_line("\tkey: 1", finding(column=3)) == "\t ^"


def test_caret_of_a_multi_line_span_runs_to_the_end_of_the_line():
    assert (
        text_report.caret_line("model: {a: 1,", finding(column=8, end_line=5, end_column=2))
        == "       ^^^^^^"
    )


def test_internal_error_has_no_frame():
    report = Report(
        files=["p.yaml"], problems=[finding("SV900", line=1, column=1)], sources={"p.yaml": SOURCE}
    )
    assert " | " not in rendered(report)


def test_frame_is_skipped_when_the_source_is_unreadable(tmp_path):
    missing = str(tmp_path / "gone.yaml")
    report = Report(files=[missing], findings=[finding(file=missing)])
    out = rendered(report)
    assert "a message" in out and " | " not in out


def test_summary_line_words():
    report = Report(
        files=["p.yaml", "q.yaml"],
        findings=[
            finding("SV701", "warning"),
            finding(),
            finding(file="q.yaml"),
            finding("SV701", "note"),
        ],
    )
    assert (
        text_report.summary_line(report)
        == "2 errors, 1 warning, 1 note in 2 files (2 SV201, 2 SV701)"
    )
    assert text_report.summary_line(Report(files=["a.yaml"])) == "no findings in 1 file"


def test_summary_line_counts_files_with_findings_apart_from_files_checked():
    """`N errors in M files` counts the files that have them; the files checked follow when
    some had nothing (mypy: "Found 7 errors in 1 file (checked 3 source files)")."""
    clean = ["a.yaml", "b.yaml"]
    report = Report(
        files=[*clean, "p.yaml"], findings=[finding(), finding(line=4), finding("SV701", "note")]
    )
    assert text_report.summary_line(report) == "2 errors, 1 note in 1 of 3 files (2 SV201, 1 SV701)"
    report.findings.append(finding(file="b.yaml"))
    assert text_report.summary_line(report) == "3 errors, 1 note in 2 of 3 files (3 SV201, 1 SV701)"
    report.baselined = 2
    assert text_report.summary_line(report).endswith(
        "in 2 of 3 files (3 SV201, 1 SV701); 2 hidden by the baseline"
    )


def test_github_summary_is_the_text_summary():
    report = Report(files=["a.yaml", "p.yaml"], findings=[finding()])
    assert rendered(report, "github").splitlines()[-1] == "1 error in 1 of 2 files (1 SV201)"


def test_concise_lines():
    report = Report(files=["p.yaml"], findings=[finding(), finding("SV701", "warning", line=5)])
    assert rendered(report, "concise") == (
        "p.yaml:3:16: error SV201 a message\np.yaml:5:16: warning SV701 a message\n"
    )


def test_markup_like_text_in_messages_is_printed_as_written():
    odd = Finding(
        code="SV201",
        slug="s",
        category="shape",
        severity="error",
        message="ranks [bold]0-3[/bold] differ",
        file="p.yaml",
        line=3,
        column=1,
    )
    assert "ranks [bold]0-3[/bold] differ" in rendered(
        Report(files=["p.yaml"], findings=[odd], sources={"p.yaml": SOURCE})
    )


def test_each_text_finding_starts_with_a_place_an_editor_opens():
    """`path:line:col: severity: message  [CODE slug]`, the shape gcc, mypy and ruff print and
    editors' problem matchers (VS Code's $gcc, Emacs compilation-mode, vim's errorformat) read."""
    report = Report(
        files=["p.yaml", "q.yaml"],
        findings=[finding(), finding("SV701", "warning", line=2, column=1, file="q.yaml")],
        sources={"p.yaml": SOURCE, "q.yaml": SOURCE},
    )
    lines = rendered(report, color="never").splitlines()
    assert lines[0] == "p.yaml:3:16: error: a message  [SV201 some-rule]"
    assert lines[1:4] == [
        "    2 | name: x",
        "  > 3 | parallel: {tp: 6, pp: 2}",
        "      |                ^",
    ]
    assert "q.yaml:2:1: warning: a message  [SV701 some-rule]" in lines
    assert "p.yaml" not in lines and "q.yaml" not in lines  # no heading line per file
    quiet = rendered(report, color="never", quiet=True).splitlines()
    assert quiet == [
        "p.yaml:3:16: error: a message  [SV201 some-rule]",
        "q.yaml:2:1: warning: a message  [SV701 some-rule]",
    ]
