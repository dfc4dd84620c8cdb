"""Which plan files a run checks: the paths given, folders expanded to the plans below them,
`-` for standard input; and the name each plan is reported under.

A YAML file found by a folder walk (or passed with `--force-exclude`, as the pre-commit hook
does) is a plan only when it has a top-level `syncverify:` key: a Kubernetes manifest or a CI
workflow beside the plans is skipped, with a note under `--verbose`. A file named on the
command line is always checked, so a plan that lost its version key is still reported.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PLAN_SUFFIXES = (".yaml", ".yml")
STDIN = "-"

# How much of a file is scanned for the plan key. A line scan, not a YAML parse: a parse of a
# huge or hostile file costs seconds (and PyYAML's safe loader 0.4 s per 64 KB), a regular
# expression over 1 MB a millisecond. Plans begin with their version key (docs/plan-format.md),
# so the first MB decides; a larger file without it in that MB is checked (fail closed).
SCAN_BYTES = 1024 * 1024
# `syncverify:` at column 0, bare or quoted. A flow-mapping document (`{syncverify: 1, ...}`, a
# plan written as JSON) has its keys anywhere: one that starts with `{` and names syncverify
# counts as a plan too, and the loader decides (a Kubernetes manifest in JSON names it not).
PLAN_KEY = re.compile(rb"^(?:syncverify|\"syncverify\"|'syncverify')[ \t]*:", re.M)
FLOW_DOCUMENT = re.compile(rb"\A(?:[ \t]*(?:#[^\n]*)?\r?\n|%[^\n]*\n|---[ \t]*(?:\r?\n)?)*[ \t]*\{")
NOT_A_PLAN = "no top-level `syncverify:` key, not a plan"
EXCLUDED = "matches exclude / extend-exclude"


@dataclass
class Discovery:
    """The plan files of a run, and the files left out with the reason (`--verbose` notes)."""

    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def may_be_plan(path: Path) -> bool:
    """False only when `path` surely is no plan: a regular file whose first SCAN_BYTES hold no
    top-level `syncverify:` key. A file that cannot be read is kept (its load reports why)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return True  # a FIFO or device is never read here; the loader refuses it
        with open(path, "rb") as handle:
            head = handle.read(SCAN_BYTES + 1)
    except OSError:
        return True
    head = head.removeprefix(b"\xef\xbb\xbf")
    flow = FLOW_DOCUMENT.match(head) is not None and b"syncverify" in head
    return len(head) > SCAN_BYTES or flow or PLAN_KEY.search(head) is not None


def walk(folder: Path, excluded: Callable[[Path], bool], run: Discovery) -> list[Path]:
    """The *.yaml / *.yml files below `folder`, sorted; hidden and excluded folders pruned (the
    excluded ones noted in `run.skipped`)."""
    found: list[Path] = []
    for current, folders, files in os.walk(folder):
        here = Path(current)
        visible = sorted(name for name in folders if not name.startswith("."))
        run.skipped.extend(
            (str(here / name), EXCLUDED) for name in visible if excluded(here / name)
        )
        folders[:] = [name for name in visible if not excluded(here / name)]
        found.extend(
            here / name
            for name in files
            if Path(name).suffix in PLAN_SUFFIXES and not name.startswith(".")
        )
    return sorted((p for p in found if p.is_file()), key=str)  # the order of the paths as text


def plan_files(
    paths: Iterable[str],
    *,
    force_exclude: bool = False,
    excluded: Callable[[Path], bool] = lambda path: False,
) -> Discovery:
    """The plan files named by `paths`: files as given, directories expanded to the plans below
    them (recursively, sorted, hidden and excluded folders and non-plans skipped), `-` for stdin.
    With `force_exclude`, a file named is treated as found: excluded and non-plan files skipped.

    A missing path, or a folder without plans, is kept: loading it reports why (SV001).
    """
    run = Discovery()
    for given in paths:
        path = Path(given)
        if given == STDIN:
            run.files.append(STDIN)
        elif path.is_dir():
            found = [str(p) for p in walk(path, excluded, run) if kept(p, run, excluded)]
            # a folder without plans is left to the loader, which reports it at DIR:1:1 (SV001)
            run.files.extend(found or [given])
        elif not force_exclude or kept(path, run, lambda p: any(map(excluded, with_folders(p)))):
            run.files.append(given)  # a missing file too: SV001 at FILE:1:1, in every format
    run.files = list(dict.fromkeys(run.files))  # a plan named twice is checked once
    return run


def kept(path: Path, run: Discovery, excluded: Callable[[Path], bool] | None = None) -> bool:
    """Whether a found file is checked; the reason it is not is added to `run.skipped`."""
    if excluded is not None and excluded(path):
        run.skipped.append((str(path), EXCLUDED))
        return False
    if not may_be_plan(path):
        run.skipped.append((str(path), NOT_A_PLAN))
        return False
    return True


def with_folders(path: Path) -> list[Path]:
    """`path` and the folders it is in, below the current directory (where a named file's
    exclusion is looked for: `plans/legacy/a.yaml` is excluded by `legacy`)."""
    relative = Path(os.path.relpath(path))
    if relative.parts[:1] == ("..",):
        return [path]
    return [relative, *relative.parents[:-1]]  # the last parent is `.` itself


def display_name(file: str, stdin_filename: str | None) -> str:
    """The name a plan is reported under (its path, or the stdin name)."""
    return (stdin_filename or "<stdin>") if file == STDIN else file
