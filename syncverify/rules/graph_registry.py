"""Rules that read the dependency DAG's analyses (placement, happens-before, matching)."""
from syncverify.rules.base import Rule

GRAPH_RULES: tuple[Rule, ...] = ()
