"""## What it checks
That every rule named in a `# syncverify:` suppression comment silenced a finding. A code that
matched nothing is reported at its comment, once per code. Only rules that ran on the plan are
judged: a suppression of a rule left out by `--select` or by the configuration, or of a graph
rule that did not run because the plan cannot be unrolled, is not reported.

## Why it matters
A suppression outlives the defect it was written for: once the plan is fixed, the comment stays
and silently hides the same defect if it ever comes back. Reporting unused suppressions keeps
every remaining one meaningful (ruff's RUF100 does the same for `# noqa`).

## Bad plan
```yaml
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8}   # syncverify: disable-line SV701
```
The tp group of 8 fits in a node of 8 GPUs, so there is no SV701 finding on that line to
silence.

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}   # syncverify: disable-line SV701
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
Remove the code from the comment, or the whole comment when it names nothing else:
```yaml
parallel: {tp: 8}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}  # <- fixed
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
    """The engine reports unused suppressions after every other rule ran (suppressions.py)."""


RULE = Rule(
    code="SV901",
    slug="unused-suppression",
    category="config",
    severity="warning",
    summary="a suppression comment names a rule that reported nothing there",
    check=_reported_by_the_engine,
    page=__doc__,
)
