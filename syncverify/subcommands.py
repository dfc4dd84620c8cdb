"""The CLI's library for `schema`, `init`, `graph` and `timeline` (as `syncverify.commands` is
for `check`, `rules` and `explain`): plain functions that write their output and return the exit
code. Each imports what it needs when it runs, so `syncverify --help` stays fast.
"""
from __future__ import annotations

import sys
from typing import Optional, TextIO


def fail(err: TextIO, message: str) -> int:
    err.write(f"syncverify: error: {message}\n")
    return 2


def emit(text: str, output: Optional[str], out: TextIO, err: TextIO) -> int:
    """Write `text` to `output` atomically, or to `out` when no file is named."""
    if not output or output == "-":
        out.write(text)
        return 0
    from syncverify.atomic import write_text_atomically

    try:
        write_text_atomically(output, text)
    except OSError as exc:
        return fail(err, f"cannot write '{output}': {exc.strerror or exc}")
    return 0


# ---------------------------------------------------------------------------------- schema

def schema(*, output: Optional[str] = None, out: Optional[TextIO] = None,
           err: Optional[TextIO] = None) -> int:
    """`syncverify schema`: the plan format's JSON Schema (draft-07), the file the loader uses."""
    from syncverify.schema import schema_text

    return emit(schema_text(), output, out or sys.stdout, err or sys.stderr)
