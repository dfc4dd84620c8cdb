"""## What it checks
Nothing in your plan: syncverify reports this when one of its own rules crashed while checking
the plan. The other rules' findings are still reported.

## Why it matters
A crashed rule checked nothing, so the plan may still hold the defects that rule looks for. The
message names the rule and the exception; please report it with the plan attached.

## Bad plan
Any plan that triggers a bug in syncverify.

## Fix
Upgrade syncverify, or report the bug. To go on meanwhile, deselect the crashing rule with
`--ignore CODE`.
"""

from syncverify.rule import Rule


def _never(ctx) -> None:
    """The engine reports internal errors itself; this rule has nothing to check."""


RULE = Rule(
    code="SV900",
    slug="internal-error",
    category="config",
    severity="error",
    summary="a syncverify rule crashed while checking the plan",
    check=_never,
    page=__doc__,
)
