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

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}   # syncverify: disable-line
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
Name the rule (and, after it, say why):
```yaml
parallel: {tp: 16}   # syncverify: disable-line SV701 -- NVLink switch spans both nodes
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 2, gpus_per_node: 4}  # <- fixed
parallel: {tp: 8}   # syncverify: disable-line SV701 -- NVLink switch spans both nodes
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
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
