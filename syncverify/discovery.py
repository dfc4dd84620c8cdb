"""Which plan files a run checks: the paths given, folders expanded to the plans below them,
`-` for standard input; and the name each plan is reported under."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PLAN_SUFFIXES = (".yaml", ".yml")
STDIN = "-"


def plan_files(paths: Iterable[str]) -> list[str]:
    """The plan files named by `paths`: files as given, directories expanded to every
    *.yaml / *.yml below them (recursively, sorted, hidden folders skipped), `-` for stdin.

    A missing path, or a folder without plans, is kept: loading it reports why (SV001).
    """
    files: list[str] = []
    for given in paths:
        if given == STDIN:
            files.append(STDIN)
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.suffix in PLAN_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            # a folder without plans is left to the loader, which reports it at DIR:1:1 (SV001)
            files.extend(found or [given])
        else:
            files.append(given)  # a missing file too: SV001 at FILE:1:1, in every format
    return list(dict.fromkeys(files))  # a plan named twice is checked once


def display_name(file: str, stdin_filename: str | None) -> str:
    """The name a plan is reported under (its path, or the stdin name)."""
    return (stdin_filename or "<stdin>") if file == STDIN else file
