"""The rules whose findings keep the graph rules from running (`Rule.blocks_graph`: an unusable
stage split, an impossible EP layout, ...). Such a finding cannot be silenced or deselected
while graph rules are wanted: hiding it would turn a plan that was not checked into "no
findings" (docs/suppressions.md)."""

from __future__ import annotations

from syncverify.findings import Finding
from syncverify.rules import ALL_RULES

BLOCKING_CODES = frozenset(r.code for r in ALL_RULES if r.blocks_graph)


def stops_selected_graph_rules(finding: Finding, reported) -> bool:
    """Whether `finding` kept graph rules that `reported` selects from running.

    Such a finding is reported even when its own rule is deselected (`--ignore`, `select`,
    per-file-ignores), as it cannot be silenced by a comment."""
    return finding.code in BLOCKING_CODES and any(
        r.needs_graph and r.code in reported for r in ALL_RULES
    )
