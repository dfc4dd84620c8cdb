"""Collecting load problems: each one a located `Finding` of a load rule (SV0xx)."""

from __future__ import annotations

from syncverify.findings import Finding, PlanError
from syncverify.rule import Rule
from syncverify.span import Span


class Problems:
    """The problems found in one plan file, in the order found (PlanError sorts them)."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Finding] = []

    def add(self, rule: Rule, span: Span, message: str, help: str = "") -> None:
        self.items.append(
            Finding(
                code=rule.code,
                slug=rule.slug,
                category=rule.category,
                severity=rule.severity,
                message=message,
                help=help,
                file=self.file,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
            )
        )

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def error(self) -> PlanError:
        return PlanError(list(dict.fromkeys(self.items)))
