"""What the commands write besides their report: error lines on stderr, and their output to
standard output or, atomically, to a file."""

from __future__ import annotations

from typing import TextIO


def fail(err: TextIO, message: str) -> int:
    """Say why the command cannot be carried out; its exit code (2)."""
    from syncverify.escape import clean_line

    err.write(f"syncverify: error: {clean_line(message)}\n")  # may quote a config.json's values
    return 2


def emit(text: str, output: str | None, out: TextIO, err: TextIO) -> int:
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


def problems_to(err: TextIO, problems) -> None:
    """One `syncverify: error: file:line:column: message [CODE]` line per problem."""
    from syncverify.escape import clean_line

    for problem in problems:
        err.write(
            f"syncverify: error: {clean_line(problem.file)}:{problem.line}:{problem.column}: "
            f"{clean_line(problem.message)} [{problem.code}]\n"
        )


def refused(err: TextIO, exc) -> int:
    """The problems of a PlanError, one line each; the exit code (2)."""
    problems_to(err, exc.problems)
    return 2
