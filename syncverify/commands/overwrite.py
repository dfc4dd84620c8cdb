"""Output files a command must not write: a file the run reads, another output, or a path that
is neither a regular file nor a new one. Nothing the user wrote is lost."""

from __future__ import annotations

import os
from pathlib import Path

from syncverify.discovery import STDIN
from syncverify.usage import UsageProblem


def files_read(plans: list[str], configurations: list, baseline: str | None) -> list:
    """(path, what it is) of every file a check run reads: the plans, their `hf_config`, the
    configuration files, the baseline."""
    from syncverify.loader import referenced_hf_config

    read = [(plan, "a plan being read") for plan in plans if plan != STDIN]
    read += [
        (hf, "the hf_config of a plan being read")
        for hf in filter(None, (referenced_hf_config(plan) for plan in plans if plan != STDIN))
    ]
    read += [(str(path), "the configuration file being read") for path in configurations]
    return read + ([(baseline, "the baseline being read")] if baseline else [])


def refuse_writing_over(outputs: list, inputs: list) -> None:
    """UsageProblem when an output path (option, path) cannot take what is written: it is a
    file the run reads (`inputs`: (path, what it is); only `--fix --write` edits plans, only
    `--write-baseline` a baseline), another output, or not a regular file nor a new path.
    `-` is standard output. Paths are compared as files (links and `..` resolved)."""
    from syncverify.atomic import replaced_file
    from syncverify.escape import shown

    named = [(option, path) for option, path in outputs if path and path != STDIN]
    for at, (option, path) in enumerate(named):
        try:  # what the atomic writer would refuse: a FIFO, a device, a folder, read-only
            replaced_file(Path(os.path.realpath(path)))
        except OSError as exc:  # or a symlink loop, a path through a file
            raise UsageProblem(
                f"{option}: cannot write '{shown(path)}': {exc.strerror}; name a "
                f"regular file or a new path"
            ) from None
        for read, what in inputs:
            if is_same_file(path, read) and not (
                option == "--write-baseline" and what == "the baseline being read"
            ):
                raise UsageProblem(f"{option}: '{shown(path)}' is {what}; name another file")
        for other, other_path in named[:at]:
            if path == other_path or is_same_file(path, other_path):
                raise UsageProblem(
                    f"{option}: '{shown(path)}' is also the {other} file; name two different files"
                )


def is_same_file(a: str, b: str) -> bool:
    try:
        return b != STDIN and os.path.samefile(a, b)
    except OSError:
        return False  # one of them does not exist: not the same file


def refusal(output: str | None, inputs: list) -> str | None:
    """Why `output` must not be written (an input of the run: (path, what it is); not a
    regular file nor a new path), or None."""
    try:
        refuse_writing_over([("--output", output)], [(p, what) for p, what in inputs if p])
    except UsageProblem as exc:
        return str(exc)
    return None
