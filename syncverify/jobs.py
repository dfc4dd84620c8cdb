"""`syncverify check -j N`: plans checked on N processes, results in the order of the files.

Each plan is independent (its own loader run, graph and rules), so plans are the unit of work.
`ProcessPoolExecutor.map` returns results in submission order, so the report and the exit code
are the same as with one process, byte for byte. Workers import syncverify once and keep it.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Callable


def jobs_wanted(jobs: int) -> int:
    """`-j 0` means one process per CPU."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def map_in_processes(work: Callable, files: list, policies: list, *, jobs: int, **options) -> list:
    """[work(file, policy, **options) for each file], computed on `jobs` processes."""
    with ProcessPoolExecutor(max_workers=min(jobs, len(files))) as pool:
        return list(pool.map(partial(work, **options), files, policies))
