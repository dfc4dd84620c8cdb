"""Runs the rules over a plan and returns sorted findings.

A rule that crashes becomes an SV900 internal-error finding for users, and re-raises under
tests (pytest sets PYTEST_CURRENT_TEST) or when SYNCVERIFY_RAISE=1, as checkov does.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable

from syncverify.blocking import BLOCKING_CODES
from syncverify.budget import check_size
from syncverify.findings import Finding
from syncverify.plan import Plan
from syncverify.rules import ALL_RULES, INTERNAL_ERROR, Context, Rule
from syncverify.suppressions import apply_suppressions


def _should_raise() -> bool:
    if os.environ.get("SYNCVERIFY_RAISE") == "0":
        return False
    return bool(os.environ.get("SYNCVERIFY_RAISE") == "1" or os.environ.get("PYTEST_CURRENT_TEST"))


def _run_rule(rule: Rule, ctx: Context) -> None:
    try:
        rule.check(ctx)
    except Exception as exc:  # a rule bug must not hide the other rules' findings
        if _should_raise():
            raise
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        ctx.report(
            INTERNAL_ERROR,
            (),
            f"rule {rule.code} ({rule.slug}) crashed: {exc.__class__.__name__}: {exc} "
            f"at {os.path.basename(frame.filename)}:{frame.lineno}",
            help="please report this bug with the plan attached; "
            f"`--ignore {rule.code}` skips the rule meanwhile",
        )


def _graph_analyses(plan: Plan, exhaustive: bool):
    # imported on first use: a plan whose static findings stop the graph rules never loads
    # networkx and the analyses
    from syncverify.analysis.certificate import certified_analyses

    return certified_analyses(plan, reduce=not exhaustive)


def check_plan(
    plan: Plan, rules: Iterable[Rule] | None = None, analyses=None, exhaustive: bool = False
) -> list[Finding]:
    """Every finding of `rules` (default: all) on `plan`, sorted by position and code.

    Graph rules run only when no finding of a `blocks_graph` rule says the plan cannot be
    unrolled (an unusable stage split, an impossible EP layout, ...). `exhaustive` unrolls every
    layer instead of one representative per class (docs/semantics.md, "Symmetry"). Raises
    PlanError (SV014) for a plan too large to check (`syncverify.budget`).
    """
    check_size(plan, exhaustive)  # SV014: refuse before building anything too large
    rules = tuple(ALL_RULES if rules is None else rules)
    ctx = Context(plan, analyses, lambda: _graph_analyses(plan, exhaustive))
    static = [r for r in rules if not r.needs_graph]
    graph = [r for r in rules if r.needs_graph]
    for rule in static:
        _run_rule(rule, ctx)
    ran = [r.code for r in static]
    if graph and not any(f.code in BLOCKING_CODES for f in ctx.findings):
        for rule in graph:
            _run_rule(rule, ctx)
        ran += [r.code for r in graph]
    # `# syncverify: disable...` comments in the plan (SV901/SV902 report on them)
    return apply_suppressions(plan, sorted(set(ctx.findings), key=Finding.sort_key), ran)
