"""Usage problems: an invocation or a configuration that cannot be carried out (exit code 2),
and the close matches its message suggests for a mistyped rule name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UsageProblem(Exception):
    """The invocation cannot be carried out (exit code 2); the message says why."""


def suggestions(name: str, known: Iterable[str]) -> list[str]:
    """Close matches for a mistyped rule code or slug (codes compared case-insensitively)."""
    known = list(known)
    upper = {k.upper(): k for k in known}
    close = difflib.get_close_matches(name.upper(), list(upper), n=3, cutoff=0.6)
    return [upper[c] for c in close]
