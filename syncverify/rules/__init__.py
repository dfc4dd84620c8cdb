"""The rule registry: every rule, registered explicitly (no import side effects).

Static rules (no graph needed) are listed in `static_registry`, graph rules in
`graph_registry`; this module joins them in code order.
"""

from syncverify.rules import invalid_suppression, unused_suppression
from syncverify.rules.base import Context, Rule
from syncverify.rules.graph_registry import GRAPH_RULES
from syncverify.rules.internal_error import RULE as INTERNAL_ERROR
from syncverify.rules.load_codes import LOAD_RULES
from syncverify.rules.static_registry import STATIC_RULES

# SV901/SV902 judge the plan's suppression comments (syncverify.suppressions)
SUPPRESSION_RULES = (unused_suppression.RULE, invalid_suppression.RULE)
ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        LOAD_RULES + STATIC_RULES + GRAPH_RULES + SUPPRESSION_RULES + (INTERNAL_ERROR,),
        key=lambda r: r.code,
    )
)
BY_CODE = {r.code: r for r in ALL_RULES}
BY_SLUG = {r.slug: r for r in ALL_RULES}


def find_rule(name: str) -> Rule | None:
    """A rule by code (case-insensitive) or slug."""
    return BY_CODE.get(name.upper()) or BY_SLUG.get(name.lower())


__all__ = ["ALL_RULES", "BY_CODE", "BY_SLUG", "Context", "Rule", "find_rule"]
