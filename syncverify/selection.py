"""Which rules a run reports: `--select`/`--ignore` tokens (and their configuration keys)
resolved to rule codes, and the rules that must run to report them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from syncverify.usage import UsageProblem, suggestions


class Selection(NamedTuple):
    """The rules to run and the codes to report (a run reports a subset of every rule)."""

    run: tuple
    reported: frozenset[str]


def rules_matching(token: str, rules) -> list:
    """The rules a `--select`/`--ignore` token names: `ALL`, a code or code prefix (`SV3`,
    `SV301`, any case) or a slug."""
    token = token.strip()
    if token.upper() == "ALL":
        return list(rules)
    return [r for r in rules if r.code.startswith(token.upper()) or r.slug == token.lower()]


def codes_named(option: str, value: str, rules) -> set[str]:
    """The codes of the rules a comma-separated option value names (UsageProblem if a token
    names none)."""
    chosen: set[str] = set()
    for token in filter(None, (t.strip() for t in value.split(","))):
        found = rules_matching(token, rules)
        if not found:
            close = suggestions(token, [r.code for r in rules] + [r.slug for r in rules])
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise UsageProblem(f"{option}: no rule matches '{token}'{hint}")
        chosen.update(r.code for r in found)
    return chosen


def selection_reporting(reported: Iterable[str], rules) -> Selection:
    """The Selection that reports the codes `reported` among `rules`."""
    reported = frozenset(reported)
    # rules that decide whether the graph can be built always run; only their findings hide
    return Selection(tuple(r for r in rules if r.code in reported or r.blocks_graph), reported)
