"""A progress bar on stderr for checks that take more than about a second.

Shown only when stderr is a terminal and not in CI (the `CI` environment variable, which
GitHub Actions, GitLab CI and most others set) and not with TERM=dumb: in a hook log or a CI
log a progress bar is noise. It appears only once the run has lasted DELAY seconds, so a quick
check never flickers, and it is transient: it erases itself before the report is printed.

Code that does slow work says what it is doing with `stage("building the graph")`; the bar
counts plans (`advance()` after each). With no bar active both are free no-ops, so library
callers (syncverify.check()) never see one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress

DELAY = 1.0  # seconds before the bar appears

_active: _Bar | None = None


def wanted(stream: TextIO, environ=os.environ) -> bool:
    """Whether a progress bar belongs on `stream`: a terminal, outside CI."""
    if environ.get("CI") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class _Bar:
    """Counts plans from the start; builds the rich bar (and imports rich.progress) only when
    the run outlasts the delay."""

    def __init__(self, stream: TextIO, total: int, delay: float):
        self.stream, self.total = stream, total
        self.description, self.done = "checking", 0
        self.progress: Progress | None = None  # rich's bar, once shown
        self.lock = threading.Lock()
        self.stopped = False
        self.timer = threading.Timer(delay, self.show)
        self.timer.daemon = True
        if delay <= 0:
            # Shown at once, on this thread: a timer thread that starts late would miss a short
            # run entirely (the bar tests on a fast CI runner did).
            self.show()
        else:
            self.timer.start()

    def show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with self.lock:
            if self.stopped:
                return
            console = Console(file=self.stream, force_terminal=True)
            shown = self.progress = Progress(
                TextColumn("[bold]syncverify[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = shown.add_task(self.description, total=self.total, completed=self.done)
            shown.start()

    def update(self, description: str, advance: int = 0) -> None:
        with self.lock:
            self.description = description
            self.done += advance
            if self.progress is not None:
                self.progress.update(self.task, description=description, completed=self.done)

    def stop(self) -> None:
        self.timer.cancel()
        with self.lock:
            self.stopped = True
            if self.progress is not None:
                self.progress.stop()


@contextmanager
def bar(
    stream: TextIO, total: int, *, delay: float | None = None, enabled: bool | None = None
) -> Iterator[None]:
    """Show a bar of `total` plans on `stream` while the block runs (when `wanted`), from
    `delay` seconds on (DELAY by default)."""
    global _active
    if not (wanted(stream) if enabled is None else enabled) or _active is not None:
        yield
        return
    _active = _Bar(stream, total, DELAY if delay is None else delay)
    try:
        yield
    finally:
        _active.stop()
        _active = None


def stage(description: str) -> None:
    """Say what the check is doing now (shown on the bar, if any)."""
    if _active is not None:
        _active.update(description)


def advance(description: str = "checking") -> None:
    """One more plan done."""
    if _active is not None:
        _active.update(description, advance=1)
