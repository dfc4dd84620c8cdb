"""`pytest -p tests.cputime`: the slowest tests by CPU time (this process and the subprocesses it
waited for), which stays comparable on a shared machine where wall times (--durations) do not.

Setup, call and teardown are counted together, so a module- or session-scoped fixture is charged
to the first test that uses it. The table is printed at the end; SYNCVERIFY_CPUTIME_TOP sets its
length (default 25).
"""

from __future__ import annotations

import os
import resource
import time

import pytest

_spent: dict[str, float] = {}


def _cpu() -> float:
    mine = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = _cpu()
    yield
    _spent[item.nodeid] = _cpu() - start


def pytest_terminal_summary(terminalreporter):
    top = int(os.environ.get("SYNCVERIFY_CPUTIME_TOP", "25"))
    total = sum(_spent.values())
    terminalreporter.section(f"cpu time: {total:.1f} s in {len(_spent)} tests")
    for nodeid, seconds in sorted(_spent.items(), key=lambda kv: -kv[1])[:top]:
        terminalreporter.write_line(f"{seconds:8.2f}s  {nodeid}")
    by_file: dict[str, float] = {}
    for nodeid, seconds in _spent.items():
        name = nodeid.split("::")[0]
        by_file[name] = by_file.get(name, 0.0) + seconds
    terminalreporter.section("cpu time by file")
    for name, seconds in sorted(by_file.items(), key=lambda kv: -kv[1])[:top]:
        terminalreporter.write_line(f"{seconds:8.2f}s  {name}")
