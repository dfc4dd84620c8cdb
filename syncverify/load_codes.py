"""The load-problem codes SV001-SV014: why a plan file cannot be used at all (exit code 2).

The loader (`syncverify.loader`) reports these itself, as `PlanError` problems, before any rule
runs; they are registered as rules only so that `syncverify rules`, `syncverify explain` and
SARIF know their codes and pages. Their `check` does nothing.

The definitions live inside the `rules` package (beside `base`) so that importing them never
runs into the package's registry import; `syncverify.load_codes` re-exports them.
"""

from __future__ import annotations

from syncverify.rule import Rule


def _reported_by_the_loader(ctx) -> None:
    """The loader reports load problems before any rule runs; nothing to check here."""


def _load_rule(code: str, slug: str, summary: str, page: str) -> Rule:
    return Rule(
        code=code,
        slug=slug,
        category="config",
        severity="error",
        summary=summary,
        check=_reported_by_the_loader,
        page=page.strip() + "\n",
    )


UNREADABLE_FILE = _load_rule(
    "SV001",
    "unreadable-file",
    "the plan file cannot be read as UTF-8 text",
    """
## What it checks
That the plan can be read: the path names a file (not a directory), the file is readable, and
its bytes are UTF-8 text without NUL bytes.

## Why it matters
Nothing else can be checked in a file that cannot be read. A plan saved as UTF-16 by an editor,
or a binary file passed by mistake, is reported here with the position of the first bad byte.

## Bad plan
A plan saved with a UTF-16 byte order mark, or `syncverify check plans/` on a file that is
really a compressed archive.

## Fix
Save the plan as UTF-8 (most editors: "Save with encoding"), or check the path.
""",
)

YAML_SYNTAX = _load_rule(
    "SV002",
    "yaml-syntax",
    "the plan is not well-formed YAML",
    """
## What it checks
That the plan is one well-formed YAML document: brackets closed, indentation consistent, no tab
indentation, one document only.

## Why it matters
A YAML syntax error leaves the meaning of the file undefined, so no check can run. The message
points at the position where the parser gave up; the mistake is often on the line before.

## Bad plan
```yaml
model: {layers: 80, hidden: 8192, heads: 64
parallel:
  tp: 8
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
```yaml
model: {layers: 80, hidden: 8192, heads: 64, vocab: 128256}
parallel:
  tp: 8
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
""",
)

