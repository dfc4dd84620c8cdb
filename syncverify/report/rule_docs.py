"""Renderers of the rule documentation: `syncverify rules` (table, json, markdown) and
`syncverify explain` (one rule's page). The markdown list is `rules/catalog.md`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from syncverify.report import make_console

RULE_FIELDS = ("code", "slug", "category", "severity", "summary")
CATALOG_HEADER = """\
# syncverify rules

Every rule syncverify runs, generated from the registry: do not edit by hand. Regenerate with

    syncverify rules --format markdown > rules/catalog.md

`syncverify explain CODE` (or the slug) prints a rule's full page: what it checks, why it
matters, a bad plan and the fix. Codes: SV0xx the plan cannot be read (exit code 2), SV1xx
config, SV2xx shape, SV3xx missing-sync, SV4xx redundant-sync, SV5xx phase-illegal, SV6xx
ordering, SV7xx performance, SV900 internal error.

"""


def rule_row(rule) -> dict:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def rules_json(rules: Iterable) -> str:
    return json.dumps([rule_row(r) for r in rules], sort_keys=True, indent=2) + "\n"


def markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown(rules: Iterable) -> str:
    lines = ["| Code | Slug | Category | Severity | Summary |", "|---|---|---|---|---|"]
    for rule in rules:
        lines.append(
            "| " + " | ".join(markdown_cell(str(v)) for v in rule_row(rule).values()) + " |"
        )
    return CATALOG_HEADER + "\n".join(lines) + "\n"


def rules_table(rules: Iterable, stream: TextIO, *, color: str = "auto") -> None:
    """A rich table on a terminal; aligned plain lines, one per rule, anywhere else (a pipe
    has no width to wrap the summaries to)."""
    from rich.table import Table

    console = make_console(stream, color)
    if not console.is_terminal:
        stream.write(
            plain_table([dict(zip(RULE_FIELDS, RULE_FIELDS))] + [rule_row(rule) for rule in rules])
        )
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in RULE_FIELDS:
        table.add_column(name, no_wrap=name != "summary")
    for rule in rules:
        table.add_row(*(str(v) for v in rule_row(rule).values()))
    console.print(table)


def plain_table(rows: list[dict]) -> str:
    """Rows of strings, every column but the last padded to its widest cell."""
    widths = [max(len(str(row[name])) for row in rows) for name in RULE_FIELDS[:-1]]
    lines = []
    for row in rows:
        cells = [str(row[name]).ljust(width) for name, width in zip(RULE_FIELDS, widths)]
        lines.append("  ".join(cells + [str(row[RULE_FIELDS[-1]])]))
    return "\n".join(lines) + "\n"


def rule_page(rule) -> str:
    """The markdown page of one rule: title, summary, category and severity, then its docs."""
    return (
        f"# {rule.code} {rule.slug}\n\n{rule.summary}\n\n"
        f"Category: {rule.category}. Default severity: {rule.severity}.\n\n"
        f"{rule.page.strip()}\n"
    )


def explain(rule, stream: TextIO, *, color: str = "auto") -> None:
    """Rendered markdown on a terminal, the raw markdown otherwise (pipes, files, pagers)."""
    console = make_console(stream, color)
    if console.is_terminal:
        from rich.markdown import Markdown

        console.print(Markdown(rule_page(rule)))
    else:
        stream.write(rule_page(rule))
