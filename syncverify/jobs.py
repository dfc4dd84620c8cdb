"""`syncverify check -j N`: plans checked on N processes, results in the order of the files.

Each plan is independent (its own loader run, graph and rules), so plans are the unit of work.
Results are collected in submission order, so the report and the exit code are the same as with
one process, byte for byte. Workers import syncverify once and keep it.

More processes than CPUs only add interpreters (50 took 2.2 GB), so N is capped at the CPU
count. A worker that dies (killed, out of memory) breaks the whole pool: the plans it left
unfinished are checked again one per fresh process, so that only the plan that kills its process
is lost, and it is reported (`lost(file, exc)`) instead of the whole report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


def jobs_wanted(jobs: int) -> int:
    """`-j 0` means one process per CPU; more than one per CPU is not useful."""
    cpus = os.cpu_count() or 1
    return min(jobs, cpus) if jobs > 0 else cpus


def map_in_processes(
    work: Callable, files: list, options: list, *, jobs: int, lost: Callable
) -> list:
    """[work(file, its options) for each file], computed on `jobs` processes; the result of a
    file whose process died is lost(file, exc)."""
    results: list = [None] * len(files)
    broken = _run(work, files, options, range(len(files)), jobs, results)
    for index in broken:  # alone now: a second death is this plan's own
        if _run(work, files, options, [index], 1, results):
            results[index] = lost(
                files[index],
                BrokenProcessPool("the process checking this plan died (killed, or out of memory)"),
            )
    return results


def _run(work: Callable, files: list, options: list, indices, jobs: int, results: list) -> list:
    """Fill results[i] for each index on one pool; the indices whose process pool broke."""
    broken = []
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(indices)))) as pool:
        futures = {i: pool.submit(work, files[i], options[i]) for i in indices}
        for index, future in futures.items():
            try:
                results[index] = future.result()
            except BrokenProcessPool:
                broken.append(index)
    return broken
