"""## What it checks
That every `# syncverify:` suppression comment can be used as written: a known directive
(`disable-line`, `disable-next-line`, `disable`, `enable`, `disable-file`) followed by at least
one rule code or slug that exists. It also rejects a `disable-line` on a line of its own, a
`disable-file` below the plan's first key, an `enable` without an earlier `disable` of the same
code, and suppressions of load problems (SV0xx), internal errors (SV900) and of the rules whose
finding stops the graph rules (SV102, SV103, SV104, SV107, SV108, SV109, SV113, SV114, SV201,
SV202, SV503: the plan cannot be unrolled), which are never silenced. A rejected comment
silences nothing.

## Why it matters
A suppression without a code would hide every present and future finding on its lines,
including the missing synchronization you did not know about; syncverify silences named rules
only. A mistyped directive or code silences nothing, and without this finding you would not
know why the finding you meant to silence is still there. Silencing a finding that stops the
graph rules would leave every ordering, hang and placement rule unrun and report "no
findings" for a plan nobody checked.

## Bad plan
```yaml
parallel: {tp: 16}   # syncverify: disable-line
```

## Fix
Name the rule (and, after it, say why):
```yaml
parallel: {tp: 16}   # syncverify: disable-line SV701 -- NVLink switch spans both nodes
```
"""

from syncverify.rule import Rule


def _reported_by_the_engine(ctx) -> None:
    """The engine reports rejected suppressions after every other rule ran (suppressions.py)."""


RULE = Rule(
    code="SV902",
    slug="invalid-suppression",
    category="config",
    severity="error",
    summary="a suppression comment without a rule code, or one that cannot apply",
    check=_reported_by_the_engine,
    page=__doc__,
)
