"""What a rule is, and the one helper every rule reports through."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncverify.findings import CATEGORIES, SEVERITIES, Finding, Where
from syncverify.span import Span

if TYPE_CHECKING:
    from syncverify.analysis import Analyses
    from syncverify.plan import Plan

PAGE_SECTIONS = ("What it checks", "Why it matters", "Bad plan", "Fix")
CODE_RE = re.compile(r"^SV\d{3}$")
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    code: str  # SV + 3 digits; the hundreds digit is the category
    slug: str  # reads as "allow <slug>"
    category: str
    severity: str  # default severity
    summary: str  # one line, for `syncverify rules` and SARIF shortDescription
    check: Callable[[Context], None]
    page: str  # markdown: What it checks / Why it matters / Bad plan / Fix
    needs_graph: bool = False  # runs only on plans the graph builder can unroll
    blocks_graph: bool = False  # a finding of this rule means the plan cannot be unrolled

    def __post_init__(self):
        assert CODE_RE.match(self.code), self.code
        assert SLUG_RE.match(self.slug), self.slug
        assert self.category in CATEGORIES, self.category
        assert self.severity in SEVERITIES, self.severity


Location = tuple | Span


class Context:
    """What a rule sees: the plan, the shared analyses, and `report`.

    The graph analyses are computed on first use by `compute_analyses`, which the engine
    supplies (`syncverify.engine.check_plan`): this module imports no analysis, so the rule
    type sits below everything that computes what rules read."""

    def __init__(
        self,
        plan: Plan,
        analyses: Analyses | None = None,
        compute_analyses: Callable[[], Analyses] | None = None,
    ):
        self.plan = plan
        self._analyses = analyses
        self._compute_analyses = compute_analyses
        self.findings: list[Finding] = []

    @property
    def analyses(self) -> Analyses:
        """The graph analyses, computed once per plan on first use (see `syncverify.analysis`)."""
        if self._analyses is None:
            if self._compute_analyses is None:
                raise RuntimeError("a graph rule ran in a Context made without analyses")
            self._analyses = self._compute_analyses()
        return self._analyses

    def report(
        self,
        rule: Rule,
        at: Location,
        message: str,
        help: str = "",
        where: Where | None = None,
        trace: tuple[str, ...] = (),
        severity: str | None = None,
    ) -> None:
        span = at if isinstance(at, Span) else self.plan.span(at)
        self.findings.append(
            Finding(
                code=rule.code,
                slug=rule.slug,
                category=rule.category,
                severity=severity or rule.severity,
                message=message,
                help=help,
                file=self.plan.path,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
                where=where or Where(),
                trace=tuple(trace),
            )
        )
