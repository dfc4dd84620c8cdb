"""Which plans the executor (`syncverify simulate`) runs: those with a well-formed layout.

The executor needs every degree, shape and group to make sense, so a plan with a config or
shape finding, or SP in decode (SV501), is refused before anything runs. The checker's static
rules decide that; this module lives outside `syncverify.simulate` so that the executor itself
shares no code with the checker's analyses (tests/simulate/test_independence.py).
"""

from __future__ import annotations

from syncverify.plan import Plan

REFUSED_CATEGORIES = ("config", "shape")
SP_IN_DECODE = "SV501"


def refusals(plan: Plan) -> list:
    """The findings that make a plan unusable for the executor: config and shape findings,
    and SP in decode. The static rules run directly: a `# syncverify: disable` comment
    silences `check`, it does not make a layout runnable."""
    from syncverify.rule import Context
    from syncverify.rules import STATIC_RULES

    ctx = Context(plan)
    for rule in STATIC_RULES:
        if rule.category in REFUSED_CATEGORIES or rule.code == SP_IN_DECODE:
            rule.check(ctx)
    return sorted(ctx.findings, key=lambda f: f.sort_key())
