"""Rules that read the plan alone (config, shape, phase legality, static advisories)."""
from syncverify.rules.base import Rule

STATIC_RULES: tuple[Rule, ...] = ()
