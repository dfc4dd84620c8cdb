"""Hypothesis profiles (tests/profiles.py) and the seed of this run's draws.

Every run draws fresh plans. The seed is printed in the header and again at the end of the run:
`HYPOTHESIS_RUN_SEED=N pytest` draws the same plans again (given the same tests, order and
failure database), and a failure prints its plan, a `@reproduce_failure` blob and is kept in
.hypothesis/ for the next local run.
`--hypothesis-seed=N` (hypothesis' own option) instead runs every test with seed N and no
failure database.
"""

import os
import random

from tests.profiles import register

PROFILE = register()


def _run_seed() -> int:
    given = os.environ.get("HYPOTHESIS_RUN_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


RUN_SEED = _run_seed()


def pytest_configure(config):
    # hypothesis draws each test's seed from this generator (hypothesis.core.threadlocal); seeding
    # it with a printed number makes the run's draws reproducible without derandomizing them
    from hypothesis import core

    if (
        getattr(core, "threadlocal", None) is not None
        and config.getoption("hypothesis_seed") is None
    ):
        core.threadlocal._hypothesis_global_random = random.Random(RUN_SEED)


def _seed_line(config) -> str:
    if config.getoption("hypothesis_seed") is not None:
        return f"hypothesis profile {PROFILE!r}, every test seeded by --hypothesis-seed"
    return (
        f"hypothesis profile {PROFILE!r}, run seed {RUN_SEED} "
        f"(HYPOTHESIS_RUN_SEED={RUN_SEED} draws the same plans)"
    )


def pytest_report_header(config):
    return _seed_line(config)


def pytest_terminal_summary(terminalreporter, config):
    # the header is hidden under -q (pyproject's addopts): the seed is repeated at the end
    terminalreporter.write_line(_seed_line(config))
