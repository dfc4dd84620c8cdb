"""`text`: the human report (rich), grouped by file.

    plans/llama.yaml:6:18: error: 64 heads do not split over tp = 6  [SV201 heads-divisible-by-tp]
         5 | cluster: {nodes: 2, gpus_per_node: 8}
       > 6 | parallel: {tp: 6, pp: 2}
           |                  ^
      help: use a tp that divides 64 heads and 8 KV heads, e.g. tp: 8
      where: prefill, ranks 0-11

    1 error in 1 file (1 SV201)

Each finding's first line starts with `path:line:col:` as gcc, mypy and ruff print it, so a
terminal, an editor's problem matcher or `grep` can open the place; `--quiet` prints only those
lines.

Styling is only applied on a terminal (or with --color always / FORCE_COLOR); piped output
is plain text. Only ASCII is drawn, so any stream encoding can take it.
"""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from syncverify.escape import escaped
from syncverify.findings import Finding
from syncverify.report import Report, make_console

PROBLEMS_ON_STDERR = False  # shown with the findings
SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "note": "bold cyan"}
INDENT = "  "
CONTEXT_BEFORE = 1  # source lines shown above the finding's line
MAX_FRAME_LINES = 3  # of a span that covers several lines, show at most this many


def render(report: Report, stream: TextIO, *, color: str = "auto", quiet: bool = False) -> None:
    from rich.text import Text

    console = make_console(stream, color)
    for finding in report.all_findings():
        console.print(headline(finding))
        if not quiet:
            for part in details(finding, report.source(finding.file)):
                console.print(part)
            console.print()
    if not quiet:
        console.print(Text(summary_line(report), style="bold"))


def headline(finding: Finding):
    from rich.text import Text

    return Text.assemble(
        (f"{finding.file}:{finding.line}:{finding.column}:", "bold"),
        " ",
        (f"{finding.severity}:", SEVERITY_STYLE.get(finding.severity, "bold")),
        " ",
        finding.message,
        "  ",
        (f"[{finding.code} {finding.slug}]", "dim"),
    )


def details(finding: Finding, source: str | None) -> list:
    """What follows the headline: code frame, help, where, trace (each only when present)."""
    parts = []
    if source is not None and finding.code != "SV900":  # SV900 has no place in the plan
        parts.extend(code_frame(source, finding))
    if finding.help:
        parts.append(labelled("help", finding.help.rstrip("\n").split("\n"), "green"))
    where = describe_where(finding)
    if where:
        parts.append(labelled("where", [where], "blue"))
    if finding.trace:
        parts.append(labelled("trace", trace_lines(finding.trace), "magenta"))
    return parts


def labelled(label: str, lines: list[str], style: str):
    """`label: first line`, further lines aligned under the first one."""
    from rich.text import Text

    pad = " " * (len(label) + 2)
    text = Text.assemble(INDENT, (label + ":", f"bold {style}"), " ", lines[0])
    for line in lines[1:]:
        text.append("\n" + INDENT + pad + line)
    return text


def describe_where(finding: Finding) -> str:
    where = finding.where
    described = where.describe()
    if where.sync:
        described = f"{described}, sync {where.sync}" if described else f"sync {where.sync}"
    return described


def trace_lines(trace: tuple[str, ...]) -> list[str]:
    return [trace[0]] + [f"-> {node}" for node in trace[1:]]


def frame_lines(source: str, finding: Finding) -> list[tuple[int, str]]:
    """(line number, text) of the lines a frame shows, or [] if the line is not in `source`."""
    # as the spans count lines: U+2028, NEL or a form feed does not end one (splitlines would)
    lines = [line.removesuffix("\r") for line in source.split("\n")]
    if not 1 <= finding.line <= len(lines):
        return []
    last = max(
        finding.line,
        min(finding.end_line or finding.line, finding.line + MAX_FRAME_LINES - 1, len(lines)),
    )
    first = max(1, finding.line - CONTEXT_BEFORE)
    return [(number, lines[number - 1]) for number in range(first, last + 1)]


def caret_line(text: str, finding: Finding) -> str:
    """Spaces up to the finding's column (tabs kept, so they line up), then carets under it."""
    start = max(finding.column - 1, 0)
    prefix = "".join(ch if ch == "\t" else " " for ch in escaped(text[:start]))
    if (finding.end_line or finding.line) != finding.line:
        width = len(text.rstrip()) - start  # the span goes on below: mark to line end
    else:
        width = finding.end_column - finding.column  # end_column is one past the span
    return prefix + "^" * max(1, width)


def code_frame(source: str, finding: Finding) -> list:
    from rich.text import Text

    shown = frame_lines(source, finding)
    if not shown:
        return []
    gutter = len(str(shown[-1][0]))
    out = []
    for number, text in shown:
        primary = number == finding.line
        marker = ">" if primary else " "
        out.append(
            Text.assemble(
                INDENT,
                (f"{marker} {number:>{gutter}} | ", "dim"),
                (escaped(text), "bold" if primary else ""),
            )
        )
        if primary:
            out.append(
                Text.assemble(
                    INDENT,
                    (f"  {'':>{gutter}} | ", "dim"),
                    (caret_line(text, finding), SEVERITY_STYLE.get(finding.severity, "bold")),
                )
            )
    return out


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary_line(report: Report) -> str:
    """`3 errors, 1 warning in 2 files (2 SV301, 1 SV201, 1 SV702)`, or `no findings in 1 file`,
    then how many findings the baseline hid and how many plans could not be checked.

    "in 2 files" counts the files that have findings; when other files were checked and had
    none, it reads "in 2 of 5 files", so that the count never claims findings a file lacks.
    """
    found = report.all_findings()
    hidden = f"; {report.baselined} hidden by the baseline" if report.baselined else ""
    if not found:
        return f"no findings in {plural(len(report.files), 'file')}{hidden}"
    files = files_with_findings(report.files, found)
    severities = Counter(f.severity for f in found)
    counts = ", ".join(
        plural(severities[s], s) for s in ("error", "warning", "note") if severities[s]
    )
    codes = Counter(f.code for f in found)
    by_code = ", ".join(
        f"{n} {code}" for code, n in sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    )
    line = f"{counts} in {files} ({by_code}){hidden}"
    unusable = len(report.unusable_files())
    if unusable:
        line += f"; {plural(unusable, 'plan')} could not be checked"
    return line


def files_with_findings(checked: list[str], found: list[Finding]) -> str:
    """`2 files`, or `2 of 5 files` when some of the files checked have no finding."""
    having = len({f.file for f in found})
    total = max(len(checked), having)  # a finding's file is always one of those checked
    if having == total:
        return plural(having, "file")
    return f"{having} of {plural(total, 'file')}"
