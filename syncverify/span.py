"""Source positions: 1-based line and column, as every finding reports them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    line: int
    column: int
    end_line: int = 0  # 0: same as line
    end_column: int = 0  # 0: same as column

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"
