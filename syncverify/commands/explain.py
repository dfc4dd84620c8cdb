"""`syncverify explain CODE_OR_SLUG` (and its alias `rule`): a rule's page."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from syncverify.usage import suggestions


@dataclass(frozen=True)
class ExplainArguments:
    name: str  # a rule code or slug
    color: str = "auto"


def explain(args: ExplainArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the rule's page; exit code 2 for an unknown rule."""
    from syncverify.report import rule_docs
    from syncverify.rules import ALL_RULES, find_rule

    out, err = out or sys.stdout, err or sys.stderr
    rule = find_rule(args.name)
    if rule is None:
        close = suggestions(args.name, [r.code for r in ALL_RULES] + [r.slug for r in ALL_RULES])
        hint = (
            f"; did you mean {' or '.join(close)}?" if close else "; `syncverify rules` lists them"
        )
        err.write(f"syncverify: error: unknown rule '{args.name}'{hint}\n")
        return 2
    rule_docs.explain(rule, out, color=args.color)
    return 0
