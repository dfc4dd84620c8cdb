"""## What it checks
That every phase a sync point's `phases` names is defined under the plan's `phases`.

## Why it matters
A plan that serves decode only (prefill elsewhere, or a disaggregated decode pool) still
often carries prefill's sync points, copied from a full plan. A sync restricted to a phase
the plan does not run is dead text; worse, it may be the one sync point the author thinks
covers the phase the plan does run.

## Bad plan
```yaml
phases:
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# A decode-only plan (prefill runs on another pool) that kept prefill's K/V aggregation.
syncverify: 1
name: llama-3.1-70b-decode-pool
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  # next line: SV117
  - {id: kv-agg, after: qkv, tensor: kv, collective: all_gather, group: sp, phases: [prefill]}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>

## Fix
```yaml
phases:
  decode: {microbatches: 1, batch: 64}
sync: []          # no sequence parallelism in a decode-only plan
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: llama-3.1-70b-decode-pool-fixed
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256,
        max_context: 131072}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 8}
phases:
  decode: {microbatches: 1, batch: 64}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import is_written


def check(ctx: Context) -> None:
    plan = ctx.plan
    defined = [p.name for p in plan.phases]
    for sync in plan.syncs:
        if not is_written(plan, sync.path + ("phases",)):
            continue
        for name in sync.phases:
            if name not in defined:
                ctx.report(
                    RULE,
                    at=sync.path + ("phases",),
                    message=f"{sync.label} runs in {name}, which the plan does not define "
                    f"(phases: {', '.join(defined)})",
                    help=f"remove {name} from its `phases`, or define `phases.{name}`",
                    where=Where(phase=name, sync=sync.label),
                )


RULE = Rule(
    code="SV117",
    slug="unknown-sync-phase",
    category="config",
    severity="error",
    summary="a sync point names a phase the plan does not define",
    check=check,
    page=__doc__,
)
