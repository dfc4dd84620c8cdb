"""A crash of syncverify itself: reported as a located problem (SV900, exit code 2) instead of a
traceback, unless SYNCVERIFY_RAISE=1 asks for the traceback."""

from __future__ import annotations

import os

from syncverify.findings import Finding

INTERNAL_ERROR_CODE = "SV900"


def should_raise() -> bool:
    """SYNCVERIFY_RAISE=1 lets unexpected exceptions through with their traceback."""
    return os.environ.get("SYNCVERIFY_RAISE") == "1"


def internal_error(file: str, exc: BaseException, doing: str = "checking") -> Finding:
    """A crash of syncverify itself on `file`, reported as a problem instead of a traceback."""
    from syncverify.rules.internal_error import RULE

    return Finding(
        code=RULE.code,
        slug=RULE.slug,
        category=RULE.category,
        severity="error",
        message=f"internal error while {doing} this plan: "
        f"{exc.__class__.__name__}: {exc} "
        f"(SYNCVERIFY_RAISE=1 shows the traceback)",
        file=file,
        line=1,
        column=1,
        help="please report this bug with the plan attached",
    )
