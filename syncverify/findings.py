"""The finding model: what every rule reports and every renderer prints.

Rendering lives in `syncverify.report`; nothing here formats for a terminal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CATEGORIES = (
    "config",
    "shape",
    "missing-sync",
    "redundant-sync",
    "phase-illegal",
    "ordering",
    "performance",
)
SEVERITIES = ("error", "warning", "note")
SEVERITY_RANK = {"note": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Where:
    """Where a finding sits in the plan's execution, in the user's terms.

    Each field is already collapsed into ranges ("0-7", "40-79", ">= 1") so that one
    finding can stand for a whole class of DAG instances.
    """

    phase: str | None = None
    ranks: str | None = None
    layers: str | None = None
    steps: str | None = None
    microbatches: str | None = None
    op: str | None = None
    sync: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def describe(self) -> str:
        parts = []
        if self.phase:
            parts.append(self.phase)
        if self.ranks:
            parts.append(f"ranks {self.ranks}")
        if self.layers:
            parts.append(f"layers {self.layers}")
        if self.microbatches:
            parts.append(f"microbatches {self.microbatches}")
        if self.steps:
            parts.append(f"steps {self.steps}")
        if self.op:
            parts.append(f"op {self.op}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Finding:
    code: str
    slug: str
    category: str
    severity: str
    message: str
    file: str
    line: int
    column: int
    help: str = ""
    end_line: int = 0
    end_column: int = 0
    where: Where = field(default_factory=Where)
    trace: tuple[str, ...] = ()  # counterexample: the chain of DAG nodes that shows it

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.code, self.message)

    def as_dict(self) -> dict:
        out = {
            "code": self.code,
            "slug": self.slug,
            "category": self.category,
            "severity": self.severity,
            "message": self.message,
            "help": self.help,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line or self.line,
            "end_column": self.end_column or self.column,
            "where": self.where.as_dict(),
        }
        if self.trace:
            out["trace"] = list(self.trace)
        return out


class PlanError(Exception):
    """The plan (or the invocation) is unusable: exit code 2. Carries every problem found."""

    def __init__(self, problems: list[Finding]):
        self.problems = sorted(problems, key=Finding.sort_key)
        super().__init__(
            "; ".join(f"{p.file}:{p.line}:{p.column}: {p.message}" for p in self.problems)
        )
