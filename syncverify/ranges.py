"""Collapsing sets of integers into the ranges users read: "0-7", "0-3, 8-11", ">= 1"."""

from __future__ import annotations

from collections.abc import Iterable


def compact(values: Iterable[int], open_from: int | None = None) -> str:
    """'0-3, 6, 8-9' for {0,1,2,3,6,8,9}. With `open_from`, a run that reaches it reads '>= k'."""
    items = sorted(set(values))
    if not items:
        return "none"
    runs, start, prev = [], items[0], items[0]
    for v in items[1:]:
        if v != prev + 1:
            runs.append((start, prev))
            start = v
        prev = v
    runs.append((start, prev))
    parts = []
    for lo, hi in runs:
        if open_from is not None and hi >= open_from - 1 and hi == items[-1] and lo < hi:
            parts.append(f">= {lo}")
        elif lo == hi:
            parts.append(str(lo))
        else:
            parts.append(f"{lo}-{hi}")
    return ", ".join(parts)
