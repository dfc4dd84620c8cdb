"""A check run's baseline (syncverify.baseline): read it before anything is checked, write it
(`--write-baseline`) and hide the findings it records."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from syncverify.usage import UsageProblem


def baseline_to_update(path: str | None) -> None:
    """UsageProblem when `--write-baseline` names an existing file that is not a baseline: it
    would be replaced (read before anything is checked, so the run stops at once)."""
    from syncverify import baseline

    if path and os.path.isfile(path):
        try:
            baseline.read(path)
        except UsageProblem as exc:
            raise UsageProblem(
                f"--write-baseline: {str(exc).removeprefix('--baseline: ')}; "
                f"name a baseline to update or a new file"
            ) from None


def read_baseline(path: str | None):
    from syncverify import baseline

    return baseline.read(path) if path else None


def use_baseline(
    report, recorded, baseline_path: str | None, write_path: str | None, reported, err: TextIO
) -> None:
    """Write the baseline (--write-baseline) and hide what it records (both options).
    `reported`: display name -> the codes its policy reports (None: every code)."""
    from syncverify import baseline
    from syncverify.escape import clean_line

    path = write_path or baseline_path
    if path is None:
        return
    folder = Path(os.path.abspath(path)).parent
    unusable = set(report.unusable_files())
    checked = {
        baseline.plan_key(f, folder): reported.get(f) for f in report.files if f not in unusable
    }
    now = baseline.current_counts(report.findings, folder)
    if write_path:
        previous = baseline.read(write_path) if os.path.isfile(write_path) else None
        stale = baseline.stale_entries(previous or {}, now, checked)
        recorded = baseline.merged(previous, now, checked)
        from syncverify.atomic import write_text_atomically

        write_text_atomically(write_path, baseline.render(recorded))
        pruned = (
            f", {len(stale)} stale {'entry' if len(stale) == 1 else 'entries'} pruned"
            if stale
            else ""
        )
        written = sum(n for codes in now.values() for n in codes.values())
        err.write(
            f"syncverify: wrote {write_path}: {counted(written, 'finding')} "
            f"in {counted(len(now), 'plan')}{pruned}\n"
        )
    else:
        for entry in baseline.stale_entries(recorded, now, checked):
            err.write(
                f"syncverify: {baseline_path}: {clean_line(entry.plan)} records {entry.recorded} "
                f"{entry.code}, {entry.found} found now: run --write-baseline "
                f"{baseline_path} to prune\n"
            )
    report.findings, report.baselined = baseline.apply(report.findings, recorded, folder)


def counted(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
