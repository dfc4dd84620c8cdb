"""`syncverify rules`: the rule list as a table, JSON or markdown (rules/catalog.md)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class RulesArguments:
    format: str = "table"  # table, json or markdown
    color: str = "auto"


def rules(args: RulesArguments, out: TextIO | None = None) -> int:
    """Write the rule list; the exit code (0)."""
    from syncverify.report import rule_docs
    from syncverify.rules import ALL_RULES

    out = out or sys.stdout
    if args.format == "json":
        out.write(rule_docs.rules_json(ALL_RULES))
    elif args.format == "markdown":
        out.write(rule_docs.rules_markdown(ALL_RULES))
    else:
        rule_docs.rules_table(ALL_RULES, out, color=args.color)
    return 0
