"""The rule registry: every rule, registered explicitly (no import side effects).

Static rules (no graph needed) are listed in `static_registry`, graph rules in
`graph_registry`; this module joins them in code order.
"""
from syncverify.rules.base import Context, Rule
from syncverify.rules.static_registry import STATIC_RULES
from syncverify.rules.graph_registry import GRAPH_RULES
from syncverify.rules.internal_error import RULE as INTERNAL_ERROR
from syncverify.rules.load_codes import LOAD_RULES

ALL_RULES: tuple[Rule, ...] = tuple(sorted(LOAD_RULES + STATIC_RULES + GRAPH_RULES + (INTERNAL_ERROR,),
                                           key=lambda r: r.code))
BY_CODE = {r.code: r for r in ALL_RULES}
BY_SLUG = {r.slug: r for r in ALL_RULES}


def find_rule(name: str) -> Rule | None:
    """A rule by code (case-insensitive) or slug."""
    return BY_CODE.get(name.upper()) or BY_SLUG.get(name.lower())


__all__ = ["ALL_RULES", "BY_CODE", "BY_SLUG", "Context", "Rule", "find_rule"]