UNKNOWN_KEY = _load_rule(
    "SV003",
    "unknown-key",
    "a key that plan format v1 does not define",
    """
## What it checks
That every key in the plan is one the format defines at that place. Misspelled and misplaced
keys are reported at the key, with a "did you mean" hint that knows the usual spellings of
other tools (`pipeline_parallel_size`, `num_hidden_layers`, `num_experts_per_tok`, ...).

## Why it matters
An ignored key is a silent wrong answer: `pipline: 2` would leave the plan on one pipeline
stage, and every check after it would verify a plan you did not mean.

## Bad plan
```yaml
parallel: {tp: 8, pipline: 2}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-tp8-pp2
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pipline: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 8, pp: 2}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-tp8-pp2-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}  # <- fixed
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

DUPLICATE_KEY = _load_rule(
    "SV004",
    "duplicate-key",
    "the same key twice in one mapping",
    """
## What it checks
That no mapping holds the same key twice. The message names both lines.

## Why it matters
YAML parsers keep one of the two values silently (PyYAML keeps the last), so the plan says two
things and syncverify would check only one of them.

## Bad plan
```yaml
parallel:
  tp: 8
  pp: 2
  tp: 4
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-tp8-pp2
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
cluster: {nodes: 2, gpus_per_node: 8}
parallel:
  tp: 8
  pp: 2
  tp: 4
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
Keep the one you mean:
```yaml
parallel:
  tp: 8
  pp: 2
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-tp8-pp2-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
cluster: {nodes: 2, gpus_per_node: 8}
parallel:
  tp: 8
  pp: 2
phases:
  prefill: {microbatches: 4, tokens: 8192}
  decode: {microbatches: 2, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

WRONG_TYPE = _load_rule(
    "SV005",
    "wrong-type",
    "a value of the wrong type (a string where a number is expected, ...)",
    """
## What it checks
That every value has the type its key needs: integers for sizes and degrees, names for ops and
groups, lists for `sync` and `phases`, mappings for sections. It knows YAML 1.1's traps:
`1e3` is a string (write `1000` or `1.0e+3`), unquoted `no`/`yes`/`on`/`off` are booleans, and
a quoted `"8"` is a string.

## Why it matters
A value of the wrong type has no meaning in the plan; guessing one (reading `"8"` as 8, or `no`
as the name "no") would hide a mistake that other tools reading the same file may not forgive.

## Bad plan
```yaml
parallel: {tp: "8"}
phases:
  prefill: {tokens: 1e3}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: "4"}
phases:
  prefill: {microbatches: 1, tokens: 4e3}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
parallel: {tp: 8}
phases:
  prefill: {tokens: 1000}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}  # <- fixed
phases:
  prefill: {microbatches: 1, tokens: 4000}  # <- fixed
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

INVALID_VALUE = _load_rule(
    "SV006",
    "invalid-value",
    "a value outside its allowed range (a degree of 0, an empty list, ...)",
    """
## What it checks
That numbers are within their range (degrees, layers, microbatches and batch at least 1; a
few generous upper bounds that no real plan reaches), that lists which must hold something are
not empty and do not repeat an item, and that `parallel.layout` is an ordering of exactly
`tp`, `sp`, `dp` and `pp`.

## Why it matters
A degree of 0 or a layout that leaves out an axis describes no possible set of devices: rank
numbering (S1) and every group built from it would be meaningless.

## Bad plan
```yaml
parallel: {tp: 0, layout: [tp, dp, pp]}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 0, layout: [tp, dp, pp]}
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
```yaml
parallel: {tp: 8, layout: [tp, sp, dp, pp]}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4, layout: [tp, sp, dp, pp]}  # <- fixed
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
""",
)

UNKNOWN_NAME = _load_rule(
    "SV007",
    "unknown-name",
    "an op, boundary, collective, group or mode name the format does not define",
    """
## What it checks
That every name written as a value is one the format defines: `after` and `wait_before` name
an op or boundary, `collective`, `group`, `role`, `tensor`, sync `phases`, `overlap`,
`dp_idle`, `token_return`, `sharding` and `layout` entries come from their lists. A "did you
mean" hint knows the usual other spellings (`allreduce`, `o-proj`, `down_proj`, `tensor`).

## Why it matters
A sync point after an op that does not exist would never run; syncverify would then report a
missing sync somewhere else and hide the real typo.

## Bad plan
```yaml
sync:
  - {after: out_proj, collective: allreduce, group: tp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: out_proj, collective: allreduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {after: o_proj, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}  # <- fixed
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

MISSING_KEY = _load_rule(
    "SV008",
    "missing-key",
    "a required key is missing (model, phases, a sync point's collective, ...)",
    """
## What it checks
That the keys the format requires are there: `model` (with `layers`, `hidden`, `heads`,
`vocab`, and `ffn` when the model has dense layers, unless `hf_config` provides them),
`phases` with at least one phase, `experts` and `top_k` under `moe`, `nodes` and
`gpus_per_node` under `cluster`, and `after`, `collective` and `group` on every sync point.

## Why it matters
Without them the plan does not say what runs where: the model's shape and the sync point's
collective are what every check reasons about.

## Bad plan
```yaml
sync:
  - {after: o_proj, group: tp}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {after: o_proj, collective: all_reduce, group: tp}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}  # <- fixed
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

UNSUPPORTED_VERSION = _load_rule(
    "SV009",
    "unsupported-version",
    "the `syncverify:` format version is missing or not 1",
    """
## What it checks
That the plan declares the format version it is written in, `syncverify: 1`, and that this
syncverify reads that version.

## Why it matters
The version decides what every key means. A plan without it may be a YAML file that is not a
plan at all; a plan for another version would be checked against the wrong rules.

## Bad plan
```yaml
name: llama3-70b
model: {...}
```

<details><summary>A complete plan with this defect</summary>

```yaml
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
```yaml
syncverify: 1
name: llama3-70b
model: {...}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1  # <- fixed
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
""",
)

HF_CONFIG_UNREADABLE = _load_rule(
    "SV010",
    "hf-config-unreadable",
    "`model.hf_config` cannot be read or lacks fields the plan does not give",
    """
## What it checks
That the Hugging Face `config.json` named by `model.hf_config` (a path relative to the plan's
folder) exists, is a JSON object, has integer fields where integers belong, and, together with
the keys written under `model`, gives every required model field.

## Why it matters
The model's shape comes from that file; if it cannot be read, every shape and sync check would
run on a model nobody described.

## Bad plan
```yaml
model:
  hf_config: models/llama.json     # no such file next to the plan
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model:
  hf_config: models/llama.json     # no such file next to the plan
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
Point at the file relative to the plan, or write the fields under `model`:
```yaml
model:
  hf_config: ../models/Llama-3.1-70B.json
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
""",
)

UNSAFE_YAML = _load_rule(
    "SV011",
    "unsafe-or-oversized-yaml",
    "the plan is too large, too deeply nested, expands aliases too far, or uses a "
    "language-specific tag",
    """
## What it checks
That the plan is plain, modest YAML: at most 10 MB, nested at most 64 levels deep, holding
at most 50,000 values with aliases expanded (a real plan holds a few hundred), with aliases
that never refer to themselves, and no tags
other than YAML's standard ones (`!!python/...` and custom tags are refused, never run).

## Why it matters
These are the shapes of hostile input: an "alias bomb" of a few hundred bytes expands to
billions of values and would hang every tool that walks it; a Python tag asks the reader to run
code. syncverify refuses them instead of trying.

## Bad plan
```yaml
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
name: !!python/object/apply:os.system [echo hi]
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: !!python/object/apply:os.system [echo hi]
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
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
Write the plan out plainly; anchors and merge keys (`<<: *defaults`) for shared sync fields are
fine.

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}
sync:
  - &tp-ar {id: embed-ar, after: embed, collective: all_reduce, group: tp}  # <- fixed
  - {<<: *tp-ar, id: attn-ar, after: o_proj}  # <- fixed
  - {<<: *tp-ar, id: mlp-ar, after: down}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

BAD_SELECTOR = _load_rule(
    "SV012",
    "bad-selector",
    "a malformed `layers` or `ranks` selector",
    """
## What it checks
The syntax of selectors. `layers` (on a sync point) is `all`, `dense`, `moe`, an inclusive
range `"a..b"`, a layer index, or a list of indices and ranges; `model.moe.layers` the same
without `dense` and `moe`. `ranks` maps axes (`tp`, `sp`, `dp`, `pp`, `ep`) to a coordinate
or a list of coordinates (S9). Values outside the model are left to the config rules.

## Why it matters
A selector that cannot be read selects nothing you meant: `layers: "3-60"` is not a range, and
a guess would silently apply the sync to the wrong layers.

## Bad plan
```yaml
sync:
  - {after: experts, collective: all_reduce, group: ep, layers: "3-60", ranks: {tp: "0,1"}}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: qwen3-30b-a3b-tp4-ep4
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: ep, layers: "0-47"}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
sync:
  - {after: experts, collective: all_reduce, group: ep, layers: "3..60", ranks: {tp: [0, 1]}}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: qwen3-30b-a3b-tp4-ep4-fixed
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: ep, layers: "0..47"}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

AMBIGUOUS_NUMBER = _load_rule(
    "SV013",
    "ambiguous-yaml-number",
    "a number YAML 1.1 reads differently from how it looks (`010` is 8)",
    """
## What it checks
Integers written the way YAML 1.1 (and so PyYAML) reads differently from decimal: a leading
zero makes an octal number (`010` is 8). Colons, which YAML 1.1 reads as a base-60 number
(`1:30` as 90), are text in syncverify, as in YAML 1.2: an id `1:30` stays `'1:30'`, and a
number field written `1:30` is a type error (SV005) that names the text.

## Why it matters
The plan would silently say `tp: 8` where you wrote `tp: 010`, and every check would verify a
plan you did not mean.

## Bad plan
```yaml
phases:
  decode: {batch: 064}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 064}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
phases:
  decode: {batch: 64}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}
