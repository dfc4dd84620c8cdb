"""`syncverify schema`: the plan format's JSON Schema (draft-07), the file the loader uses."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from syncverify.commands.output import emit


@dataclass(frozen=True)
class SchemaArguments:
    output: str | None = None  # a file to write (atomically); None or `-`: standard output


def schema(args: SchemaArguments, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from syncverify.schema import schema_text

    return emit(schema_text(), args.output, out or sys.stdout, err or sys.stderr)
