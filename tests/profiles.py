"""Hypothesis profiles for the property tests (issue 12 item 7), chosen by HYPOTHESIS_PROFILE.

- "ci" (the default): a fresh sample on every run, sized so the whole suite stays under six
  minutes on two cores (docs/testing.md lists every test's count under each profile and how
  to measure the suite: `python -m pytest -p tests.cputime`);
- "dev": a handful of examples per property, for a quick local run;
- "deep": thousands, for bench/ and for hunting.

No profile derandomizes: each run draws new plans. The failure database is hypothesis' default
(a DirectoryBasedExampleDatabase in .hypothesis/, gitignored), so a failure found locally is
replayed first on the next local run. tests/conftest.py prints the run's seed.

A property test states its share of the profile's budget with `examples(weight)`: the number of
examples is the profile's `max_examples` times the weight (at least one).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = {"ci": 100, "dev": 10, "deep": 2000}
# the largest world reducible_plans() draws: 16 ranks fully unrolled take about 5 s, 64 about 20 s
REDUCIBLE_WORLD = {"ci": 16, "dev": 16, "deep": 64}
DEFAULT_PROFILE = "ci"
SLOW_DRAWS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def register() -> str:
    """Register the three profiles and load the one HYPOTHESIS_PROFILE names (default "ci")."""
    for name, count in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=count,
            deadline=None,
            derandomize=False,
            print_blob=True,
            suppress_health_check=SLOW_DRAWS,
        )
    name = os.environ.get("HYPOTHESIS_PROFILE", DEFAULT_PROFILE)
    if name not in PROFILES:
        raise SystemExit(f"HYPOTHESIS_PROFILE={name!r}: expected one of {', '.join(PROFILES)}")
    settings.load_profile(name)
    return name


def reducible_world(most: int = 64) -> int:
    """The largest world of the loaded profile's reducible plans (at most `most`)."""
    return min(most, REDUCIBLE_WORLD.get(settings.get_current_profile_name(), 16))


def examples(weight: float) -> int:
    """This property's share of the loaded profile's examples."""
    return max(1, round(settings.default.max_examples * weight))
