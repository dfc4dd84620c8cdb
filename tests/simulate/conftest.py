"""Prints the agreement counts (tests/simulate/test_agreement.py) at the end of a run."""

import sys


def pytest_terminal_summary(terminalreporter):
    module = next(
        (m for name, m in list(sys.modules.items()) if name.endswith("simulate.test_agreement")),
        None,
    )
    counts = getattr(module, "COUNTS", None)
    if not counts:
        return
    terminalreporter.write_sep("-", "checker vs executor agreement")
    for key in sorted(counts):
        terminalreporter.write_line(f"{key}: {counts[key]}")