parallel: {tp: 4}
phases:
  prefill: {microbatches: 1, tokens: 4096}
  decode: {microbatches: 1, batch: 64}  # <- fixed
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
""",
)

PLAN_TOO_LARGE = _load_rule(
    "SV014",
    "plan-too-large",
    "the plan would unroll to more ranks, layers or DAG nodes than syncverify checks",
    """
## What it checks
That the plan is small enough to check, estimated before anything is built: at most 65,536
ranks in a phase, at most 1,000,000 ranks x sync points, at most 2,000,000 layer x sync-point
pairs, and a dependency DAG (ranks x unrolled layers x microbatches x decode steps, counting
representative layers, replicas and microbatches only, or every one under `--exhaustive`) of
at most 20,000 nodes, 60,000 edges and 4,000,000 vector-clock entries by default (250,000,
750,000 and 16,000,000 under `--exhaustive` and in `simulate`), and at most 2,000,000 pairs of
value-moving blocking sync points issued back to back; the caps keep a check within about 2 s \
and 300 MB
(see `syncverify.budget`). The problem gives the estimate and the limit, and points at the
largest factor.

## Why it matters
Each degree is plausible alone, but their product is what the checker unrolls: `tp: 8` with
`dp: 65536` is half a million ranks. Rather than run for hours or exhaust memory, syncverify
refuses at once and says which number to look at. The plan is not checked (exit code 2).

## Bad plan
```yaml
parallel: {tp: 65536, dp: 65536}
```

<details><summary>A complete plan with this defect</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
parallel: {tp: 65536, dp: 65536}
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
Check the degrees against the cluster: `nodes x gpus_per_node` ranks. For `--exhaustive`
runs, drop the flag: representative layers, replicas and microbatches give the same findings.

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-8b-tp4-fixed
model: {layers: 32, hidden: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 128256}
cluster: {nodes: 1, gpus_per_node: 4}  # <- fixed
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
""",
)

LOAD_RULES: tuple[Rule, ...] = (
    UNREADABLE_FILE,
    YAML_SYNTAX,
    UNKNOWN_KEY,
    DUPLICATE_KEY,
    WRONG_TYPE,
    INVALID_VALUE,
    UNKNOWN_NAME,
    MISSING_KEY,
    UNSUPPORTED_VERSION,
    HF_CONFIG_UNREADABLE,
    UNSAFE_YAML,
    BAD_SELECTOR,
    AMBIGUOUS_NUMBER,
    PLAN_TOO_LARGE,
)
